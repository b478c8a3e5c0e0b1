package hierarchy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/lmsys-go/lmsys"
)

// Store is what Run needs of the system of record; lmsys.Store satisfies it.
type Store interface {
	lmsys.QueryStore
	lmsys.RunStore
	lmsys.SummaryStore
	lmsys.HierarchyStore
}

// textClip bounds the bytes of each sampled text kept in Leaf.Texts: a topic shows in
// a query's first words, and a pasted document must not cost megabytes per cluster.
const textClip = 1000

// Run loads the clusters of a clustering run from st — sizes, centroids and the
// summaries of opts.SummaryRun (latest when empty), and for the offline merge a sample
// of each cluster's query texts — builds their hierarchy with Build and saves it with
// st.SaveHierarchy. The offline merge also works on a run that was never summarised:
// it then names clusters by c-TF-IDF keywords of their sampled queries. An unknown run fails with lmsys.ErrNotFound; a run without clusters
// with lmsys.ErrEmpty. Nothing is saved unless the whole hierarchy was built and
// validated.
func Run(ctx context.Context, st Store, runID string, opts Options) (Result, error) {
	leaves, err := LoadLeaves(ctx, st, runID, opts.SummaryRun, opts.LLM == nil)
	if err != nil {
		return Result{}, err
	}
	res, err := Build(ctx, runID, leaves, opts)
	if err != nil {
		return Result{}, err
	}
	// Ids have one-second resolution: a second hierarchy of the run built within the
	// same second gets a suffix instead of writing its nodes over the first one's.
	existing, err := st.Hierarchies(ctx, runID)
	if err != nil {
		return Result{}, err
	}
	if base := res.Report.HierarchyRunID; slices.Contains(existing, base) {
		id := base
		for i := 2; slices.Contains(existing, id); i++ {
			id = fmt.Sprintf("%s-%d", base, i)
		}
		res.Report.HierarchyRunID = id
		for i := range res.Nodes {
			res.Nodes[i].HierarchyRunID = id
		}
	}
	if err := st.SaveHierarchy(ctx, res.Nodes); err != nil {
		return Result{}, fmt.Errorf("hierarchy: save %s: %w", res.Report.HierarchyRunID, err)
	}
	// Stores that keep hierarchy run records (the GORM store does) get the report.
	if rs, ok := st.(interface {
		SaveHierarchyRun(context.Context, lmsys.HierarchyRun) error
	}); ok {
		rec, err := res.Report.Record()
		if err != nil {
			return Result{}, fmt.Errorf("hierarchy: report of %s: %w", res.Report.HierarchyRunID, err)
		}
		if err := rs.SaveHierarchyRun(ctx, rec); err != nil {
			return Result{}, fmt.Errorf("hierarchy: save report of %s: %w", res.Report.HierarchyRunID, err)
		}
	}
	return res, nil
}

// Record returns the report as the lmsys.HierarchyRun a store keeps. It fails when
// the report has no JSON form (a NaN or infinite figure).
func (r Report) Record() (lmsys.HierarchyRun, error) {
	var report map[string]any
	b, err := json.Marshal(r)
	if err == nil {
		err = json.Unmarshal(b, &report)
	}
	if err != nil {
		return lmsys.HierarchyRun{}, fmt.Errorf("hierarchy run %s: report to JSON: %w", r.HierarchyRunID, err)
	}
	delete(report, "parameters")
	return lmsys.HierarchyRun{HierarchyRunID: r.HierarchyRunID, RunID: r.RunID, Method: r.Method, Model: r.Model,
		Parameters: r.Parameters, Report: report}, nil
}

// LoadLeaves reads the leaves of a clustering run from st: every cluster with at least
// one query, its size, centroid and summary (summary run ref, latest when empty). When
// offline is set (the leaves are for the offline merge), every leaf also gets Texts,
// up to TextSample distinct query texts of its cluster (the first in query id order,
// each clipped to 1,000 bytes), and a run without summaries is named by c-TF-IDF
// keywords of those texts; otherwise a missing summary run is an error wrapping
// lmsys.ErrNotFound. Clusters the summary run left untitled are named the same way
// (their leaves then get Texts too).
func LoadLeaves(ctx context.Context, st Store, runID, ref string, offline bool) ([]Leaf, error) {
	if _, err := st.GetRun(ctx, runID); err != nil {
		return nil, fmt.Errorf("hierarchy: run %q: %w", runID, err)
	}
	sizes, err := st.ClusterSizes(ctx, runID)
	if err != nil {
		return nil, fmt.Errorf("hierarchy: cluster sizes of %s: %w", runID, err)
	}
	ids := make([]int, 0, len(sizes))
	for id, n := range sizes {
		if n > 0 && id >= 0 {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("%w: run %s has no clusters with queries", lmsys.ErrEmpty, runID)
	}
	sort.Ints(ids)
	centroids, err := st.Centroids(ctx, runID)
	if err != nil {
		return nil, fmt.Errorf("hierarchy: centroids of %s: %w", runID, err)
	}
	sums, err := st.Summaries(ctx, runID, ref)
	switch {
	case errors.Is(err, lmsys.ErrNotFound) && ref == "" && offline:
		sums = nil
	case err != nil:
		return nil, fmt.Errorf("hierarchy: %w", err)
	}
	byID := make(map[int]lmsys.Summary, len(sums))
	for _, s := range sums {
		byID[s.ClusterID] = s
	}
	var unnamed []int
	leaves := make([]Leaf, len(ids))
	for i, id := range ids {
		s := byID[id]
		leaves[i] = Leaf{
			ClusterID: id, Size: sizes[id], Title: strings.TrimSpace(s.Title), Description: strings.TrimSpace(s.Description),
			Keywords: s.Keywords, Queries: s.RepresentativeQueries, Centroid: centroids[id],
		}
		if leaves[i].Title == "" {
			unnamed = append(unnamed, i)
		}
	}
	if offline || len(unnamed) > 0 {
		if err := sampleTexts(ctx, st, runID, leaves); err != nil {
			return nil, err
		}
	}
	if len(unnamed) > 0 {
		nameFromTexts(leaves, unnamed)
	}
	return leaves, nil
}

// sampleTexts fills the Texts of every leaf with up to TextSample distinct query texts
// of its cluster, in query id order, each clipped to textClip bytes.
func sampleTexts(ctx context.Context, st Store, runID string, leaves []Leaf) error {
	// Each cluster's members are read in id order, a page at a time, until the
	// cluster has its sample: a few hundred rows per cluster, not the whole run.
	for i := range leaves {
		l := &leaves[i]
		c := l.ClusterID
		seen := map[string]bool{}
		f := lmsys.QueryFilter{RunID: runID, ClusterID: &c, Limit: TextSample}
		for len(l.Texts) < TextSample {
			qs, err := st.ListQueries(ctx, f)
			if err != nil {
				return fmt.Errorf("hierarchy: queries of cluster %d of %s: %w", c, runID, err)
			}
			for _, q := range qs {
				t := clipText(strings.TrimSpace(q.Text), textClip)
				if t == "" || seen[t] || len(l.Texts) == TextSample {
					continue
				}
				seen[t] = true
				l.Texts = append(l.Texts, t)
			}
			if len(qs) < f.Limit {
				break
			}
			f.AfterID = qs[len(qs)-1].ID
		}
	}
	return nil
}

// clipText returns s cut to at most n bytes at a rune boundary.
func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// nameFromTexts gives the leaves at idx keywords, a title and sample queries from
// c-TF-IDF over their sampled texts.
func nameFromTexts(leaves []Leaf, idx []int) {
	texts := make([][]string, len(idx))
	for j, i := range idx {
		texts[j] = leaves[i].Texts
	}
	kws := Keywords(texts, 10)
	for j, i := range idx {
		l := &leaves[i]
		if len(l.Keywords) == 0 {
			l.Keywords = kws[j]
		}
		if len(l.Queries) == 0 {
			l.Queries = texts[j][:min(5, len(texts[j]))]
		}
		if len(kws[j]) > 0 {
			l.Title = titleCase(strings.Join(kws[j][:min(3, len(kws[j]))], ", "))
		} else {
			l.Title = fmt.Sprintf("Cluster %d", l.ClusterID)
		}
	}
}
