//go:build openblas && cgo

package uselite

// With -tags openblas, the weight matrix products go to OpenBLAS; attention's small
// per-sentence products keep using the built-in kernel. The default build never
// compiles this file, and no test needs it.

import "github.com/lmsys-go/lmsys/embed/uselite/internal/openblas"

func init() {
	// uselite already runs one worker per core; OpenBLAS threads on top would fight them.
	openblas.SetThreads(1)
	keepRowMajor = true
	blasName = "openblas"
	blasGemm = func(m int, a []float32, lda int, b *packed, c []float32, ldc int) {
		openblas.Sgemm(m, b.N, b.K, a, lda, b.rows, b.N, c, ldc)
	}
}
