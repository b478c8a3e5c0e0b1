package vec

// This file holds the matrix multiply the dense layers of embed/uselite run through:
// C += A·B with A row-major (any stride), B pre-packed into 16-column panels, C
// row-major. The micro-kernel keeps a block of C (6×16 for the portable and AVX2
// kernels, 12×16 or 12×32 for AVX-512) in registers while it streams one 16-float row
// of the B panel and one A value per row per step; the driver tiles K (kc values at a
// time) so that a B panel block stays in L1 while it sweeps all rows of A.

// PanelCols is the width of one column panel of a Packed matrix.
const PanelCols = nr

// Packed is a K×N matrix (N a multiple of 16) stored as N/16 column panels: panel p
// holds, for k = 0..K-1, the 16 values B[k][16p : 16p+16] contiguously, so Data has
// K·N values.
type Packed struct {
	K, N int
	Data []float32
}

// Pack packs the row-major K×N matrix b. It panics when N is not a multiple of 16 or
// b does not hold K·N values: shapes come from model files checked at load.
func Pack(b []float32, k, n int) Packed {
	if n%nr != 0 || len(b) != k*n {
		panic("vec: Pack: bad shape")
	}
	p := Packed{K: k, N: n, Data: make([]float32, k*n)}
	PackInto(p.Data, b, k, n, n)
	return p
}

// PackInto packs the K×N block of b (row stride ldb floats, N a multiple of 16) into
// dst, which must hold K·N values, panel by panel.
func PackInto(dst, b []float32, k, n, ldb int) {
	o := 0
	for j := 0; j < n; j += nr {
		for kk := 0; kk < k; kk++ {
			copy(dst[o:o+nr], b[kk*ldb+j:kk*ldb+j+nr])
			o += nr
		}
	}
}

// GEMMKernel is one micro-kernel GEMM can run on this CPU.
type GEMMKernel struct {
	// Name is "go", "avx2-fma", "avx512-1panel" or "avx512".
	Name string
	fn   func(k int, a []float32, lda int, p []float32, c []float32, ldc int)
	rows int
	// fn2, if set, does two adjacent panels (32 columns) per call.
	fn2 func(k int, a []float32, lda int, p0, p1 []float32, c []float32, ldc int)
}

// gemmKernels lists the usable micro-kernels, slowest first; the CPU-feature switch in
// kernel_amd64.go appends the assembly ones, and init picks the last.
var gemmKernels = []GEMMKernel{{"go", gemmKernelGo, 6, nil}}

// gemmUse is the micro-kernel GEMM calls.
var gemmUse = gemmKernels[0]

func init() { gemmUse = gemmKernels[len(gemmKernels)-1] }

// GEMMKernels returns the micro-kernels this build can run on this CPU, slowest first
// (the last is the one in use unless UseGEMMKernel chose another).
func GEMMKernels() []GEMMKernel { return append([]GEMMKernel(nil), gemmKernels...) }

// UseGEMMKernel makes k the micro-kernel GEMM calls, for tests and benchmarks that
// compare them. It is not safe to call while a GEMM runs.
func UseGEMMKernel(k GEMMKernel) { gemmUse = k }

// GEMMKernelName names the micro-kernel in use.
func GEMMKernelName() string { return gemmUse.Name }

// GEMMScratch holds the zero-padded rows GEMM uses for the last rows of A and C that
// do not fill a whole micro-kernel. The zero value is ready; one scratch serves one
// goroutine.
type GEMMScratch struct {
	a, c []float32
}

// GEMM computes C[0:m][0:b.N] += A[0:m][0:b.K] · B. A has row stride lda and C ldc
// (in floats). tail is scratch for the rows that do not fill a whole micro-kernel.
func GEMM(m int, a []float32, lda int, b *Packed, c []float32, ldc int, tail *GEMMScratch) {
	k, n := b.K, b.N
	if m == 0 || k == 0 {
		return
	}
	kern := gemmUse
	mr := kern.rows
	full := m - m%mr
	_ = a[(m-1)*lda+k-1]
	_ = c[(m-1)*ldc+n-1]
	for k0 := 0; k0 < k; k0 += kc {
		kb := min(kc, k-k0)
		j := 0
		if kern.fn2 != nil {
			for ; j+2*nr <= n; j += 2 * nr {
				p0 := b.Data[j*k+k0*nr : j*k+(k0+kb)*nr]
				p1 := b.Data[(j+nr)*k+k0*nr : (j+nr)*k+(k0+kb)*nr]
				for i := 0; i < full; i += mr {
					kern.fn2(kb, a[i*lda+k0:], lda, p0, p1, c[i*ldc+j:], ldc)
				}
			}
		}
		for ; j < n; j += nr {
			panel := b.Data[j*k+k0*nr : j*k+(k0+kb)*nr]
			for i := 0; i < full; i += mr {
				kern.fn(kb, a[i*lda+k0:], lda, panel, c[i*ldc+j:], ldc)
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
			kern.fn(kb, ta[k0:], k, b.Data[j*k+k0*nr:j*k+(k0+kb)*nr], tc[j:], n)
		}
	}
	for r := 0; r < rows; r++ {
		copy(c[(full+r)*ldc:(full+r)*ldc+n], tc[r*n:(r+1)*n])
	}
}

// gemmKernelGo is the portable 6-row micro-kernel: C[0:6][0:16] += A[0:6][0:k] ·
// P[0:k][0:16], two rows at a time against the 16-float panel row (measured faster
// than scalar 2×4 or 3×4 register blocks).
func gemmKernelGo(k int, a []float32, lda int, p []float32, c []float32, ldc int) {
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
