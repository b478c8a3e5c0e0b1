package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/analysis"
	"github.com/lmsys-go/lmsys/curation"
	"github.com/lmsys-go/lmsys/hierarchy"
	"github.com/lmsys-go/lmsys/internal/snippet"
	"github.com/lmsys-go/lmsys/search"
	"github.com/lmsys-go/lmsys/store"
)

// The read endpoints. Their parameters, defaults and answers follow the Python tool's
// routers (api/routers/*.py): lists are pages of limit items (1 to 100), a malformed
// or out-of-range parameter is a 422, an unknown id in the path a 404, and a list
// filtered by a run that does not exist an empty page.

func (s *server) apiHealth(r *http.Request) (any, error) {
	backend := "sqlite"
	if s.deps.Store.Postgres() {
		backend = "postgres"
	}
	return map[string]any{"status": "ok", "service": "lmsys-query-analysis", "store": backend, "search": s.deps.Search != nil}, nil
}

// ---- clustering runs ----

func (s *server) apiRuns(r *http.Request) (any, error) {
	p := newParams(r)
	algorithm := p.str("algorithm")
	page, limit := p.page(50)
	if p.err != nil {
		return nil, p.err
	}
	runs, err := s.deps.Store.ListRuns(r.Context())
	if err != nil {
		return nil, err
	}
	items := []RunItem{}
	for _, run := range runs {
		if algorithm == "" || run.Algorithm == algorithm {
			items = append(items, runItem(run))
		}
	}
	return paginate(items, page, limit), nil
}

func (s *server) runDetail(ctx context.Context, id string) (RunDetail, error) {
	run, err := s.deps.Store.GetRun(ctx, id)
	if err != nil {
		return RunDetail{}, err
	}
	assigned, err := s.runTotal(ctx, run)
	if err != nil {
		return RunDetail{}, err
	}
	d := RunDetail{RunItem: runItem(run), Metrics: map[string]any{"num_queries": run.NumQueries, "num_clusters": run.NumClusters, "assigned_queries": assigned}}
	if run.Error != "" {
		d.LatestErrors = []string{run.Error}
	}
	return d, nil
}

func (s *server) apiRun(r *http.Request) (any, error) {
	return s.runDetail(r.Context(), r.PathValue("run_id"))
}

func (s *server) apiRunStatus(r *http.Request) (any, error) {
	ctx := r.Context()
	run, err := s.deps.Store.GetRun(ctx, r.PathValue("run_id"))
	if err != nil {
		return nil, err
	}
	n, err := s.deps.Store.CountQueries(ctx, lmsys.QueryFilter{RunID: run.ID})
	if err != nil {
		return nil, err
	}
	return RunStatus{RunID: run.ID, Status: run.Status, Processed: n, NumClusters: run.NumClusters, NumQueries: run.NumQueries,
		Error: run.Error, CreatedAt: run.CreatedAt, FinishedAt: run.FinishedAt}, nil
}

// ClusterPage is a page of a run's clusters, largest first (the Python tool's
// ClusterListResponse): TotalQueries is the run's assigned queries (null when neither
// counts nor percentages are asked for). SummaryRunID is the summary run the titles
// come from ("" when none) and NumClusters the run's clusters over all pages.
type ClusterPage struct {
	ListPage[ClusterItem]
	TotalQueries *int   `json:"total_queries"`
	RunID        string `json:"run_id"`
	SummaryRunID string `json:"summary_run_id"`
	NumClusters  int    `json:"num_clusters"`
}

// clusterOptions select and page a run's clusters.
type clusterOptions struct {
	ref                 string // summary run id or alias ("" latest)
	limit               int    // keep the largest limit clusters (0: all)
	examples            int    // example queries per cluster
	counts, percentages bool
	page, pageLimit     int // pageLimit 0: one page of every cluster
	unknownRunEmpty     bool
}

// clusterPage lists a run's clusters with their summaries. An unknown run or summary
// run is an empty page when o.unknownRunEmpty (the API, as the Python tool) and
// lmsys.ErrNotFound otherwise (the viewer).
func (s *server) clusterPage(ctx context.Context, runID string, o clusterOptions) (ClusterPage, error) {
	empty := func() ClusterPage {
		out := ClusterPage{ListPage: newPage([]ClusterItem(nil), 0, o.page, o.pageLimit), RunID: runID}
		if o.counts || o.percentages {
			zero := 0
			out.TotalQueries = &zero
		}
		return out
	}
	run, err := s.deps.Store.GetRun(ctx, runID)
	if err != nil {
		if errors.Is(err, lmsys.ErrNotFound) && o.unknownRunEmpty {
			return empty(), nil
		}
		return ClusterPage{}, err
	}
	srID, sums, err := s.summaries(ctx, run.ID, o.ref)
	if err != nil {
		if errors.Is(err, lmsys.ErrNotFound) && o.unknownRunEmpty {
			return empty(), nil
		}
		return ClusterPage{}, err
	}
	cl, err := analysis.Clusters(ctx, s.deps.Store, run.ID, srID, sums, o.limit, o.examples)
	if err != nil {
		return ClusterPage{}, err
	}
	items := make([]ClusterItem, len(cl.Clusters))
	for i, c := range cl.Clusters {
		sm, ok := sums[c.ClusterID]
		items[i] = clusterItem(run.ID, c.ClusterID, c.NumQueries, cl.TotalQueries, sm, ok)
		items[i].Examples = c.Examples
		if !o.percentages {
			items[i].Percentage = nil
		}
	}
	limit := o.pageLimit
	if limit == 0 {
		limit = max(len(items), 1)
	}
	out := ClusterPage{ListPage: paginate(items, o.page, limit), RunID: run.ID, SummaryRunID: srID, NumClusters: cl.NumClusters}
	if o.counts || o.percentages {
		t := cl.TotalQueries
		out.TotalQueries = &t
	}
	return out, nil
}

func (s *server) apiClusters(r *http.Request) (any, error) {
	p := newParams(r)
	o := clusterOptions{counts: p.boolean("include_counts", true), percentages: p.boolean("include_percentages", true),
		limit: p.intIn("limit", 0, 1, 1000), examples: p.intIn("examples", 0, 0, 50), page: p.intIn("page", 1, 1, -1),
		pageLimit: p.intIn("page_limit", 50, 1, 100), unknownRunEmpty: true}
	ref, err := summaryRef(r)
	if err != nil {
		return nil, err
	}
	if p.err != nil {
		return nil, p.err
	}
	o.ref = ref
	return s.clusterPage(r.Context(), r.PathValue("run_id"), o)
}

// ClusterDetail is one cluster with a page of its queries (the Python tool's
// ClusterDetailResponse), plus its run and id, its summary in full, its annotations
// and the page described as our earlier answers did.
type ClusterDetail struct {
	Cluster    ClusterItem    `json:"cluster"`
	Queries    QueryPage      `json:"queries"`
	RunID      string         `json:"run_id"`
	ClusterID  int            `json:"cluster_id"`
	NumQueries int64          `json:"num_queries"`
	Summary    *lmsys.Summary `json:"summary,omitempty"`
	Metadata   MetadataItem   `json:"metadata"`
	Pagination Page           `json:"pagination"`
}

// Page says where a page of queries sits, as our earlier answers did. With a cursor
// (the last query id of the previous page) Page is 0; NextCursor is the cursor of the
// next page (0: none).
type Page struct {
	Page       int   `json:"page"`
	PageSize   int   `json:"page_size"`
	TotalPages int   `json:"total_pages"`
	Total      int64 `json:"total"`
	NextCursor int64 `json:"next_cursor,omitempty"`
}

// pageParams reads page (1-based) or cursor, and limit (1 to 100, default def).
func pageParams(p *params, def int) (page, limit int, cursor int64) {
	page, limit = p.page(def)
	if p.has("cursor") {
		c := p.intIn("cursor", 0, 0, -1)
		if p.has("page") {
			p.fail(validation("give page or cursor, not both"))
		}
		return 0, limit, int64(c)
	}
	return page, limit, 0
}

// listPage lists one page of the queries f selects.
func (s *server) listPage(ctx context.Context, f lmsys.QueryFilter, page, limit int, cursor int64) (QueryPage, Page, error) {
	f.Limit = limit
	if cursor > 0 || page == 0 {
		f.AfterID = cursor
	} else {
		f.Offset = (page - 1) * limit
	}
	qs, total, err := s.deps.Store.ListQueriesPage(ctx, f)
	if err != nil {
		return QueryPage{}, Page{}, err
	}
	qp := QueryPage{ListPage: newPage(queryItems(qs), total, page, limit)}
	p := Page{Page: page, PageSize: limit, Total: total, TotalPages: qp.Pages}
	if len(qs) == limit && (page == 0 || int64(page*limit) < total) {
		p.NextCursor = qs[len(qs)-1].ID
		qp.NextCursor = p.NextCursor
	}
	return qp, p, nil
}

func (s *server) clusterDetail(ctx context.Context, runID string, clusterID int, ref string, page, limit int, cursor int64) (ClusterDetail, error) {
	run, err := s.deps.Store.GetRun(ctx, runID)
	if err != nil {
		return ClusterDetail{}, err
	}
	qp, p, err := s.listPage(ctx, lmsys.QueryFilter{RunID: run.ID, ClusterID: &clusterID}, page, limit, cursor)
	if err != nil {
		return ClusterDetail{}, err
	}
	_, sums, err := s.summaries(ctx, run.ID, ref)
	if err != nil {
		return ClusterDetail{}, err
	}
	total, err := s.runTotal(ctx, run)
	if err != nil {
		return ClusterDetail{}, err
	}
	sm, ok := sums[clusterID]
	if p.Total == 0 && !ok {
		return ClusterDetail{}, fmt.Errorf("cluster %d not found in run %s: %w", clusterID, run.ID, lmsys.ErrNotFound)
	}
	d := ClusterDetail{Cluster: clusterItem(run.ID, clusterID, int(p.Total), int(total), sm, ok), Queries: qp, RunID: run.ID, ClusterID: clusterID,
		NumQueries: p.Total, Pagination: p}
	if ok {
		d.Summary = &sm
	}
	m, err := s.deps.Store.ClusterMetadata(ctx, run.ID, clusterID)
	if err != nil {
		return ClusterDetail{}, err
	}
	d.Metadata = metadataItem(m)
	return d, nil
}

func (s *server) apiCluster(r *http.Request) (any, error) {
	id, err := pathInt(r, "cluster_id")
	if err != nil {
		return nil, err
	}
	ref, err := summaryRef(r)
	if err != nil {
		return nil, err
	}
	p := newParams(r)
	page, limit, cursor := pageParams(p, 50)
	if p.err != nil {
		return nil, p.err
	}
	return s.clusterDetail(r.Context(), r.PathValue("run_id"), id, ref, page, limit, cursor)
}

// ---- queries ----

func (s *server) apiQueries(r *http.Request) (any, error) {
	p := newParams(r)
	f := lmsys.QueryFilter{Dataset: p.str("dataset"), Model: p.str("model"), Language: p.str("language"), Contains: p.str("contains"), RunID: p.str("run_id")}
	f.ClusterID = p.optInt("cluster_id")
	page, limit, cursor := pageParams(p, 100)
	if p.err != nil {
		return nil, p.err
	}
	if f.ClusterID != nil && f.RunID == "" {
		return nil, badRequest("cluster_id needs run_id")
	}
	qp, _, err := s.listPage(r.Context(), f, page, limit, cursor)
	return qp, err
}

func (s *server) apiQuery(r *http.Request) (any, error) {
	id, err := pathInt64(r, "query_id")
	if err != nil {
		return nil, err
	}
	v, err := s.cur.ViewQuery(r.Context(), id)
	if err != nil {
		return nil, err
	}
	out := QueryDetail{Query: queryItem(v.Query), Clusters: make([]ClusterInfo, len(v.Clusters))}
	for i, c := range v.Clusters {
		out.Clusters[i] = ClusterInfo{RunID: c.RunID, ClusterID: c.ClusterID, Title: nullable(c.Title), SummaryRunID: c.SummaryRunID, Orphaned: c.Orphaned}
		if !c.Orphaned {
			conf := c.Confidence
			out.Clusters[i].ConfidenceScore = &conf
		}
	}
	return out, nil
}

// ---- hierarchies ----

// hierarchyRuns lists the hierarchy runs (of one run when runID is set), newest first.
func (s *server) hierarchyRuns(ctx context.Context, runID string) ([]HierarchyRunItem, error) {
	ids, err := s.deps.Store.Hierarchies(ctx, runID)
	if err != nil {
		return nil, err
	}
	out := make([]HierarchyRunItem, 0, len(ids))
	for _, id := range ids {
		h, err := s.deps.Store.HierarchyRun(ctx, id)
		if err == nil {
			out = append(out, HierarchyRunItem{HierarchyRunID: id, RunID: h.RunID, CreatedAt: h.CreatedAt})
			continue
		}
		if !errors.Is(err, lmsys.ErrNotFound) {
			return nil, err
		}
		// A hierarchy without a run record (one the Python tool built): read its nodes.
		nodes, err := s.deps.Store.Hierarchy(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, HierarchyRunItem{HierarchyRunID: id, RunID: nodes[0].RunID, CreatedAt: nodes[0].CreatedAt})
	}
	return out, nil
}

func (s *server) apiHierarchies(r *http.Request) (any, error) {
	p := newParams(r)
	page, limit := p.page(50)
	if p.err != nil {
		return nil, p.err
	}
	hs, err := s.hierarchyRuns(r.Context(), p.str("run_id"))
	if err != nil {
		return nil, err
	}
	return paginate(hs, page, limit), nil
}

// HierarchyTotals counts a hierarchy: nodes, leaves (level-0 clusters), levels and
// the queries under its leaves now.
type HierarchyTotals struct {
	Clusters int `json:"clusters"`
	Leaves   int `json:"leaves"`
	Levels   int `json:"levels"`
	Queries  int `json:"queries"`
}

// TreeNode is a hierarchy node with its children, for rendering.
type TreeNode struct {
	HierarchyNodeItem
	Children []*TreeNode `json:"children,omitempty"`
	// Share is QueryCount over the hierarchy's queries.
	Share float64 `json:"share"`
}

// HierarchyDetail is one hierarchy run (the Python tool's HierarchyTreeResponse): its
// nodes by level, leaves first, and the run's assigned queries (null when
// percentages are not asked for), plus its ids, totals, per-level report and tree.
type HierarchyDetail struct {
	Nodes          []HierarchyNodeItem     `json:"nodes"`
	TotalQueries   *int                    `json:"total_queries"`
	HierarchyRunID string                  `json:"hierarchy_run_id"`
	RunID          string                  `json:"run_id"`
	Totals         HierarchyTotals         `json:"totals"`
	Levels         []hierarchy.LevelReport `json:"levels"`
	Tree           []*TreeNode             `json:"tree"`
}

func (s *server) hierarchyDetail(ctx context.Context, id string, percentages bool) (HierarchyDetail, error) {
	nodes, err := s.deps.Store.Hierarchy(ctx, id)
	if err != nil {
		return HierarchyDetail{}, err
	}
	if len(nodes) == 0 {
		return HierarchyDetail{}, fmt.Errorf("hierarchy %s not found: %w", id, lmsys.ErrNotFound)
	}
	sort.SliceStable(nodes, func(i, j int) bool { return nodes[i].Level < nodes[j].Level })
	runID := nodes[0].RunID
	sizes, err := s.deps.Store.ClusterSizes(ctx, runID)
	if err != nil {
		return HierarchyDetail{}, err
	}
	total := 0
	for _, n := range sizes {
		total += n
	}
	// Counts bottom-up: a leaf's from the assignments, a parent's from its children.
	count := make(map[int]int, len(nodes))
	for _, n := range nodes {
		if n.Level == 0 {
			count[n.ClusterID] = sizes[n.ClusterID]
			continue
		}
		sum := 0
		for _, c := range n.ChildrenIDs {
			sum += count[c]
		}
		count[n.ClusterID] = sum
	}
	d := HierarchyDetail{HierarchyRunID: id, RunID: runID, Levels: hierarchy.Levels(nodes), Nodes: make([]HierarchyNodeItem, len(nodes))}
	if percentages {
		d.TotalQueries = &total
	}
	byID := make(map[int]*TreeNode, len(nodes))
	for i, n := range nodes {
		item := HierarchyNodeItem{HierarchyRunID: n.HierarchyRunID, RunID: n.RunID, ClusterID: n.ClusterID, ParentClusterID: n.ParentClusterID,
			Level: n.Level, ChildrenIDs: n.ChildrenIDs, Title: nullable(n.Title), Description: nullable(n.Description), QueryCount: count[n.ClusterID],
			NumQueries: n.NumQueries, CreatedAt: n.CreatedAt}
		if item.ChildrenIDs == nil {
			item.ChildrenIDs = []int{}
		}
		if percentages && item.QueryCount > 0 && total > 0 {
			pc := percent(item.QueryCount, total)
			item.Percentage = &pc
		}
		d.Nodes[i] = item
		d.Totals.Clusters++
		if n.Level == 0 {
			d.Totals.Leaves++
			d.Totals.Queries += item.QueryCount
		}
		d.Totals.Levels = max(d.Totals.Levels, n.Level+1)
		byID[n.ClusterID] = &TreeNode{HierarchyNodeItem: item}
	}
	for _, n := range d.Nodes {
		t := byID[n.ClusterID]
		t.Share = float64(n.QueryCount) / float64(max(d.Totals.Queries, 1))
		if n.ParentClusterID != nil {
			if p, ok := byID[*n.ParentClusterID]; ok {
				p.Children = append(p.Children, t)
				continue
			}
		}
		d.Tree = append(d.Tree, t)
	}
	var order func([]*TreeNode)
	order = func(ts []*TreeNode) {
		sort.SliceStable(ts, func(i, j int) bool {
			if ts[i].QueryCount != ts[j].QueryCount {
				return ts[i].QueryCount > ts[j].QueryCount
			}
			return ts[i].ClusterID < ts[j].ClusterID
		})
		for _, t := range ts {
			order(t.Children)
		}
	}
	order(d.Tree)
	return d, nil
}

func (s *server) apiHierarchy(r *http.Request) (any, error) {
	p := newParams(r)
	pct := p.boolean("include_percentages", true)
	if p.err != nil {
		return nil, p.err
	}
	return s.hierarchyDetail(r.Context(), r.PathValue("hierarchy_run_id"), pct)
}

// ---- summaries ----

func (s *server) apiSummaryRuns(r *http.Request) (any, error) {
	ctx := r.Context()
	p := newParams(r)
	page, limit := p.page(50)
	if p.err != nil {
		return nil, p.err
	}
	runs, err := s.runIDs(ctx, p.str("run_id"))
	if err != nil {
		return nil, err
	}
	items := []SummaryRunItem{}
	for _, id := range runs {
		srs, err := s.deps.Store.SummaryRuns(ctx, id)
		if err != nil {
			return nil, err
		}
		for _, sr := range srs {
			items = append(items, summaryRunItem(sr))
		}
	}
	sort.SliceStable(items, func(i, j int) bool { return items[i].GeneratedAt.After(items[j].GeneratedAt) })
	return paginate(items, page, limit), nil
}

func (s *server) apiSummary(r *http.Request) (any, error) {
	ctx := r.Context()
	cid, err := pathInt(r, "cluster_id")
	if err != nil {
		return nil, err
	}
	srID := r.PathValue("summary_run_id")
	runs, err := s.runIDs(ctx, r.URL.Query().Get("run_id"))
	if err != nil {
		return nil, err
	}
	for _, runID := range runs {
		srs, err := s.deps.Store.SummaryRuns(ctx, runID)
		if err != nil {
			return nil, err
		}
		for _, sr := range srs {
			if sr.SummaryRunID != srID {
				continue
			}
			ss, err := s.deps.Store.Summaries(ctx, runID, srID)
			if err != nil {
				return nil, err
			}
			for _, x := range ss {
				if x.ClusterID == cid {
					item := clusterItem(runID, cid, x.NumQueries, 0, x, true)
					item.QueryCount, item.Share = nil, 0
					return SummaryItem{ClusterItem: item, Model: x.Model, Coherence: x.Coherence, Mixed: x.Mixed, Error: x.Error, GeneratedAt: x.GeneratedAt}, nil
				}
			}
		}
	}
	return nil, fmt.Errorf("cluster summary not found (cluster %d, summary run %s): %w", cid, srID, lmsys.ErrNotFound)
}

// runIDs returns [runID], or every run's id when runID is empty.
func (s *server) runIDs(ctx context.Context, runID string) ([]string, error) {
	if runID != "" {
		return []string{runID}, nil
	}
	all, err := s.deps.Store.ListRuns(ctx)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(all))
	for i, r := range all {
		ids[i] = r.ID
	}
	return ids, nil
}

// ---- curation ----

func (s *server) apiMetadata(r *http.Request) (any, error) {
	cid, err := pathInt(r, "cluster_id")
	if err != nil {
		return nil, err
	}
	p := newParams(r)
	runID := p.required("run_id")
	if p.err != nil {
		return nil, p.err
	}
	m, err := s.deps.Store.ClusterMetadata(r.Context(), runID, cid)
	if err != nil {
		return nil, err
	}
	m.RunID, m.ClusterID = runID, cid
	return metadataItem(m), nil
}

func (s *server) apiHistory(r *http.Request) (any, error) {
	cid, err := pathInt(r, "cluster_id")
	if err != nil {
		return nil, err
	}
	p := newParams(r)
	runID := p.required("run_id")
	page, limit := p.page(50)
	if p.err != nil {
		return nil, p.err
	}
	es, err := s.cur.ClusterEdits(r.Context(), runID, cid)
	if err != nil {
		return nil, err
	}
	return EditPage{ListPage: paginate(editItems(es), page, limit), RunID: runID, ClusterID: &cid}, nil
}

func auditFilter(p *params) (curation.AuditFilter, error) {
	f := curation.AuditFilter{Editor: p.str("editor"), Type: p.str("type")}
	if v := p.str("since"); v != "" {
		t, err := parseSince(v)
		if err != nil {
			return f, validation("since %q is not RFC 3339 or YYYY-MM-DD", v)
		}
		f.Since = t
	}
	if f.Type != "" && !contains(curation.EditTypes, f.Type) {
		return f, validation("type %q is not one of %s", f.Type, strings.Join(curation.EditTypes, ", "))
	}
	return f, nil
}

func (s *server) apiAudit(r *http.Request) (any, error) {
	runID := r.PathValue("run_id")
	p := newParams(r)
	page, limit := p.page(50)
	f, err := auditFilter(p)
	if err != nil {
		return nil, err
	}
	if p.err != nil {
		return nil, p.err
	}
	es, err := s.cur.Audit(r.Context(), runID, f)
	if errors.Is(err, lmsys.ErrNotFound) {
		es, err = nil, nil // an unknown run has no edits, as in the Python tool
	}
	if err != nil {
		return nil, err
	}
	return EditPage{ListPage: paginate(editItems(es), page, limit), RunID: runID}, nil
}

// orphans returns a run's orphaned queries, newest first, with their queries.
func (s *server) orphans(ctx context.Context, runID string) ([]OrphanItem, error) {
	os, err := s.deps.Store.Orphans(ctx, runID)
	if err != nil {
		return nil, err
	}
	sort.SliceStable(os, func(i, j int) bool { return os[i].OrphanedAt.After(os[j].OrphanedAt) })
	ids := make([]int64, len(os))
	for i, o := range os {
		ids[i] = o.QueryID
	}
	byID := make(map[int64]lmsys.Query, len(ids))
	for start := 0; start < len(ids); start += 500 {
		qs, err := s.deps.Store.ListQueries(ctx, lmsys.QueryFilter{IDs: ids[start:min(start+500, len(ids))]})
		if err != nil {
			return nil, err
		}
		for _, q := range qs {
			byID[q.ID] = q
		}
	}
	out := make([]OrphanItem, 0, len(os))
	for _, o := range os {
		q, ok := byID[o.QueryID]
		if !ok {
			continue // the query was deleted since
		}
		out = append(out, OrphanItem{Orphan: OrphanRecord{QueryID: o.QueryID, OriginalClusterID: o.OriginalClusterID, OrphanedAt: o.OrphanedAt,
			Reason: nullable(o.Reason), ID: o.ID, RunID: o.RunID}, Query: queryItem(q)})
	}
	return out, nil
}

// OrphanPage is a page of a run's orphaned queries, newest first.
type OrphanPage struct {
	ListPage[OrphanItem]
	RunID string `json:"run_id"`
}

func (s *server) apiOrphaned(r *http.Request) (any, error) {
	runID := r.PathValue("run_id")
	p := newParams(r)
	page, limit := p.page(50)
	if p.err != nil {
		return nil, p.err
	}
	os, err := s.orphans(r.Context(), runID)
	if err != nil {
		return nil, err
	}
	return OrphanPage{ListPage: paginate(os, page, limit), RunID: runID}, nil
}

// ---- search ----

// SearchHit is one query found (the Python tool's QuerySearchResult): the query, its
// cluster in the run searched, and its distance (semantic: cosine distance;
// full-text: 0 for the best match rising to 1; hybrid: cosine distance). QueryID,
// Snippet, Model, Language and ClusterID are ours.
type SearchHit struct {
	Query     QueryItem     `json:"query"`
	Clusters  []ClusterInfo `json:"clusters"`
	Distance  *float64      `json:"distance"`
	QueryID   int64         `json:"query_id"`
	Snippet   string        `json:"snippet"`
	Model     string        `json:"model"`
	Language  string        `json:"language"`
	ClusterID *int          `json:"cluster_id"`
}

// FacetBucket is one value of a facet (the Python tool's FacetBucket): its key (a
// cluster id or a value), the results holding it and their share in percent.
type FacetBucket struct {
	Key        any            `json:"key"`
	Count      int64          `json:"count"`
	Percentage *float64       `json:"percentage"`
	Meta       map[string]any `json:"meta"`
	ClusterID  *int           `json:"cluster_id,omitempty"`
}

// SearchFacets are the facets asked for (null when not).
type SearchFacets struct {
	Clusters []FacetBucket `json:"clusters"`
	Language []FacetBucket `json:"language"`
	Model    []FacetBucket `json:"model"`
}

// SearchPage is a page of queries found (the Python tool's SearchQueriesResponse),
// plus the text and run searched. Full-text searches count every match in Total;
// semantic and hybrid searches count the hits ranked (at most page·limit).
type SearchPage struct {
	ListPage[SearchHit]
	Facets          *SearchFacets `json:"facets"`
	AppliedClusters []ClusterHit  `json:"applied_clusters"`
	Text            string        `json:"text"`
	RunID           string        `json:"run_id"`
	Mode            string        `json:"mode"`
}

// searchRequest is a parsed query search.
type searchRequest struct {
	text        string
	opts        search.QuerySearchOptions
	page, limit int
}

func parseSearch(r *http.Request) (searchRequest, error) {
	p := newParams(r)
	text := p.str("text")
	if text == "" {
		text = p.str("q")
	}
	if strings.TrimSpace(text) == "" {
		return searchRequest{}, validation("query parameter text is required")
	}
	o := search.QuerySearchOptions{RunID: p.str("run_id"), WithinClusters: p.str("within_clusters"), Facets: queryList(r, "facets"), By: p.str("by"),
		Mode: p.oneOf("mode", search.ModeFullText, search.ModeSemantic, search.ModeFullText, search.ModeHybrid)}
	o.TopClusters = p.intIn("top_clusters", 10, 1, 50)
	page, limit := p.page(50)
	if p.has("n_results") && !p.has("limit") {
		limit = p.intIn("n_results", 50, 1, 1000)
	}
	var err error
	if o.ClusterIDs, err = queryInts(r, "cluster_ids"); err != nil {
		p.fail(err)
	}
	if o.SummaryRef, err = summaryRef(r); err != nil {
		return searchRequest{}, err
	}
	if p.err != nil {
		return searchRequest{}, p.err
	}
	if o.RunID == "" && o.Mode != search.ModeFullText {
		return searchRequest{}, badRequest("run_id required for %s search (the run names the embedding space); mode fulltext works without one", o.Mode)
	}
	if o.RunID == "" && (o.WithinClusters != "" || len(o.ClusterIDs) > 0 || o.By != "") {
		return searchRequest{}, badRequest("within_clusters, cluster_ids and by need run_id")
	}
	if o.By != "" && o.By != "cluster" {
		return searchRequest{}, badRequest("by %q: only 'cluster' is supported", o.By)
	}
	o.NResults = min(page*limit, 1000)
	if (page-1)*limit >= 1000 {
		return searchRequest{}, validation("page %d of %d results reaches past the 1000 best matches", page, limit)
	}
	return searchRequest{text: text, opts: o, page: page, limit: limit}, nil
}

// searchPage runs a query search and answers one page of it.
func (s *server) searchPage(ctx context.Context, sr searchRequest) (SearchPage, error) {
	if s.deps.Search == nil {
		return SearchPage{}, errNoSearch
	}
	o := sr.opts
	if o.RunID != "" && o.Mode == search.ModeFullText {
		if _, err := s.deps.Store.GetRun(ctx, o.RunID); errors.Is(err, lmsys.ErrNotFound) {
			// The Python tool joins the run's assignments: nothing matches.
			return SearchPage{ListPage: newPage([]SearchHit(nil), 0, sr.page, sr.limit), AppliedClusters: []ClusterHit{}, Text: sr.text, RunID: o.RunID, Mode: o.Mode}, nil
		}
	}
	res, err := s.deps.Search.SearchQueries(ctx, sr.text, o)
	if err != nil {
		return SearchPage{}, err
	}
	total := int64(len(res.Results))
	start := (sr.page - 1) * sr.limit
	hits := res.Results[min(start, len(res.Results)):min(start+sr.limit, len(res.Results))]
	if o.Mode == search.ModeFullText && len(o.ClusterIDs) == 0 && o.WithinClusters == "" {
		f := lmsys.QueryFilter{RunID: o.RunID}
		if total, err = s.deps.Search.CountText(ctx, sr.text, o.RunID); err != nil {
			return SearchPage{}, err
		}
		if store.NeedsSubstring(sr.text) {
			// Words inside runs of Han, Thai … letters: the substring matches the index
			// misses follow its ranked hits, as the Python tool's substring search finds them.
			from := max(start, int(total))
			extra, n, err := s.deps.Store.SearchSubstring(ctx, sr.text, f, max(start+sr.limit-from, 0), from-int(total))
			if err != nil {
				return SearchPage{}, err
			}
			if len(extra) > 0 {
				if hits, err = s.substringHits(ctx, o.RunID, hits, extra); err != nil {
					return SearchPage{}, err
				}
			}
			total += n
		}
	}
	ids := make([]int64, len(hits))
	for i, h := range hits {
		ids[i] = h.QueryID
	}
	byID := map[int64]lmsys.Query{}
	if len(ids) > 0 {
		qs, err := s.deps.Store.ListQueries(ctx, lmsys.QueryFilter{IDs: ids})
		if err != nil {
			return SearchPage{}, err
		}
		for _, q := range qs {
			byID[q.ID] = q
		}
	}
	var titles map[int]lmsys.Summary
	if o.RunID != "" {
		if _, titles, err = s.summaries(ctx, o.RunID, o.SummaryRef); err != nil {
			return SearchPage{}, err
		}
	}
	items := make([]SearchHit, 0, len(hits))
	for _, h := range hits {
		q, ok := byID[h.QueryID]
		if !ok {
			continue
		}
		d := float64(h.Distance)
		hit := SearchHit{Query: queryItem(q), Clusters: []ClusterInfo{}, Distance: &d, QueryID: h.QueryID, Snippet: h.Snippet, Model: h.Model,
			Language: h.Language, ClusterID: h.ClusterID}
		if h.ClusterID != nil {
			hit.Clusters = append(hit.Clusters, ClusterInfo{RunID: o.RunID, ClusterID: *h.ClusterID, Title: nullable(titles[*h.ClusterID].Title)})
		}
		items = append(items, hit)
	}
	out := SearchPage{ListPage: newPage(items, total, sr.page, sr.limit), Facets: searchFacets(res.Facets, len(res.Results)), AppliedClusters: []ClusterHit{},
		Text: res.Text, RunID: res.RunID, Mode: o.Mode}
	for _, a := range res.AppliedClusters {
		ac := ClusterHit{RunID: o.RunID, ClusterID: a.ClusterID, Title: nullable(a.Title), Description: nullable(a.Description), NumQueries: a.NumQueries}
		if a.Distance != nil {
			d := float64(*a.Distance)
			ac.Distance = &d
		}
		out.AppliedClusters = append(out.AppliedClusters, ac)
	}
	return out, nil
}

// substringHits appends the queries ids (found by substring) to hits, each at the
// greatest distance, 1, with its cluster in the run.
func (s *server) substringHits(ctx context.Context, runID string, hits []search.QueryHit, ids []int64) ([]search.QueryHit, error) {
	qs, err := s.deps.Store.ListQueries(ctx, lmsys.QueryFilter{IDs: ids})
	if err != nil {
		return nil, err
	}
	cluster := map[int64]int{}
	if runID != "" {
		rows, err := s.deps.Store.Gorm().WithContext(ctx).Raw(`SELECT query_id, cluster_id FROM query_clusters WHERE run_id = ? AND query_id IN ?`, runID, ids).Rows()
		if err != nil {
			return nil, fmt.Errorf("web: clusters of substring matches: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var q int64
			var c int
			if err := rows.Scan(&q, &c); err != nil {
				return nil, err
			}
			cluster[q] = c
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	out := slices.Clone(hits)
	sort.Slice(qs, func(i, j int) bool { return qs[i].ID < qs[j].ID })
	for _, q := range qs {
		h := search.QueryHit{QueryID: q.ID, Distance: 1, Snippet: snippet.Of(q.Text, 200), Model: q.Model, Language: q.Language}
		if c, ok := cluster[q.ID]; ok {
			h.ClusterID = &c
		}
		out = append(out, h)
	}
	return out, nil
}

// searchFacets converts the search service's facets over n results.
func searchFacets(f search.Facets, n int) *SearchFacets {
	if f.Clusters == nil && f.Language == nil && f.Model == nil {
		return nil
	}
	share := func(c int64) *float64 {
		if n == 0 {
			return nil
		}
		p := percent(int(c), n)
		return &p
	}
	out := &SearchFacets{}
	if f.Clusters != nil {
		out.Clusters = []FacetBucket{}
		for _, c := range f.Clusters {
			id := c.ClusterID
			out.Clusters = append(out.Clusters, FacetBucket{Key: c.ClusterID, Count: c.Count, Percentage: share(c.Count), Meta: map[string]any{"title": c.Meta.Title}, ClusterID: &id})
		}
	}
	counts := func(cs []lmsys.Count) []FacetBucket {
		if cs == nil {
			return nil
		}
		out := []FacetBucket{}
		for _, c := range cs {
			out = append(out, FacetBucket{Key: c.Key, Count: c.Count, Percentage: share(c.Count)})
		}
		return out
	}
	out.Language, out.Model = counts(f.Language), counts(f.Model)
	return out
}

func (s *server) apiSearchQueries(r *http.Request) (any, error) {
	sr, err := parseSearch(r)
	if err != nil {
		return nil, err
	}
	return s.searchPage(r.Context(), sr)
}

// ClusterHit is one cluster found, or one a query search was restricted to (the
// Python tool's ClusterSearchResult); Distance is the cosine distance of its summary
// to the search text (semantic) or null (full-text).
type ClusterHit struct {
	RunID        string   `json:"run_id"`
	ClusterID    int      `json:"cluster_id"`
	Title        *string  `json:"title"`
	Description  *string  `json:"description"`
	Summary      *string  `json:"summary"`
	NumQueries   int      `json:"num_queries"`
	Distance     *float64 `json:"distance"`
	SummaryRunID string   `json:"summary_run_id,omitempty"`
}

// ClusterSearchPage is the clusters found (the Python tool's SearchClustersResponse).
type ClusterSearchPage struct {
	ListPage[ClusterHit]
	Text  string `json:"text"`
	RunID string `json:"run_id"`
	Mode  string `json:"mode"`
}

func (s *server) apiSearchClusters(r *http.Request) (any, error) {
	p := newParams(r)
	text := p.str("text")
	if text == "" {
		text = p.str("q")
	}
	if strings.TrimSpace(text) == "" {
		return nil, validation("query parameter text is required")
	}
	runID := p.str("run_id")
	mode := p.oneOf("mode", search.ModeFullText, search.ModeSemantic, search.ModeFullText)
	n := p.intIn("n_results", 20, 1, 100)
	if p.has("top_k") && !p.has("n_results") {
		n = p.intIn("top_k", 20, 1, 1000)
	}
	page := p.intIn("page", 1, 1, -1)
	ids, err := queryInts(r, "cluster_ids")
	if err != nil {
		p.fail(err)
	}
	ref, err := summaryRef(r)
	if err != nil {
		return nil, err
	}
	if p.err != nil {
		return nil, p.err
	}
	out := ClusterSearchPage{Text: text, RunID: runID, Mode: mode}
	var hits []ClusterHit
	if mode == search.ModeSemantic {
		if runID == "" {
			return nil, badRequest("run_id required for semantic search")
		}
		if s.deps.Search == nil {
			return nil, errNoSearch
		}
		res, err := s.deps.Search.SearchClusters(r.Context(), text, search.ClusterSearchOptions{RunID: runID, TopK: n, ClusterIDs: ids, SummaryRef: ref})
		if err != nil {
			return nil, err
		}
		srID, sums, err := s.summaries(r.Context(), runID, ref)
		if err != nil {
			return nil, err
		}
		for _, h := range res.Results {
			d := float64(h.Distance)
			hits = append(hits, ClusterHit{RunID: runID, ClusterID: h.ClusterID, Title: nullable(h.Title), Description: nullable(h.Description),
				Summary: nullable(sums[h.ClusterID].Summary), NumQueries: h.NumQueries, Distance: &d, SummaryRunID: srID})
		}
	} else if hits, err = s.clusterText(r.Context(), text, runID, ref, ids, n); err != nil {
		return nil, err
	}
	out.ListPage = newPage(hits, int64(len(hits)), page, n)
	out.Pages = 1
	return out, nil
}

// clusterText finds clusters whose title or description contains text (any case),
// in one run or every run, in the summary run ref (the latest when empty), largest
// first; at most n.
func (s *server) clusterText(ctx context.Context, text, runID, ref string, ids []int, n int) ([]ClusterHit, error) {
	runs, err := s.runIDs(ctx, runID)
	if err != nil {
		return nil, err
	}
	needle := strings.ToLower(strings.TrimSpace(text))
	hits := []ClusterHit{}
	for _, id := range runs {
		srID, sums, err := s.summaries(ctx, id, ref)
		if errors.Is(err, lmsys.ErrNotFound) {
			continue // a run without this summary run, or an unknown run
		}
		if err != nil {
			return nil, err
		}
		sizes, err := s.deps.Store.ClusterSizes(ctx, id)
		if err != nil {
			return nil, err
		}
		for cid, sm := range sums {
			if len(ids) > 0 && !containsInt(ids, cid) {
				continue
			}
			if !strings.Contains(strings.ToLower(sm.Title), needle) && !strings.Contains(strings.ToLower(sm.Description), needle) {
				continue
			}
			hits = append(hits, ClusterHit{RunID: id, ClusterID: cid, Title: nullable(sm.Title), Description: nullable(sm.Description),
				Summary: nullable(sm.Summary), NumQueries: sizes[cid], SummaryRunID: srID})
		}
	}
	sort.Slice(hits, func(i, j int) bool {
		if hits[i].NumQueries != hits[j].NumQueries {
			return hits[i].NumQueries > hits[j].NumQueries
		}
		if hits[i].RunID != hits[j].RunID {
			return hits[i].RunID < hits[j].RunID
		}
		return hits[i].ClusterID < hits[j].ClusterID
	})
	return hits[:min(n, len(hits))], nil
}

func containsInt(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}
