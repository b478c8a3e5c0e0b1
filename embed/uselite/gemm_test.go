package uselite

import (
	"math/rand/v2"
	"testing"

	"github.com/lmsys-go/lmsys/internal/vec"

	"github.com/stretchr/testify/require"
)

func naiveGemm(m, k, n int, a []float32, lda int, b []float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for kk := 0; kk < k; kk++ {
				s += float64(a[i*lda+kk]) * float64(b[kk*n+j])
			}
			c[i*ldc+j] += float32(s)
		}
	}
}

func TestGemmMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	kernels := vec.GEMMKernels()
	defer vec.UseGEMMKernel(kernels[len(kernels)-1])
	for _, kern := range kernels {
		name := kern.Name
		for _, sh := range [][3]int{{1, 1, 16}, {6, 3, 16}, {7, 256, 32}, {13, 300, 48}, {64, 513, 64}, {5, 1536, 16}, {18, 2, 80}, {25, 7, 16}, {12, 1, 32}} {
			m, k, n := sh[0], sh[1], sh[2]
			lda, ldc := k+3, n+16
			a := make([]float32, m*lda)
			b := make([]float32, k*n)
			c := make([]float32, m*ldc)
			for i := range a {
				a[i] = rng.Float32()*2 - 1
			}
			for i := range b {
				b[i] = rng.Float32()*2 - 1
			}
			for i := range c {
				c[i] = rng.Float32()
			}
			want := append([]float32(nil), c...)
			naiveGemm(m, k, n, a, lda, b, want, ldc)
			vec.UseGEMMKernel(kern)
			p := pack(b, k, n)
			gemm(m, a, lda, &p, c, ldc, &vec.GEMMScratch{})
			for i := range c {
				require.InDelta(t, want[i], c[i], 1e-3, "%s m=%d k=%d n=%d at %d", name, m, k, n, i)
			}
		}
	}
}

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
