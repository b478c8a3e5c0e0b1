package uselite

// This file holds the matrix multiply every dense layer runs through: C += A·B with A
// row-major (any stride), B pre-packed into 16-column panels, C row-major. The inner
// 6×16 micro-kernel keeps a 6-row by 16-column block of C in registers while it streams
// one 16-float row of the B panel and six A values per step; the driver tiles K so
// that a B panel block stays in L1 while it sweeps all rows of A.

const (
	nr = 16  // columns per packed panel
	kc = 256 // K tile: one panel block is kc×nr floats = 16 KB
)

// packed is a K×N matrix stored as N/16 panels; panel p holds, for k = 0..K-1, the 16
// values B[k][16p : 16p+16] contiguously.
type packed struct {
	k, n int
	data []float32
	rows []float32 // the row-major matrix, kept only when a BLAS library does the work
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
	if n%nr != 0 || len(b) != k*n {
		panic("uselite: pack: bad shape")
	}
	p := packed{k: k, n: n, data: make([]float32, k*n)}
	packInto(p.data, b, k, n, n)
	if keepRowMajor {
		p.rows = b
	}
	return p
}

// packInto packs the K×N block of b (row stride ldb) into dst, panel by panel.
func packInto(dst, b []float32, k, n, ldb int) {
	o := 0
	for j := 0; j < n; j += nr {
		for kk := 0; kk < k; kk++ {
			copy(dst[o:o+nr], b[kk*ldb+j:kk*ldb+j+nr])
			o += nr
		}
	}
}

// kernel computes C[0:r][0:16] += A[0:r][0:k] · P[0:k][0:16] for r = kernelRows,
// where A rows are lda floats apart, P is k rows of 16 floats, and C rows are ldc
// floats apart. It is an assembly kernel when the CPU has AVX-512 (12 rows) or AVX2
// and FMA (6 rows), otherwise kernelGo.
var kernel = kernelGo

// kernelRows is the number of rows kernel handles per call.
var kernelRows = 6

// kernelImpl is one micro-kernel this build can run on this CPU.
type kernelImpl struct {
	name string
	fn   func(k int, a []float32, lda int, p []float32, c []float32, ldc int)
	rows int
	// fn2, if set, does two adjacent panels (32 columns) per call.
	fn2 func(k int, a []float32, lda int, p0, p1 []float32, c []float32, ldc int)
}

// kernels lists the usable micro-kernels, slowest first; init picks the last.
var kernels = []kernelImpl{{"go", kernelGo, 6, nil}}

// useKernel makes k the kernel gemm calls.
func useKernel(k kernelImpl) {
	kernel, kernel2, kernelRows, kernelName = k.fn, k.fn2, k.rows, k.name
}

// kernel2, when not nil, is kernel's two-panel form.
var kernel2 func(k int, a []float32, lda int, p0, p1 []float32, c []float32, ldc int)

// kernelName names the micro-kernel in use, for benchmarks and reports.
var kernelName = "go"

// gemmTail holds the zero-padded rows gemm uses for the last m%6 rows of A and C.
type gemmTail struct {
	a, c []float32
}

// gemm computes C[0:m][0:b.n] += A[0:m][0:b.k] · B. A has row stride lda and C ldc.
// tail is scratch for the rows that do not fill a whole micro-kernel.
func gemm(m int, a []float32, lda int, b *packed, c []float32, ldc int, tail *gemmTail) {
	k, n := b.k, b.n
	if m == 0 || k == 0 {
		return
	}
	if blasGemm != nil && b.rows != nil {
		_ = a[(m-1)*lda+k-1]
		_ = c[(m-1)*ldc+n-1]
		blasGemm(m, a, lda, b, c, ldc)
		return
	}
	mr := kernelRows
	full := m - m%mr
	_ = a[(m-1)*lda+k-1]
	_ = c[(m-1)*ldc+n-1]
	for k0 := 0; k0 < k; k0 += kc {
		kb := min(kc, k-k0)
		j := 0
		if kernel2 != nil {
			for ; j+2*nr <= n; j += 2 * nr {
				p0 := b.data[j*k+k0*nr : j*k+(k0+kb)*nr]
				p1 := b.data[(j+nr)*k+k0*nr : (j+nr)*k+(k0+kb)*nr]
				for i := 0; i < full; i += mr {
					kernel2(kb, a[i*lda+k0:], lda, p0, p1, c[i*ldc+j:], ldc)
				}
			}
		}
		for ; j < n; j += nr {
			panel := b.data[j*k+k0*nr : j*k+(k0+kb)*nr]
			for i := 0; i < full; i += mr {
				kernel(kb, a[i*lda+k0:], lda, panel, c[i*ldc+j:], ldc)
			}
		}
	}
	if full == m {
		return
	}
	rows := m - full
	if cap(tail.a) < mr*k {
		tail.a = make([]float32, mr*k)
	}
	if cap(tail.c) < mr*n {
		tail.c = make([]float32, mr*n)
	}
	ta, tc := tail.a[:mr*k], tail.c[:mr*n]
	clear(ta)
	clear(tc)
	for r := 0; r < rows; r++ {
		copy(ta[r*k:(r+1)*k], a[(full+r)*lda:(full+r)*lda+k])
		copy(tc[r*n:(r+1)*n], c[(full+r)*ldc:(full+r)*ldc+n])
	}
	for k0 := 0; k0 < k; k0 += kc {
		kb := min(kc, k-k0)
		for j := 0; j < n; j += nr {
			kernel(kb, ta[k0:], k, b.data[j*k+k0*nr:j*k+(k0+kb)*nr], tc[j:], n)
		}
	}
	for r := 0; r < rows; r++ {
		copy(c[(full+r)*ldc:(full+r)*ldc+n], tc[r*n:(r+1)*n])
	}
}

// kernelGo is the portable 6-row micro-kernel, in Go: two rows at a time against the
// 16-float panel row (measured faster than scalar 2×4 or 3×4 register blocks).
func kernelGo(k int, a []float32, lda int, p []float32, c []float32, ldc int) {
	_ = a[5*lda+k-1]
	_ = p[16*k-1]
	_ = c[5*ldc+15]
	for r := 0; r < 6; r += 2 {
		a0 := a[r*lda : r*lda+k]
		a1 := a[(r+1)*lda : (r+1)*lda+k]
		var s0, s1 [16]float32
		for kk := 0; kk < k; kk++ {
			row := (*[16]float32)(p[kk*16 : kk*16+16])
			x0, x1 := a0[kk], a1[kk]
			for q := 0; q < 16; q++ {
				s0[q] += x0 * row[q]
				s1[q] += x1 * row[q]
			}
		}
		c0 := (*[16]float32)(c[r*ldc : r*ldc+16])
		c1 := (*[16]float32)(c[(r+1)*ldc : (r+1)*ldc+16])
		for q := 0; q < 16; q++ {
			c0[q] += s0[q]
			c1[q] += s1[q]
		}
	}
}

// Kernel names the matrix-multiply code this process uses: "avx512" or "avx2-fma" (Go
// assembly, chosen at start-up from what the CPU supports) or "go", prefixed with
// "openblas+" in builds with the openblas tag.
func Kernel() string {
	if blasName != "" {
		return blasName + "+" + kernelName
	}
	return kernelName
}
