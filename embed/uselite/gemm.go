package uselite

// Every dense layer runs through gemm: C += A·B with A row-major (any stride) and B
// packed into 16-column panels by internal/vec, which owns the micro-kernels (AVX-512,
// AVX2+FMA or portable Go, chosen at start-up). With the openblas build tag the weight
// products go to OpenBLAS instead.

import "github.com/lmsys-go/lmsys/internal/vec"

// packed is a K×N weight matrix packed for vec.GEMM; rows keeps the row-major matrix
// only when a BLAS library does the work.
type packed struct {
	vec.Packed
	rows []float32
}

// blasGemm, when set (build tag openblas), computes C += A·B for matrices that kept
// their row-major form; blasName then names the library.
var (
	blasGemm     func(m int, a []float32, lda int, b *packed, c []float32, ldc int)
	blasName     string
	keepRowMajor bool
)

// pack packs the row-major K×N matrix b (N a multiple of 16).
func pack(b []float32, k, n int) packed {
	p := packed{Packed: vec.Pack(b, k, n)}
	if keepRowMajor {
		p.rows = b
	}
	return p
}

// gemm computes C[0:m][0:b.N] += A[0:m][0:b.K] · B. A has row stride lda and C ldc.
// tail is scratch for the rows that do not fill a whole micro-kernel.
func gemm(m int, a []float32, lda int, b *packed, c []float32, ldc int, tail *vec.GEMMScratch) {
	if m == 0 || b.K == 0 {
		return
	}
	if blasGemm != nil && b.rows != nil {
		_ = a[(m-1)*lda+b.K-1]
		_ = c[(m-1)*ldc+b.N-1]
		blasGemm(m, a, lda, b, c, ldc)
		return
	}
	vec.GEMM(m, a, lda, &b.Packed, c, ldc, tail)
}

// Kernel names the matrix-multiply code this process uses: "avx512" or "avx2-fma" (Go
// assembly, chosen at start-up from what the CPU supports) or "go", prefixed with
// "openblas+" in builds with the openblas tag.
func Kernel() string {
	if blasName != "" {
		return blasName + "+" + vec.GEMMKernelName()
	}
	return vec.GEMMKernelName()
}

// unpacked returns the row-major K×N matrix p packs.
func (p *packed) unpacked() []float32 {
	k, n := p.K, p.N
	out := make([]float32, k*n)
	o := 0
	for j := 0; j < n; j += nr {
		for kk := 0; kk < k; kk++ {
			copy(out[kk*n+j:kk*n+j+nr], p.Data[o:o+nr])
			o += nr
		}
	}
	return out
}
