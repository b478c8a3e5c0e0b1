package hierarchy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/lmsys-go/lmsys"
)

// Store is what Run needs of the system of record; lmsys.Store satisfies it.
type Store interface {
	lmsys.QueryStore
	lmsys.RunStore
	lmsys.SummaryStore
	lmsys.HierarchyStore
}

// keywordSample bounds the queries per cluster read to name clusters that have no summary.
const keywordSample = 200

// Run loads the clusters of a clustering run from st — sizes, centroids and the
// summaries of opts.SummaryRun (latest when empty) — builds their hierarchy with
// Build and saves it with st.SaveHierarchy. The offline merge also works on a run that
// was never summarised: it then names clusters by c-TF-IDF keywords of up to 200 of
// their queries. An unknown run fails with lmsys.ErrNotFound; a run without clusters
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
	if err := st.SaveHierarchy(ctx, res.Nodes); err != nil {
		return Result{}, fmt.Errorf("hierarchy: save %s: %w", res.Report.HierarchyRunID, err)
	}
	// Stores that keep hierarchy run records (the GORM store does) get the report.
	if rs, ok := st.(interface {
		SaveHierarchyRun(context.Context, lmsys.HierarchyRun) error
	}); ok {
		if err := rs.SaveHierarchyRun(ctx, res.Report.Record()); err != nil {
			return Result{}, fmt.Errorf("hierarchy: save report of %s: %w", res.Report.HierarchyRunID, err)
		}
	}
	return res, nil
}

// Record returns the report as the lmsys.HierarchyRun a store keeps.
func (r Report) Record() lmsys.HierarchyRun {
	var report map[string]any
	if b, err := json.Marshal(r); err == nil {
		_ = json.Unmarshal(b, &report)
	}
	delete(report, "parameters")
	return lmsys.HierarchyRun{HierarchyRunID: r.HierarchyRunID, RunID: r.RunID, Method: r.Method, Model: r.Model,
		Parameters: r.Parameters, Report: report}
}

// LoadLeaves reads the leaves of a clustering run from st: every cluster with at least
// one query, its size, centroid and summary (summary run ref, latest when empty). When
// the run has no summary and keywordsFallback is set, clusters are named by c-TF-IDF
// keywords of their queries instead; otherwise a missing summary run is an error
// wrapping lmsys.ErrNotFound.
func LoadLeaves(ctx context.Context, st Store, runID, ref string, keywordsFallback bool) ([]Leaf, error) {
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
	case errors.Is(err, lmsys.ErrNotFound) && ref == "" && keywordsFallback:
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
	if len(unnamed) > 0 {
		if err := nameFromQueries(ctx, st, runID, leaves, unnamed); err != nil {
			return nil, err
		}
	}
	return leaves, nil
}

// nameFromQueries gives the leaves at idx keywords, a title and sample queries from
// c-TF-IDF over up to keywordSample queries of each cluster.
func nameFromQueries(ctx context.Context, st Store, runID string, leaves []Leaf, idx []int) error {
	want := map[int]int{} // cluster id → index into idx
	for j, i := range idx {
		want[leaves[i].ClusterID] = j
	}
	as, err := st.Assignments(ctx, runID, nil)
	if err != nil {
		return fmt.Errorf("hierarchy: assignments of %s: %w", runID, err)
	}
	clusterOf := map[int64]int{}
	for _, a := range as {
		if _, ok := want[a.ClusterID]; ok {
			clusterOf[a.QueryID] = a.ClusterID
		}
	}
	texts := make([][]string, len(idx))
	err = st.ScanQueries(ctx, lmsys.QueryFilter{RunID: runID}, 2000, func(qs []lmsys.Query) error {
		for _, q := range qs {
			c, ok := clusterOf[q.ID]
			if !ok {
				continue
			}
			if j := want[c]; len(texts[j]) < keywordSample {
				texts[j] = append(texts[j], q.Text)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("hierarchy: queries of %s: %w", runID, err)
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
	return nil
}
