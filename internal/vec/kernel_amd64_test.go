//go:build !purego

package vec

import "testing"

// TestMatMulTGenericPath runs the blocked product through the pure-Go micro-kernel
// on machines where the assembly one would otherwise be chosen.
func TestMatMulTGenericPath(t *testing.T) {
	saved := useAVX2
	useAVX2 = false
	defer func() { useAVX2 = saved }()
	TestMatMulT(t)
	TestDistancesAndNearest(t)
}

// setAVX2 sets the CPU-feature switch for the rest of the test.
func setAVX2(t *testing.T, on bool) {
	saved := useAVX2
	useAVX2 = on
	t.Cleanup(func() { useAVX2 = saved })
}

// TestDotAVX2OnAVX512 runs the dot-product tests with the AVX-512 loop off, so a
// machine that has it checks the AVX2 loop too (and one without it, the AVX2 loop
// twice).
func TestDotAVX2OnAVX512(t *testing.T) {
	saved := useAVX512
	useAVX512 = false
	t.Cleanup(func() { useAVX512 = saved })
	TestDotMatchesPortable(t)
	TestDotPortableSwitch(t)
}
