package web

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/lmsys-go/lmsys/analysis"
	"github.com/lmsys-go/lmsys/curation"
	"github.com/lmsys-go/lmsys/search"
)

// API answers the HTTP API's read requests inside the process, for Go programs that
// serve the same answers over another protocol (package mcpserver serves them to MCP
// hosts). Each method returns the value its endpoint encodes, built by the same code,
// so its JSON is the endpoint's. Inputs are typed instead of query parameters; the
// ranges the HTTP parser checks (a limit of 1 to 100, a page of at least 1) are the
// caller's to check, unless a method says otherwise. Errors wrap the root package's
// sentinels as the endpoints' errors do: an unknown run, cluster or hierarchy wraps
// lmsys.ErrNotFound, a bad combination of inputs lmsys.ErrInvalidInput.
type API struct{ s *server }

// NewAPI returns the API over deps. Of opts, MaxQueryChars and Logger apply (Token,
// hosts, CORS and the body limit are HTTP's); Curator's edits re-index the search
// service of deps and drop the API's caches, as the HTTP edits do.
func NewAPI(deps Deps, opts Options) *API {
	return &API{s: newServer(deps, opts)}
}

// Curator returns the curator the HTTP edit endpoints use.
func (a *API) Curator() *curation.Curator { return a.s.cur }

// Runs answers GET /api/clustering/runs: page page (1-based) of limit runs, newest
// first, of one algorithm when algorithm is set.
func (a *API) Runs(ctx context.Context, algorithm string, page, limit int) (ListPage[RunItem], error) {
	return a.s.runsPage(ctx, algorithm, page, limit)
}

// Run answers GET /api/clustering/runs/{run_id}.
func (a *API) Run(ctx context.Context, runID string) (RunDetail, error) {
	return a.s.runDetail(ctx, runID)
}

// ClusterList selects a page of a run's clusters, largest first.
type ClusterList struct {
	// SummaryRef names the summary run (id or alias) titles come from; empty means
	// the latest, if any.
	SummaryRef string
	// Examples is the number of example queries shown per cluster.
	Examples int
	// Page (1-based) and Limit select the page.
	Page, Limit int
}

// Clusters answers GET /api/clustering/runs/{run_id}/clusters with counts and
// percentages, except that an unknown run or summary run is an error wrapping
// lmsys.ErrNotFound where the endpoint answers an empty page.
func (a *API) Clusters(ctx context.Context, runID string, l ClusterList) (ClusterPage, error) {
	return a.s.clusterPage(ctx, runID, clusterOptions{ref: l.SummaryRef, examples: l.Examples, counts: true, percentages: true,
		page: l.Page, pageLimit: l.Limit})
}

// Cluster answers GET /api/clustering/runs/{run_id}/clusters/{cluster_id}: the
// cluster with page page of limit of its queries, or with cursor > 0 the limit
// queries after query id cursor (the page's next_cursor).
func (a *API) Cluster(ctx context.Context, runID string, clusterID int, summaryRef string, page, limit int, cursor int64) (ClusterDetail, error) {
	if cursor > 0 {
		page = 0
	}
	return a.s.clusterDetail(ctx, runID, clusterID, summaryRef, page, limit, cursor)
}

// QuerySearch is a query search with the parameters of GET /api/search/queries.
type QuerySearch struct {
	// Text is what to search for (required, at most Options.MaxQueryChars characters).
	Text string
	// RunID names the clustering run: its embedding space and cluster membership.
	// Only the full-text mode works without one.
	RunID string
	// Mode is search.ModeFullText (default), search.ModeSemantic or search.ModeHybrid.
	Mode string
	// WithinClusters first finds the TopClusters clusters (default 10) nearest this
	// text, then searches inside them.
	WithinClusters string
	TopClusters    int
	// ClusterIDs restricts the search to these clusters of the run.
	ClusterIDs []int
	// Facets names the counts computed over the results: cluster, language, model.
	Facets []string
	// By "cluster" adds the cluster facet.
	By string
	// Label, "facet=value", keeps the hits a classifier gave that label.
	Label string
	// SummaryRef names the summary run cluster titles come from (empty: the latest).
	SummaryRef string
	// Page (1-based) and Limit select the page; the search ranks at most 1,000 hits.
	Page, Limit int
}

// SearchQueries answers GET /api/search/queries. It checks the text's length against
// Options.MaxQueryChars, as the HTTP handler does before routing.
func (a *API) SearchQueries(ctx context.Context, q QuerySearch) (SearchPage, error) {
	if err := a.checkText("text", q.Text, true); err != nil {
		return SearchPage{}, err
	}
	if err := a.checkText("within_clusters", q.WithinClusters, false); err != nil {
		return SearchPage{}, err
	}
	if q.Mode == "" {
		q.Mode = search.ModeFullText
	}
	if q.TopClusters == 0 {
		q.TopClusters = 10
	}
	sr, err := checkSearch(searchRequest{text: q.Text, page: q.Page, limit: q.Limit, opts: search.QuerySearchOptions{RunID: q.RunID, Mode: q.Mode,
		WithinClusters: q.WithinClusters, TopClusters: q.TopClusters, ClusterIDs: q.ClusterIDs, Facets: q.Facets, By: q.By, Label: q.Label,
		SummaryRef: q.SummaryRef}})
	if err != nil {
		return SearchPage{}, err
	}
	return a.s.searchPage(ctx, sr)
}

// SearchClusters answers GET /api/search/clusters: the Limit clusters (default 20)
// whose summaries best match Text, in Mode search.ModeFullText (default: title or
// description containing the text) or search.ModeSemantic (needs RunID).
func (a *API) SearchClusters(ctx context.Context, c ClusterSearch) (ClusterSearchPage, error) {
	if err := a.checkText("text", c.Text, true); err != nil {
		return ClusterSearchPage{}, err
	}
	if c.Mode == "" {
		c.Mode = search.ModeFullText
	}
	if c.Limit == 0 {
		c.Limit = 20
	}
	if c.Page == 0 {
		c.Page = 1
	}
	return a.s.clusterSearch(ctx, c)
}

// checkText refuses a search text that is blank (when required) or longer than
// Options.MaxQueryChars.
func (a *API) checkText(name, text string, required bool) error {
	if required && strings.TrimSpace(text) == "" {
		return validation("%s is required", name)
	}
	if n := utf8.RuneCountInString(text); n > a.s.opts.MaxQueryChars {
		return validation("%s is %d characters long; searches take at most %d", name, n, a.s.opts.MaxQueryChars)
	}
	return nil
}

// Hierarchies answers GET /api/hierarchy: the hierarchy runs, of one clustering run
// when runID is set, newest first.
func (a *API) Hierarchies(ctx context.Context, runID string) ([]HierarchyRunItem, error) {
	return a.s.hierarchyRuns(ctx, runID)
}

// Hierarchy answers GET /api/hierarchy/{hierarchy_run_id} with percentages.
func (a *API) Hierarchy(ctx context.Context, hierarchyID string) (HierarchyDetail, error) {
	return a.s.hierarchyDetail(ctx, hierarchyID, true)
}

// Facets answers GET /api/analysis/runs/{run_id}/facets; o.Fields defaults to
// language and model, as the endpoint's by parameter does.
func (a *API) Facets(ctx context.Context, runID string, o analysis.FacetOptions) (FacetsReport, error) {
	if _, err := a.s.deps.Store.GetRun(ctx, runID); err != nil {
		return FacetsReport{}, err
	}
	if len(o.Fields) == 0 {
		o.Fields = []string{"language", "model"}
	}
	fs, err := analysis.Facets(ctx, a.s.deps.Store, runID, o)
	if err != nil {
		return FacetsReport{}, err
	}
	return FacetsReport{Facets: fs, RunID: runID}, nil
}

// Trends answers GET /api/analysis/runs/{run_id}/trends.
func (a *API) Trends(ctx context.Context, runID string, o analysis.TrendOptions) (analysis.TrendReport, error) {
	if _, err := a.s.deps.Store.GetRun(ctx, runID); err != nil {
		return analysis.TrendReport{}, err
	}
	return analysis.Trends(ctx, a.s.deps.Store, runID, o)
}

// Compare answers GET /api/analysis/runs/{run_id}/compare: the clusters that grew,
// shrank, appeared and vanished between two periods of the run (sampleA and sampleB
// written as 2026-09, 2026-W36, 2026-09-01 or 2026-09-01T13), or with byDataset
// between two datasets' queries.
func (a *API) Compare(ctx context.Context, runID, sampleA, sampleB string, byDataset bool, o analysis.TrendOptions) (analysis.Comparison, error) {
	if _, err := a.s.deps.Store.GetRun(ctx, runID); err != nil {
		return analysis.Comparison{}, err
	}
	if sampleA == "" || sampleB == "" {
		return analysis.Comparison{}, badRequest("two samples are required (two periods, or two datasets)")
	}
	if byDataset {
		return analysis.CompareDatasets(ctx, a.s.deps.Store, runID, sampleA, sampleB, o)
	}
	return analysis.ComparePeriods(ctx, a.s.deps.Store, runID, sampleA, sampleB, o)
}

// Audit answers GET /api/curation/runs/{run_id}/audit: page page of limit of the
// run's edits that f selects, newest first. An unknown f.Type is refused.
func (a *API) Audit(ctx context.Context, runID string, f curation.AuditFilter, page, limit int) (EditPage, error) {
	if f.Type != "" && !contains(curation.EditTypes, f.Type) {
		return EditPage{}, validation("type %q is not one of %s", f.Type, strings.Join(curation.EditTypes, ", "))
	}
	if _, err := a.s.deps.Store.GetRun(ctx, runID); err != nil {
		return EditPage{}, err
	}
	es, err := a.s.cur.Audit(ctx, runID, f)
	if err != nil {
		return EditPage{}, fmt.Errorf("audit of run %s: %w", runID, err)
	}
	return EditPage{ListPage: paginate(editItems(es), page, limit), RunID: runID}, nil
}
