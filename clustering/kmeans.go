package clustering

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/internal/vec"
)

// KMeans is Lloyd's k-means with k-means++ seeding. The distance step computes
// ‖x‖² − 2x·c + ‖c‖² for blocks of rows against all centres with a blocked float32
// matrix product, in parallel. The zero value is not usable: set K.
type KMeans struct {
	// K is the number of clusters (required, ≥ 1 and ≤ the number of vectors).
	K int
	// MaxIter bounds the Lloyd iterations of one init (default 100).
	MaxIter int
	// Tol stops an init when the summed squared centre shift of an iteration is at
	// most Tol times the mean per-dimension variance of the data, as scikit-learn
	// does (default 1e-4). An iteration that changes no label also stops it.
	Tol float64
	// NInit runs this many seeded inits and keeps the one of lowest inertia (default 1).
	NInit int
	// Seed makes the result deterministic: the same seed, data and options give the
	// same partition.
	Seed uint64
	// Spherical clusters by cosine similarity: rows are used normalised to unit
	// length (ClusterMatrix copies rows that are not) and centres are renormalised
	// after each update.
	Spherical bool
	// TrainSample, when > 0 and smaller than the number of rows, runs the Lloyd
	// iterations on a uniform sample of that many rows and then labels every row
	// once against the final centres (as FAISS does with max_points_per_centroid).
	// Zero iterates over all rows.
	TrainSample int
	// RefineIters is the number of Lloyd iterations over all rows that follow the
	// sampled ones when TrainSample is in effect (default 0: only the final labelling).
	RefineIters int
	// SeedSample bounds the rows k-means++ seeding looks at (default max(40·K, 4096));
	// seeding costs O(K·log K·SeedSample·d).
	SeedSample int
	// Workers is the number of goroutines of the distance step (default GOMAXPROCS).
	Workers int
	// Progress, when set, receives a report after every iteration.
	Progress lmsys.ProgressFunc
}

// KMeansResult is a k-means partition with its fit statistics. The confidence of a
// row is (√d₂ − √d₁) / √d₂, where d₁ and d₂ are its squared distances to the nearest
// and second-nearest centres: 1 on its centre (or when K = 1), 0 half-way between
// two centres.
type KMeansResult struct {
	lmsys.Partition
	// Inertia is the sum over rows of the squared Euclidean distance to the nearest
	// centre (for spherical k-means, of the unit rows to the unit centres).
	Inertia float64
	// Iterations is the number of Lloyd iterations of the kept init.
	Iterations int
	// Converged reports whether the kept init met Tol before MaxIter.
	Converged bool
}

// Cluster implements lmsys.Clusterer: it copies vectors into one contiguous matrix and
// calls ClusterMatrix.
func (km *KMeans) Cluster(ctx context.Context, vectors [][]float32) (lmsys.Partition, error) {
	data, n, d, err := flatten(vectors)
	if err != nil {
		return lmsys.Partition{}, err
	}
	res, err := km.ClusterMatrix(ctx, data, n, d)
	if err != nil {
		return lmsys.Partition{}, err
	}
	return res.Partition, nil
}

// margin turns the squared distances to the nearest (d1) and second-nearest (d2)
// centres into a confidence in [0, 1]: (√d2 − √d1) / √d2, the relative margin by
// which the nearest centre wins. It is 1 for a row on its centre or when there is
// one centre, and 0 for a row equidistant from two centres.
func margin(d1, d2 float32) float32 {
	if d2 <= 0 {
		if d1 <= 0 {
			return 1
		}
		return 0
	}
	s1, s2 := math.Sqrt(float64(d1)), math.Sqrt(float64(d2))
	c := (s2 - s1) / s2
	if c < 0 {
		c = 0
	}
	return float32(c)
}

func (km *KMeans) defaults() (maxIter int, tol float64, nInit int, err error) {
	maxIter, tol, nInit = km.MaxIter, km.Tol, km.NInit
	if maxIter <= 0 {
		maxIter = 100
	}
	if tol < 0 {
		return 0, 0, 0, fmt.Errorf("kmeans: tolerance %g is negative: %w", tol, lmsys.ErrInvalidInput)
	}
	if tol == 0 {
		tol = 1e-4
	}
	if nInit <= 0 {
		nInit = 1
	}
	return maxIter, tol, nInit, nil
}

// ClusterMatrix clusters the n rows of the row-major n×d matrix data without
// copying it (unless Spherical is set and rows need normalising). data is not
// modified.
func (km *KMeans) ClusterMatrix(ctx context.Context, data []float32, n, d int) (*KMeansResult, error) {
	maxIter, tol, nInit, err := km.defaults()
	if err != nil {
		return nil, err
	}
	norms, err := checkMatrix(data, n, d)
	if err != nil {
		return nil, fmt.Errorf("kmeans: %w", err)
	}
	k := km.K
	if k < 1 || k > n {
		return nil, fmt.Errorf("kmeans: k=%d must be between 1 and the number of vectors (%d): %w", k, n, lmsys.ErrInvalidInput)
	}
	data = data[:n*d]
	if km.Spherical {
		data, norms = unitRows(data, norms, n, d)
	}
	workers := vec.Workers(km.Workers)

	// The matrix the iterations run on: all rows, or a uniform sample.
	train, trainNorms, tn := data, norms, n
	if km.TrainSample > 0 && km.TrainSample < n && km.TrainSample >= k {
		rng := rand.New(rand.NewPCG(km.Seed, 0x7a11))
		idx := sampleIndices(rng, n, km.TrainSample)
		tn = len(idx)
		train = make([]float32, tn*d)
		trainNorms = make([]float32, tn)
		for j, i := range idx {
			copy(train[j*d:(j+1)*d], data[i*d:(i+1)*d])
			trainNorms[j] = norms[i]
		}
	}
	tolAbs := tol * meanVariance(train, tn, d)

	var best *lloyd
	for run := 0; run < nInit; run++ {
		rng := rand.New(rand.NewPCG(km.Seed, uint64(run)+1))
		seedRows := km.SeedSample
		if seedRows <= 0 {
			seedRows = max(40*k, 4096)
		}
		cents, err := seedPlusPlus(ctx, rng, train, trainNorms, tn, d, k, seedRows, workers)
		if err != nil {
			return nil, fmt.Errorf("kmeans: seeding: %w", err)
		}
		l := newLloyd(train, trainNorms, tn, d, k, workers, km.Spherical)
		copy(l.cents, cents)
		if err := l.run(ctx, maxIter, tolAbs, func(it int) {
			km.Progress.Report(fmt.Sprintf("kmeans init %d/%d", run+1, nInit), int64(it), int64(maxIter))
		}); err != nil {
			return nil, fmt.Errorf("kmeans: %w", err)
		}
		if best == nil || l.inertia < best.inertia {
			best = l
		}
	}

	if tn < n {
		// Label every row against the centres found on the sample, after
		// RefineIters Lloyd iterations over all rows.
		full := newLloyd(data, norms, n, d, k, workers, km.Spherical)
		copy(full.cents, best.cents)
		if err := full.run(ctx, km.RefineIters, tolAbs, nil); err != nil {
			return nil, fmt.Errorf("kmeans: labelling: %w", err)
		}
		full.iters += best.iters
		full.converged = full.converged || best.converged && km.RefineIters == 0
		best = full
	}
	res := &KMeansResult{Iterations: best.iters, Converged: best.converged, Inertia: best.inertia}
	labels := make([]int, n)
	conf := make([]float32, n)
	for i := range labels {
		labels[i] = int(best.labels[i])
		conf[i] = margin(best.d1[i], best.d2[i])
	}
	res.Labels = labels
	res.Confidence = conf
	res.Centroids = rows(best.cents, k, d)
	return res, nil
}

// unitRows returns data with every row scaled to unit length (a copy when any row
// needs it) and the new squared norms.
func unitRows(data, norms []float32, n, d int) ([]float32, []float32) {
	ok := true
	for _, s := range norms {
		if s > 0 && math.Abs(float64(s)-1) > 1e-4 {
			ok = false
			break
		}
	}
	if ok {
		return data, norms
	}
	out := make([]float32, n*d)
	copy(out, data)
	nn := make([]float32, n)
	for i := 0; i < n; i++ {
		if vec.Normalize(out[i*d:(i+1)*d]) > 0 {
			nn[i] = 1
		}
	}
	return out, nn
}

// meanVariance returns the mean over dimensions of the per-dimension variance.
func meanVariance(data []float32, n, d int) float64 {
	mean := make([]float64, d)
	sq := make([]float64, d)
	for i := 0; i < n; i++ {
		for j, v := range data[i*d : i*d+d] {
			mean[j] += float64(v)
			sq[j] += float64(v) * float64(v)
		}
	}
	var s float64
	for j := range mean {
		m := mean[j] / float64(n)
		s += sq[j]/float64(n) - m*m
	}
	return max(s/float64(d), 0)
}

// sampleIndices returns m distinct indices of [0, n) in increasing order, uniformly.
func sampleIndices(rng *rand.Rand, n, m int) []int {
	if m >= n {
		idx := make([]int, n)
		for i := range idx {
			idx[i] = i
		}
		return idx
	}
	// Floyd's algorithm.
	chosen := make(map[int]struct{}, m)
	idx := make([]int, 0, m)
	for j := n - m; j < n; j++ {
		t := rng.IntN(j + 1)
		if _, dup := chosen[t]; dup {
			t = j
		}
		chosen[t] = struct{}{}
		idx = append(idx, t)
	}
	slices.Sort(idx)
	return idx
}

// seedPlusPlus picks k initial centres by greedy k-means++ (2 + ⌊ln k⌋ candidates
// per step, keeping the one that lowers the potential most) over a uniform sample of
// at most sampleRows rows, and returns them as a row-major k×d matrix.
func seedPlusPlus(ctx context.Context, rng *rand.Rand, data, norms []float32, n, d, k, sampleRows, workers int) ([]float32, error) {
	x, xn, m := data, norms, n
	if sampleRows < n {
		idx := sampleIndices(rng, n, max(sampleRows, k))
		m = len(idx)
		x = make([]float32, m*d)
		xn = make([]float32, m)
		for j, i := range idx {
			copy(x[j*d:(j+1)*d], data[i*d:(i+1)*d])
			xn[j] = norms[i]
		}
	}
	cents := make([]float32, k*d)
	trials := 2 + int(math.Log(float64(k)))
	closest := make([]float32, m)
	first := rng.IntN(m)
	copy(cents[:d], x[first*d:(first+1)*d])
	for i := 0; i < m; i++ {
		closest[i] = vec.SqDist(x[i*d:(i+1)*d], cents[:d])
	}
	cand := make([]float32, trials*d)
	candIdx := make([]int, trials)
	cdist := make([]float32, trials*m)
	panel := &vec.Panel{}
	partial := make([][]float64, vec.Workers(workers))
	for w := range partial {
		partial[w] = make([]float64, trials)
	}
	cum := make([]float64, m)
	for c := 1; c < k; c++ {
		if c%16 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		var total float64
		for i, v := range closest {
			total += float64(v)
			cum[i] = total
		}
		for t := 0; t < trials; t++ {
			var i int
			if total > 0 {
				i, _ = slices.BinarySearch(cum, rng.Float64()*total)
				if i >= m {
					i = m - 1
				}
			} else {
				i = rng.IntN(m)
			}
			candIdx[t] = i
			copy(cand[t*d:(t+1)*d], x[i*d:(i+1)*d])
		}
		panel.Reset(cand, trials, d)
		for _, p := range partial {
			clear(p)
		}
		err := panel.Distances(ctx, x, m, xn, workers, func(b *vec.Block) error {
			p := partial[b.Worker]
			for i := b.I0; i < b.I1; i++ {
				row := b.Row(i)
				ci := closest[i]
				for t, v := range row {
					cdist[t*m+i] = v
					p[t] += float64(min(v, ci))
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		bestT, bestPot := 0, math.Inf(1)
		for t := 0; t < trials; t++ {
			var pot float64
			for _, p := range partial {
				pot += p[t]
			}
			if pot < bestPot {
				bestT, bestPot = t, pot
			}
		}
		copy(cents[c*d:(c+1)*d], cand[bestT*d:(bestT+1)*d])
		for i := range closest {
			closest[i] = min(closest[i], cdist[bestT*m+i])
		}
	}
	return cents, nil
}

// lloyd holds the state of one k-means init.
type lloyd struct {
	x, xn     []float32
	n, d, k   int
	workers   int
	spherical bool
	cents     []float32
	labels    []int32
	d1, d2    []float32
	sums      [][]float64
	counts    [][]int
	inertias  []float64
	panel     *vec.Panel
	inertia   float64
	iters     int
	converged bool
}

func newLloyd(x, xn []float32, n, d, k, workers int, spherical bool) *lloyd {
	l := &lloyd{x: x, xn: xn, n: n, d: d, k: k, workers: workers, spherical: spherical,
		cents: make([]float32, k*d), labels: make([]int32, n),
		d1: make([]float32, n), d2: make([]float32, n), panel: &vec.Panel{}}
	l.sums = make([][]float64, workers)
	l.counts = make([][]int, workers)
	l.inertias = make([]float64, workers)
	for w := range l.sums {
		l.sums[w] = make([]float64, k*d)
		l.counts[w] = make([]int, k)
	}
	for i := range l.labels {
		l.labels[i] = -1
	}
	return l
}

// assign is the E-step: it labels every row with its nearest centre, records the
// nearest and second-nearest squared distances, accumulates per-worker sums and
// counts of each cluster, and returns how many labels changed.
func (l *lloyd) assign(ctx context.Context) (int, error) {
	l.panel.Reset(l.cents, l.k, l.d)
	for w := range l.sums {
		clear(l.sums[w])
		clear(l.counts[w])
		l.inertias[w] = 0
	}
	changed := make([]int, l.workers)
	d := l.d
	err := l.panel.Distances(ctx, l.x, l.n, l.xn, l.workers, func(b *vec.Block) error {
		sums, counts := l.sums[b.Worker], l.counts[b.Worker]
		var in float64
		ch := 0
		for i := b.I0; i < b.I1; i++ {
			row := b.Row(i)
			bi := 0
			best, second := row[0], row[0]
			if len(row) > 1 {
				second = math.MaxFloat32
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
			if l.labels[i] != int32(bi) {
				ch++
				l.labels[i] = int32(bi)
			}
			l.d1[i], l.d2[i] = best, second
			in += float64(best)
			counts[bi]++
			s := sums[bi*d : bi*d+d]
			for j, v := range l.x[i*d : i*d+d] {
				s[j] += float64(v)
			}
		}
		l.inertias[b.Worker] += in
		changed[b.Worker] += ch
		return nil
	})
	if err != nil {
		return 0, err
	}
	l.inertia = 0
	total := 0
	for w := range l.inertias {
		l.inertia += l.inertias[w]
		total += changed[w]
	}
	for w := 1; w < l.workers; w++ {
		for j, v := range l.sums[w] {
			l.sums[0][j] += v
		}
		for j, v := range l.counts[w] {
			l.counts[0][j] += v
		}
	}
	return total, nil
}

// relocateEmpty gives every empty cluster the row farthest from its own centre
// (taking rows in decreasing distance, at most one per empty cluster), moving that
// row's contribution out of its old cluster.
func (l *lloyd) relocateEmpty() {
	counts, sums, d := l.counts[0], l.sums[0], l.d
	var empty []int
	for c, v := range counts {
		if v == 0 {
			empty = append(empty, c)
		}
	}
	if len(empty) == 0 {
		return
	}
	order := make([]int, l.n)
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		if l.d1[a] != l.d1[b] {
			if l.d1[a] > l.d1[b] {
				return -1
			}
			return 1
		}
		return a - b
	})
	next := 0
	for _, c := range empty {
		// Skip rows that are the only member of their cluster: moving them would
		// empty another cluster.
		for next < l.n && counts[l.labels[order[next]]] <= 1 {
			next++
		}
		if next >= l.n {
			return
		}
		i := order[next]
		next++
		old := int(l.labels[i])
		row := l.x[i*d : i*d+d]
		for j, v := range row {
			sums[old*d+j] -= float64(v)
			sums[c*d+j] = float64(v)
		}
		counts[old]--
		counts[c] = 1
		l.labels[i] = int32(c)
		l.d1[i] = 0
	}
}

// update is the M-step: every centre moves to the mean of its rows (renormalised in
// spherical mode); it returns the summed squared centre shift.
func (l *lloyd) update() float64 {
	var shift float64
	d := l.d
	for c := 0; c < l.k; c++ {
		cnt := l.counts[0][c]
		if cnt == 0 {
			continue
		}
		cent := l.cents[c*d : c*d+d]
		s := l.sums[0][c*d : c*d+d]
		inv := 1 / float64(cnt)
		var norm float64
		for j := range s {
			norm += s[j] * s[j]
		}
		scale := inv
		if l.spherical && norm > 0 {
			scale = 1 / math.Sqrt(norm)
		}
		for j := range cent {
			nv := float32(s[j] * scale)
			diff := float64(nv - cent[j])
			shift += diff * diff
			cent[j] = nv
		}
	}
	return shift
}

// run iterates E and M steps until the centre shift is at most tolAbs, no label
// changes, or maxIter M-steps have run; labels, distances and inertia always
// correspond to the final centres.
func (l *lloyd) run(ctx context.Context, maxIter int, tolAbs float64, progress func(int)) error {
	for it := 0; ; it++ {
		changed, err := l.assign(ctx)
		if err != nil {
			return err
		}
		if it > 0 && changed == 0 {
			l.converged = true
		}
		if l.converged || it == maxIter {
			l.iters = it
			return nil
		}
		l.relocateEmpty()
		shift := l.update()
		if progress != nil {
			progress(it + 1)
		}
		if shift <= tolAbs {
			// One more E-step makes labels match the final centres.
			l.converged = true
		}
	}
}
