package layout

import (
	"context"
	"errors"
	"math"
	"slices"
	"sync"

	"github.com/lmsys-go/lmsys/internal/vec"
)

// affinities is t-SNE's symmetric joint probability matrix P in compressed rows: row
// i's neighbours are col[start[i]:start[i+1]] (ascending) with probabilities val.
type affinities struct {
	start []int32
	col   []int32
	val   []float32
}

// tsneAffinities turns each point's nearest neighbours (itself first) into Gaussian
// conditional probabilities p(j|i) whose bandwidth gives the row a perplexity of
// perplexity, then symmetrises them, p_ij = (p(j|i) + p(i|j)) / 2n, normalised to sum
// to one.
func tsneAffinities(nb *knn, perplexity float64) affinities {
	n, k := nb.n, nb.k
	type entry struct {
		j int32
		p float64
	}
	rows := make([][]entry, n)
	target := math.Log(perplexity)
	d2 := make([]float64, 0, k)
	js := make([]int32, 0, k)
	w := make([]float64, k)
	for i := range n {
		d2, js = d2[:0], js[:0]
		for t := range k {
			j := nb.idx[i*k+t]
			if j < 0 || int(j) == i {
				continue
			}
			x := float64(nb.dist[i*k+t])
			d2 = append(d2, x*x)
			js = append(js, j)
		}
		if len(js) == 0 {
			continue
		}
		conditional(d2, target, w[:len(d2)])
		for t, j := range js {
			rows[i] = append(rows[i], entry{j, w[t]})
			rows[j] = append(rows[j], entry{int32(i), w[t]})
		}
	}
	a := affinities{start: make([]int32, n+1)}
	var sums []float64
	total := 0.0
	for i, r := range rows {
		slices.SortFunc(r, func(x, y entry) int { return int(x.j - y.j) })
		for t := 0; t < len(r); {
			j, s := r[t].j, 0.0
			for ; t < len(r) && r[t].j == j; t++ {
				s += r[t].p
			}
			a.col = append(a.col, j)
			sums = append(sums, s)
			total += s
		}
		a.start[i+1] = int32(len(a.col))
		rows[i] = nil
	}
	a.val = make([]float32, len(sums))
	for t, s := range sums {
		a.val[t] = float32(s / total)
	}
	return a
}

// conditional writes into w the Gaussian probabilities exp(−β(d² − d²₀)) of the
// squared distances d2, normalised, with β found by bisection so that their entropy
// is target (the log of the perplexity).
func conditional(d2 []float64, target float64, w []float64) {
	lo := slices.Min(d2)
	beta, bmin, bmax := 1.0, 0.0, math.Inf(1)
	if spread := slices.Max(d2) - lo; spread > 0 {
		beta = 1 / spread
	}
	for range 100 {
		sum, dot := 0.0, 0.0
		for t, x := range d2 {
			e := math.Exp(-beta * (x - lo))
			w[t] = e
			sum += e
			dot += e * (x - lo)
		}
		h := math.Log(sum) + beta*dot/sum
		if math.Abs(h-target) < 1e-5 {
			break
		}
		if h > target {
			bmin = beta
			if math.IsInf(bmax, 1) {
				beta *= 2
			} else {
				beta = (beta + bmax) / 2
			}
		} else {
			bmax = beta
			beta = (beta + bmin) / 2
		}
	}
	sum := 0.0
	for _, x := range w {
		sum += x
	}
	for t := range w {
		w[t] /= sum
	}
}

// tsneInit places the points on their first two principal components (10 rounds of
// power iteration: a start needs no more), scaled so
// that the first has a standard deviation of 1e-4, as t-SNE implementations start,
// with a seeded jitter of 1e-7 so that equal vectors do not start on one spot.
func tsneInit(vectors [][]float32, seed uint64, workers int) []float64 {
	y, rng := pcaProject(vectors, seed, 10, workers)
	n := len(vectors)
	mean, sq := 0.0, 0.0
	for i := range n {
		mean += y[2*i]
	}
	mean /= float64(n)
	for i := range n {
		sq += (y[2*i] - mean) * (y[2*i] - mean)
	}
	std := math.Sqrt(sq / float64(n))
	scale := 1e-4 / math.Max(std, 1e-12)
	for i := range y {
		y[i] = y[i]*scale + 1e-7*rng.NormFloat64()
	}
	return y
}

// nodeSpacing is the widest spacing of the repulsion's grid nodes, in map units. On
// hwu64 0.8 scores as 0.67 does (a 10-NN label agreement of 0.740–0.744 over seeds)
// on fewer grid cells; 1 loses 0.005.
const nodeSpacing = 0.8

// tsneParams are the settings of the t-SNE descent.
type tsneParams struct {
	iterations   int     // in all
	exaggerated  int     // the first ones, with the attraction multiplied by exaggeration
	exaggeration float64 // 12
	learningRate float64 // max(200, n/12)
	workers      int
}

// tsneOptimize runs t-SNE's gradient descent on y (x0, y0, x1, y1 …): momentum 0.5
// during early exaggeration and 0.8 after, per-coordinate gains (+0.2 while the
// gradient keeps pointing against the last step, ×0.8 once it turns, at least
// 0.01), each point's step at most 5 long. The attraction is summed over P's rows and the repulsion interpolated on
// a grid (fftRepulsion); both are split over workers goroutines in a way that gives
// every point the same sums whichever goroutine computes them, so the map is the
// same for any number of workers.
func tsneOptimize(ctx context.Context, y []float64, p affinities, prm tsneParams, progress func(done int)) error {
	n := len(y) / 2
	if len(p.col) == 0 {
		return errors.New("layout: the neighbour graph has no edges")
	}
	grad := make([]float64, 2*n)
	y32 := make([]float32, 2*n) // y in float32, for the attraction; kept by the steps
	for i, v := range y {
		y32[i] = float32(v)
	}
	update := make([]float64, 2*n)
	gains := make([]float64, 2*n)
	for i := range gains {
		gains[i] = 1
	}
	repulsion := newFFTRepulsion(n, prm.workers, 3, nodeSpacing).gradient
	if n <= exactRepulsionLimit {
		zs := make([]float64, n)
		repulsion = func(y, rep []float64) float64 { return exactRepulsion(y, rep, zs, prm.workers) }
	}
	for it := range prm.iterations {
		if it%10 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
			progress(it)
		}
		ex, momentum := 1.0, 0.8
		if it < prm.exaggerated {
			ex, momentum = prm.exaggeration, 0.5
		}
		z := repulsion(y, grad) // the repulsion, to be divided by Z
		parallelRange(prm.workers, n, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				ax, ay := attraction(y32, p, i)
				grad[2*i] = ex*ax - grad[2*i]/z
				grad[2*i+1] = ex*ay - grad[2*i+1]/z
			}
		})
		parallelRange(prm.workers, n, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				step(grad, update, gains, y, i, momentum, prm.learningRate)
				y32[2*i], y32[2*i+1] = float32(y[2*i]), float32(y[2*i+1])
			}
		})
	}
	progress(prm.iterations)
	return nil
}

// exactRepulsionLimit is the largest map whose repulsion is summed over every pair:
// up to here that costs less than the grid's transforms, which a map of a few points
// spread wide makes as large as a big map's.
const exactRepulsionLimit = 600

// exactRepulsion writes into rep, for every point i, Σ_{j≠i} K(i,j)² (y_i − y_j) with
// K = 1/(1 + ‖y_i − y_j‖²), and returns Z = Σ_{i≠j} K(i,j), as fftRepulsion.gradient
// does, but exactly; zs holds each point's part of Z (n values). Each point's sums
// are taken in the order of j, so they do not depend on the number of workers.
func exactRepulsion(y, rep, zs []float64, workers int) float64 {
	n := len(y) / 2
	parallelRange(workers, n, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			xi, yi := y[2*i], y[2*i+1]
			var rx, ry, z float64
			for j := range n {
				if j == i {
					continue
				}
				dx, dy := xi-y[2*j], yi-y[2*j+1]
				k := 1 / (1 + dx*dx + dy*dy)
				z += k
				rx += k * k * dx
				ry += k * k * dy
			}
			rep[2*i], rep[2*i+1], zs[i] = rx, ry, z
		}
	})
	z := 0.0
	for _, v := range zs {
		z += v
	}
	return z
}

// attraction is Σ_j p_ij (y_i − y_j) / (1 + ‖y_i − y_j‖²) over row i of P, from the
// points' float32 copy y32.
func attraction(y32 []float32, p affinities, i int) (float64, float64) {
	lo, hi := p.start[i], p.start[i+1]
	ax, ay := attractRow(y32, p.col[lo:hi], p.val[lo:hi], y32[2*i], y32[2*i+1])
	return float64(ax), float64(ay)
}

// step moves point i by its gradient with momentum and gains.
func step(grad, update, gains, y []float64, i int, momentum, lr float64) {
	var u [2]float64
	for c := range 2 {
		t := 2*i + c
		if grad[t]*update[t] < 0 {
			gains[t] += 0.2
		} else {
			gains[t] = math.Max(gains[t]*0.8, 0.01)
		}
		u[c] = momentum*update[t] - lr*gains[t]*grad[t]
	}
	const maxStep = 5
	if norm := math.Hypot(u[0], u[1]); norm > maxStep {
		u[0], u[1] = u[0]*maxStep/norm, u[1]*maxStep/norm
	}
	for c := range 2 {
		update[2*i+c] = u[c]
		y[2*i+c] += u[c]
	}
}

// parallelRange calls fn on workers contiguous parts of [0, n) at once; fn must give
// each index the same result whichever part holds it.
func parallelRange(workers, n int, fn func(lo, hi int)) {
	workers = max(1, min(workers, n))
	if workers == 1 {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := w*n/workers, (w+1)*n/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(lo, hi)
		}()
	}
	wg.Wait()
}

// computeTSNE is Compute's t-SNE: affinities among 3·perplexity exact neighbours,
// PCA start, descent.
func computeTSNE(ctx context.Context, vectors [][]float32, opts Options) ([]Point, error) {
	n := len(vectors)
	k := min(n-1, int(math.Ceil(3*opts.Perplexity))) + 1 // each point is its own first neighbour
	nb, err := neighbours(ctx, vectors, k, opts.Workers, opts.Progress)
	if err != nil {
		return nil, err
	}
	p := tsneAffinities(nb, opts.Perplexity)
	nb = nil
	y := tsneInit(vectors, opts.Seed, vec.Workers(opts.Workers))
	prm := tsneParams{
		iterations:   opts.Epochs,
		exaggerated:  opts.Epochs / 3,
		exaggeration: opts.Exaggeration,
		learningRate: opts.LearningRate,
		workers:      vec.Workers(opts.Workers),
	}
	err = tsneOptimize(ctx, y, p, prm, func(done int) {
		opts.Progress.Report("layout epochs", int64(done), int64(opts.Epochs))
	})
	if err != nil {
		return nil, err
	}
	out := make([]Point, n)
	for i := range out {
		out[i] = Point{float32(y[2*i]), float32(y[2*i+1])}
	}
	return out, nil
}
