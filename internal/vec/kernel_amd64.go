//go:build !purego

package vec

// This file is the CPU-feature switch: it binds the assembly kernels of kernel_amd64.s
// (dot products, the 4×16 distance micro-kernel) and gemm_amd64.s (the packed GEMM
// micro-kernels) when the CPU has AVX2 and FMA, and the AVX-512 GEMM kernels when it
// has AVX-512F. Everything else runs the portable Go in vec.go, gemm.go and packed.go.

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// kern4x16AVX2 adds the 4×16 product of the packed panels a (steps·4 floats) and b
// (steps·16 floats) to the tile at c with row stride ldc, using AVX2 FMA.
//
//go:noescape
func kern4x16AVX2(a, b *float32, steps int, c *float32, ldc int)

// dotAVX2 returns the inner product of a and b over n values (any n ≥ 0).
//
//go:noescape
func dotAVX2(a, b *float32, n int) float32

// dotAVX512 returns the inner product of a and b over n values (any n ≥ 0), 64 values
// a step: one ZMM load per cache line, so a row read from memory has twice the loads
// in flight of the AVX2 loop.
//
//go:noescape
func dotAVX512(a, b *float32, n int) float32

// dot4AVX2 computes the inner products of q with the four rows rows, rows+stride,
// rows+2·stride and rows+3·stride over the first n values, n a multiple of 8.
//
//go:noescape
func dot4AVX2(q, rows *float32, stride, n int, out *[4]float32)

// kernel6x16AVX2 is the AVX2/FMA GEMM micro-kernel in gemm_amd64.s. lda and ldc are in
// floats; k must be positive.
//
//go:noescape
func kernel6x16AVX2(k int, a *float32, lda int, p *float32, c *float32, ldc int)

// kernel12x16AVX512 is the AVX-512 GEMM micro-kernel in gemm_amd64.s: 12 rows per
// call.
//
//go:noescape
func kernel12x16AVX512(k int, a *float32, lda int, p *float32, c *float32, ldc int)

// kernel12x32AVX512 is the two-panel AVX-512 GEMM micro-kernel in gemm_amd64.s; k must
// be positive.
//
//go:noescape
func kernel12x32AVX512(k int, a *float32, lda int, p0, p1 *float32, c *float32, ldc int)

// useAVX2 reports whether the AVX2 assembly may run on this CPU. Tests turn it off to
// run the portable code on the same machine.
var useAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// useAVX512 reports whether Dot may use its AVX-512 loop. A 512-float dot product of a
// row that is not in cache (an HNSW neighbour, a k-means point) takes 195–275 ns with
// it against 280–460 ns with AVX2 on an Intel Xeon (family 6 model 167); in cache, 12–14
// ns against 16–17. Tests turn it off to run the AVX2 loop on the same machine.
var useAVX512 = useAVX2 && cpu.X86.HasAVX512F

func init() {
	if useAVX2 {
		gemmKernels = append(gemmKernels, GEMMKernel{"avx2-fma", gemmKernelAVX2, 6, nil})
	}
	if cpu.X86.HasAVX512F {
		gemmKernels = append(gemmKernels,
			GEMMKernel{"avx512-1panel", gemmKernelAVX512, 12, nil},
			GEMMKernel{"avx512", gemmKernelAVX512, 12, gemmKernelAVX512x2})
	}
}

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

// Dot returns the dot product of a and b; b must hold at least len(a) values.
func Dot(a, b []float32) float32 {
	if len(a) == 0 {
		return 0
	}
	if !useAVX2 {
		return dotGeneric(a, b)
	}
	_ = b[len(a)-1]
	if useAVX512 {
		return dotAVX512(&a[0], &b[0], len(a))
	}
	return dotAVX2(&a[0], &b[0], len(a))
}

// Dot4 writes to out[r] the dot product of q with the len(q) values starting at
// rows[r·stride], for r < 4.
func Dot4(q, rows []float32, stride int, out *[4]float32) {
	n := len(q)
	n8 := n &^ 7
	if !useAVX2 || n8 == 0 {
		dot4Generic(q, rows, stride, out)
		return
	}
	_ = rows[3*stride+n-1]
	dot4AVX2(&q[0], &rows[0], stride, n8, out)
	for i := n8; i < n; i++ {
		x := q[i]
		out[0] += x * rows[i]
		out[1] += x * rows[stride+i]
		out[2] += x * rows[2*stride+i]
		out[3] += x * rows[3*stride+i]
	}
}

func gemmKernelAVX2(k int, a []float32, lda int, p []float32, c []float32, ldc int) {
	// Bounds the assembly relies on, checked once per call.
	_ = a[5*lda+k-1]
	_ = p[16*k-1]
	_ = c[5*ldc+15]
	kernel6x16AVX2(k, unsafe.SliceData(a), lda, unsafe.SliceData(p), unsafe.SliceData(c), ldc)
}

func gemmKernelAVX512(k int, a []float32, lda int, p []float32, c []float32, ldc int) {
	_ = a[11*lda+k-1]
	_ = p[16*k-1]
	_ = c[11*ldc+15]
	kernel12x16AVX512(k, unsafe.SliceData(a), lda, unsafe.SliceData(p), unsafe.SliceData(c), ldc)
}

func gemmKernelAVX512x2(k int, a []float32, lda int, p0, p1 []float32, c []float32, ldc int) {
	_ = a[11*lda+k-1]
	_ = p0[16*k-1]
	_ = p1[16*k-1]
	_ = c[11*ldc+31]
	kernel12x32AVX512(k, unsafe.SliceData(a), lda, unsafe.SliceData(p0), unsafe.SliceData(p1), unsafe.SliceData(c), ldc)
}
