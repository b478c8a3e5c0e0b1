package web

import (
	"net/http"

	"github.com/lmsys-go/lmsys/analysis"
)

// The analysis endpoints of a run: facets, trends over time and the comparison of two
// runs.

func (s *server) apiFacets(r *http.Request) (any, error) {
	runID, err := s.runParam(r, r.PathValue("run_id"))
	if err != nil {
		return nil, err
	}
	opts := analysis.FacetOptions{Fields: queryList(r, "by"), Sort: r.URL.Query().Get("sort")}
	if len(opts.Fields) == 0 {
		opts.Fields = []string{"language", "model"}
	}
	if opts.Top, err = queryInt(r, "top", 10); err != nil {
		return nil, err
	}
	mc, err := queryInt(r, "min_count", 5)
	if err != nil {
		return nil, err
	}
	opts.MinCount = int64(mc)
	if r.URL.Query().Has("cluster_id") {
		c, err := queryInt(r, "cluster_id", 0)
		if err != nil {
			return nil, err
		}
		opts.ClusterID = &c
	}
	if opts.SummaryRef, err = summaryRef(r); err != nil {
		return nil, err
	}
	fs, err := analysis.Facets(r.Context(), s.deps.Store, runID, opts)
	if err != nil {
		return nil, err
	}
	return FacetsReport{Facets: fs, RunID: runID}, nil
}

// FacetsReport answers GET /api/analysis/runs/{run_id}/facets: the distribution of
// each facet asked for over the run, by cluster, with the over-represented clusters.
type FacetsReport struct {
	Facets []analysis.Facet `json:"facets"`
	RunID  string           `json:"run_id"`
}

func trendOptions(r *http.Request) (analysis.TrendOptions, error) {
	q := r.URL.Query()
	o := analysis.TrendOptions{Period: q.Get("period"), Field: q.Get("field"), Label: q.Get("label")}
	var err error
	if o.SummaryRef, err = summaryRef(r); err != nil {
		return o, err
	}
	o.Top, err = queryInt(r, "top", 10)
	return o, err
}

func (s *server) apiTrends(r *http.Request) (any, error) {
	runID, err := s.runParam(r, r.PathValue("run_id"))
	if err != nil {
		return nil, err
	}
	o, err := trendOptions(r)
	if err != nil {
		return nil, err
	}
	return analysis.Trends(r.Context(), s.deps.Store, runID, o)
}

func (s *server) apiCompare(r *http.Request) (any, error) {
	runID, err := s.runParam(r, r.PathValue("run_id"))
	if err != nil {
		return nil, err
	}
	o, err := trendOptions(r)
	if err != nil {
		return nil, err
	}
	q := r.URL.Query()
	a, b := q.Get("a"), q.Get("b")
	if a == "" || b == "" {
		return nil, badRequest("parameters a and b are required (two periods, or two datasets with by=dataset)")
	}
	if q.Get("by") == "dataset" {
		return analysis.CompareDatasets(r.Context(), s.deps.Store, runID, a, b, o)
	}
	return analysis.ComparePeriods(r.Context(), s.deps.Store, runID, a, b, o)
}
