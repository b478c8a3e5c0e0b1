package vec

// This file holds the 8-bit integer matrix multiply of embed/uselite's quantised mode:
// C += diag(sa)·(QA·QB)·diag(sb), where QA is a row-major matrix of 8-bit values with
// one float32 scale per row (quantised per call from float32 activations) and QB a
// weight matrix of signed 8-bit values with one scale per column (quantised once at
// load). The products are summed exactly in int32, so every kernel (AVX-512 VNNI,
// AVX2, portable Go) computes the same integers; only the float32 scaling at the end
// may round differently.
//
// Layouts. QB is stored as 16-column panels (PanelCols) of groups of four rows:
// panel p, group g holds, for columns j = 16p … 16p+15, the four values
// B[4g … 4g+3][j] contiguously (64 bytes), the operand order of VPDPBUSD. The AVX2
// kernel, which multiplies 16-bit pairs with VPMADDWD, reads a second copy of 16-bit
// values in groups of two rows, built on first use. QA holds, per kernel, either
// unsigned bytes (value + 128 for signed rows; VPDPBUSD multiplies unsigned by signed
// bytes, and the column sums of QB undo the offset) or 16-bit integers.

import (
	"math"
	"sync"
)

// QKernel is one 8-bit matrix-multiply micro-kernel this build can run on this CPU.
type QKernel struct {
	// Name is "go", "avx2" or "avx512-vnni".
	Name string
	rows int // rows of A per call
	cols int // columns of C per call: 16 or 32
	u8   bool
	// fn computes the rows×cols block of C at c (row stride ldc floats) from the
	// quantised rows at a (row stride lda values of the kernel's A format), the
	// packed panels of columns j…j+cols−1, the row scales sa and the block's column
	// scales and offsets.
	fn func(b *QPacked, j int, a *QRows, i int, c []float32, ldc int)
}

// qKernels lists the usable 8-bit kernels, slowest first: the portable one, then the
// assembly ones the CPU-feature switch in qgemm_amd64.go returns; init picks the last.
// (A variable's initialiser runs before every init function of the package, whatever
// the file order.)
var qKernels = append([]QKernel{{Name: "go", rows: 6, cols: 16, fn: qkernelGo}}, qKernelsCPU()...)

var qUse = qKernels[0]

func init() { qUse = qKernels[len(qKernels)-1] }

// QKernels returns the 8-bit micro-kernels this build can run on this CPU, slowest
// first (the last is the one in use unless UseQKernel chose another).
func QKernels() []QKernel { return append([]QKernel(nil), qKernels...) }

// UseQKernel makes k the micro-kernel QGEMM and QRows.Quantize use, for tests and
// benchmarks that compare them. It is not safe to call while either runs.
func UseQKernel(k QKernel) { qUse = k }

// QKernelName names the 8-bit micro-kernel in use.
func QKernelName() string { return qUse.Name }

// QPacked is a K×N float32 matrix quantised to signed 8-bit values, one scale per
// column, and packed for QGEMM. Make one with QPack; it is read-only afterwards and
// safe for concurrent use.
type QPacked struct {
	K, N   int
	kp, np int       // K rounded up to a multiple of 4, N to a multiple of 32
	scale  []float32 // np column scales (0 beyond N)
	corr   []int32   // np values 128·Σ_k QB[k][j]: the offset of unsigned-coded signed rows
	zero   []int32   // np zeros: the offset of unsigned rows
	b8     []int8    // np/16 panels × kp/4 groups × 64 bytes
	once16 sync.Once
	b16    []int16 // np/16 panels × kp/2 pairs × 32 values, built on first use
}

// QPack quantises the row-major K×N matrix b column by column (scale = max|b|/127,
// values rounded to nearest) and packs it. Zero columns get scale 0.
func QPack(b []float32, k, n int) *QPacked {
	if len(b) < k*n || k < 0 || n < 0 {
		panic("vec: QPack: bad shape")
	}
	p := &QPacked{K: k, N: n, kp: (k + 3) &^ 3, np: (n + 31) &^ 31}
	p.scale = make([]float32, p.np)
	p.corr = make([]int32, p.np)
	p.zero = make([]int32, p.np)
	p.b8 = make([]int8, p.np*p.kp)
	inv := make([]float32, n)
	for j := 0; j < n; j++ {
		var mx float32
		for kk := 0; kk < k; kk++ {
			mx = max(mx, abs32(b[kk*n+j]))
		}
		if mx > 0 && !math.IsInf(float64(mx), 0) {
			p.scale[j] = mx / 127
			inv[j] = 127 / mx
		}
	}
	for j := 0; j < n; j++ {
		panel := p.b8[(j/nr)*p.kp*nr:]
		var sum int32
		for kk := 0; kk < k; kk++ {
			q := int8(quant(b[kk*n+j]*inv[j], -127, 127))
			panel[(kk/4)*64+(j%nr)*4+kk%4] = q
			sum += int32(q)
		}
		p.corr[j] = 128 * sum
	}
	return p
}

// pairs returns the 16-bit copy the AVX2 kernel reads: panel p, pair g holds, for the
// panel's 16 columns, B[2g][j] and B[2g+1][j] side by side.
func (p *QPacked) pairs() []int16 {
	p.once16.Do(func() {
		b16 := make([]int16, p.np*p.kp)
		for q := 0; q < p.np/nr; q++ {
			src := p.b8[q*p.kp*nr:]
			dst := b16[q*p.kp*nr:]
			for kk := 0; kk < p.kp; kk++ {
				for j := 0; j < nr; j++ {
					dst[(kk/2)*32+j*2+kk%2] = int16(src[(kk/4)*64+j*4+kk%4])
				}
			}
		}
		p.b16 = b16
	})
	return p.b16
}

// QRows is a block of float32 rows quantised to 8 bits, one scale per row, in the
// format of the kernel in use when Quantize ran. The zero value is ready; Quantize
// reuses its memory. One QRows serves one goroutine.
type QRows struct {
	M, K     int
	kp, lda  int
	unsigned bool
	kern     string
	Scale    []float32 // row scales, padded with zeros to whole kernel blocks
	u8       []uint8
	i16      []int16
}

// quant rounds x to the nearest integer (ties to even) and clamps it to [lo, hi]. It
// uses the float32 rounding of adding 1.5·2²³, exact for |x| < 2²², which covers every
// scaled value (|x| ≤ 255·(1+ε)); larger inputs clamp, and NaN becomes lo.
func quant(x float32, lo, hi int32) int32 {
	if !(x > -4e6 && x < 4e6) {
		if x > 0 {
			return hi
		}
		return lo
	}
	q := int32(math.Float32bits(x+12582912)) - 0x4B400000
	return max(lo, min(hi, q))
}

func abs32(x float32) float32 { return math.Float32frombits(math.Float32bits(x) &^ (1 << 31)) }

// Quantize quantises rows 0…m−1 of a (row stride lda, k columns): signed rows to
// round(x·127/max|x|) in [-127, 127]; with unsigned, negative values become 0 (a ReLU)
// and the rest round(x·255/max x) in [0, 255]. A row of zeros gets scale 0. Infinite
// or NaN values are not supported.
func (q *QRows) Quantize(a []float32, m, lda, k int, unsigned bool) {
	kern := qUse
	q.M, q.K, q.unsigned, q.kern = m, k, unsigned, kern.Name
	q.kp = (k + 3) &^ 3
	q.lda = q.kp
	rows := (m + kern.rows - 1) / kern.rows * kern.rows
	q.Scale = growF(q.Scale, rows)
	clear(q.Scale[m:])
	if kern.u8 {
		q.u8 = growU8(q.u8, rows*q.lda)
	} else {
		q.i16 = growI16(q.i16, rows*q.lda)
	}
	lo, hi, off := int32(-127), int32(127), int32(128)
	if unsigned {
		lo, hi, off = 0, 255, 0
	}
	for r := 0; r < rows; r++ {
		var row []float32
		var inv float32
		if r < m {
			row = a[r*lda : r*lda+k]
			mx := rowMax(row, !unsigned)
			q.Scale[r] = 0
			if mx > 0 {
				q.Scale[r] = mx / float32(hi)
				inv = float32(hi) / mx
			}
		}
		if kern.u8 {
			dst := q.u8[r*q.lda : r*q.lda+q.lda]
			quantU8(dst, row, inv, lo, hi, off)
			for j := len(row); j < len(dst); j++ {
				dst[j] = uint8(off)
			}
			continue
		}
		dst := q.i16[r*q.lda : r*q.lda+q.lda]
		quantI16(dst, row, inv, lo, hi)
		clear(dst[len(row):])
	}
}

// The row quantisers, replaced by assembly where the CPU has it.
var (
	rowMax   = rowMaxGo
	quantU8  = quantU8Go
	quantI16 = quantI16Go
)

// rowMaxGo returns max(0, row…), or of |row| when abs.
func rowMaxGo(row []float32, abs bool) float32 {
	var mx float32
	if abs {
		for _, x := range row {
			mx = max(mx, abs32(x))
		}
		return mx
	}
	for _, x := range row {
		mx = max(mx, x)
	}
	return mx
}

// quantU8Go writes quant(row·inv)+off to dst.
func quantU8Go(dst []uint8, row []float32, inv float32, lo, hi, off int32) {
	dst = dst[:len(row)]
	for j, x := range row {
		dst[j] = uint8(quant(x*inv, lo, hi) + off)
	}
}

// quantI16Go writes quant(row·inv) to dst.
func quantI16Go(dst []int16, row []float32, inv float32, lo, hi int32) {
	dst = dst[:len(row)]
	for j, x := range row {
		dst[j] = int16(quant(x*inv, lo, hi))
	}
}

func growF(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}

func growU8(s []uint8, n int) []uint8 {
	if cap(s) < n {
		return make([]uint8, n)
	}
	return s[:n]
}

func growI16(s []int16, n int) []int16 {
	if cap(s) < n {
		return make([]int16, n)
	}
	return s[:n]
}

// QScratch holds the tile QGEMM uses for the blocks of C that do not fill a whole
// micro-kernel. The zero value is ready; one scratch serves one goroutine.
type QScratch struct {
	c []float32
}

// QGEMM computes C[i][j] += a.Scale[i]·b.scale[j]·Σ_k QA[i][k]·QB[k][j] for i < a.M,
// j < b.N; C has row stride ldc floats. a must have been quantised with the kernel
// still in use and have b.K columns.
func QGEMM(a *QRows, b *QPacked, c []float32, ldc int, tail *QScratch) {
	kern := qUse
	if a.kern != kern.Name || a.K != b.K {
		panic("vec: QGEMM: rows quantised for another kernel or shape")
	}
	m, n := a.M, b.N
	if m == 0 || n == 0 || b.K == 0 {
		return
	}
	_ = c[(m-1)*ldc+n-1]
	mr, nc := kern.rows, kern.cols
	if cap(tail.c) < mr*nc {
		tail.c = make([]float32, mr*nc)
	}
	tc := tail.c[:mr*nc]
	for j := 0; j < n; j += nc {
		for i := 0; i < m; i += mr {
			if i+mr <= m && j+nc <= n {
				kern.fn(b, j, a, i, c[i*ldc+j:], ldc)
				continue
			}
			rows, cols := min(mr, m-i), min(nc, n-j)
			clear(tc)
			for r := 0; r < rows; r++ {
				copy(tc[r*nc:r*nc+cols], c[(i+r)*ldc+j:(i+r)*ldc+j+cols])
			}
			kern.fn(b, j, a, i, tc, nc)
			for r := 0; r < rows; r++ {
				copy(c[(i+r)*ldc+j:(i+r)*ldc+j+cols], tc[r*nc:r*nc+cols])
			}
		}
	}
}

// qkernelGo is the portable kernel: 6 rows × 16 columns from the 16-bit rows of a and
// the 8-bit panels of b.
func qkernelGo(b *QPacked, j int, a *QRows, i int, c []float32, ldc int) {
	kp := b.kp
	panel := b.b8[(j/nr)*kp*nr : (j/nr+1)*kp*nr]
	sb := b.scale[j : j+nr]
	for r := 0; r < 6; r++ {
		row := a.i16[(i+r)*a.lda : (i+r)*a.lda+kp]
		var acc [16]int32
		for g := 0; g < kp/4; g++ {
			a0, a1, a2, a3 := int32(row[4*g]), int32(row[4*g+1]), int32(row[4*g+2]), int32(row[4*g+3])
			grp := (*[64]int8)(panel[g*64 : g*64+64])
			for q := 0; q < 16; q++ {
				acc[q] += a0*int32(grp[4*q]) + a1*int32(grp[4*q+1]) + a2*int32(grp[4*q+2]) + a3*int32(grp[4*q+3])
			}
		}
		sa := a.Scale[i+r]
		out := (*[16]float32)(c[r*ldc : r*ldc+16])
		for q := 0; q < 16; q++ {
			out[q] += float32(acc[q]) * (sa * sb[q])
		}
	}
}
