package summarize

import (
	"context"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"sort"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/internal/vec"
)

// PrepareOptions configures Prepare.
type PrepareOptions struct {
	// MaxQueries is how many distinct query texts each cluster shows (default 50).
	MaxQueries int
	// ContrastNeighbors is how many nearest clusters (by centroid distance) lend
	// contrast examples (default 2; negative means none).
	ContrastNeighbors int
	// ContrastExamples is how many examples each neighbour lends (default 5).
	ContrastExamples int
	// Seed drives the sampling (default 42): the same seed gives the same sample.
	Seed uint64
	// ClusterIDs limits the result to these clusters (nil: every cluster). Contrast
	// still draws on all clusters.
	ClusterIDs []int
	// IncludeNoise keeps cluster ids below 0 (HDBSCAN noise), skipped by default.
	IncludeNoise bool
	// Progress receives "prepare" reports, one per query batch read.
	Progress lmsys.ProgressFunc
}

func (o *PrepareOptions) defaults() {
	if o.MaxQueries <= 0 {
		o.MaxQueries = 50
	}
	if o.ContrastNeighbors == 0 {
		o.ContrastNeighbors = 2
	}
	if o.ContrastExamples <= 0 {
		o.ContrastExamples = 5
	}
	if o.Seed == 0 {
		o.Seed = 42
	}
}

// sample is one sampled query of a cluster.
type sample struct {
	id   int64
	text string
	vec  []float32
	dist float64
}

// clusterAcc accumulates one cluster while the queries stream by.
type clusterAcc struct {
	id        int
	size      int
	distinct  int
	seen      map[uint64]struct{}
	samples   []sample
	rng       *rand.Rand
	languages map[string]int
	models    map[string]int
	centroid  []float32
}

// Prepare builds the summarizer input of every cluster of a run from the store: up to
// MaxQueries distinct texts per cluster (a seeded uniform sample of the distinct texts,
// ordered nearest the run's centroid first by the cached embeddings of space), contrast
// examples from the ContrastNeighbors clusters whose centroids are nearest (the
// ContrastExamples of each nearest this cluster's centroid first), and the language and
// model counts of all its queries. A zero space means the run's own. Queries without an
// embedding sort last; clusters without a stored centroid use the mean of their sample.
// The result is ordered by cluster id. Unknown runs wrap lmsys.ErrNotFound; runs without
// assignments wrap lmsys.ErrEmpty.
func Prepare(ctx context.Context, st lmsys.Store, runID string, space lmsys.Space, opts PrepareOptions) ([]lmsys.ClusterInput, error) {
	opts.defaults()
	run, err := st.GetRun(ctx, runID)
	if err != nil {
		return nil, err
	}
	if space.IsZero() {
		space = run.Space
	}
	as, err := st.Assignments(ctx, runID, nil)
	if err != nil {
		return nil, err
	}
	if len(as) == 0 {
		return nil, fmt.Errorf("%w: run %q has no cluster assignments", lmsys.ErrEmpty, runID)
	}
	sort.Slice(as, func(i, j int) bool { return as[i].QueryID < as[j].QueryID })
	accs := map[int]*clusterAcc{}
	acc := func(cid int) *clusterAcc {
		a := accs[cid]
		if a == nil {
			seed := opts.Seed ^ uint64(int64(cid))*0x9E3779B97F4A7C15
			a = &clusterAcc{id: cid, seen: map[uint64]struct{}{}, rng: rand.New(rand.NewPCG(seed, opts.Seed)),
				languages: map[string]int{}, models: map[string]int{}}
			accs[cid] = a
		}
		return a
	}
	// Stream the run's queries in id order beside the sorted assignments.
	ai := 0
	var done int64
	total := int64(len(as))
	err = st.ScanQueries(ctx, lmsys.QueryFilter{RunID: runID}, 5000, func(qs []lmsys.Query) error {
		for _, q := range qs {
			for ai < len(as) && as[ai].QueryID < q.ID {
				ai++
			}
			if ai == len(as) || as[ai].QueryID != q.ID {
				continue
			}
			cid := as[ai].ClusterID
			if cid < 0 && !opts.IncludeNoise {
				continue
			}
			a := acc(cid)
			a.size++
			if q.Language != "" {
				a.languages[q.Language]++
			}
			if q.Model != "" {
				a.models[q.Model]++
			}
			h := textKey(q.Text)
			if _, dup := a.seen[h]; dup || q.Text == "" {
				continue
			}
			a.seen[h] = struct{}{}
			a.distinct++
			// Reservoir sampling over the distinct texts.
			if len(a.samples) < opts.MaxQueries {
				a.samples = append(a.samples, sample{id: q.ID, text: q.Text})
			} else if j := a.rng.IntN(a.distinct); j < opts.MaxQueries {
				a.samples[j] = sample{id: q.ID, text: q.Text}
			}
		}
		done += int64(len(qs))
		opts.Progress.Report("prepare", min(done, total), total)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("summarize: read queries of run %s: %w", runID, err)
	}
	for _, a := range accs {
		a.seen = nil
	}
	// Vectors of the sampled queries, looked up by text hash in the embedding cache (a
	// primary-key lookup; scanning the run's vectors would read every one of them).
	if !space.IsZero() {
		var hashes []string
		owners := map[string][]*sample{}
		for _, a := range accs {
			for i := range a.samples {
				h := lmsys.TextHash(a.samples[i].text)
				if owners[h] == nil {
					hashes = append(hashes, h)
				}
				owners[h] = append(owners[h], &a.samples[i])
			}
		}
		sort.Strings(hashes)
		for start := 0; start < len(hashes); start += 2000 {
			chunk := hashes[start:min(start+2000, len(hashes))]
			got, err := st.GetEmbeddings(ctx, space, chunk)
			if err != nil {
				return nil, fmt.Errorf("summarize: read embeddings of run %s: %w", runID, err)
			}
			for h, v := range got {
				for _, s := range owners[h] {
					s.vec = v
				}
			}
		}
	}
	cents, err := st.Centroids(ctx, runID)
	if err != nil {
		return nil, fmt.Errorf("summarize: read centroids of run %s: %w", runID, err)
	}
	ordered := make([]*clusterAcc, 0, len(accs))
	for _, a := range accs {
		ordered = append(ordered, a)
	}
	sort.Slice(ordered, func(i, j int) bool { return ordered[i].id < ordered[j].id })
	for _, a := range ordered {
		a.centroid = cents[a.id]
		if len(a.centroid) == 0 {
			a.centroid = meanOf(a.samples)
		}
		for i := range a.samples {
			a.samples[i].dist = cosineDist(a.samples[i].vec, a.centroid)
		}
		sort.SliceStable(a.samples, func(i, j int) bool {
			if a.samples[i].dist != a.samples[j].dist {
				return a.samples[i].dist < a.samples[j].dist
			}
			return a.samples[i].id < a.samples[j].id
		})
	}
	want := map[int]bool{}
	for _, id := range opts.ClusterIDs {
		want[id] = true
	}
	out := make([]lmsys.ClusterInput, 0, len(ordered))
	for _, a := range ordered {
		if len(want) > 0 && !want[a.id] {
			continue
		}
		in := lmsys.ClusterInput{ClusterID: a.id, Size: a.size, Languages: a.languages, Models: a.models}
		for _, s := range a.samples {
			in.Queries = append(in.Queries, s.text)
		}
		if opts.ContrastNeighbors > 0 {
			in.Contrast = contrast(a, ordered, opts.ContrastNeighbors, opts.ContrastExamples)
		}
		out = append(out, in)
	}
	for _, id := range opts.ClusterIDs {
		if accs[id] == nil {
			return nil, fmt.Errorf("cluster %d of run %q: %w", id, runID, lmsys.ErrNotFound)
		}
	}
	return out, nil
}

// contrast returns examples from the k clusters nearest to a (by centroid), n from
// each, those nearest a's centroid first.
func contrast(a *clusterAcc, all []*clusterAcc, k, n int) []string {
	if len(a.centroid) == 0 {
		return nil
	}
	type nb struct {
		c *clusterAcc
		d float64
	}
	var nbs []nb
	for _, b := range all {
		if b == a || len(b.centroid) == 0 || len(b.samples) == 0 {
			continue
		}
		nbs = append(nbs, nb{b, cosineDist(a.centroid, b.centroid)})
	}
	sort.Slice(nbs, func(i, j int) bool {
		if nbs[i].d != nbs[j].d {
			return nbs[i].d < nbs[j].d
		}
		return nbs[i].c.id < nbs[j].c.id
	})
	var out []string
	for i := 0; i < len(nbs) && i < k; i++ {
		b := nbs[i].c
		ss := append([]sample(nil), b.samples...)
		for j := range ss {
			ss[j].dist = cosineDist(ss[j].vec, a.centroid)
		}
		sort.SliceStable(ss, func(x, y int) bool {
			if ss[x].dist != ss[y].dist {
				return ss[x].dist < ss[y].dist
			}
			return ss[x].id < ss[y].id
		})
		for j := 0; j < len(ss) && j < n; j++ {
			out = append(out, ss[j].text)
		}
	}
	return out
}

// textKey hashes a text for de-duplication.
func textKey(s string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(s))
	return h.Sum64()
}

// cosineDist returns 1 − cos(a, b), or +Inf when either is missing or of another length.
func cosineDist(a, b []float32) float64 {
	if len(a) == 0 || len(a) != len(b) {
		return math.Inf(1)
	}
	c, ok := vec.Cosine(a, b)
	if !ok {
		return math.Inf(1)
	}
	return 1 - c
}

// meanOf returns the mean of the samples' vectors, or nil when none has one.
func meanOf(ss []sample) []float32 {
	var sum []float64
	n := 0
	for _, s := range ss {
		v := s.vec
		if len(v) == 0 {
			continue
		}
		if sum == nil {
			sum = make([]float64, len(v))
		}
		if len(v) != len(sum) {
			continue
		}
		for i, x := range v {
			sum[i] += float64(x)
		}
		n++
	}
	if n == 0 {
		return nil
	}
	out := make([]float32, len(sum))
	for i, s := range sum {
		out[i] = float32(s / float64(n))
	}
	return out
}
