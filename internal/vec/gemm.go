package vec

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
)

// Tiling constants of the blocked product. A block of mc rows of A is packed into
// 4-row panels and B into 16-row panels; the shared dimension is walked kc values at
// a time so that one packed panel of each operand (kc·(4+16) floats, 20 KB) stays in
// L1 while the packed row block stays in L2. The micro-kernel keeps a 4×16 tile of
// products in registers.
const (
	mr = 4   // rows of A per micro-tile
	nr = 16  // rows of B (columns of the product) per micro-tile
	mc = 64  // rows per block (a multiple of mr)
	kc = 256 // shared-dimension values per pass
)

// kernelGeneric adds the 4×16 product of two packed panels to the tile of c at
// offset 0 with row stride ldc: a holds 4 rows of A with a[p*4+r] = A[r][p], b holds
// 16 rows of B with b[p*16+j] = B[j][p]. It walks the 16 columns as four 4×4
// register-blocked sub-tiles.
func kernelGeneric(a, b []float32, c []float32, ldc int) {
	steps := len(a) / mr
	b = b[:steps*nr]
	for g := 0; g < nr; g += 4 {
		var c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33 float32
		aa := a[:steps*mr]
		bb := b[g:]
		for len(aa) >= 4 && len(bb) >= 4 {
			a0, a1, a2, a3 := aa[0], aa[1], aa[2], aa[3]
			b0, b1, b2, b3 := bb[0], bb[1], bb[2], bb[3]
			c00 += a0 * b0
			c01 += a0 * b1
			c02 += a0 * b2
			c03 += a0 * b3
			c10 += a1 * b0
			c11 += a1 * b1
			c12 += a1 * b2
			c13 += a1 * b3
			c20 += a2 * b0
			c21 += a2 * b1
			c22 += a2 * b2
			c23 += a2 * b3
			c30 += a3 * b0
			c31 += a3 * b1
			c32 += a3 * b2
			c33 += a3 * b3
			aa = aa[4:]
			if len(bb) < nr {
				break
			}
			bb = bb[nr:]
		}
		r := c[g : g+4 : g+4]
		r[0] += c00
		r[1] += c01
		r[2] += c02
		r[3] += c03
		r = c[ldc+g : ldc+g+4 : ldc+g+4]
		r[0] += c10
		r[1] += c11
		r[2] += c12
		r[3] += c13
		r = c[2*ldc+g : 2*ldc+g+4 : 2*ldc+g+4]
		r[0] += c20
		r[1] += c21
		r[2] += c22
		r[3] += c23
		r = c[3*ldc+g : 3*ldc+g+4 : 3*ldc+g+4]
		r[0] += c30
		r[1] += c31
		r[2] += c32
		r[3] += c33
	}
}

// pack copies rows [i0, i1) of the row-major matrix m (d columns) into dst as panels
// of w rows: panel q holds rows i0+wq … i0+wq+w−1 with
// dst[q*d*w + p*w + r] = m[i0+wq+r][p]. Missing rows of the last panel are zero.
// dst must hold ceil((i1-i0)/w)·w·d values.
func pack(dst, m []float32, i0, i1, d, w int) {
	rows := i1 - i0
	panels := (rows + w - 1) / w
	for q := 0; q < panels; q++ {
		pd := dst[q*d*w : (q+1)*d*w]
		if w == mr && i0+q*w+mr <= i1 {
			// A full 4-row panel: read the four rows side by side and write the panel
			// in order (the strided writes of the general loop cost more than the
			// products of a small panel of centres).
			i := i0 + q*w
			r0, r1, r2, r3 := m[i*d:i*d+d], m[(i+1)*d:(i+1)*d+d], m[(i+2)*d:(i+2)*d+d], m[(i+3)*d:(i+3)*d+d]
			for p := range r0 {
				o := pd[p*mr : p*mr+mr : p*mr+mr]
				o[0], o[1], o[2], o[3] = r0[p], r1[p], r2[p], r3[p]
			}
			continue
		}
		for r := 0; r < w; r++ {
			i := i0 + q*w + r
			if i >= i1 {
				for p := 0; p < d; p++ {
					pd[p*w+r] = 0
				}
				continue
			}
			row := m[i*d : i*d+d]
			for p, v := range row {
				pd[p*w+r] = v
			}
		}
	}
}

// Panel is a matrix B of n rows (centres, or a block of points) packed for repeated
// products against many rows, with the squared norms of its rows. Reset re-packs it
// in place, so a Panel can be reused across iterations without allocating.
type Panel struct {
	n, d   int
	packed []float32
	norms  []float32
	// raw holds the rows unpacked when there are at most smallPanel of them.
	raw  []float32
	pool sync.Pool
}

// smallPanel is the largest panel whose products are taken row by row (DotRows)
// instead of through the packed micro-kernel: packing a 64-row block of points costs
// as much as its products with a handful of rows (k-means++ tries 2 + ln k candidates
// against every point, k times).
const smallPanel = 8

// NewPanel packs the n×d row-major matrix b.
func NewPanel(b []float32, n, d int) *Panel {
	p := &Panel{}
	p.Reset(b, n, d)
	return p
}

// N returns the number of rows of the packed matrix.
func (p *Panel) N() int { return p.n }

// Norms returns the squared norms of the packed rows (not to be modified).
func (p *Panel) Norms() []float32 { return p.norms }

// Reset re-packs the panel with the n×d row-major matrix b, reusing its memory.
func (p *Panel) Reset(b []float32, n, d int) {
	if d != p.d {
		p.pool = sync.Pool{}
	}
	p.n, p.d = n, d
	size := (n + nr - 1) / nr * nr * d
	if cap(p.packed) < size {
		p.packed = make([]float32, size)
	}
	p.packed = p.packed[:size]
	pack(p.packed, b, 0, n, d, nr)
	p.raw = p.raw[:0]
	if n <= smallPanel {
		p.raw = append(p.raw, b[:n*d]...)
	}
	if cap(p.norms) < n {
		p.norms = make([]float32, n)
	}
	p.norms = p.norms[:n]
	RowSqNorms(p.norms, b[:n*d], d)
}

// scratch is one worker's buffers: the packed row block and the tile of products.
type scratch struct {
	a    []float32
	tile []float32
	xn   []float32
	tail GEMMScratch
}

// gemmDistances reports whether Distances takes its products through GEMM: with an
// AVX-512 kernel in use, whose 12-row tiles of 512-bit registers do twice the
// multiply-adds an instruction of the AVX2 4×16 panel kernel does.
func gemmDistances() bool { return gemmUse.Name == "avx512" || gemmUse.Name == "avx512-1panel" }

func (p *Panel) getScratch() *scratch {
	if s, ok := p.pool.Get().(*scratch); ok && len(s.tile) >= mc*(p.ld()) {
		return s
	}
	return &scratch{
		a:    make([]float32, mc*p.d),
		tile: make([]float32, mc*(p.ld())),
		xn:   make([]float32, mc),
	}
}

// Block is the tile of squared distances handed to a BlockFunc: row r of the block
// (point I0+r) has its distance to panel row j at Dist[r*Stride+j−J0], for
// J0 ≤ j < N. J0 is 0 from Distances and I0 from SelfDistances.
type Block struct {
	Worker int
	I0, I1 int
	J0     int
	N      int
	Stride int
	Dist   []float32
}

// Row returns the squared distances of point i (I0 ≤ i < I1) to the panel rows J0 to
// N − 1.
func (b *Block) Row(i int) []float32 {
	o := (i - b.I0) * b.Stride
	return b.Dist[o : o+b.N-b.J0]
}

// BlockFunc receives one block of distances. Calls run concurrently from several
// workers (Block.Worker tells which, from 0 to workers−1); the Block and its Dist
// slice are reused after the call returns.
type BlockFunc func(b *Block) error

// Workers returns the number of workers to use when w ≤ 0: runtime.GOMAXPROCS(0).
func Workers(w int) int {
	if w <= 0 {
		return runtime.GOMAXPROCS(0)
	}
	return w
}

// Distances computes the squared Euclidean distances from each of the m rows of the
// row-major matrix x (d columns, the panel's) to every row of the panel, as
// ‖x‖² − 2x·b + ‖b‖² clamped at zero, in blocks of up to 64 rows spread over
// workers goroutines (≤ 0: GOMAXPROCS), and hands each block to fn. xnorms, when not
// nil, holds the squared norms of x's rows; otherwise they are computed. The first
// error from fn or ctx stops the work and is returned.
func (p *Panel) Distances(ctx context.Context, x []float32, m int, xnorms []float32, workers int, fn BlockFunc) error {
	return p.distances(ctx, x, m, xnorms, workers, false, fn)
}

// SelfDistances is Distances of the panel's own rows x (the matrix it was packed
// from) to each other, each pair once: the block of rows I0 to I1 − 1 gets the
// distances to the panel rows from J0 = I0 on, so that the blocks together hold the
// upper triangle and the diagonal blocks, half the products of Distances.
func (p *Panel) SelfDistances(ctx context.Context, x []float32, workers int, fn BlockFunc) error {
	return p.distances(ctx, x, p.n, p.norms, workers, true, fn)
}

// distances is Distances, or SelfDistances when upper is set.
func (p *Panel) distances(ctx context.Context, x []float32, m int, xnorms []float32, workers int, upper bool, fn BlockFunc) error {
	if m == 0 || p.n == 0 {
		return nil
	}
	d := p.d
	blocks := (m + mc - 1) / mc
	workers = min(Workers(workers), blocks)
	var next atomic.Int64
	var stop atomic.Bool
	var firstErr error
	var once sync.Once
	fail := func(err error) {
		once.Do(func() { firstErr = err })
		stop.Store(true)
	}
	work := func(w int) {
		s := p.getScratch()
		defer p.pool.Put(s)
		blk := Block{Worker: w, N: p.n}
		for !stop.Load() {
			bi := int(next.Add(1) - 1)
			if bi >= blocks {
				return
			}
			if bi%16 == 0 {
				if err := ctx.Err(); err != nil {
					fail(err)
					return
				}
			}
			i0 := bi * mc
			i1 := min(i0+mc, m)
			rows := i1 - i0
			j0 := 0
			if upper {
				j0 = i0 // a multiple of nr: mc is
			}
			ld := p.ld() - j0
			rp := (rows + 3) / 4
			tile := s.tile[:rp*4*ld]
			if p.n <= smallPanel {
				for r := 0; r < rows; r++ {
					DotRows(tile[r*ld:r*ld+p.n-j0], x[(i0+r)*d:(i0+r+1)*d], p.raw[j0*d:])
				}
			} else if gemmDistances() {
				// The panel is Bᵀ packed in 16-column panels, so the AVX-512 GEMM reads
				// the block's rows in place (12×32 tiles, no packing of A).
				clear(tile)
				b := Packed{K: d, N: ld, Data: p.packed[j0*d:]}
				GEMM(rows, x[i0*d:i1*d], d, &b, tile, ld, &s.tail)
			} else {
				pack(s.a, x, i0, i1, d, mr)
				clear(tile)
				p.product(s.a[:rp*4*d], rp, j0/nr, tile, ld)
			}
			xn := s.xn[:rows]
			if xnorms != nil {
				copy(xn, xnorms[i0:i1])
			} else {
				RowSqNorms(xn, x[i0*d:i1*d], d)
			}
			bn := p.norms[j0:]
			for r := 0; r < rows; r++ {
				row := tile[r*ld : r*ld+p.n-j0]
				xr := xn[r]
				for j, v := range row {
					dv := xr - 2*v + bn[j]
					if dv < 0 {
						dv = 0
					}
					row[j] = dv
				}
			}
			blk.J0, blk.Stride = j0, ld
			blk.I0, blk.I1, blk.Dist = i0, i1, tile
			if err := fn(&blk); err != nil {
				fail(err)
				return
			}
		}
	}
	if workers == 1 {
		work(0)
	} else {
		var wg sync.WaitGroup
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				work(w)
			}(w)
		}
		wg.Wait()
	}
	if firstErr != nil {
		return firstErr
	}
	return nil
}

// ld returns the row stride of product tiles: N rounded up to a multiple of 16.
func (p *Panel) ld() int { return (p.n + nr - 1) / nr * nr }

// product adds A·Bᵀ to tile (row stride ld) for the packed row block a of rp 4-row
// panels and the panel's rows from the 16-row panel jq0 on, walking the shared
// dimension kc values at a time.
func (p *Panel) product(a []float32, rp, jq0 int, tile []float32, ld int) {
	d := p.d
	np := (p.n + nr - 1) / nr
	for p0 := 0; p0 < d; p0 += kc {
		p1 := min(p0+kc, d)
		for jq := jq0; jq < np; jq++ {
			bp := p.packed[jq*d*nr+p0*nr : jq*d*nr+p1*nr]
			for iq := 0; iq < rp; iq++ {
				ap := a[iq*d*mr+p0*mr : iq*d*mr+p1*mr]
				kernel(ap, bp, tile[iq*mr*ld+(jq-jq0)*nr:], ld)
			}
		}
	}
}

// MatMulT computes c = a·bᵀ for the row-major matrices a (m×d) and b (n×d) into the
// row-major m×n matrix c, in parallel over row blocks.
func MatMulT(c, a []float32, m int, b []float32, n, d int) {
	p := NewPanel(b, n, d)
	_ = p.Products(context.Background(), c, a, m, 0)
}

// Products computes the dot products of each of the m rows of x with every panel row
// into the row-major m×N matrix c, in parallel over row blocks.
func (p *Panel) Products(ctx context.Context, c, x []float32, m, workers int) error {
	if m == 0 || p.n == 0 {
		return nil
	}
	d := p.d
	blocks := (m + mc - 1) / mc
	workers = min(Workers(workers), blocks)
	var next atomic.Int64
	var wg sync.WaitGroup
	var cancelled atomic.Bool
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := p.getScratch()
			defer p.pool.Put(s)
			ld := p.ld()
			for {
				bi := int(next.Add(1) - 1)
				if bi >= blocks || cancelled.Load() {
					return
				}
				if ctx.Err() != nil {
					cancelled.Store(true)
					return
				}
				i0 := bi * mc
				i1 := min(i0+mc, m)
				rp := (i1 - i0 + 3) / 4
				pack(s.a, x, i0, i1, d, mr)
				tile := s.tile[:rp*4*ld]
				clear(tile)
				p.product(s.a[:rp*4*d], rp, 0, tile, ld)
				for r := 0; r < i1-i0; r++ {
					copy(c[(i0+r)*p.n:(i0+r+1)*p.n], tile[r*ld:r*ld+p.n])
				}
			}
		}()
	}
	wg.Wait()
	return ctx.Err()
}

// Nearest finds, for each of the m rows of x, the nearest panel row by squared
// Euclidean distance, writing its index to idx and the distance to d1; when d2 is not
// nil it also receives the squared distance to the second-nearest row (equal to d1
// when the panel has one row).
func (p *Panel) Nearest(ctx context.Context, x []float32, m int, xnorms []float32, idx []int32, d1, d2 []float32, workers int) error {
	return p.Distances(ctx, x, m, xnorms, workers, func(b *Block) error {
		for i := b.I0; i < b.I1; i++ {
			row := b.Row(i)
			bi := 0
			best, second := row[0], row[0]
			if len(row) > 1 {
				second = float32(3.4e38)
			}
			for j := 1; j < len(row); j++ {
				v := row[j]
				if v < best {
					second = best
					best, bi = v, j
				} else if v < second {
					second = v
				}
			}
			idx[i] = int32(bi)
			d1[i] = best
			if d2 != nil {
				d2[i] = second
			}
		}
		return nil
	})
}
