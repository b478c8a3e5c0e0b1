package vec

import "golang.org/x/sys/cpu"

// kern4x16AVX2 adds the 4×16 product of the packed panels a (steps·4 floats) and b
// (steps·16 floats) to the tile at c with row stride ldc floats, using AVX2 FMA.
//
//go:noescape
func kern4x16AVX2(a, b *float32, steps int, c *float32, ldc int)

// useAVX2 reports whether the assembly micro-kernel may run on this CPU.
var useAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// kernel adds the 4×16 product of two packed panels to the tile at c (row stride
// ldc); see kernelGeneric for the layout.
func kernel(a, b []float32, c []float32, ldc int) {
	steps := len(a) / mr
	if !useAVX2 || steps == 0 {
		kernelGeneric(a, b, c, ldc)
		return
	}
	_ = b[steps*nr-1]
	_ = c[3*ldc+nr-1]
	kern4x16AVX2(&a[0], &b[0], steps, &c[0], ldc)
}
