package web

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/curation"
)

// The response shapes of the API. Each carries the fields of the Python tool's
// response model of the same route (its api/schemas.py) under the same names, so its
// viewer and scripts read them unchanged, plus the fields of ours that the Python tool
// lacks as extra keys. The viewer renders the same values.

// ListPage is the envelope of every list: one page of items, the number of items
// over all pages, the page number (1-based), the number of pages and the page size.
type ListPage[T any] struct {
	Items []T   `json:"items"`
	Total int64 `json:"total"`
	Page  int   `json:"page"`
	Pages int   `json:"pages"`
	Limit int   `json:"limit"`
}

// newPage returns the envelope of items, which is page page of total items of limit each.
func newPage[T any](items []T, total int64, page, limit int) ListPage[T] {
	if items == nil {
		items = []T{}
	}
	pages := 0
	if limit > 0 {
		pages = int((total + int64(limit) - 1) / int64(limit))
	}
	return ListPage[T]{Items: items, Total: total, Page: page, Pages: pages, Limit: limit}
}

// paginate returns page page (of limit items) of all.
func paginate[T any](all []T, page, limit int) ListPage[T] {
	start := min((page-1)*limit, len(all))
	end := min(start+limit, len(all))
	return newPage(all[start:end:end], int64(len(all)), page, limit)
}

// QueryItem is one query (the Python tool's QueryResponse, plus query_id and dataset_id).
type QueryItem struct {
	ID             int64      `json:"id"`
	ConversationID string     `json:"conversation_id"`
	Model          string     `json:"model"`
	QueryText      string     `json:"query_text"`
	Language       *string    `json:"language"`
	Timestamp      *time.Time `json:"timestamp"`
	CreatedAt      time.Time  `json:"created_at"`
	// QueryID repeats ID under the name our earlier answers used.
	QueryID   int64 `json:"query_id"`
	DatasetID int64 `json:"dataset_id,omitempty"`
}

func queryItem(q lmsys.Query) QueryItem {
	return QueryItem{ID: q.ID, ConversationID: q.ConversationID, Model: q.Model, QueryText: q.Text, Language: nullable(q.Language),
		Timestamp: q.Timestamp, CreatedAt: q.CreatedAt, QueryID: q.ID, DatasetID: q.DatasetID}
}

func queryItems(qs []lmsys.Query) []QueryItem {
	out := make([]QueryItem, len(qs))
	for i, q := range qs {
		out[i] = queryItem(q)
	}
	return out
}

// QueryPage is a page of queries; NextCursor is the keyset cursor of the next page
// (0: none), for clients that page with cursor instead of page.
type QueryPage struct {
	ListPage[QueryItem]
	NextCursor int64 `json:"next_cursor,omitempty"`
}

// RunItem is one clustering run (the Python tool's ClusteringRunSummary, plus the
// embedding space, the number of queries, the error and the finish time).
type RunItem struct {
	RunID       string         `json:"run_id"`
	Algorithm   string         `json:"algorithm"`
	NumClusters int            `json:"num_clusters"`
	Description *string        `json:"description"`
	Parameters  map[string]any `json:"parameters"`
	CreatedAt   time.Time      `json:"created_at"`
	Status      string         `json:"status"`
	Space       lmsys.Space    `json:"embedding_space"`
	NumQueries  int            `json:"num_queries"`
	Error       string         `json:"error,omitempty"`
	FinishedAt  *time.Time     `json:"finished_at,omitempty"`
}

func runItem(r lmsys.Run) RunItem {
	return RunItem{RunID: r.ID, Algorithm: r.Algorithm, NumClusters: r.NumClusters, Description: nullable(r.Description), Parameters: r.Parameters,
		CreatedAt: r.CreatedAt, Status: r.Status, Space: r.Space, NumQueries: r.NumQueries, Error: r.Error, FinishedAt: r.FinishedAt}
}

// RunDetail is one clustering run with its metrics (queries clustered, clusters, and
// queries assigned now) and its latest errors (null when it has none).
type RunDetail struct {
	RunItem
	Metrics      map[string]any `json:"metrics"`
	LatestErrors []string       `json:"latest_errors"`
}

// RunStatus is a run's status for polling; Processed is the number of queries
// assigned to its clusters.
type RunStatus struct {
	RunID       string     `json:"run_id"`
	Status      string     `json:"status"`
	Processed   int64      `json:"processed"`
	NumClusters int        `json:"num_clusters"`
	NumQueries  int        `json:"num_queries"`
	Error       string     `json:"error"`
	CreatedAt   time.Time  `json:"created_at"`
	FinishedAt  *time.Time `json:"finished_at"`
}

// ClusterItem is one cluster with its summary (the Python tool's
// ClusterSummaryResponse). NumQueries and QueryCount are the queries assigned to it
// now; Percentage is their share of the run's assigned queries, in percent rounded to
// two decimals. Share (the same as a fraction), Keywords and Examples are ours.
type ClusterItem struct {
	RunID                 string   `json:"run_id"`
	ClusterID             int      `json:"cluster_id"`
	Title                 *string  `json:"title"`
	Description           *string  `json:"description"`
	Summary               *string  `json:"summary"`
	NumQueries            int      `json:"num_queries"`
	RepresentativeQueries []string `json:"representative_queries"`
	SummaryRunID          *string  `json:"summary_run_id"`
	Alias                 *string  `json:"alias"`
	QueryCount            *int     `json:"query_count"`
	Percentage            *float64 `json:"percentage"`
	Share                 float64  `json:"share"`
	Keywords              []string `json:"keywords,omitempty"`
	Examples              []string `json:"examples,omitempty"`
}

// clusterItem describes cluster id of run with n of the run's total queries and its
// summary (the zero Summary when it has none).
func clusterItem(runID string, id, n, total int, s lmsys.Summary, hasSummary bool) ClusterItem {
	c := ClusterItem{RunID: runID, ClusterID: id, NumQueries: n, QueryCount: &n, Share: float64(n) / float64(max(total, 1))}
	if hasSummary {
		c.Title, c.Description, c.Summary = nullable(s.Title), nullable(s.Description), nullable(s.Summary)
		c.RepresentativeQueries, c.SummaryRunID, c.Alias, c.Keywords = s.RepresentativeQueries, nullable(s.SummaryRunID), nullable(s.Alias), s.Keywords
	}
	if n > 0 && total > 0 {
		p := percent(n, total)
		c.Percentage = &p
	}
	return c
}

// percent is 100·n/total rounded to two decimals.
func percent(n, total int) float64 {
	return math.Round(float64(n)/float64(total)*100*100) / 100
}

// MetadataItem is a cluster's annotations (the Python tool's ClusterMetadata): every
// field is present, null when unset.
type MetadataItem struct {
	CoherenceScore *int       `json:"coherence_score"`
	Quality        *string    `json:"quality"`
	Notes          *string    `json:"notes"`
	Flags          []string   `json:"flags"`
	LastEdited     *time.Time `json:"last_edited"`
	RunID          string     `json:"run_id"`
	ClusterID      int        `json:"cluster_id"`
}

func metadataItem(m lmsys.ClusterMetadata) MetadataItem {
	out := MetadataItem{CoherenceScore: m.Coherence, Quality: nullable(m.Quality), Notes: nullable(m.Notes), RunID: m.RunID, ClusterID: m.ClusterID}
	if len(m.Flags) > 0 {
		out.Flags = m.Flags
	}
	if !m.UpdatedAt.IsZero() {
		t := m.UpdatedAt
		out.LastEdited = &t
	}
	return out
}

// EditItem is one audited edit (the Python tool's EditHistoryRecord, plus its id and run).
type EditItem struct {
	Timestamp time.Time      `json:"timestamp"`
	ClusterID *int           `json:"cluster_id"`
	EditType  string         `json:"edit_type"`
	Editor    string         `json:"editor"`
	Reason    *string        `json:"reason"`
	OldValue  map[string]any `json:"old_value"`
	NewValue  map[string]any `json:"new_value"`
	ID        int64          `json:"id"`
	RunID     string         `json:"run_id"`
}

// editItems returns es newest first, as the Python tool lists them, each value with the
// keys the Python tool records for its edit type (curation.PythonValues) beside ours.
func editItems(es []lmsys.Edit) []EditItem {
	out := make([]EditItem, len(es))
	for i, e := range es {
		oldV, newV := curation.PythonValues(e)
		out[len(es)-1-i] = EditItem{Timestamp: e.CreatedAt, ClusterID: e.ClusterID, EditType: e.EditType, Editor: e.Editor, Reason: nullable(e.Reason),
			OldValue: oldV, NewValue: newV, ID: e.ID, RunID: e.RunID}
	}
	return out
}

// EditPage is a page of edits, newest first.
type EditPage struct {
	ListPage[EditItem]
	RunID     string `json:"run_id"`
	ClusterID *int   `json:"cluster_id,omitempty"`
}

// OrphanRecord is the record of an orphaned query.
type OrphanRecord struct {
	QueryID           int64     `json:"query_id"`
	OriginalClusterID *int      `json:"original_cluster_id"`
	OrphanedAt        time.Time `json:"orphaned_at"`
	Reason            *string   `json:"reason"`
	ID                int64     `json:"id"`
	RunID             string    `json:"run_id"`
}

// OrphanItem is an orphaned query (the Python tool's OrphanInfo): its record and the query.
type OrphanItem struct {
	Orphan OrphanRecord `json:"orphan"`
	Query  QueryItem    `json:"query"`
}

// HierarchyRunItem is one hierarchy run (the Python tool's HierarchyRunInfo).
type HierarchyRunItem struct {
	HierarchyRunID string    `json:"hierarchy_run_id"`
	RunID          string    `json:"run_id"`
	CreatedAt      time.Time `json:"created_at"`
}

// HierarchyNodeItem is one node of a hierarchy (the Python tool's HierarchyNode).
// QueryCount is counted bottom-up from the run's assignments now: a leaf's queries,
// a parent's the sum of its children's. Percentage is QueryCount's share of the
// run's assigned queries in percent (null when zero or not asked for). NumQueries is
// the count when the hierarchy was built.
type HierarchyNodeItem struct {
	HierarchyRunID  string    `json:"hierarchy_run_id"`
	RunID           string    `json:"run_id"`
	ClusterID       int       `json:"cluster_id"`
	ParentClusterID *int      `json:"parent_cluster_id"`
	Level           int       `json:"level"`
	ChildrenIDs     []int     `json:"children_ids"`
	Title           *string   `json:"title"`
	Description     *string   `json:"description"`
	QueryCount      int       `json:"query_count"`
	Percentage      *float64  `json:"percentage"`
	NumQueries      int       `json:"num_queries"`
	CreatedAt       time.Time `json:"created_at"`
}

// SummaryRunItem is one summary run (the Python tool's SummaryRunSummary, plus our
// token counts, cost and cluster counts).
type SummaryRunItem struct {
	SummaryRunID string         `json:"summary_run_id"`
	RunID        string         `json:"run_id"`
	Alias        *string        `json:"alias"`
	Model        string         `json:"model"`
	GeneratedAt  time.Time      `json:"generated_at"`
	Status       string         `json:"status"`
	PromptHash   string         `json:"prompt_hash,omitempty"`
	Parameters   map[string]any `json:"parameters,omitempty"`
	InputTokens  int64          `json:"input_tokens"`
	OutputTokens int64          `json:"output_tokens"`
	CostUSD      float64        `json:"estimated_cost_usd"`
	NumClusters  int            `json:"num_clusters"`
	NumFailed    int            `json:"num_failed"`
}

func summaryRunItem(r lmsys.SummaryRun) SummaryRunItem {
	status := "completed"
	if r.NumClusters > 0 && r.NumFailed == r.NumClusters {
		status = "failed"
	}
	return SummaryRunItem{SummaryRunID: r.SummaryRunID, RunID: r.RunID, Alias: nullable(r.Alias), Model: r.Model, GeneratedAt: r.CreatedAt, Status: status,
		PromptHash: r.PromptHash, Parameters: r.Parameters, InputTokens: r.InputTokens, OutputTokens: r.OutputTokens, CostUSD: r.CostUSD,
		NumClusters: r.NumClusters, NumFailed: r.NumFailed}
}

// SummaryItem is one cluster's summary in one summary run: the Python tool's
// ClusterSummaryResponse plus the summary's model, keywords, coherence and time.
type SummaryItem struct {
	ClusterItem
	Model       string    `json:"model"`
	Coherence   int       `json:"coherence,omitempty"`
	Mixed       bool      `json:"mixed,omitempty"`
	Error       string    `json:"error,omitempty"`
	GeneratedAt time.Time `json:"generated_at"`
}

// ClusterInfo is a query's cluster in a run (the Python tool's ClusterInfo).
type ClusterInfo struct {
	RunID           string   `json:"run_id"`
	ClusterID       int      `json:"cluster_id"`
	Title           *string  `json:"title"`
	ConfidenceScore *float64 `json:"confidence_score"`
	SummaryRunID    string   `json:"summary_run_id,omitempty"`
	Orphaned        bool     `json:"orphaned,omitempty"`
}

// QueryDetail is a query with its cluster in every run (the Python tool's QueryDetailResponse).
type QueryDetail struct {
	Query    QueryItem     `json:"query"`
	Clusters []ClusterInfo `json:"clusters"`
}

// nullable returns nil for "" and &s otherwise, for fields the Python tool leaves null.
func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// validation is a 422 for a malformed or out-of-range query parameter.
func validation(format string, a ...any) error {
	return &httpError{http.StatusUnprocessableEntity, "validation_error", "request validation failed: " + fmt.Sprintf(format, a...)}
}

// params reads the query parameters of a request, remembering the first malformed one.
type params struct {
	q   url.Values
	err error
}

func newParams(r *http.Request) *params { return &params{q: r.URL.Query()} }

func (p *params) fail(err error) {
	if p.err == nil {
		p.err = err
	}
}

// has reports whether the parameter is present (even empty).
func (p *params) has(name string) bool { return p.q.Has(name) }

// str returns a string parameter ("" when absent).
func (p *params) str(name string) string { return p.q.Get(name) }

// required returns a string parameter that must be present and not blank.
func (p *params) required(name string) string {
	v := p.q.Get(name)
	if strings.TrimSpace(v) == "" {
		p.fail(validation("query parameter %s is required", name))
	}
	return v
}

// intIn returns an integer parameter in [lo, hi] (def when absent); hi < lo means no upper bound.
func (p *params) intIn(name string, def, lo, hi int) int {
	if !p.q.Has(name) {
		return def
	}
	v := p.q.Get(name)
	n, err := strconv.Atoi(strings.TrimSpace(v))
	switch {
	case err != nil:
		p.fail(validation("query parameter %s=%q is not an integer", name, v))
	case n < lo:
		p.fail(validation("query parameter %s=%d must be at least %d", name, n, lo))
	case hi >= lo && n > hi:
		p.fail(validation("query parameter %s=%d must be at most %d", name, n, hi))
	default:
		return n
	}
	return def
}

// optInt returns an optional integer parameter (nil when absent).
func (p *params) optInt(name string) *int {
	if !p.q.Has(name) {
		return nil
	}
	v := p.q.Get(name)
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		p.fail(validation("query parameter %s=%q is not an integer", name, v))
		return nil
	}
	return &n
}

// boolean returns a boolean parameter (def when absent), accepting what pydantic
// accepts: true/false, 1/0, yes/no, on/off, t/f, y/n, any case.
func (p *params) boolean(name string, def bool) bool {
	if !p.q.Has(name) {
		return def
	}
	switch v := strings.ToLower(strings.TrimSpace(p.q.Get(name))); v {
	case "true", "1", "yes", "on", "t", "y":
		return true
	case "false", "0", "no", "off", "f", "n":
		return false
	default:
		p.fail(validation("query parameter %s=%q is not a boolean", name, p.q.Get(name)))
		return def
	}
}

// oneOf returns a parameter that must be one of choices (def when absent).
func (p *params) oneOf(name, def string, choices ...string) string {
	if !p.q.Has(name) {
		return def
	}
	v := p.q.Get(name)
	for _, c := range choices {
		if v == c {
			return v
		}
	}
	p.fail(validation("query parameter %s=%q is not one of %s", name, v, strings.Join(choices, ", ")))
	return def
}

// page returns page (≥ 1, default 1) and limit (1 to 100, default def).
func (p *params) page(def int) (page, limit int) {
	return p.intIn("page", 1, 1, -1), p.intIn("limit", def, 1, 100)
}
