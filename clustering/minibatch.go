package clustering

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/internal/vec"
)

// Source streams (id, vector) pairs in a stable order, batch at a time. It is how
// mini-batch k-means reads vectors without holding them all; a Store's
// ScanQueryVectors with a fixed space and filter fits it. The slices passed to fn may
// be reused after fn returns. Scan is called several times and must yield the same
// rows each time.
type Source interface {
	Scan(ctx context.Context, batch int, fn func(ids []int64, vecs [][]float32) error) error
}

// SourceFunc adapts a function to Source.
type SourceFunc func(ctx context.Context, batch int, fn func(ids []int64, vecs [][]float32) error) error

// Scan calls f.
func (f SourceFunc) Scan(ctx context.Context, batch int, fn func(ids []int64, vecs [][]float32) error) error {
	return f(ctx, batch, fn)
}

// MiniBatch is mini-batch k-means (Sculley 2010) over a Source. A first pass draws a
// reservoir sample, which k-means++ and a short Lloyd run seed the centres from, and
// keeps every row as a half float (HalfMatrix) within MatrixBudget; each further pass
// shuffles every chunk and moves each centre toward the mean of its rows in each
// mini-batch with a per-centre learning rate of (rows in this batch) / (rows seen so
// far); a final pass labels every row. The later passes read the half-float copy, so
// the Source is read once; without the copy (over budget, or disabled) they read the
// Source again and Fit never holds more than one chunk of vectors, the reservoir and
// the centres.
type MiniBatch struct {
	// K is the number of clusters (required).
	K int
	// BatchSize is the number of rows per mini-batch (default 8192).
	BatchSize int
	// ChunkSize is the number of rows read from the Source at a time (default 65536).
	ChunkSize int
	// Passes is the number of update passes over the data (default 2).
	Passes int
	// NInit is the number of inits tried on the reservoir (k-means++ on SeedSample
	// of its rows, then up to 10 Lloyd iterations on all of it), keeping the one of
	// lowest reservoir inertia (default 3).
	NInit int
	// Reservoir is the size of the seeding sample (default max(40·K, 3·BatchSize)).
	Reservoir int
	// SeedSample bounds the reservoir rows k-means++ looks at (default: all of them).
	// Seeding costs O(K·log K·SeedSample·d) per init: a smaller value starts faster
	// and usually ends at a slightly higher inertia.
	SeedSample int
	// Seed makes the result deterministic for a Source that yields rows in a fixed order.
	Seed uint64
	// Spherical clusters unit-normalised rows by cosine similarity.
	Spherical bool
	// Workers is the number of goroutines of the distance step (default GOMAXPROCS).
	Workers int
	// MatrixBudget bounds the memory, in bytes, of the half-float copy of the rows
	// (HalfMatrix, 2 bytes a dimension and 8 a row) that the first pass keeps so that
	// the update and labelling passes read memory instead of the Source. 0 means
	// MemoryBudget(); a negative value never keeps one. When the rows outgrow the
	// budget, or a value lies beyond the half range (|x| > 65504, which Spherical rows
	// never do), the copy is dropped and every pass reads the Source again.
	MatrixBudget int64
	// Progress, when set, receives a report per chunk.
	Progress lmsys.ProgressFunc
}

// MiniBatchResult describes a mini-batch k-means fit.
type MiniBatchResult struct {
	// Centroids holds the K final centres.
	Centroids [][]float32
	// Sizes holds the number of rows labelled into each cluster.
	Sizes []int
	// Inertia is the sum of squared distances of rows to their nearest centre, measured
	// in the labelling pass.
	Inertia float64
	// N is the number of rows; D their dimension.
	N, D int
	// MatrixBytes is the memory of the half-float matrix the passes after the first
	// read, 0 when they read the Source (see MiniBatch.MatrixBudget).
	MatrixBytes int64
}

// errDims builds the error for a vector of the wrong dimension.
func errDims(id int64, got, want int) error {
	return fmt.Errorf("minibatch: vector of id %d has %d dimensions, expected %d: %w", id, got, want, lmsys.ErrInvalidInput)
}

// Fit clusters the rows of src and calls emit (when not nil) once per row, in the
// Source's order, with its id, cluster and confidence (the nearest/second-nearest
// margin, see KMeansResult). An error from emit stops the fit and is returned.
func (mb *MiniBatch) Fit(ctx context.Context, src Source, emit func(id int64, label int, confidence float32) error) (*MiniBatchResult, error) {
	k := mb.K
	if k < 1 {
		return nil, fmt.Errorf("minibatch: k=%d must be at least 1: %w", k, lmsys.ErrInvalidInput)
	}
	batch := mb.BatchSize
	if batch <= 0 {
		batch = 8192
	}
	chunk := mb.ChunkSize
	if chunk <= 0 {
		chunk = 65536
	}
	passes := mb.Passes
	if passes <= 0 {
		passes = 2
	}
	nInit := mb.NInit
	if nInit <= 0 {
		nInit = 3
	}
	resSize := mb.Reservoir
	if resSize <= 0 {
		resSize = max(40*k, 3*batch)
	}
	workers := vec.Workers(mb.Workers)
	rng := rand.New(rand.NewPCG(mb.Seed, 0x3b))

	// Pass 0: count rows, draw the reservoir (Algorithm R) and, within the budget,
	// keep a half-float copy of every row for the later passes.
	d, n := 0, 0
	var reservoir []float32
	hm, given := src.(*HalfMatrix)
	budget := mb.MatrixBudget
	if budget == 0 {
		budget = MemoryBudget()
	}
	keep := !given && budget > 0
	var unit []float32 // one row, normalised before it is kept (Spherical)
	defer func() {
		if hm != nil && !given {
			hm.Release()
		}
	}()
	// The first pass works row by row: it reads smaller batches, the next one while
	// this one is sampled and kept.
	err := scanAhead(ctx, src, min(chunk, 8192), func(ids []int64, vecs [][]float32) error {
		for j, v := range vecs {
			if d == 0 {
				d = len(v)
				if d == 0 {
					return fmt.Errorf("minibatch: vector of id %d has no dimensions: %w", ids[j], lmsys.ErrInvalidInput)
				}
				reservoir = make([]float32, 0, resSize*d)
			}
			if len(v) != d {
				return errDims(ids[j], len(v), d)
			}
			for _, x := range v {
				if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
					return fmt.Errorf("minibatch: vector of id %d holds a NaN or infinite value: %w", ids[j], lmsys.ErrInvalidInput)
				}
			}
			if n < resSize {
				reservoir = append(reservoir, v...)
			} else if r := rng.IntN(n + 1); r < resSize {
				copy(reservoir[r*d:(r+1)*d], v)
			}
			n++
			if keep && HalfMatrixBytes(n, d) > budget {
				keep = false // over budget: stream every pass
				if hm != nil {
					hm.Release()
					hm = nil
				}
			}
			if keep {
				if hm == nil {
					hm = NewHalfMatrix(d, chunk)
					unit = make([]float32, d)
				}
				row := v
				if mb.Spherical {
					copy(unit, v)
					vec.Normalize(unit)
					row = unit
				}
				if hm.Append(ids[j], row) != nil {
					keep = false // beyond the half range: stream every pass
					hm.Release()
					hm = nil
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("minibatch: sampling pass: %w", err)
	}
	if n == 0 {
		return nil, fmt.Errorf("minibatch: the source yielded no vectors: %w", lmsys.ErrEmpty)
	}
	if k > n {
		return nil, fmt.Errorf("minibatch: k=%d is more than the %d vectors: %w", k, n, lmsys.ErrInvalidInput)
	}
	rn := len(reservoir) / d
	if mb.Spherical {
		vec.NormalizeRows(reservoir, d)
	}
	rnorms := make([]float32, rn)
	vec.RowSqNorms(rnorms, reservoir, d)

	// Seed: k-means++ plus a short Lloyd run on the reservoir, best of nInit.
	seedRows := mb.SeedSample
	if seedRows <= 0 {
		seedRows = rn
	}
	var cents []float32
	best := math.Inf(1)
	tolAbs := 1e-4 * meanVariance(reservoir, rn, d)
	for run := 0; run < nInit; run++ {
		r := rand.New(rand.NewPCG(mb.Seed, uint64(run)+101))
		c, err := seedPlusPlus(ctx, r, reservoir, rnorms, rn, d, k, seedRows, workers)
		if err != nil {
			return nil, fmt.Errorf("minibatch: seeding: %w", err)
		}
		l := newLloyd(reservoir, rnorms, rn, d, k, workers, mb.Spherical)
		copy(l.cents, c)
		if err := l.run(ctx, 10, tolAbs, nil); err != nil {
			return nil, fmt.Errorf("minibatch: seeding: %w", err)
		}
		if l.inertia < best {
			best, cents = l.inertia, l.cents
		}
	}
	reservoir = nil

	// Update passes.
	st := &mbState{k: k, d: d, cents: cents, counts: make([]float64, k), panel: &vec.Panel{},
		batch: make([]float32, batch*d), bnorms: make([]float32, batch),
		idx: make([]int32, batch), dist: make([]float32, batch), sums: make([]float64, k*d), bcount: make([]int, k),
		spherical: mb.Spherical, workers: workers}
	done := int64(0)
	total := int64(n) * int64(passes+1)
	if hm != nil {
		res, err := mb.fitHalf(ctx, hm, st, rng, passes, chunk, n, emit)
		if err != nil {
			return nil, err
		}
		if !given {
			res.MatrixBytes = hm.Bytes()
		}
		return res, nil
	}
	st.buf = make([]float32, 0, chunk*d)
	for pass := 0; pass < passes; pass++ {
		seen := make([]bool, k)
		err := src.Scan(ctx, chunk, func(ids []int64, vecs [][]float32) error {
			st.buf = st.buf[:0]
			for j, v := range vecs {
				if len(v) != d {
					return errDims(ids[j], len(v), d)
				}
				st.buf = append(st.buf, v...)
			}
			m := len(vecs)
			if mb.Spherical {
				vec.NormalizeRows(st.buf, d)
			}
			perm := rng.Perm(m)
			for b0 := 0; b0 < m; b0 += batch {
				b1 := min(b0+batch, m)
				if err := st.step(ctx, perm[b0:b1], seen); err != nil {
					return err
				}
			}
			done += int64(m)
			mb.Progress.Report(fmt.Sprintf("minibatch pass %d/%d", pass+1, passes), done, total)
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("minibatch: pass %d: %w", pass+1, err)
		}
		// A centre that won no row in a whole pass is dead: restart it on a random
		// row of the last chunk.
		for c := 0; c < k; c++ {
			if !seen[c] && len(st.buf) > 0 {
				i := rng.IntN(len(st.buf) / d)
				copy(cents[c*d:(c+1)*d], st.buf[i*d:(i+1)*d])
				st.counts[c] = 0
			}
		}
	}

	// Labelling pass.
	res := &MiniBatchResult{Centroids: rows(cents, k, d), Sizes: make([]int, k), N: n, D: d}
	st.panel.Reset(cents, k, d)
	lb := &labeller{mb: mb, st: st, res: res, emit: emit, done: done, total: total}
	err = src.Scan(ctx, chunk, func(ids []int64, vecs [][]float32) error {
		st.buf = st.buf[:0]
		for j, v := range vecs {
			if len(v) != d {
				return errDims(ids[j], len(v), d)
			}
			st.buf = append(st.buf, v...)
		}
		return lb.label(ctx, ids, st.buf)
	})
	if err != nil {
		return nil, fmt.Errorf("minibatch: labelling pass: %w", err)
	}
	return res, nil
}

// mbState holds the buffers of the update passes.
type mbState struct {
	k, d      int
	cents     []float32
	counts    []float64
	panel     *vec.Panel
	buf       []float32
	batch     []float32
	bnorms    []float32
	idx       []int32
	dist      []float32
	sums      []float64
	bcount    []int
	spherical bool
	workers   int
}

// step runs one mini-batch made of the chunk rows listed in rowsIdx: assign them to
// the current centres, then move each centre c to
// (counts[c]·c + Σ rows) / (counts[c] + rows in batch).
func (st *mbState) step(ctx context.Context, rowsIdx []int, seen []bool) error {
	d, m := st.d, len(rowsIdx)
	for j, i := range rowsIdx {
		copy(st.batch[j*d:(j+1)*d], st.buf[i*d:(i+1)*d])
	}
	return st.update(ctx, m, seen)
}

// update runs one mini-batch of the m rows in st.batch.
func (st *mbState) update(ctx context.Context, m int, seen []bool) error {
	d := st.d
	x := st.batch[:m*d]
	vec.RowSqNorms(st.bnorms[:m], x, d)
	st.panel.Reset(st.cents, st.k, d)
	if err := st.panel.Nearest(ctx, x, m, st.bnorms[:m], st.idx[:m], st.dist[:m], nil, st.workers); err != nil {
		return err
	}
	clear(st.sums)
	clear(st.bcount)
	for j := 0; j < m; j++ {
		c := int(st.idx[j])
		st.bcount[c]++
		s := st.sums[c*d : (c+1)*d]
		for p, v := range x[j*d : (j+1)*d] {
			s[p] += float64(v)
		}
	}
	for c, bc := range st.bcount {
		if bc == 0 {
			continue
		}
		seen[c] = true
		old := st.counts[c]
		nc := old + float64(bc)
		cent := st.cents[c*d : (c+1)*d]
		s := st.sums[c*d : (c+1)*d]
		for p := range cent {
			cent[p] = float32((float64(cent[p])*old + s[p]) / nc)
		}
		st.counts[c] = nc
		if st.spherical {
			vec.Normalize(cent)
		}
	}
	return nil
}

// halfLabelBlock is the number of rows the labelling pass over a HalfMatrix decodes
// and labels at a time.
const halfLabelBlock = 8192

// fitHalf runs the update and labelling passes of Fit over the n rows of hm (already
// unit rows when Spherical), from the seeded centres in st: the same passes as over a
// Source, with each mini-batch's rows decoded straight from the matrix.
func (mb *MiniBatch) fitHalf(ctx context.Context, hm *HalfMatrix, st *mbState, rng *rand.Rand, passes, chunk, n int, emit func(id int64, label int, confidence float32) error) (*MiniBatchResult, error) {
	k, d := st.k, st.d
	batch := len(st.idx)
	done := int64(0)
	total := int64(n) * int64(passes+1)
	for pass := 0; pass < passes; pass++ {
		seen := make([]bool, k)
		for c0 := 0; c0 < n; c0 += chunk {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("minibatch: pass %d: %w", pass+1, err)
			}
			m := min(chunk, n-c0)
			perm := rng.Perm(m)
			for b0 := 0; b0 < m; b0 += batch {
				b1 := min(b0+batch, m)
				for j, i := range perm[b0:b1] {
					hm.Row(c0+i, st.batch[j*d:(j+1)*d])
				}
				if mb.Spherical {
					vec.NormalizeRows(st.batch[:(b1-b0)*d], d)
				}
				if err := st.update(ctx, b1-b0, seen); err != nil {
					return nil, fmt.Errorf("minibatch: pass %d: %w", pass+1, err)
				}
			}
			done += int64(m)
			mb.Progress.Report(fmt.Sprintf("minibatch pass %d/%d", pass+1, passes), done, total)
		}
		// A centre that won no row in a whole pass is dead: restart it on a random row.
		for c := 0; c < k; c++ {
			if !seen[c] {
				cent := st.cents[c*d : (c+1)*d]
				hm.Row(rng.IntN(n), cent)
				if mb.Spherical {
					vec.Normalize(cent)
				}
				st.counts[c] = 0
			}
		}
	}

	res := &MiniBatchResult{Centroids: rows(st.cents, k, d), Sizes: make([]int, k), N: n, D: d}
	st.panel.Reset(st.cents, k, d)
	lb := &labeller{mb: mb, st: st, res: res, emit: emit, done: done, total: total}
	err := hm.scanFlat(ctx, min(halfLabelBlock, n), func(ids []int64, x []float32) error {
		return lb.label(ctx, ids, x)
	})
	if err != nil {
		return nil, fmt.Errorf("minibatch: labelling pass: %w", err)
	}
	return res, nil
}

// labeller is the labelling pass: it labels rows a batch at a time, counting sizes
// and inertia into res and emitting every row.
type labeller struct {
	mb          *MiniBatch
	st          *mbState
	res         *MiniBatchResult
	emit        func(id int64, label int, confidence float32) error
	done, total int64
	cn, d1, d2  []float32
	lab         []int32
}

// label labels the rows of the row-major matrix x (one per id; normalised in place
// when Spherical) by the centres in st.panel.
func (lb *labeller) label(ctx context.Context, ids []int64, x []float32) error {
	m, d := len(ids), lb.st.d
	if m > len(lb.cn) {
		lb.cn, lb.lab, lb.d1, lb.d2 = make([]float32, m), make([]int32, m), make([]float32, m), make([]float32, m)
	}
	x = x[:m*d]
	if lb.mb.Spherical {
		vec.NormalizeRows(x, d)
	}
	vec.RowSqNorms(lb.cn[:m], x, d)
	if err := lb.st.panel.Nearest(ctx, x, m, lb.cn[:m], lb.lab, lb.d1, lb.d2, lb.st.workers); err != nil {
		return err
	}
	for j := 0; j < m; j++ {
		lb.res.Sizes[lb.lab[j]]++
		lb.res.Inertia += float64(lb.d1[j])
		if lb.emit != nil {
			if err := lb.emit(ids[j], int(lb.lab[j]), margin(lb.d1[j], lb.d2[j])); err != nil {
				return err
			}
		}
	}
	lb.done += int64(m)
	lb.mb.Progress.Report("minibatch labelling", lb.done, lb.total)
	return nil
}
