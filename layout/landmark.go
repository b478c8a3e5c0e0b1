package layout

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/errgroup"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/internal/vec"
	"github.com/lmsys-go/lmsys/semantic"
)

// rowScan streams a set's vectors in row order, in batches: fn receives the row index
// of batch[0]. The batch may be reused once fn returns. Every call yields the same
// rows, so a large set is read more than once instead of being held in memory.
type rowScan func(ctx context.Context, fn func(first int, batch [][]float32) error) error

// sliceScan is the rowScan of vectors already in memory.
func sliceScan(vectors [][]float32) rowScan {
	return func(ctx context.Context, fn func(int, [][]float32) error) error {
		const batch = 10000
		for from := 0; from < len(vectors); from += batch {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := fn(from, vectors[from:min(from+batch, len(vectors))]); err != nil {
				return err
			}
		}
		return nil
	}
}

// mix is SplitMix64's finaliser: a well-spread hash of a 64-bit key.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// selectLandmarks picks about m of the rows, in row order: from each group (the
// run's clusters; nil: one group) a share of m in proportion to its size, at least
// one, taken by a hash of the row's key and the seed, so that the choice depends on
// neither row order nor the machine.
func selectLandmarks(keys []int64, groups []int, m int, seed uint64) []int {
	n := len(keys)
	if m >= n {
		out := make([]int, n)
		for i := range out {
			out[i] = i
		}
		return out
	}
	members := map[int][]int{}
	for i := range keys {
		g := 0
		if groups != nil {
			g = groups[i]
		}
		members[g] = append(members[g], i)
	}
	salt := mix(seed ^ 0x6c616e646d61726b)
	rank := func(i int) uint64 { return mix(uint64(keys[i]) ^ salt) }
	var out []int
	for _, rows := range members {
		quota := max(1, int(math.Round(float64(m)*float64(len(rows))/float64(n))))
		if quota < len(rows) {
			slices.SortFunc(rows, func(a, b int) int {
				if ra, rb := rank(a), rank(b); ra != rb {
					if ra < rb {
						return -1
					}
					return 1
				}
				return a - b
			})
			rows = rows[:quota]
		}
		out = append(out, rows...)
	}
	slices.Sort(out)
	return out
}

// checkVector fails with lmsys.ErrInvalidInput for a vector of another dimension or
// holding a value that is not finite.
func checkVector(i int, v []float32, d int) error {
	if len(v) != d || d == 0 {
		return fmt.Errorf("%w: vector %d has %d dimensions, vector 0 has %d", lmsys.ErrInvalidInput, i, len(v), d)
	}
	for _, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return fmt.Errorf("%w: vector %d holds a value that is not finite", lmsys.ErrInvalidInput, i)
		}
	}
	return nil
}

// landmarkLayout lays out a large set in three reads of it: the landmarks' vectors
// are gathered and laid out by Compute's full method; every other row is then put at
// the weighted mean of the map places of its nearest landmarks, found by an HNSW
// graph of the landmarks (built on one goroutine, so the same for a seed, and
// searched on every core, each row's answer independent of the goroutine that asks).
// Only the landmarks' vectors are held, so memory grows with the landmarks, not with
// the set.
func landmarkLayout(ctx context.Context, n, d int, keys []int64, groups []int, scan rowScan, opts Options) ([]Point, error) {
	inner := opts
	inner.LandmarksAbove = -1
	opts = opts.withDefaults(n)
	sel := selectLandmarks(keys, groups, opts.Landmarks, opts.Seed)
	lv := make([][]float32, len(sel))
	flat := make([]float32, len(sel)*d)
	at := 0
	err := scan(ctx, func(first int, batch [][]float32) error {
		for at < len(sel) && sel[at] < first+len(batch) {
			v := batch[sel[at]-first]
			if err := checkVector(sel[at], v, d); err != nil {
				return err
			}
			lv[at] = flat[at*d : (at+1)*d : (at+1)*d]
			copy(lv[at], v)
			at++
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if at != len(sel) {
		return nil, fmt.Errorf("layout: the set's vectors ended after %d of %d landmarks", at, len(sel))
	}
	lp, err := Compute(ctx, lv, inner)
	if err != nil {
		return nil, err
	}
	opts.Progress.Report("layout landmark graph", 0, int64(len(lv)))
	h := semantic.NewHNSW(semantic.HNSWOptions{Workers: 1, EfSearch: opts.PlacementEf})
	items := make([]lmsys.Vector, len(lv))
	for i, v := range lv {
		items[i] = lmsys.Vector{ID: strconv.Itoa(i), Values: v}
	}
	if err := h.Upsert(ctx, "landmarks", items); err != nil {
		return nil, fmt.Errorf("layout: landmark graph: %w", err)
	}
	items, lv, flat = nil, nil, nil
	opts.Progress.Report("layout placement", 0, int64(n))

	out := make([]Point, n)
	isLandmark := make([]bool, n)
	for t, i := range sel {
		out[i] = lp[t]
		isLandmark[i] = true
	}
	m := min(opts.PlacementNeighbors, len(sel))
	a, b := curve(opts.MinDist)
	pl := &placer{lp: lp, a: a, b: b, epochs: opts.PlacementEpochs, neg: opts.NegativeSamples, seed: opts.Seed}
	workers := vec.Workers(opts.Workers)
	var done atomic.Int64
	var mu sync.Mutex // progress functions need not be safe for concurrent use
	err = scan(ctx, func(first int, batch [][]float32) error {
		var next atomic.Int64
		const block = 256
		g, gctx := errgroup.WithContext(ctx)
		for range workers {
			g.Go(func() error {
				js, ds, w := make([]int, 0, m), make([]float64, 0, m), make([]float64, 0, m)
				for {
					from := int(next.Add(block)) - block
					if from >= len(batch) {
						return nil
					}
					if err := gctx.Err(); err != nil {
						return err
					}
					for r := from; r < min(from+block, len(batch)); r++ {
						i := first + r
						if i >= n {
							return fmt.Errorf("layout: the set's vectors grew past %d rows while being laid out", n)
						}
						if isLandmark[i] {
							continue
						}
						if err := checkVector(i, batch[r], d); err != nil {
							return err
						}
						hits, err := h.Search(gctx, "landmarks", batch[r], m, lmsys.Filter{})
						if err != nil {
							return fmt.Errorf("layout: landmarks near %d: %w", i, err)
						}
						out[i] = pl.place(hits, keys[i], js, ds, w)
					}
				}
			})
		}
		if err := g.Wait(); err != nil {
			return err
		}
		mu.Lock()
		opts.Progress.Report("layout placement", done.Add(int64(len(batch))), int64(n))
		mu.Unlock()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// placer puts a row on the map from its nearest landmarks: at the place of their
// weighted medoid, the weights the landmarks' fuzzy memberships (each distance
// rescaled by the nearest one's and a bandwidth that gives log2(m) of total
// membership), with a tiny jitter so that rows sharing a medoid do not land on one
// spot. With epochs > 0 a short descent then moves the row alone, as UMAP places new
// points into a finished map: pulled towards its landmarks as its memberships say,
// pushed from random landmarks, the landmarks standing still (measured on hwu64
// copies it loses neighbourhoods, so it is off by default). Every random choice comes
// from the row's key and the seed, so a row's place does not depend on which
// goroutine computes it.
type placer struct {
	lp     []Point
	a, b   float64
	epochs int
	neg    int
	seed   uint64
}

func (pl *placer) place(hits []lmsys.Hit, key int64, js []int, ds, w []float64) Point {
	if len(hits) == 0 {
		return Point{}
	}
	js, ds, w = js[:0], ds[:0], w[:0]
	for _, h := range hits {
		j, _ := strconv.Atoi(h.ID)
		js = append(js, j)
		ds = append(ds, math.Sqrt(math.Max(0, 2*float64(h.Distance)))) // cosine distance of unit vectors
	}
	w = memberships(ds, w)
	var x, y, maxW float64
	for t := range js {
		maxW = math.Max(maxW, w[t])
	}
	x, y = pl.start(js, w)
	state := mix(uint64(key) ^ mix(pl.seed^0x706c616365))
	rnd := func() uint64 {
		state += 0x9e3779b97f4a7c15
		return mix(state)
	}
	jitter := func() float64 { return (float64(rnd()>>11)/(1<<53) - 0.5) * 1e-3 }
	x, y = x+jitter(), y+jitter()
	clip := func(v float64) float64 { return math.Max(-4, math.Min(4, v)) }
	a, b := pl.a, pl.b
	for ep := 1; ep <= pl.epochs; ep++ {
		alpha := 0.25 * (1 - float64(ep-1)/float64(pl.epochs))
		for t, j := range js {
			// An edge is sampled in proportion to its membership, as the main descent does.
			if float64(ep)*w[t]/maxW < float64(int(float64(ep-1)*w[t]/maxW))+1 {
				continue
			}
			dx, dy := x-float64(pl.lp[j].X), y-float64(pl.lp[j].Y)
			if d2 := dx*dx + dy*dy; d2 > 0 {
				c := -2 * a * b * math.Pow(d2, b-1) / (a*math.Pow(d2, b) + 1)
				x += clip(c*dx) * alpha
				y += clip(c*dy) * alpha
			}
			for range pl.neg {
				k := int(rnd() % uint64(len(pl.lp)))
				dx, dy := x-float64(pl.lp[k].X), y-float64(pl.lp[k].Y)
				d2 := dx*dx + dy*dy
				if d2 <= 0 {
					continue
				}
				c := 2 * b / ((0.001 + d2) * (a*math.Pow(d2, b) + 1))
				x += clip(c*dx) * alpha
				y += clip(c*dy) * alpha
			}
		}
	}
	return Point{float32(x), float32(y)}
}

// start is where a row's place begins: the place of its weighted medoid landmark,
// the one with the least weighted map distance to the others. A weighted mean of
// their places lands between the map's clusters whenever the landmarks fall in two,
// and measured on hwu64 copies it keeps fewer neighbourhoods (0.60 against 0.67).
func (pl *placer) start(js []int, w []float64) (float64, float64) {
	best, bestCost := 0, math.Inf(1)
	for s, j := range js {
		c := 0.0
		for t, k := range js {
			c += w[t] * math.Hypot(float64(pl.lp[j].X-pl.lp[k].X), float64(pl.lp[j].Y-pl.lp[k].Y))
		}
		if c < bestCost {
			best, bestCost = s, c
		}
	}
	return float64(pl.lp[js[best]].X), float64(pl.lp[js[best]].Y)
}

// memberships returns the fuzzy memberships of a row's neighbours at distances ds
// (nearest first) into w: exp(−(d − ρ)/σ), ρ the nearest distance and σ found by
// bisection so that they sum to log2(len(ds)).
func memberships(ds, w []float64) []float64 {
	rho := ds[0]
	sigma := bandwidth(ds, rho, math.Log2(float64(max(len(ds), 2))))
	mean := 0.0
	for _, x := range ds {
		mean += x
	}
	sigma = math.Max(sigma, 1e-3*mean/float64(len(ds)))
	for _, x := range ds {
		w = append(w, math.Exp(-math.Max(0, x-rho)/sigma))
	}
	return w
}
