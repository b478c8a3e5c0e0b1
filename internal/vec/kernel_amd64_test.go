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
