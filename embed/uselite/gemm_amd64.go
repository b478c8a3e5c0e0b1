//go:build amd64 && !purego

package uselite

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// kernel6x16AVX2 is the AVX2/FMA micro-kernel in gemm_amd64.s. lda and ldc are in
// floats; k must be positive.
//
//go:noescape
func kernel6x16AVX2(k int, a *float32, lda int, p *float32, c *float32, ldc int)

// kernel12x16AVX512 is the AVX-512 micro-kernel in gemm_amd64.s: 12 rows per call.
//
//go:noescape
func kernel12x16AVX512(k int, a *float32, lda int, p *float32, c *float32, ldc int)

// kernel12x32AVX512 is the two-panel AVX-512 micro-kernel in gemm_amd64.s; k must be
// positive.
//
//go:noescape
func kernel12x32AVX512(k int, a *float32, lda int, p0, p1 *float32, c *float32, ldc int)

func kernelAVX512x2(k int, a []float32, lda int, p0, p1 []float32, c []float32, ldc int) {
	_ = a[11*lda+k-1]
	_ = p0[16*k-1]
	_ = p1[16*k-1]
	_ = c[11*ldc+31]
	kernel12x32AVX512(k, unsafe.SliceData(a), lda, unsafe.SliceData(p0), unsafe.SliceData(p1), unsafe.SliceData(c), ldc)
}

func init() {
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		kernels = append(kernels, kernelImpl{"avx2-fma", kernelAVX2, 6, nil})
	}
	if cpu.X86.HasAVX512F {
		kernels = append(kernels,
			kernelImpl{"avx512-1panel", kernelAVX512, 12, nil},
			kernelImpl{"avx512", kernelAVX512, 12, kernelAVX512x2})
	}
	useKernel(kernels[len(kernels)-1])
}

func kernelAVX512(k int, a []float32, lda int, p []float32, c []float32, ldc int) {
	_ = a[11*lda+k-1]
	_ = p[16*k-1]
	_ = c[11*ldc+15]
	kernel12x16AVX512(k, unsafe.SliceData(a), lda, unsafe.SliceData(p), unsafe.SliceData(c), ldc)
}

func kernelAVX2(k int, a []float32, lda int, p []float32, c []float32, ldc int) {
	// Bounds the assembly relies on, checked once per call.
	_ = a[5*lda+k-1]
	_ = p[16*k-1]
	_ = c[5*ldc+15]
	kernel6x16AVX2(k, unsafe.SliceData(a), lda, unsafe.SliceData(p), unsafe.SliceData(c), ldc)
}
