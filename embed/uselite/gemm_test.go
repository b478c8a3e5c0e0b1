package uselite

import (
	"testing"

	"github.com/lmsys-go/lmsys/internal/vec"
)

// The GEMM kernels are checked against a float64 reference, every micro-kernel on
// edge shapes, by internal/vec's TestGEMMKernelsMatchPortable; the end-to-end check
// per kernel is TestEveryKernelMatchesReference.

func BenchmarkGemm(b *testing.B) {
	kernels := vec.GEMMKernels()
	for _, k := range kernels {
		b.Run(k.Name, func(b *testing.B) {
			defer vec.UseGEMMKernel(kernels[len(kernels)-1])
			vec.UseGEMMKernel(k)
			benchmarkGemm(b)
		})
	}
}

func benchmarkGemm(b *testing.B) {
	m, k, n := 240, 512, 1536
	a := make([]float32, m*k)
	w := make([]float32, k*n)
	c := make([]float32, m*n)
	for i := range a {
		a[i] = float32(i%7) * 0.1
	}
	p := pack(w, k, n)
	var tail vec.GEMMScratch
	b.SetBytes(int64(2 * m * k * n)) // "bytes" = flops, so MB/s reads as MFLOP/s
	for b.Loop() {
		gemm(m, a, k, &p, c, n, &tail)
	}
}
