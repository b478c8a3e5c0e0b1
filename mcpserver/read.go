package mcpserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/analysis"
	"github.com/lmsys-go/lmsys/curation"
	"github.com/lmsys-go/lmsys/dataset"
	"github.com/lmsys-go/lmsys/search"
	"github.com/lmsys-go/lmsys/web"
)

// Paging are the paging arguments of a list tool: a page (from 1) or an offset
// (from 0), and the page's size.
type Paging struct {
	Page   int `json:"page,omitempty"`
	Offset int `json:"offset,omitempty"`
	Limit  int `json:"limit,omitempty"`
}

// window is the part of a list a call shows.
type window struct {
	page, offset, limit int
	byOffset            bool
}

// start is the index of the window's first item in the whole list.
func (w window) start() int {
	if w.byOffset {
		return w.offset
	}
	return (w.page - 1) * w.limit
}

// fetch returns the page and page size to ask the API for: the window's page, or
// with an offset the first offset+limit items (cut to the window by byOffset).
func (w window) fetch() (page, limit int) {
	if w.byOffset {
		return 1, w.offset + w.limit
	}
	return w.page, w.limit
}

// page checks the paging arguments and applies the defaults.
func (s *server) page(p Paging) (window, error) {
	w := window{page: p.Page, offset: p.Offset, limit: p.Limit, byOffset: p.Offset != 0}
	if w.limit == 0 {
		w.limit = s.opts.DefaultLimit
	}
	switch {
	case p.Page != 0 && p.Offset != 0:
		return window{}, badArg("offset", "give page or offset, not both")
	case p.Page < 0:
		return window{}, badArg("page", "%d is not a page: pages count from 1", p.Page)
	case p.Offset < 0:
		return window{}, badArg("offset", "%d is not an offset: items count from 0", p.Offset)
	case w.limit < 1 || w.limit > s.opts.MaxLimit:
		return window{}, badArg("limit", "%d is out of range: give 1 to %d (default %d)", p.Limit, s.opts.MaxLimit, s.opts.DefaultLimit)
	}
	if w.page == 0 {
		w.page = 1
	}
	if w.byOffset {
		w.page = w.offset/w.limit + 1
	}
	return w, nil
}

// fitPage cuts a page the API answered (its list at path list, beside total, page,
// pages and limit) to the window, then to the byte cap.
func (s *server) fitPage(v any, list string, w window, spec fitSpec) (json.RawMessage, error) {
	spec.list, spec.next = list, offsetNext(parentPath(list), w.start(), w.limit)
	if !w.byOffset {
		return s.fit(v, spec)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	root, err := parseNode(b)
	if err != nil {
		return nil, err
	}
	parent, items := root.get(parentPath(list)), root.get(list)
	if parent == nil || items == nil {
		return nil, fmt.Errorf("no list %s in the answer", list)
	}
	items.elems = items.elems[min(w.offset, len(items.elems)):]
	num := func(n int) *node { return &node{raw: []byte(fmt.Sprint(n))} }
	parent.set("page", num(w.page))
	parent.set("limit", num(w.limit))
	if total, err := strconv.Atoi(string(parent.get("total").scalar())); err == nil {
		parent.set("pages", num((total+w.limit-1)/w.limit))
		parent.set("offset", num(w.offset))
		if next := w.offset + len(items.elems); next < total {
			parent.set("next_offset", num(next))
		}
	} else {
		parent.set("offset", num(w.offset))
	}
	return s.fit(root, spec)
}

// run checks that the run named by the argument field exists.
func (s *server) run(ctx context.Context, field, id string) (lmsys.Run, error) {
	if strings.TrimSpace(id) == "" {
		return lmsys.Run{}, badArg(field, "required: the id of a clustering run (list_runs lists them)")
	}
	r, err := s.deps.Store.GetRun(ctx, id)
	if errors.Is(err, lmsys.ErrNotFound) {
		return lmsys.Run{}, badArg(field, "no clustering run %q (list_runs lists the runs)", id)
	}
	return r, err
}

// summary checks that a summary run id or alias names one of the run's summary runs.
func (s *server) summary(ctx context.Context, runID, ref string) error {
	if ref == "" {
		return nil
	}
	if _, err := s.deps.Store.ResolveSummaryRun(ctx, runID, ref); err != nil {
		if errors.Is(err, lmsys.ErrNotFound) {
			return badArg("summary", "run %s has no summary run with id or alias %q (leave it out for the latest)", runID, ref)
		}
		return err
	}
	return nil
}

// label checks a "facet=value" label filter.
func (s *server) label(ctx context.Context, spec string) error {
	if spec == "" {
		return nil
	}
	facet, _, err := lmsys.ParseLabel(spec)
	if err != nil {
		return badArg("label", "%v (write it facet=value, e.g. refusal=refused)", err)
	}
	if _, err := s.deps.Store.LatestResultKey(ctx, facet); errors.Is(err, lmsys.ErrNotFound) {
		return badArg("label", "no classifier has labelled facet %q yet (classify labels conversations)", facet)
	} else if err != nil {
		return err
	}
	return nil
}

// text checks a search text.
func (s *server) text(field, text string, required bool) error {
	if required && strings.TrimSpace(text) == "" {
		return badArg(field, "empty: give the words to search for")
	}
	if n := utf8.RuneCountInString(text); n > s.opts.MaxQueryChars {
		return badArg(field, "%d characters long: searches take at most %d", n, s.opts.MaxQueryChars)
	}
	return nil
}

func (s *server) fit(v any, spec fitSpec) (json.RawMessage, error) {
	return fit(v, s.opts.MaxResultBytes, spec)
}

// ListRunsInput is the input of list_runs.
type ListRunsInput struct {
	Algorithm string `json:"algorithm,omitempty" jsonschema:"only runs of this algorithm (kmeans, hdbscan)"`
	Paging
}

// ListClustersInput is the input of list_clusters.
type ListClustersInput struct {
	RunID    string `json:"run_id" jsonschema:"the clustering run (list_runs lists them)"`
	Summary  string `json:"summary,omitempty" jsonschema:"summary run id or alias the titles come from (default: the latest)"`
	Examples int    `json:"examples,omitempty" jsonschema:"example queries per cluster, 0 to 10 (default 0)"`
	Paging
}

// InspectClusterInput is the input of inspect_cluster.
type InspectClusterInput struct {
	RunID     string `json:"run_id" jsonschema:"the clustering run"`
	ClusterID int    `json:"cluster_id" jsonschema:"the cluster (list_clusters lists them)"`
	Summary   string `json:"summary,omitempty" jsonschema:"summary run id or alias (default: the latest)"`
	Cursor    int64  `json:"cursor,omitempty" jsonschema:"show the queries after this query id (the next_cursor of the previous page) instead of a page number"`
	Page      int    `json:"page,omitempty"`
	Limit     int    `json:"limit,omitempty"`
}

// SearchQueriesInput is the input of search_queries.
type SearchQueriesInput struct {
	Text           string   `json:"text" jsonschema:"what to search for"`
	RunID          string   `json:"run_id,omitempty" jsonschema:"the clustering run whose embedding space and clusters are searched (needed by the semantic and hybrid modes)"`
	Mode           string   `json:"mode,omitempty" jsonschema:"semantic (by meaning; the default with run_id), fulltext (by words; the default without) or hybrid"`
	ClusterIDs     []int    `json:"cluster_ids,omitempty" jsonschema:"only queries of these clusters of the run"`
	WithinClusters string   `json:"within_clusters,omitempty" jsonschema:"first find the clusters whose summaries are nearest this text, then search inside them"`
	TopClusters    int      `json:"top_clusters,omitempty" jsonschema:"clusters within_clusters keeps, 1 to 50 (default 10)"`
	Facets         []string `json:"facets,omitempty" jsonschema:"counts over the results: cluster, language, model"`
	Label          string   `json:"label,omitempty" jsonschema:"only queries a classifier gave this label, facet=value (refusal=refused); for a list facet such as languages, queries whose list holds the item (languages=fr)"`
	Summary        string   `json:"summary,omitempty" jsonschema:"summary run id or alias cluster titles come from (default: the latest)"`
	Paging
}

// SearchClustersInput is the input of search_clusters.
type SearchClustersInput struct {
	Text       string `json:"text" jsonschema:"what to search for in the clusters' summaries"`
	RunID      string `json:"run_id,omitempty" jsonschema:"the clustering run (needed by the semantic mode; fulltext searches every run without it)"`
	Mode       string `json:"mode,omitempty" jsonschema:"semantic (by meaning; the default with run_id) or fulltext (title or description containing the text)"`
	ClusterIDs []int  `json:"cluster_ids,omitempty" jsonschema:"only these clusters"`
	Summary    string `json:"summary,omitempty" jsonschema:"summary run id or alias (default: the latest)"`
	Limit      int    `json:"limit,omitempty"`
}

// ListHierarchiesInput is the input of list_hierarchies.
type ListHierarchiesInput struct {
	RunID string `json:"run_id,omitempty" jsonschema:"only the hierarchies of this clustering run"`
	Paging
}

// ShowHierarchyInput is the input of show_hierarchy.
type ShowHierarchyInput struct {
	HierarchyID     string `json:"hierarchy_id,omitempty" jsonschema:"the hierarchy run (list_hierarchies lists them)"`
	RunID           string `json:"run_id,omitempty" jsonschema:"instead of hierarchy_id: the newest hierarchy of this clustering run"`
	Level           *int   `json:"level,omitempty" jsonschema:"only nodes of this level (0: the run's clusters, the leaves)"`
	ParentClusterID *int   `json:"parent_cluster_id,omitempty" jsonschema:"only the children of this node"`
	Paging
}

// FacetsInput is the input of facets.
type FacetsInput struct {
	RunID     string   `json:"run_id" jsonschema:"the clustering run"`
	By        []string `json:"by,omitempty" jsonschema:"facets: language, model, dataset, a classified facet (refusal, code, task …) or a key of the queries' metadata (default language and model)"`
	ClusterID *int     `json:"cluster_id,omitempty" jsonschema:"only this cluster's distribution"`
	Top       int      `json:"top,omitempty" jsonschema:"values listed per cluster and overall, 1 to 50 (default 10)"`
	MinCount  int      `json:"min_count,omitempty" jsonschema:"smallest count an over-represented value is reported for (default 5)"`
	Sort      string   `json:"sort,omitempty" jsonschema:"order of the over-represented list: z (default), lift or count"`
	Summary   string   `json:"summary,omitempty" jsonschema:"summary run id or alias titles come from (default: the latest)"`
}

// TrendsInput is the input of trends.
type TrendsInput struct {
	RunID   string `json:"run_id" jsonschema:"the clustering run"`
	Period  string `json:"period,omitempty" jsonschema:"hour, day, week (default) or month"`
	Field   string `json:"field,omitempty" jsonschema:"the time: timestamp (default) or a metadata key holding a time"`
	Label   string `json:"label,omitempty" jsonschema:"only queries a classifier gave this label, facet=value; for a list facet such as languages, queries whose list holds the item"`
	Summary string `json:"summary,omitempty" jsonschema:"summary run id or alias titles come from (default: the latest)"`
	Paging
}

// ComparePeriodsInput is the input of compare_periods.
type ComparePeriodsInput struct {
	RunID   string `json:"run_id" jsonschema:"the clustering run"`
	A       string `json:"a" jsonschema:"the first sample: a period (2026-09, 2026-W36, 2026-09-01, 2026-09-01T13) or, with by dataset, a dataset name"`
	B       string `json:"b" jsonschema:"the second sample, like a"`
	By      string `json:"by,omitempty" jsonschema:"period (default) or dataset"`
	Field   string `json:"field,omitempty" jsonschema:"the time of a period comparison: timestamp (default) or a metadata key"`
	Label   string `json:"label,omitempty" jsonschema:"only queries a classifier gave this label, facet=value; for a list facet such as languages, queries whose list holds the item"`
	Top     int    `json:"top,omitempty" jsonschema:"clusters per list, 1 to 50 (default 10)"`
	Summary string `json:"summary,omitempty" jsonschema:"summary run id or alias titles come from (default: the latest)"`
}

// CompareRunsInput is the input of compare_runs.
type CompareRunsInput struct {
	RunA string `json:"run_a" jsonschema:"the first clustering run"`
	RunB string `json:"run_b" jsonschema:"the second clustering run"`
}

// ListEditsInput is the input of list_edits.
type ListEditsInput struct {
	RunID  string `json:"run_id" jsonschema:"the clustering run"`
	Editor string `json:"editor,omitempty" jsonschema:"only edits by this editor"`
	Type   string `json:"type,omitempty" jsonschema:"only edits of this type"`
	Since  string `json:"since,omitempty" jsonschema:"only edits since this time (RFC 3339 or YYYY-MM-DD)"`
	Paging
}

// ExportInput is the input of export.
type ExportInput struct {
	RunID         string `json:"run_id,omitempty" jsonschema:"only this run's assigned queries, with their cluster ids, confidences and titles"`
	Summary       string `json:"summary,omitempty" jsonschema:"summary run id or alias the titles come from (default: the latest)"`
	Dataset       string `json:"dataset,omitempty" jsonschema:"only queries of this dataset"`
	Model         string `json:"model,omitempty" jsonschema:"only queries answered by this model"`
	Language      string `json:"language,omitempty" jsonschema:"only queries in this language"`
	Contains      string `json:"contains,omitempty" jsonschema:"only queries containing this text (any case)"`
	Label         string `json:"label,omitempty" jsonschema:"only queries a classifier gave this label, facet=value; for a list facet such as languages, queries whose list holds the item"`
	Conversations bool   `json:"conversations,omitempty" jsonschema:"add each query's whole conversation"`
	Cursor        int64  `json:"cursor,omitempty" jsonschema:"rows after this query id (the next_cursor of the previous call)"`
	Limit         int    `json:"limit,omitempty"`
}

// ExportPage is the answer of export: rows in query id order, each an export row as
// `lmsys export --format json` writes it, and the cursor of the next rows (0: none).
type ExportPage struct {
	Items      []json.RawMessage `json:"items"`
	Count      int               `json:"count"`
	NextCursor int64             `json:"next_cursor,omitempty"`
}

// Paged says where a page of a list the server pages itself sits: Total items in
// Pages pages of Limit; with an offset, the page shown starts at item Offset and the
// next at NextOffset.
type Paged struct {
	List       string `json:"list"`
	Total      int    `json:"total"`
	Page       int    `json:"page"`
	Pages      int    `json:"pages"`
	Limit      int    `json:"limit"`
	Offset     int    `json:"offset,omitempty"`
	NextOffset int    `json:"next_offset,omitempty"`
}

// slicePage returns the window's items of all, and where they sit.
func slicePage[T any](all []T, list string, w window) ([]T, Paged) {
	start := min(w.start(), len(all))
	end := min(start+w.limit, len(all))
	p := Paged{List: list, Total: len(all), Page: w.page, Pages: (len(all) + w.limit - 1) / w.limit, Limit: w.limit}
	if w.byOffset {
		p.Offset = w.offset
		if end < len(all) {
			p.NextOffset = end
		}
	}
	return all[start:end:end], p
}

func (s *server) addReadTools(srv *mcp.Server) {
	addTool(s, srv, &mcp.Tool{Name: ToolListRuns, Annotations: readOnly, Description: "List the clustering runs, newest first: id, algorithm, " +
		"number of clusters and queries, embedding space, status. The same JSON as GET /api/clustering/runs."}, nil, s.listRuns)
	addTool(s, srv, &mcp.Tool{Name: ToolListClusters, Annotations: readOnly, Description: "List a run's clusters, largest first, with " +
		"sizes, shares, titles, descriptions and keywords from its summaries. The same JSON as GET /api/clustering/runs/{run_id}/clusters."}, nil, s.listClusters)
	addTool(s, srv, &mcp.Tool{Name: ToolInspectCluster, Annotations: readOnly, Description: "Show one cluster: its summary, annotations " +
		"and a page of its queries (page, or cursor for the queries after a query id). The same JSON as GET /api/clustering/runs/{run_id}/clusters/{cluster_id}."},
		nil, s.inspectCluster)
	addTool(s, srv, &mcp.Tool{Name: ToolSearchQueries, Annotations: readOnly, Description: "Search the queries by meaning (semantic, " +
		"in a run's embedding space), by words (fulltext) or both (hybrid), optionally inside clusters, with facet counts. " +
		"The same JSON as GET /api/search/queries."}, func(sc *jsonschema.Schema) {
		enum(sc, "mode", search.ModeSemantic, search.ModeFullText, search.ModeHybrid)
		enum(sc, "facets", "cluster", "language", "model")
	}, s.searchQueries)
	addTool(s, srv, &mcp.Tool{Name: ToolSearchClusters, Annotations: readOnly, Description: "Search the clusters' summaries by meaning " +
		"(semantic) or by their titles and descriptions (fulltext). The same JSON as GET /api/search/clusters."}, func(sc *jsonschema.Schema) {
		enum(sc, "mode", search.ModeSemantic, search.ModeFullText)
	}, s.searchClusters)
	addTool(s, srv, &mcp.Tool{Name: ToolListHierarchies, Annotations: readOnly, Description: "List the hierarchy runs (Clio-style " +
		"taxonomies merged from a run's clusters), newest first. The same JSON as GET /api/hierarchy."}, nil, s.listHierarchies)
	addTool(s, srv, &mcp.Tool{Name: ToolShowHierarchy, Annotations: readOnly, Description: "Show a hierarchy: its levels and a page of " +
		"its nodes, top level first and largest first within a level, each with its parent, children, title and query count. " +
		"Narrow with level or parent_cluster_id to walk down the tree. The JSON of GET /api/hierarchy/{hierarchy_run_id} " +
		"without the nested tree (nodes carry parent_cluster_id and children_ids), plus paging."}, nil, s.showHierarchy)
	addTool(s, srv, &mcp.Tool{Name: ToolFacets, Annotations: readOnly, Description: "How a run's clusters split by a facet (language, " +
		"model, dataset, a classified facet such as refusal, or a metadata key): counts and shares overall and per cluster, and the " +
		"most over-represented clusters (lift with a z statistic). The same JSON as GET /api/analysis/runs/{run_id}/facets."},
		func(sc *jsonschema.Schema) { enum(sc, "sort", "z", "lift", "count") }, s.facets)
	addTool(s, srv, &mcp.Tool{Name: ToolTrends, Annotations: readOnly, Description: "Each cluster's share of a run's queries per period " +
		"(hour, day, week, month), largest clusters first, paged by cluster. The JSON of GET /api/analysis/runs/{run_id}/trends plus paging."},
		func(sc *jsonschema.Schema) {
			enum(sc, "period", analysis.Hour, analysis.Day, analysis.Week, analysis.Month)
		}, s.trends)
	addTool(s, srv, &mcp.Tool{Name: ToolComparePeriods, Annotations: readOnly, Description: "Compare two periods (or two datasets) of one " +
		"run: the clusters that grew, shrank, appeared and vanished, with two-proportion z tests. The same JSON as GET /api/analysis/runs/{run_id}/compare."},
		func(sc *jsonschema.Schema) { enum(sc, "by", "period", "dataset") }, s.comparePeriods)
	addTool(s, srv, &mcp.Tool{Name: ToolCompareRuns, Annotations: readOnly, Description: "How alike two clustering runs partition the " +
		"queries both assigned: ARI, NMI, V-measure, homogeneity, completeness (as `lmsys compare-runs --json`)."}, nil, s.compareRuns)
	addTool(s, srv, &mcp.Tool{Name: ToolListEdits, Annotations: readOnly, Description: "List a run's audited curation edits, newest " +
		"first: type, editor, reason, old and new values, and the edit id undo_edit takes. The same JSON as GET /api/curation/runs/{run_id}/audit."},
		func(sc *jsonschema.Schema) { enum(sc, "type", curation.EditTypes...) }, s.listEdits)
	addTool(s, srv, &mcp.Tool{Name: ToolExport, Annotations: readOnly, Description: "Export queries as rows (those of `lmsys export " +
		"--format json`): id, dataset, conversation, model, language, time, text, metadata, every classifier label, and with run_id " +
		"the cluster id, confidence and title. Paged by cursor in query id order."}, nil, s.export)
}

func (s *server) listRuns(ctx context.Context, _ *mcp.CallToolRequest, in ListRunsInput) (json.RawMessage, error) {
	w, err := s.page(in.Paging)
	if err != nil {
		return nil, err
	}
	page, limit := w.fetch()
	out, err := s.api.Runs(ctx, in.Algorithm, page, limit)
	if err != nil {
		return nil, err
	}
	return s.fitPage(out, "items", w, fitSpec{})
}

func (s *server) listClusters(ctx context.Context, _ *mcp.CallToolRequest, in ListClustersInput) (json.RawMessage, error) {
	w, err := s.page(in.Paging)
	if err != nil {
		return nil, err
	}
	if in.Examples < 0 || in.Examples > 10 {
		return nil, badArg("examples", "%d is out of range: give 0 to 10", in.Examples)
	}
	run, err := s.run(ctx, "run_id", in.RunID)
	if err != nil {
		return nil, err
	}
	if err := s.summary(ctx, run.ID, in.Summary); err != nil {
		return nil, err
	}
	page, limit := w.fetch()
	out, err := s.api.Clusters(ctx, run.ID, web.ClusterList{SummaryRef: in.Summary, Examples: in.Examples, Page: page, Limit: limit})
	if err != nil {
		return nil, err
	}
	return s.fitPage(out, "items", w, fitSpec{})
}

func (s *server) inspectCluster(ctx context.Context, _ *mcp.CallToolRequest, in InspectClusterInput) (json.RawMessage, error) {
	if in.Cursor != 0 && in.Page != 0 {
		return nil, badArg("cursor", "give page or cursor, not both")
	}
	if in.Cursor < 0 {
		return nil, badArg("cursor", "%d is not a query id", in.Cursor)
	}
	w, err := s.page(Paging{Page: in.Page, Limit: in.Limit})
	if err != nil {
		return nil, err
	}
	page, limit := w.page, w.limit
	run, err := s.run(ctx, "run_id", in.RunID)
	if err != nil {
		return nil, err
	}
	if err := s.summary(ctx, run.ID, in.Summary); err != nil {
		return nil, err
	}
	out, err := s.api.Cluster(ctx, run.ID, in.ClusterID, in.Summary, page, limit, in.Cursor)
	if errors.Is(err, lmsys.ErrNotFound) {
		return nil, badArg("cluster_id", "run %s has no cluster %d (list_clusters lists its clusters)", run.ID, in.ClusterID)
	}
	if err != nil {
		return nil, err
	}
	next := cursorNext("queries.items", limit)
	return s.fit(out, fitSpec{list: "queries.items", next: func(root *node, k int) *Next {
		n := next(root, k)
		if n != nil {
			// The page's own cursors point past the items cut.
			c := &node{raw: []byte(fmt.Sprint(n.Cursor))}
			root.get("queries").set("next_cursor", c)
			root.get("pagination").set("next_cursor", c)
		}
		return n
	}})
}

func (s *server) searchQueries(ctx context.Context, _ *mcp.CallToolRequest, in SearchQueriesInput) (json.RawMessage, error) {
	if err := s.text("text", in.Text, true); err != nil {
		return nil, err
	}
	if err := s.text("within_clusters", in.WithinClusters, false); err != nil {
		return nil, err
	}
	w, err := s.page(in.Paging)
	if err != nil {
		return nil, err
	}
	if w.start() >= 1000 {
		return nil, badArg("page", "item %d (page %d of %d results) is past the 1000 best matches a search ranks", w.start(), w.page, w.limit)
	}
	page, limit := w.fetch()
	if in.TopClusters < 0 || in.TopClusters > 50 {
		return nil, badArg("top_clusters", "%d is out of range: give 1 to 50 (default 10)", in.TopClusters)
	}
	mode := in.Mode
	if in.RunID != "" {
		if _, err := s.run(ctx, "run_id", in.RunID); err != nil {
			return nil, err
		}
		if err := s.summary(ctx, in.RunID, in.Summary); err != nil {
			return nil, err
		}
		if mode == "" {
			mode = search.ModeSemantic
		}
	} else {
		if mode == "" {
			mode = search.ModeFullText
		}
		if mode != search.ModeFullText {
			return nil, badArg("run_id", "required for a %s search (the run names the embedding space); mode fulltext works without one", mode)
		}
		if in.WithinClusters != "" || len(in.ClusterIDs) > 0 || in.Summary != "" {
			return nil, badArg("run_id", "required with within_clusters, cluster_ids and summary")
		}
	}
	if err := s.label(ctx, in.Label); err != nil {
		return nil, err
	}
	if s.deps.Search == nil {
		return nil, errors.New("search is not configured on this server (no vector index)")
	}
	out, err := s.api.SearchQueries(ctx, web.QuerySearch{Text: in.Text, RunID: in.RunID, Mode: mode, WithinClusters: in.WithinClusters,
		TopClusters: in.TopClusters, ClusterIDs: in.ClusterIDs, Facets: in.Facets, Label: in.Label, SummaryRef: in.Summary, Page: page, Limit: limit})
	if err != nil {
		return nil, err
	}
	return s.fitPage(out, "items", w, fitSpec{hint: "ask for fewer facets"})
}

func (s *server) searchClusters(ctx context.Context, _ *mcp.CallToolRequest, in SearchClustersInput) (json.RawMessage, error) {
	if err := s.text("text", in.Text, true); err != nil {
		return nil, err
	}
	w, err := s.page(Paging{Limit: in.Limit})
	if err != nil {
		return nil, err
	}
	limit := w.limit
	mode := in.Mode
	if in.RunID != "" {
		if _, err := s.run(ctx, "run_id", in.RunID); err != nil {
			return nil, err
		}
		if err := s.summary(ctx, in.RunID, in.Summary); err != nil {
			return nil, err
		}
		if mode == "" {
			mode = search.ModeSemantic
		}
	} else {
		if mode == "" {
			mode = search.ModeFullText
		}
		if mode == search.ModeSemantic {
			return nil, badArg("run_id", "required for a semantic search (the run names the embedding space); mode fulltext searches every run")
		}
	}
	if mode == search.ModeSemantic && s.deps.Search == nil {
		return nil, errors.New("semantic search is not configured on this server (no vector index); use mode fulltext")
	}
	out, err := s.api.SearchClusters(ctx, web.ClusterSearch{Text: in.Text, RunID: in.RunID, Mode: mode, Limit: limit, ClusterIDs: in.ClusterIDs,
		SummaryRef: in.Summary})
	if err != nil {
		return nil, err
	}
	return s.fit(out, fitSpec{list: "items", hint: "ask for a smaller limit"})
}

func (s *server) listHierarchies(ctx context.Context, _ *mcp.CallToolRequest, in ListHierarchiesInput) (json.RawMessage, error) {
	w, err := s.page(in.Paging)
	if err != nil {
		return nil, err
	}
	if in.RunID != "" {
		if _, err := s.run(ctx, "run_id", in.RunID); err != nil {
			return nil, err
		}
	}
	hs, err := s.api.Hierarchies(ctx, in.RunID)
	if err != nil {
		return nil, err
	}
	page, limit := w.fetch()
	items, p := slicePage(hs, "items", window{page: page, limit: limit})
	out := web.ListPage[web.HierarchyRunItem]{Items: items, Total: int64(p.Total), Page: page, Pages: p.Pages, Limit: limit}
	if out.Items == nil {
		out.Items = []web.HierarchyRunItem{}
	}
	return s.fitPage(out, "items", w, fitSpec{})
}

// hierarchyID resolves show_hierarchy's hierarchy: hierarchy_id, or run_id's newest.
func (s *server) hierarchyID(ctx context.Context, hierarchyID, runID string) (string, error) {
	switch {
	case hierarchyID != "" && runID != "":
		return "", badArg("hierarchy_id", "give hierarchy_id or run_id, not both")
	case hierarchyID != "":
		return hierarchyID, nil
	case runID == "":
		return "", badArg("hierarchy_id", "required: give hierarchy_id (list_hierarchies lists them) or run_id for the run's newest")
	}
	if _, err := s.run(ctx, "run_id", runID); err != nil {
		return "", err
	}
	hs, err := s.api.Hierarchies(ctx, runID)
	if err != nil {
		return "", err
	}
	if len(hs) == 0 {
		return "", badArg("run_id", "run %s has no hierarchy yet (`lmsys merge-clusters %s` builds one)", runID, runID)
	}
	return hs[0].HierarchyRunID, nil
}

func (s *server) showHierarchy(ctx context.Context, _ *mcp.CallToolRequest, in ShowHierarchyInput) (json.RawMessage, error) {
	w, err := s.page(in.Paging)
	if err != nil {
		return nil, err
	}
	id, err := s.hierarchyID(ctx, in.HierarchyID, in.RunID)
	if err != nil {
		return nil, err
	}
	d, err := s.api.Hierarchy(ctx, id)
	if errors.Is(err, lmsys.ErrNotFound) {
		return nil, badArg("hierarchy_id", "no hierarchy %q (list_hierarchies lists them)", id)
	}
	if err != nil {
		return nil, err
	}
	nodes := make([]web.HierarchyNodeItem, 0, len(d.Nodes))
	for _, n := range d.Nodes {
		if in.Level != nil && n.Level != *in.Level {
			continue
		}
		if in.ParentClusterID != nil && (n.ParentClusterID == nil || *n.ParentClusterID != *in.ParentClusterID) {
			continue
		}
		nodes = append(nodes, n)
	}
	if in.Level != nil && (*in.Level < 0 || *in.Level >= d.Totals.Levels) {
		return nil, badArg("level", "hierarchy %s has levels 0 to %d", id, d.Totals.Levels-1)
	}
	if in.ParentClusterID != nil && len(nodes) == 0 {
		found := false
		for _, n := range d.Nodes {
			found = found || n.ClusterID == *in.ParentClusterID
		}
		if !found {
			return nil, badArg("parent_cluster_id", "hierarchy %s has no node %d", id, *in.ParentClusterID)
		}
	}
	sort.SliceStable(nodes, func(i, j int) bool {
		if nodes[i].Level != nodes[j].Level {
			return nodes[i].Level > nodes[j].Level
		}
		if nodes[i].QueryCount != nodes[j].QueryCount {
			return nodes[i].QueryCount > nodes[j].QueryCount
		}
		return nodes[i].ClusterID < nodes[j].ClusterID
	})
	var p Paged
	d.Nodes, p = slicePage(nodes, "nodes", w)
	d.Tree = nil
	return s.fit(d, fitSpec{list: "nodes", next: offsetNext("paging", w.start(), w.limit), extra: []field{{"paging", p}}})
}

func (s *server) facets(ctx context.Context, _ *mcp.CallToolRequest, in FacetsInput) (json.RawMessage, error) {
	if in.Top < 0 || in.Top > 50 {
		return nil, badArg("top", "%d is out of range: give 1 to 50 (default 10)", in.Top)
	}
	if in.MinCount < 0 {
		return nil, badArg("min_count", "%d must not be negative", in.MinCount)
	}
	run, err := s.run(ctx, "run_id", in.RunID)
	if err != nil {
		return nil, err
	}
	if err := s.summary(ctx, run.ID, in.Summary); err != nil {
		return nil, err
	}
	if in.ClusterID != nil {
		if err := s.cluster(ctx, run.ID, "cluster_id", *in.ClusterID); err != nil {
			return nil, err
		}
	}
	out, err := s.api.Facets(ctx, run.ID, analysis.FacetOptions{Fields: in.By, ClusterID: in.ClusterID, Top: in.Top, MinCount: int64(in.MinCount),
		SummaryRef: in.Summary, Sort: in.Sort})
	if errors.Is(err, lmsys.ErrInvalidInput) {
		return nil, badArg("by", "%v", err)
	}
	if err != nil {
		return nil, err
	}
	return s.fit(out, fitSpec{hint: "give cluster_id, fewer facets in by, or a smaller top"})
}

// cluster checks that the run has the cluster named by the argument field.
func (s *server) cluster(ctx context.Context, runID, field string, id int) error {
	sizes, err := s.deps.Store.ClusterSizes(ctx, runID)
	if err != nil {
		return err
	}
	if _, ok := sizes[id]; !ok {
		return badArg(field, "run %s has no cluster %d (list_clusters lists its clusters)", runID, id)
	}
	return nil
}

func (s *server) trends(ctx context.Context, _ *mcp.CallToolRequest, in TrendsInput) (json.RawMessage, error) {
	w, err := s.page(in.Paging)
	if err != nil {
		return nil, err
	}
	run, err := s.run(ctx, "run_id", in.RunID)
	if err != nil {
		return nil, err
	}
	if err := s.summary(ctx, run.ID, in.Summary); err != nil {
		return nil, err
	}
	if err := s.label(ctx, in.Label); err != nil {
		return nil, err
	}
	rep, err := s.api.Trends(ctx, run.ID, analysis.TrendOptions{Period: in.Period, Field: in.Field, Label: in.Label, SummaryRef: in.Summary})
	if err != nil {
		return nil, err
	}
	var p Paged
	rep.Clusters, p = slicePage(rep.Clusters, "clusters", w)
	return s.fit(rep, fitSpec{list: "clusters", next: offsetNext("paging", w.start(), w.limit), hint: "ask for a longer period (week or month)",
		extra: []field{{"paging", p}}})
}

func (s *server) comparePeriods(ctx context.Context, _ *mcp.CallToolRequest, in ComparePeriodsInput) (json.RawMessage, error) {
	if in.Top < 0 || in.Top > 50 {
		return nil, badArg("top", "%d is out of range: give 1 to 50 (default 10)", in.Top)
	}
	run, err := s.run(ctx, "run_id", in.RunID)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(in.A) == "" || strings.TrimSpace(in.B) == "" {
		return nil, badArg("a", "a and b are required: two periods, or two datasets with by dataset")
	}
	if in.By == "" || in.By == "period" {
		for _, f := range []struct{ name, v string }{{"a", in.A}, {"b", in.B}} {
			if _, err := analysis.PeriodOf(f.v); err != nil {
				return nil, badArg(f.name, "%q is not a period: write 2026-09 (month), 2026-W36 (week), 2026-09-01 (day) or 2026-09-01T13 (hour), or give by dataset", f.v)
			}
		}
	}
	if err := s.summary(ctx, run.ID, in.Summary); err != nil {
		return nil, err
	}
	if err := s.label(ctx, in.Label); err != nil {
		return nil, err
	}
	out, err := s.api.Compare(ctx, run.ID, in.A, in.B, in.By == "dataset", analysis.TrendOptions{Field: in.Field, Label: in.Label, Top: in.Top, SummaryRef: in.Summary})
	if err != nil {
		return nil, err
	}
	return s.fit(out, fitSpec{hint: "ask for a smaller top"})
}

func (s *server) compareRuns(ctx context.Context, _ *mcp.CallToolRequest, in CompareRunsInput) (json.RawMessage, error) {
	if _, err := s.run(ctx, "run_a", in.RunA); err != nil {
		return nil, err
	}
	if _, err := s.run(ctx, "run_b", in.RunB); err != nil {
		return nil, err
	}
	out, err := analysis.CompareRuns(ctx, s.deps.Store, in.RunA, in.RunB)
	if err != nil {
		return nil, err
	}
	return s.fit(out, fitSpec{})
}

func (s *server) listEdits(ctx context.Context, _ *mcp.CallToolRequest, in ListEditsInput) (json.RawMessage, error) {
	w, err := s.page(in.Paging)
	if err != nil {
		return nil, err
	}
	run, err := s.run(ctx, "run_id", in.RunID)
	if err != nil {
		return nil, err
	}
	f := curation.AuditFilter{Editor: in.Editor, Type: in.Type}
	if in.Since != "" {
		t, err := time.Parse(time.RFC3339, in.Since)
		if err != nil {
			if t, err = time.Parse("2006-01-02", in.Since); err != nil {
				return nil, badArg("since", "%q is not RFC 3339 (2026-09-01T12:00:00Z) or YYYY-MM-DD", in.Since)
			}
		}
		f.Since = t
	}
	page, limit := w.fetch()
	out, err := s.api.Audit(ctx, run.ID, f, page, limit)
	if err != nil {
		return nil, err
	}
	return s.fitPage(out, "items", w, fitSpec{})
}

func (s *server) export(ctx context.Context, _ *mcp.CallToolRequest, in ExportInput) (json.RawMessage, error) {
	w, err := s.page(Paging{Limit: in.Limit})
	if err != nil {
		return nil, err
	}
	limit := w.limit
	if in.Cursor < 0 {
		return nil, badArg("cursor", "%d is not a query id", in.Cursor)
	}
	if in.RunID != "" {
		if _, err := s.run(ctx, "run_id", in.RunID); err != nil {
			return nil, err
		}
		if err := s.summary(ctx, in.RunID, in.Summary); err != nil {
			return nil, err
		}
	} else if in.Summary != "" {
		return nil, badArg("summary", "needs run_id")
	}
	if err := s.label(ctx, in.Label); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	opts := dataset.ExportOptions{Format: dataset.FormatJSONL, RunID: in.RunID, SummaryRef: in.Summary, Conversations: in.Conversations, Limit: limit,
		BatchSize: limit, Filter: lmsys.QueryFilter{Dataset: in.Dataset, Model: in.Model, Language: in.Language, Contains: in.Contains, Label: in.Label, AfterID: in.Cursor}}
	if _, err := dataset.Export(ctx, s.deps.Store, &buf, opts); err != nil {
		return nil, err
	}
	out := ExportPage{Items: []json.RawMessage{}}
	for _, line := range bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n")) {
		if len(line) > 0 {
			out.Items = append(out.Items, json.RawMessage(line))
		}
	}
	out.Count = len(out.Items)
	if out.Count == limit {
		var last struct {
			ID int64 `json:"id"`
		}
		if err := json.Unmarshal(out.Items[out.Count-1], &last); err != nil {
			return nil, err
		}
		out.NextCursor = last.ID
	}
	return s.fit(out, fitSpec{list: "items", next: func(root *node, k int) *Next {
		n := cursorNext("items", limit)(root, k)
		if n != nil {
			root.set("next_cursor", &node{raw: []byte(fmt.Sprint(n.Cursor))})
			root.set("count", &node{raw: []byte(fmt.Sprint(k))})
		}
		return n
	}})
}
