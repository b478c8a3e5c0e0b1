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
