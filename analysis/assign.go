package analysis

import (
	"context"
	"fmt"
	"math"
	"sort"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/clustering"
	"github.com/lmsys-go/lmsys/internal/vec"
	"github.com/lmsys-go/lmsys/store"
)

// AssignOptions configure Assign.
type AssignOptions struct {
	// Filter selects the queries to assign (typically Dataset: the new logs' dataset).
	// Queries already assigned in the run are skipped, so Assign can be re-run.
	Filter lmsys.QueryFilter
	// Percentile of the run's in-cluster distances beyond which a query does not fit
	// any cluster (default 0.95).
	Percentile float64
	// MinCandidate is how many non-fitting queries make a new-cluster candidate worth
	// proposing (default 10).
	MinCandidate int
	// BatchSize is the number of queries embedded at a time (default 256).
	BatchSize int
	// SummaryRef picks the summary run titles come from (empty: latest, if any).
	SummaryRef string
	Progress   lmsys.ProgressFunc
}

// ClusterCount is how many new queries went to one cluster.
type ClusterCount struct {
	ClusterID int    `json:"cluster_id"`
	Title     string `json:"title,omitempty"`
	Count     int    `json:"count"`
}

// Candidate is a group of non-fitting queries that may deserve a cluster of its own.
type Candidate struct {
	Size     int      `json:"size"`
	Examples []string `json:"examples"`
}

// AssignResult reports an Assign.
type AssignResult struct {
	RunID string `json:"run_id"`
	// Assigned counts queries placed in a cluster; NotFitting those farther than
	// Threshold from every centroid, stored with cluster id −1.
	Assigned   int            `json:"assigned"`
	NotFitting int            `json:"not_fitting"`
	Skipped    int            `json:"already_assigned"`
	Threshold  float64        `json:"distance_threshold"`
	Clusters   []ClusterCount `json:"clusters"`
	Candidates []Candidate    `json:"new_cluster_candidates"`
}

// nearest returns the nearest and second-nearest centroid of v by cosine distance.
func nearest(v []float32, ids []int, cents [][]float32) (best int, d1, d2 float64) {
	best, d1, d2 = -1, math.Inf(1), math.Inf(1)
	for i, c := range cents {
		d := vec.CosineDistance(v, c)
		if d < d1 {
			best, d1, d2 = ids[i], d, d1
		} else if d < d2 {
			d2 = d
		}
	}
	return best, d1, d2
}

// Assign places queries the run has not seen into its clusters: each is embedded in
// the run's space (e must produce it) and given the nearest centroid (k-means; for
// HDBSCAN runs, the centroid of each cluster's members, an approximation of its
// prediction rule) with a confidence from the margin to the second-nearest. A query
// farther from every centroid than the run's own Percentile in-cluster distance does
// not fit: it is stored with cluster id −1, and when at least MinCandidate such
// queries gather they are grouped and offered as new-cluster candidates. Every
// assignment is marked late, so reports can tell them from the original run.
func Assign(ctx context.Context, db *store.DB, runID string, e lmsys.Embedder, opts AssignOptions) (AssignResult, error) {
	res := AssignResult{RunID: runID, Clusters: []ClusterCount{}, Candidates: []Candidate{}}
	run, err := db.GetRun(ctx, runID)
	if err != nil {
		return res, err
	}
	if e.Space() != run.Space {
		return res, fmt.Errorf("run %s was clustered in %s but the embedder produces %s: %w", runID, run.Space, e.Space(), lmsys.ErrSpaceMismatch)
	}
	cm, err := db.Centroids(ctx, runID)
	if err != nil {
		return res, err
	}
	if len(cm) == 0 {
		return res, fmt.Errorf("run %s has no centroids to assign to: %w", runID, lmsys.ErrEmpty)
	}
	ids := make([]int, 0, len(cm))
	for id := range cm {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	cents := make([][]float32, len(ids))
	for i, id := range ids {
		cents[i] = cm[id]
	}
	if opts.Percentile <= 0 || opts.Percentile >= 1 {
		opts.Percentile = 0.95
	}
	if opts.MinCandidate <= 0 {
		opts.MinCandidate = 10
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 256
	}

	// The threshold: a high percentile of the run's own member-to-centroid distances.
	as, err := db.Assignments(ctx, runID, nil)
	if err != nil {
		return res, err
	}
	member := make(map[int64]int, len(as))
	for _, a := range as {
		member[a.QueryID] = a.ClusterID
	}
	var dists []float64
	stride := max(1, len(as)/20000)
	seen := 0
	err = db.ScanQueryVectors(ctx, run.Space, lmsys.QueryFilter{RunID: runID}, 5000, func(qids []int64, vecs [][]float32) error {
		for i, id := range qids {
			seen++
			c, ok := member[id]
			if !ok || c < 0 || cm[c] == nil || seen%stride != 0 {
				continue
			}
			dists = append(dists, vec.CosineDistance(vecs[i], cm[c]))
		}
		return nil
	})
	if err != nil {
		return res, err
	}
	if len(dists) == 0 {
		return res, fmt.Errorf("run %s has no embedded members to learn a distance threshold from: %w", runID, lmsys.ErrEmpty)
	}
	sort.Float64s(dists)
	res.Threshold = dists[min(len(dists)-1, int(opts.Percentile*float64(len(dists))))]

	names := titles(ctx, db, runID, opts.SummaryRef)
	perCluster := map[int]int{}
	var misfitTexts []string
	var misfitVecs []float32
	d := run.Space.Dims
	var pending []lmsys.Query
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		texts := make([]string, len(pending))
		for i, q := range pending {
			texts[i] = q.Text
		}
		vecs, err := e.Embed(ctx, texts, lmsys.PurposeClustering)
		if err != nil {
			return err
		}
		if len(vecs) != len(pending) {
			return fmt.Errorf("embedder returned %d vectors for %d texts", len(vecs), len(pending))
		}
		out := make([]lmsys.Assignment, 0, len(pending))
		for i, q := range pending {
			c, d1, d2 := nearest(vecs[i], ids, cents)
			conf := 1.0
			if d2 > 0 && !math.IsInf(d2, 1) {
				conf = math.Max(0, (d2-d1)/d2)
			}
			if d1 > res.Threshold {
				c = -1
				res.NotFitting++
				misfitTexts = append(misfitTexts, q.Text)
				misfitVecs = append(misfitVecs, vecs[i]...)
			} else {
				res.Assigned++
				perCluster[c]++
			}
			out = append(out, lmsys.Assignment{RunID: runID, QueryID: q.ID, ClusterID: c, Confidence: conf, Late: true})
		}
		pending = pending[:0]
		opts.Progress.Report("assign", int64(res.Assigned+res.NotFitting), 0)
		return db.SaveAssignments(ctx, out)
	}
	err = db.ScanQueries(ctx, opts.Filter, 5000, func(qs []lmsys.Query) error {
		for _, q := range qs {
			if _, ok := member[q.ID]; ok {
				res.Skipped++
				continue
			}
			pending = append(pending, q)
			if len(pending) == opts.BatchSize {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return res, err
	}
	for c, n := range perCluster {
		res.Clusters = append(res.Clusters, ClusterCount{ClusterID: c, Title: names[c], Count: n})
	}
	sort.Slice(res.Clusters, func(i, j int) bool {
		if res.Clusters[i].Count != res.Clusters[j].Count {
			return res.Clusters[i].Count > res.Clusters[j].Count
		}
		return res.Clusters[i].ClusterID < res.Clusters[j].ClusterID
	})
	if res.NotFitting >= opts.MinCandidate {
		res.Candidates, err = candidates(ctx, misfitTexts, misfitVecs, d, opts.MinCandidate)
		if err != nil {
			return res, err
		}
	}
	return res, nil
}

// candidates groups non-fitting queries with k-means and returns the groups of at
// least minSize, largest first, with the texts nearest each group's centre.
func candidates(ctx context.Context, texts []string, data []float32, d, minSize int) ([]Candidate, error) {
	n := len(texts)
	k := max(1, min(5, n/minSize))
	km := &clustering.KMeans{K: k, Seed: 1, Spherical: true, NInit: 3}
	fit, err := km.ClusterMatrix(ctx, data, n, d)
	if err != nil {
		return nil, err
	}
	type member struct {
		i    int
		dist float64
	}
	groups := make([][]member, k)
	for i, l := range fit.Labels {
		if l < 0 {
			continue
		}
		groups[l] = append(groups[l], member{i, vec.CosineDistance(data[i*d:(i+1)*d], fit.Centroids[l])})
	}
	out := []Candidate{}
	for _, g := range groups {
		if len(g) < minSize {
			continue
		}
		sort.Slice(g, func(a, b int) bool { return g[a].dist < g[b].dist })
		c := Candidate{Size: len(g)}
		for _, m := range g[:min(5, len(g))] {
			c.Examples = append(c.Examples, texts[m.i])
		}
		out = append(out, c)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Size > out[b].Size })
	return out, nil
}
