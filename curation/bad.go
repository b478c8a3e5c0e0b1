package curation

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/lmsys-go/lmsys"
)

// BadFilter says which clusters SelectBadClusters selects; a cluster is selected when
// any set criterion matches. At least one criterion must be set.
type BadFilter struct {
	// MaxSize selects clusters of at most this many queries (0: off).
	MaxSize int
	// MinCoherence selects clusters whose coherence is below it (0: off): the hand-set
	// score from metadata when there is one, else the summary's coherence (clusters
	// with neither are not selected by it).
	MinCoherence int
	// GenericTitles selects clusters whose title says nothing ("Various …",
	// "Miscellaneous", "User queries about …").
	GenericTitles bool
	// Flags selects clusters carrying any of these flags.
	Flags []string
	// MaxSilhouette, when set, selects clusters whose mean silhouette is below it,
	// computed from the run's cached embeddings (see Silhouettes).
	MaxSilhouette *float64
	// SummaryRunID names the summary run (id or alias) titles and coherence come
	// from; empty means the latest.
	SummaryRunID string
}

// BadCluster is a selected cluster and why.
type BadCluster struct {
	ClusterID  int      `json:"cluster_id"`
	Size       int      `json:"size"`
	Title      string   `json:"title,omitempty"`
	Coherence  *int     `json:"coherence,omitempty"`
	Quality    string   `json:"quality,omitempty"`
	Flags      []string `json:"flags,omitempty"`
	Silhouette *float64 `json:"silhouette,omitempty"`
	Reasons    []string `json:"reasons"`
}

// IDs returns the cluster ids of bs, ready for the other edit operations.
func IDs(bs []BadCluster) []int {
	out := make([]int, len(bs))
	for i, b := range bs {
		out[i] = b.ClusterID
	}
	return out
}

var genericPrefixes = []string{"various", "diverse", "general", "miscellaneous", "misc", "mixed", "assorted", "other ", "others",
	"random", "multiple topics", "user queries about", "user queries on", "user questions about", "user requests about",
	"queries about", "questions about", "requests about", "user queries", "user questions", "user requests", "uncategorized", "unclear"}

var genericInner = []string{"miscellaneous", "various topics", "diverse topics", "mixed topics", "general topics", "general questions",
	"general queries", "assorted topics", "wide range of", "variety of"}

// GenericTitle reports whether a cluster title is too vague to tell what the cluster
// holds: it starts with "Various", "Diverse", "General", "Miscellaneous", "Mixed",
// "User queries about" and the like, or speaks of "various topics", "a variety of" ….
func GenericTitle(title string) bool {
	t := strings.ToLower(strings.TrimSpace(title))
	if t == "" {
		return false
	}
	for _, p := range genericPrefixes {
		if strings.HasPrefix(t, p) {
			return true
		}
	}
	for _, p := range genericInner {
		if strings.Contains(t, p) {
			return true
		}
	}
	return false
}

// SelectBadClusters returns the run's clusters that f selects, in id order, each with
// the reasons it was selected.
func (c *Curator) SelectBadClusters(ctx context.Context, runID string, f BadFilter) ([]BadCluster, error) {
	if f.MaxSize <= 0 && f.MinCoherence <= 0 && !f.GenericTitles && len(f.Flags) == 0 && f.MaxSilhouette == nil {
		return nil, fmt.Errorf("%w: select bad clusters by at least one of max size, min coherence, generic titles, flags, silhouette", lmsys.ErrInvalidInput)
	}
	if f.MinCoherence > 5 {
		return nil, fmt.Errorf("%w: min coherence %d is above the scale's 5", lmsys.ErrInvalidInput, f.MinCoherence)
	}
	run, err := c.db.GetRun(ctx, runID)
	if err != nil {
		return nil, err
	}
	sizes, err := c.db.ClusterSizes(ctx, runID)
	if err != nil {
		return nil, err
	}
	summaries, err := c.db.Summaries(ctx, runID, f.SummaryRunID)
	if err != nil && (f.SummaryRunID != "" || !errors.Is(err, lmsys.ErrNotFound)) {
		return nil, err
	}
	byID := map[int]*BadCluster{}
	get := func(id int) *BadCluster {
		b := byID[id]
		if b == nil {
			b = &BadCluster{ClusterID: id, Size: sizes[id], Reasons: []string{}}
			byID[id] = b
		}
		return b
	}
	for id := range sizes {
		get(id)
	}
	for _, s := range summaries {
		b := get(s.ClusterID)
		b.Title = s.Title
		if s.Coherence > 0 {
			coh := s.Coherence
			b.Coherence = &coh
		}
	}
	metas, err := c.db.ListClusterMetadata(ctx, runID)
	if err != nil {
		return nil, err
	}
	for _, m := range metas {
		b, ok := byID[m.ClusterID]
		if !ok {
			continue // metadata of a cluster that no longer exists
		}
		if m.Coherence != nil {
			b.Coherence = m.Coherence
		}
		b.Quality, b.Flags = m.Quality, m.Flags
	}
	var sil map[int]float64
	if f.MaxSilhouette != nil {
		if sil, err = c.Silhouettes(ctx, run); err != nil {
			return nil, err
		}
	}
	var out []BadCluster
	for _, b := range byID {
		if f.MaxSize > 0 && b.Size <= f.MaxSize {
			b.Reasons = append(b.Reasons, fmt.Sprintf("size %d ≤ %d", b.Size, f.MaxSize))
		}
		if f.MinCoherence > 0 && b.Coherence != nil && *b.Coherence < f.MinCoherence {
			b.Reasons = append(b.Reasons, fmt.Sprintf("coherence %d < %d", *b.Coherence, f.MinCoherence))
		}
		if f.GenericTitles && GenericTitle(b.Title) {
			b.Reasons = append(b.Reasons, fmt.Sprintf("generic title %q", b.Title))
		}
		for _, fl := range f.Flags {
			if slices.Contains(b.Flags, fl) {
				b.Reasons = append(b.Reasons, "flagged "+fl)
			}
		}
		if s, ok := sil[b.ClusterID]; ok {
			v := s
			b.Silhouette = &v
			if f.MaxSilhouette != nil && s < *f.MaxSilhouette {
				b.Reasons = append(b.Reasons, fmt.Sprintf("silhouette %.3f < %.3f", s, *f.MaxSilhouette))
			}
		}
		if len(b.Reasons) > 0 {
			out = append(out, *b)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ClusterID < out[j].ClusterID })
	if out == nil {
		out = []BadCluster{}
	}
	return out, nil
}

// silhouetteNeighbours bounds the other centroids each query is compared with.
const silhouetteNeighbours = 10

// Silhouettes returns each cluster's mean simplified silhouette over the run's cached
// embeddings: for a query, a is its distance to its own cluster's mean and b the
// distance to the nearest mean of another cluster (searched among the
// silhouetteNeighbours means nearest its own, exact for up to 11 clusters); the score
// is (b − a) / max(a, b), in [−1, 1], low for clusters whose queries sit as close to
// a neighbour. It streams the embeddings twice (O(n·d) memory is not needed) and
// fails with lmsys.ErrEmpty when the run has no cached embeddings. Clusters of one
// query score 0.
func (c *Curator) Silhouettes(ctx context.Context, run lmsys.Run) (map[int]float64, error) {
	if run.Space.IsZero() || run.Space.Dims <= 0 {
		return nil, fmt.Errorf("%w: run %q records no embedding space, so silhouettes cannot be computed", lmsys.ErrEmpty, run.ID)
	}
	as, err := c.db.Assignments(ctx, run.ID, nil)
	if err != nil {
		return nil, err
	}
	label := make(map[int64]int, len(as))
	for _, a := range as {
		label[a.QueryID] = a.ClusterID
	}
	d := run.Space.Dims
	sums := map[int][]float64{}
	counts := map[int]int{}
	f := lmsys.QueryFilter{RunID: run.ID}
	err = c.db.ScanQueryVectors(ctx, run.Space, f, 5000, func(ids []int64, vs [][]float32) error {
		for i, id := range ids {
			l := label[id]
			s := sums[l]
			if s == nil {
				s = make([]float64, d)
				sums[l] = s
			}
			for j, x := range vs[i] {
				s[j] += float64(x)
			}
			counts[l]++
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(counts) == 0 {
		return nil, fmt.Errorf("%w: run %q has no cached embeddings in %s", lmsys.ErrEmpty, run.ID, run.Space)
	}
	ids := make([]int, 0, len(sums))
	for id := range sums {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	idx := make(map[int]int, len(ids))
	means := make([][]float32, len(ids))
	for i, id := range ids {
		idx[id] = i
		m := make([]float32, d)
		for j, x := range sums[id] {
			m[j] = float32(x / float64(counts[id]))
		}
		means[i] = m
	}
	// Each cluster's nearest other means.
	neigh := make([][]int, len(ids))
	for i := range means {
		type nd struct {
			j    int
			dist float64
		}
		var cand []nd
		for j := range means {
			if j != i {
				cand = append(cand, nd{j, dist(means[i], means[j])})
			}
		}
		sort.Slice(cand, func(a, b int) bool { return cand[a].dist < cand[b].dist })
		for _, x := range cand[:min(silhouetteNeighbours, len(cand))] {
			neigh[i] = append(neigh[i], x.j)
		}
	}
	total := map[int]float64{}
	err = c.db.ScanQueryVectors(ctx, run.Space, f, 5000, func(qids []int64, vs [][]float32) error {
		for i, id := range qids {
			l := label[id]
			k := idx[l]
			if counts[l] < 2 || len(neigh[k]) == 0 {
				continue
			}
			a := dist(vs[i], means[k])
			b := math.Inf(1)
			for _, j := range neigh[k] {
				b = math.Min(b, dist(vs[i], means[j]))
			}
			if m := math.Max(a, b); m > 0 {
				total[l] += (b - a) / m
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make(map[int]float64, len(ids))
	for _, id := range ids {
		out[id] = total[id] / float64(counts[id])
	}
	return out, nil
}

func dist(a, b []float32) float64 {
	var s float64
	for i := range a {
		x := float64(a[i]) - float64(b[i])
		s += x * x
	}
	return math.Sqrt(s)
}
