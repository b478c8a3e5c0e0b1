// Package layout computes 2-D maps of a run's query vectors: a projection that keeps
// each query's neighbourhood, so that the clusters of a run, and the queries inside
// them, can be looked at as a picture.
//
// The method is t-SNE (van der Maaten and Hinton, 2008): each point's 3·perplexity
// exact nearest neighbours (perplexity 30) get Gaussian probabilities whose bandwidth
// gives the row that perplexity; symmetrised and normalised they are the affinities
// P that the map's Student-t similarities Q should match (Kullback–Leibler). The
// layout starts from the vectors' first two principal components, scaled to a
// standard deviation of 1e-4, and descends the gradient with early exaggeration
// (the attraction ×6 over the first third of 600 iterations, momentum 0.5, then
// 0.8), per-coordinate gains and a learning rate of max(200, n/12). The attraction
// is summed over P's rows; the repulsion, a sum over every pair, is interpolated on
// an equispaced grid and convolved with the kernels by 2-D FFT, as FIt-SNE
// (Linderman et al., 2019) does, so an iteration costs O(n) plus the grid's FFT.
// Both are split over Options.Workers goroutines in a way that gives every point the
// same sums whichever goroutine computes them: a seed gives the same map, byte for
// byte, on any number of cores.
//
// Options.Method "umap" selects the earlier method, which follows UMAP (McInnes,
// Healy and Melville, 2018): a k-nearest-neighbour graph turned into fuzzy
// memberships (each point's distances rescaled by its own nearest-neighbour distance
// and a bandwidth that gives it log2(k) of total membership), symmetrised, then laid
// out by stochastic gradient descent that pulls graph neighbours together and
// pushes random pairs apart (negative sampling), on one goroutine in a fixed order.
// On hwu64 (11,106 queries) t-SNE keeps more of each query's labelled neighbourhood
// (0.743–0.745 over eight seeds against 0.710–0.715) in less time.
//
// Above Options.LandmarksAbove points (50,000) only a sample of landmarks (25,000,
// a share of each cluster) is laid out by the full method; every other point is put at the place of
// its nearest landmarks' weighted medoid, the landmarks found by an HNSW graph of
// theirs searched on every core. Run then reads the vectors from the store three
// times instead of holding them: a million 512-d vectors are 2 GB as float32, and
// the landmark path holds the landmarks' alone.
package layout

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/internal/vec"
)

// The full methods of Options.Method.
const (
	// MethodTSNE is t-SNE with perplexity-calibrated Gaussian affinities and the
	// repulsion interpolated on a grid by FFT (the default).
	MethodTSNE = "tsne"
	// MethodUMAP is UMAP's fuzzy neighbour graph and negative-sampling descent.
	MethodUMAP = "umap"
)

// Options configure Compute. The zero value works.
type Options struct {
	// Method lays the points out: MethodTSNE ("" too) or MethodUMAP.
	Method string
	// Perplexity of t-SNE's affinities (0: 30, at most a third of the other points),
	// each found among 3·Perplexity exact nearest neighbours.
	Perplexity float64
	// Exaggeration multiplies t-SNE's attraction during the first third of the
	// iterations (0: 6, which keeps more of each labelled neighbourhood on hwu64 than
	// the customary 12).
	Exaggeration float64
	// LearningRate of t-SNE's descent (0: max(200, n/12)).
	LearningRate float64
	// Neighbors is k of UMAP's neighbour graph (15); t-SNE's is 3·Perplexity.
	Neighbors int
	// Epochs of gradient descent: t-SNE's iterations (0: 600, the first third
	// exaggerated), UMAP's epochs (0: 500 below 10,000 points, 200 above).
	Epochs int
	// MinDist is how tightly neighbours may pack in UMAP's map (0.1); it also shapes
	// the optional placement descent of PlacementEpochs.
	MinDist float64
	// NegativeSamples per attraction of UMAP's descent and the placement descent (5).
	NegativeSamples int
	// Seed makes the layout reproducible (same vectors, same seed: same map).
	Seed uint64
	// Progress receives "layout neighbours" and "layout epochs" reports.
	Progress lmsys.ProgressFunc
	// Workers bounds the goroutines of the neighbour search, the t-SNE descent and the
	// placement (0: GOMAXPROCS); the map is the same for any number.
	Workers int
	// LandmarksAbove is the number of points above which only Landmarks of them are laid
	// out by the full method and every other point is placed from its nearest landmarks
	// (0: 50,000; negative: never).
	LandmarksAbove int
	// Landmarks is how many points the landmark method lays out in full (0: 25,000),
	// drawn from each cluster in proportion to its size when the run has clusters.
	Landmarks int
	// PlacementNeighbors is how many nearest landmarks place a point (0: 5).
	PlacementNeighbors int
	// PlacementEf is the beam width of the landmark search (0: 16; on hwu64 copies 48
	// keeps 0.004 more of the label agreement at twice the placement time).
	PlacementEf int
	// PlacementEpochs of the descent that moves each placed point among its fixed
	// landmarks (0: none; it loses neighbourhoods on the sets measured).
	PlacementEpochs int
}

// landmarks reports whether n points are laid out by the landmark method.
func (o Options) landmarks(n int) bool {
	above := o.LandmarksAbove
	if above == 0 {
		above = 50000
	}
	return above > 0 && n > above
}

func (o Options) withDefaults(n int) Options {
	if o.Method == "" {
		o.Method = MethodTSNE
	}
	if o.Perplexity <= 0 {
		o.Perplexity = 30
	}
	o.Perplexity = max(min(o.Perplexity, float64(n-1)/3), 1)
	if o.Exaggeration <= 0 {
		o.Exaggeration = 6
	}
	if o.LearningRate <= 0 {
		o.LearningRate = max(200, float64(n)/12)
	}
	if o.Neighbors <= 0 {
		o.Neighbors = 15
	}
	o.Neighbors = min(o.Neighbors, n-1)
	if o.Epochs <= 0 && o.Method == MethodTSNE {
		o.Epochs = 600
	}
	if o.Epochs <= 0 {
		o.Epochs = 200
		if n < 10000 {
			o.Epochs = 500
		}
	}
	if o.MinDist <= 0 {
		o.MinDist = 0.1
	}
	if o.NegativeSamples <= 0 {
		o.NegativeSamples = 5
	}
	if o.Landmarks <= 0 {
		o.Landmarks = 25000
	}
	o.Landmarks = max(o.Landmarks, 3)
	if o.PlacementNeighbors <= 0 {
		o.PlacementNeighbors = 5
	}
	o.PlacementEpochs = max(o.PlacementEpochs, 0)
	if o.PlacementEf <= 0 {
		o.PlacementEf = 16
	}
	return o
}

// Point is one query's place on the map.
type Point struct {
	X, Y float32
}

// Compute lays out n vectors of one dimension in two dimensions; above
// Options.LandmarksAbove of them, it lays out a sample of landmarks and places the
// rest from their nearest landmarks. It fails with
// lmsys.ErrInvalidInput for fewer than three vectors, vectors of different lengths, or
// values that are not finite, and with ctx's error when cancelled.
func Compute(ctx context.Context, vectors [][]float32, opts Options) ([]Point, error) {
	n := len(vectors)
	if n < 3 {
		return nil, fmt.Errorf("%w: a map needs at least 3 vectors, got %d", lmsys.ErrInvalidInput, n)
	}
	d := len(vectors[0])
	for i, v := range vectors {
		if err := checkVector(i, v, d); err != nil {
			return nil, err
		}
	}
	if opts.Method != "" && opts.Method != MethodTSNE && opts.Method != MethodUMAP {
		return nil, fmt.Errorf("%w: unknown map method %q (%s or %s)", lmsys.ErrInvalidInput, opts.Method, MethodTSNE, MethodUMAP)
	}
	if opts.landmarks(n) {
		keys := make([]int64, n)
		for i := range keys {
			keys[i] = int64(i)
		}
		return landmarkLayout(ctx, n, d, keys, nil, sliceScan(vectors), opts)
	}
	opts = opts.withDefaults(n)
	if opts.Method == MethodTSNE {
		return computeTSNE(ctx, vectors, opts)
	}
	nb, err := neighbours(ctx, vectors, opts.Neighbors, opts.Workers, opts.Progress)
	if err != nil {
		return nil, err
	}
	g := fuzzyGraph(nb, opts.Neighbors)
	y := pcaInit(vectors, opts.Seed, vec.Workers(opts.Workers))
	a, b := curve(opts.MinDist)
	if err := optimize(ctx, y, g, a, b, opts); err != nil {
		return nil, err
	}
	out := make([]Point, n)
	for i := range out {
		out[i] = Point{float32(y[2*i]), float32(y[2*i+1])}
	}
	return out, nil
}

// graph is the symmetrised fuzzy neighbour graph as an edge list.
type graph struct {
	head, tail []int32
	weight     []float64
}

// fuzzyGraph turns each point's k nearest neighbours into memberships and
// symmetrises them (a + b − a·b).
func fuzzyGraph(nb *knn, k int) graph {
	n := nb.n
	target := math.Log2(float64(k))
	type key struct{ i, j int32 }
	w := make(map[key]float64, n*k)
	for i := 0; i < n; i++ {
		ds := nb.dist[i*k : (i+1)*k]
		rho := 0.0
		for _, x := range ds {
			if x > 0 {
				rho = float64(x)
				break
			}
		}
		sigma := math.Max(bandwidth(ds[1:], rho, target), 1e-3*meanOf(ds))
		for t, x := range ds {
			j := nb.idx[i*k+t]
			if int(j) == i || j < 0 {
				continue
			}
			m := math.Exp(-math.Max(0, float64(x)-rho) / sigma)
			w[key{int32(i), j}] = m
		}
	}
	var g graph
	for e, m := range w {
		if e.i > e.j {
			if _, ok := w[key{e.j, e.i}]; ok {
				continue // counted from the other side
			}
		}
		r := w[key{e.j, e.i}]
		s := m + r - m*r
		g.head = append(g.head, e.i)
		g.tail = append(g.tail, e.j)
		g.weight = append(g.weight, s)
	}
	// The map's iteration order is random; the descent must not be.
	sortEdges(&g)
	return g
}

// bandwidth finds σ by bisection so that Σ exp(−(d − ρ)/σ) over the distances ds is
// target (log2 of the neighbour count), as UMAP's fuzzy memberships have it.
func bandwidth[F float32 | float64](ds []F, rho, target float64) float64 {
	lo, hi, sigma := 0.0, math.Inf(1), 1.0
	for it := 0; it < 64; it++ {
		s := 0.0
		for _, x := range ds {
			s += math.Exp(-math.Max(0, float64(x)-rho) / sigma)
		}
		if math.Abs(s-target) < 1e-5 {
			break
		}
		if s > target {
			hi = sigma
			sigma = (lo + hi) / 2
		} else {
			lo = sigma
			if math.IsInf(hi, 1) {
				sigma *= 2
			} else {
				sigma = (lo + hi) / 2
			}
		}
	}
	return sigma
}

func meanOf(xs []float32) float64 {
	s := 0.0
	for _, x := range xs {
		s += float64(x)
	}
	return s / float64(max(len(xs), 1))
}

// curve fits the low-dimensional similarity 1/(1 + a·d^(2b)) to a step at minDist with
// spread 1, as UMAP does, by least squares on a grid.
func curve(minDist float64) (a, b float64) {
	xs := make([]float64, 300)
	ys := make([]float64, 300)
	for i := range xs {
		x := 3 * float64(i+1) / 300
		xs[i] = x
		if x < minDist {
			ys[i] = 1
		} else {
			ys[i] = math.Exp(-(x - minDist))
		}
	}
	best := math.Inf(1)
	a, b = 1.577, 0.895
	for bb := 0.5; bb <= 1.5; bb += 0.005 {
		// For fixed b the best a is found by a 1-D search.
		for aa := 0.2; aa <= 5; aa *= 1.01 {
			e := 0.0
			for i, x := range xs {
				r := 1/(1+aa*math.Pow(x, 2*bb)) - ys[i]
				e += r * r
			}
			if e < best {
				best, a, b = e, aa, bb
			}
		}
	}
	return a, b
}

// pcaInit places the points on their first two principal components (power
// iteration), scaled to a box of side 20, with a little seeded jitter so that equal
// vectors do not start on one spot.
func pcaInit(vectors [][]float32, seed uint64, workers int) []float64 {
	y, rng := pcaProject(vectors, seed, 30, workers)
	n := len(vectors)
	for c := range 2 {
		lo, hi := math.Inf(1), math.Inf(-1)
		for i := range n {
			lo, hi = math.Min(lo, y[2*i+c]), math.Max(hi, y[2*i+c])
		}
		scale := 20 / math.Max(hi-lo, 1e-9)
		for i := range n {
			y[2*i+c] = (y[2*i+c]-lo)*scale - 10 + 1e-4*rng.NormFloat64()
		}
	}
	return y
}

// pcaProject returns the vectors' projections on their first two principal
// components, interleaved (iters rounds of power iteration from a seeded start, on
// workers goroutines), and the seeded generator for any jitter.
func pcaProject(vectors [][]float32, seed uint64, iters, workers int) ([]float64, *rand.Rand) {
	n, d := len(vectors), len(vectors[0])
	mean := make([]float64, d)
	for _, v := range vectors {
		for j, x := range v {
			mean[j] += float64(x)
		}
	}
	for j := range mean {
		mean[j] /= float64(n)
	}
	rng := rand.New(rand.NewPCG(seed, 0x6c61796f7574))
	comps := make([][]float64, 0, 2)
	proj := make([]float64, n)
	for c := 0; c < 2; c++ {
		u := make([]float64, d)
		for j := range u {
			u[j] = rng.NormFloat64()
		}
		for it := 0; it < iters; it++ {
			// u ← Xᵀ X u, X centred, minus the components found so far.
			// Rows are projected in parallel, and each column's sum is taken over the
			// rows in order by one goroutine: the same numbers on any number of them.
			parallelRange(workers, n, func(lo, hi int) {
				for i := lo; i < hi; i++ {
					s := 0.0
					for j, x := range vectors[i] {
						s += (float64(x) - mean[j]) * u[j]
					}
					proj[i] = s
				}
			})
			next := make([]float64, d)
			parallelRange(workers, d, func(lo, hi int) {
				nx, mn := next[lo:hi], mean[lo:hi]
				for i, v := range vectors {
					v, pi := v[lo:hi], proj[i]
					nx := nx[:len(v)]
					mn := mn[:len(v)]
					for j, x := range v {
						nx[j] += (float64(x) - mn[j]) * pi
					}
				}
			})
			for _, p := range comps {
				dot := 0.0
				for j := range next {
					dot += next[j] * p[j]
				}
				for j := range next {
					next[j] -= dot * p[j]
				}
			}
			norm := 0.0
			for _, x := range next {
				norm += x * x
			}
			norm = math.Sqrt(norm)
			if norm == 0 {
				break
			}
			for j := range next {
				u[j] = next[j] / norm
			}
		}
		comps = append(comps, u)
	}
	y := make([]float64, 2*n)
	for c, u := range comps {
		for i, v := range vectors {
			s := 0.0
			for j, x := range v {
				s += (float64(x) - mean[j]) * u[j]
			}
			y[2*i+c] = s
		}
	}
	return y, rng
}

// optimize runs UMAP's gradient descent on y (x0, y0, x1, y1 …).
func optimize(ctx context.Context, y []float64, g graph, a, b float64, opts Options) error {
	n := len(y) / 2
	if len(g.head) == 0 {
		return errors.New("layout: the neighbour graph has no edges")
	}
	maxW := 0.0
	for _, w := range g.weight {
		maxW = math.Max(maxW, w)
	}
	epochsPer := make([]float64, len(g.weight))
	next := make([]float64, len(g.weight))
	negPer := make([]float64, len(g.weight))
	nextNeg := make([]float64, len(g.weight))
	for e, w := range g.weight {
		epochsPer[e] = -1
		if w/maxW > 1.0/float64(opts.Epochs) {
			epochsPer[e] = maxW / w
		}
		next[e] = epochsPer[e]
		negPer[e] = epochsPer[e] / float64(opts.NegativeSamples)
		nextNeg[e] = negPer[e]
	}
	rng := rand.New(rand.NewPCG(opts.Seed, 0x756d6170))
	clip := func(v float64) float64 { return math.Max(-4, math.Min(4, v)) }
	for ep := 1; ep <= opts.Epochs; ep++ {
		if ep%10 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
			opts.Progress.Report("layout epochs", int64(ep), int64(opts.Epochs))
		}
		alpha := 1 - float64(ep-1)/float64(opts.Epochs)
		for e := range g.head {
			if epochsPer[e] < 0 || next[e] > float64(ep) {
				continue
			}
			i, j := int(g.head[e]), int(g.tail[e])
			dx, dy := y[2*i]-y[2*j], y[2*i+1]-y[2*j+1]
			d2 := dx*dx + dy*dy
			if d2 > 0 {
				c := -2 * a * b * math.Pow(d2, b-1) / (a*math.Pow(d2, b) + 1)
				gx, gy := clip(c*dx)*alpha, clip(c*dy)*alpha
				y[2*i] += gx
				y[2*i+1] += gy
				y[2*j] -= gx
				y[2*j+1] -= gy
			}
			next[e] += epochsPer[e]
			negs := int((float64(ep) - nextNeg[e]) / negPer[e])
			for s := 0; s < negs; s++ {
				k := rng.IntN(n)
				if k == i {
					continue
				}
				dx, dy := y[2*i]-y[2*k], y[2*i+1]-y[2*k+1]
				d2 := dx*dx + dy*dy
				c := 0.0
				if d2 > 0 {
					c = 2 * b / ((0.001 + d2) * (a*math.Pow(d2, b) + 1))
				}
				gx, gy := 4.0, 4.0
				if c > 0 {
					gx, gy = clip(c*dx), clip(c*dy)
				}
				y[2*i] += gx * alpha
				y[2*i+1] += gy * alpha
			}
			nextNeg[e] += float64(negs) * negPer[e]
		}
	}
	opts.Progress.Report("layout epochs", int64(opts.Epochs), int64(opts.Epochs))
	return nil
}
