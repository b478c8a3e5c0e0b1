package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/analysis"
	"github.com/lmsys-go/lmsys/clustering"
	"github.com/lmsys-go/lmsys/curation"
	"github.com/lmsys-go/lmsys/embed"
	"github.com/lmsys-go/lmsys/hierarchy"
	"github.com/lmsys-go/lmsys/llm"
	"github.com/lmsys-go/lmsys/search"
	"github.com/lmsys-go/lmsys/store"
	"github.com/lmsys-go/lmsys/summarize"
)

// registerAPI registers every /api route. The OpenAPI document (openapi.go) lists the
// same routes; TestOpenAPICoversRoutes keeps the two equal.
func (s *server) registerAPI() {
	s.get("/api/openapi.json", func(r *http.Request) (any, error) { return openAPIDocument(), nil })
	s.get("/api/status", s.apiStatus)

	s.get("/api/clustering/runs", s.apiRuns)
	s.get("/api/clustering/runs/{run_id}", s.apiRun)
	s.get("/api/clustering/runs/{run_id}/status", s.apiRunStatus)
	s.get("/api/clustering/runs/{run_id}/clusters", s.apiClusters)
	s.get("/api/clustering/runs/{run_id}/clusters/{cluster_id}", s.apiCluster)
	s.post("/api/clustering/kmeans", s.apiKMeans)
	s.post("/api/clustering/hdbscan", s.apiHDBSCAN)

	s.get("/api/queries", s.apiQueries)
	s.get("/api/queries/{query_id}", s.apiQuery)

	s.get("/api/search/queries", s.apiSearchQueries)
	s.get("/api/search/clusters", s.apiSearchClusters)
	s.get("/api/search/info", s.apiSearchInfo)
	s.get("/api/verify/runs/{run_id}", s.apiVerify)
	s.post("/api/verify/runs/{run_id}/sync", s.apiSync)

	s.get("/api/hierarchy/{$}", s.apiHierarchies)
	s.get("/api/hierarchy/{hierarchy_run_id}", s.apiHierarchy)
	s.post("/api/hierarchy/{$}", s.apiBuildHierarchy)

	s.get("/api/summaries/{$}", s.apiSummaryRuns)
	s.get("/api/summaries/{summary_run_id}/clusters/{cluster_id}", s.apiSummary)
	s.post("/api/summaries/{$}", s.apiSummarize)

	s.get("/api/curation/clusters/{cluster_id}/metadata", s.apiMetadata)
	s.get("/api/curation/clusters/{cluster_id}/history", s.apiHistory)
	s.get("/api/curation/runs/{run_id}/audit", s.apiAudit)
	s.get("/api/curation/runs/{run_id}/orphaned", s.apiOrphaned)
	s.get("/api/curation/runs/{run_id}/bad-clusters", s.apiBadClusters)
	s.post("/api/curation/queries/{query_id}/move", s.apiMove)
	s.post("/api/curation/queries/move", s.apiMoveMany)
	s.post("/api/curation/clusters/{cluster_id}/rename", s.apiRename)
	s.post("/api/curation/clusters/merge", s.apiMerge)
	s.post("/api/curation/clusters/{cluster_id}/split", s.apiSplit)
	s.post("/api/curation/clusters/{cluster_id}/delete", s.apiDelete)
	s.post("/api/curation/clusters/{cluster_id}/tag", s.apiTag)
	s.post("/api/curation/clusters/{cluster_id}/flag", s.apiFlag)
	s.post("/api/curation/runs/{run_id}/undo", s.apiUndo)
	s.post("/api/curation/runs/{run_id}/orphaned/reassign", s.apiReassign)

	s.get("/api/analysis/runs/{run_id}/facets", s.apiFacets)
	s.get("/api/analysis/runs/{run_id}/trends", s.apiTrends)
	s.get("/api/analysis/runs/{run_id}/compare", s.apiCompare)

	// Unknown /api paths answer JSON, not the viewer's HTML 404.
	// A known path with another method answers 405 with Allow.
	s.mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		var allow []string
		for _, m := range []string{"GET", "POST"} {
			r2 := r.Clone(r.Context())
			r2.Method = m
			if _, pattern := s.mux.Handler(r2); pattern != "/api/" {
				allow = append(allow, m)
			}
		}
		if len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			s.writeError(w, r, &httpError{http.StatusMethodNotAllowed, "method_not_allowed", fmt.Sprintf("%s is not allowed on %s (allowed: %s)", r.Method, r.URL.Path, strings.Join(allow, ", "))})
			return
		}
		s.writeError(w, r, fmt.Errorf("%w: no API route %s %s", lmsys.ErrNotFound, r.Method, r.URL.Path))
	})
}

func (s *server) apiStatus(r *http.Request) (any, error) {
	return s.deps.Store.Status(r.Context())
}

// ---- clustering runs ----

func (s *server) apiRuns(r *http.Request) (any, error) {
	runs, err := s.deps.Store.ListRuns(r.Context())
	if err != nil {
		return nil, err
	}
	if runs == nil {
		runs = []lmsys.Run{}
	}
	return map[string]any{"runs": runs, "total": len(runs)}, nil
}

func (s *server) apiRun(r *http.Request) (any, error) {
	return s.deps.Store.GetRun(r.Context(), r.PathValue("run_id"))
}

func (s *server) apiRunStatus(r *http.Request) (any, error) {
	run, err := s.deps.Store.GetRun(r.Context(), r.PathValue("run_id"))
	if err != nil {
		return nil, err
	}
	return map[string]any{"run_id": run.ID, "status": run.Status, "num_clusters": run.NumClusters,
		"num_queries": run.NumQueries, "error": run.Error, "created_at": run.CreatedAt, "finished_at": run.FinishedAt}, nil
}

// ClusterRow is one cluster of a run (analysis.ClusterRow, shared with the CLI).
type ClusterRow = analysis.ClusterRow

// ClusterList is a run's clusters, largest first (analysis.ClusterList).
type ClusterList = analysis.ClusterList

// summaryTTL bounds how long a cached summary run is trusted without a change the
// server can see (a resumed summarize by another process changes no audited state).
const summaryTTL = 5 * time.Second

// summaryEntry is one cached summary run: its summaries by cluster, and the newest
// edit of the run when they were read.
type summaryEntry struct {
	sums     map[int]lmsys.Summary
	lastEdit int64
	at       time.Time
}

// summaryCache keeps the summaries of recently viewed summary runs: reading the 200
// summaries of a run costs milliseconds, and every cluster page needs one of them.
// An entry is dropped when the run has an edit newer than the entry (edits are
// audited, so edits by other processes are seen too), after summaryTTL, and by this
// server's own edits and summarize runs.
type summaryCache struct {
	mu sync.Mutex
	m  map[string]*summaryEntry
}

func (c *summaryCache) get(key string) *summaryEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[key]
}

func (c *summaryCache) put(key string, e *summaryEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) > 64 {
		c.m = map[string]*summaryEntry{}
	}
	c.m[key] = e
}

// reset drops every entry.
func (c *summaryCache) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m = nil
}

// lastEdit returns the id of the run's newest edit at or after the known one.
func (s *server) lastEdit(ctx context.Context, runID string, known int64) (int64, error) {
	for {
		es, err := s.deps.Store.Edits(ctx, store.EditFilter{RunID: runID, AfterID: known, Limit: 500})
		if err != nil {
			return 0, err
		}
		if len(es) == 0 {
			return known, nil
		}
		known = es[len(es)-1].ID
	}
}

// summaries returns a run's summaries by cluster (ref: id or alias, empty: latest); a
// run without summaries gives an empty map when ref is empty. The map is shared:
// callers must not modify it.
func (s *server) summaries(ctx context.Context, runID, ref string) (string, map[int]lmsys.Summary, error) {
	srID, err := s.deps.Store.ResolveSummaryRun(ctx, runID, ref)
	if err != nil {
		if errors.Is(err, lmsys.ErrNotFound) && ref == "" {
			return "", map[int]lmsys.Summary{}, nil
		}
		return "", nil, err
	}
	key := runID + "\x00" + srID
	if e := s.sumCache.get(key); e != nil && time.Since(e.at) < summaryTTL {
		newer, err := s.deps.Store.Edits(ctx, store.EditFilter{RunID: runID, AfterID: e.lastEdit, Limit: 1})
		if err != nil {
			return "", nil, err
		}
		if len(newer) == 0 {
			return srID, e.sums, nil
		}
	}
	last, err := s.lastEdit(ctx, runID, 0)
	if err != nil {
		return "", nil, err
	}
	ss, err := s.deps.Store.Summaries(ctx, runID, srID)
	if err != nil {
		return "", nil, err
	}
	out := make(map[int]lmsys.Summary, len(ss))
	for _, x := range ss {
		out[x.ClusterID] = x
	}
	s.sumCache.put(key, &summaryEntry{sums: out, lastEdit: last, at: time.Now()})
	return srID, out, nil
}

func (s *server) clusterList(ctx context.Context, runID, ref string, limit, examples int) (ClusterList, error) {
	run, err := s.deps.Store.GetRun(ctx, runID)
	if err != nil {
		return ClusterList{}, err
	}
	srID, sums, err := s.summaries(ctx, run.ID, ref)
	if err != nil {
		return ClusterList{}, err
	}
	return analysis.Clusters(ctx, s.deps.Store, run.ID, srID, sums, limit, examples)
}

func (s *server) apiClusters(r *http.Request) (any, error) {
	ref, err := summaryRef(r)
	if err != nil {
		return nil, err
	}
	limit, err := queryInt(r, "limit", 0)
	if err != nil {
		return nil, err
	}
	examples, err := queryInt(r, "examples", 0)
	if err != nil {
		return nil, err
	}
	if limit < 0 || examples < 0 || examples > 50 {
		return nil, badRequest("limit must not be negative and examples must be in [0, 50]")
	}
	return s.clusterList(r.Context(), r.PathValue("run_id"), ref, limit, examples)
}

// QueryRow is one query of a listing.
type QueryRow struct {
	QueryID        int64      `json:"query_id"`
	ConversationID string     `json:"conversation_id,omitempty"`
	Text           string     `json:"query_text"`
	Model          string     `json:"model,omitempty"`
	Language       string     `json:"language,omitempty"`
	Timestamp      *time.Time `json:"timestamp,omitempty"`
}

func queryRows(qs []lmsys.Query) []QueryRow {
	rows := make([]QueryRow, len(qs))
	for i, q := range qs {
		rows[i] = QueryRow{QueryID: q.ID, ConversationID: q.ConversationID, Text: q.Text, Model: q.Model, Language: q.Language, Timestamp: q.Timestamp}
	}
	return rows
}

// Page says where a page of queries sits. With a cursor (the last query id of the
// previous page) Page is 0; NextCursor is the cursor of the next page (0: none).
type Page struct {
	Page       int   `json:"page"`
	PageSize   int   `json:"page_size"`
	TotalPages int   `json:"total_pages"`
	Total      int64 `json:"total"`
	NextCursor int64 `json:"next_cursor,omitempty"`
}

// pageParams reads page (1-based) or cursor from the request.
func pageParams(r *http.Request) (page int, cursor int64, err error) {
	page, err = queryInt(r, "page", 1)
	if err != nil {
		return 0, 0, err
	}
	if c := r.URL.Query().Get("cursor"); c != "" {
		cursor, err = strconv.ParseInt(c, 10, 64)
		if err != nil || cursor < 0 {
			return 0, 0, badRequest("cursor %q is not a query id", c)
		}
		if r.URL.Query().Has("page") {
			return 0, 0, badRequest("give page or cursor, not both")
		}
		return 0, cursor, nil
	}
	if page < 1 {
		return 0, 0, badRequest("page must be at least 1, got %d", page)
	}
	return page, 0, nil
}

// listPage lists one page of the queries f selects.
func (s *server) listPage(ctx context.Context, f lmsys.QueryFilter, page int, cursor int64) ([]lmsys.Query, Page, error) {
	f.Limit = PageSize
	if cursor > 0 {
		f.AfterID = cursor
	} else {
		f.Offset = (page - 1) * PageSize
	}
	qs, total, err := s.deps.Store.ListQueriesPage(ctx, f)
	if err != nil {
		return nil, Page{}, err
	}
	p := Page{Page: page, PageSize: PageSize, Total: total, TotalPages: int((total + PageSize - 1) / PageSize)}
	if len(qs) == PageSize {
		more := cursor > 0 || int64(page*PageSize) < total
		if more {
			p.NextCursor = qs[len(qs)-1].ID
		}
	}
	return qs, p, nil
}

// ClusterDetail is one cluster with a page of its queries (the CLI's inspect --json,
// paginated).
type ClusterDetail struct {
	RunID      string                `json:"run_id"`
	ClusterID  int                   `json:"cluster_id"`
	NumQueries int64                 `json:"num_queries"`
	Summary    *lmsys.Summary        `json:"summary,omitempty"`
	Metadata   lmsys.ClusterMetadata `json:"metadata"`
	Queries    []QueryRow            `json:"queries"`
	Pagination Page                  `json:"pagination"`
}

func (s *server) clusterDetail(ctx context.Context, runID string, clusterID int, ref string, page int, cursor int64) (ClusterDetail, error) {
	run, err := s.deps.Store.GetRun(ctx, runID)
	if err != nil {
		return ClusterDetail{}, err
	}
	qs, p, err := s.listPage(ctx, lmsys.QueryFilter{RunID: run.ID, ClusterID: &clusterID}, page, cursor)
	if err != nil {
		return ClusterDetail{}, err
	}
	_, sums, err := s.summaries(ctx, run.ID, ref)
	if err != nil {
		return ClusterDetail{}, err
	}
	d := ClusterDetail{RunID: run.ID, ClusterID: clusterID, NumQueries: p.Total, Queries: queryRows(qs), Pagination: p}
	if x, ok := sums[clusterID]; ok {
		d.Summary = &x
	}
	if p.Total == 0 && d.Summary == nil {
		return ClusterDetail{}, fmt.Errorf("cluster %d of run %s: %w", clusterID, run.ID, lmsys.ErrNotFound)
	}
	if d.Metadata, err = s.deps.Store.ClusterMetadata(ctx, run.ID, clusterID); err != nil {
		return ClusterDetail{}, err
	}
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
	page, cursor, err := pageParams(r)
	if err != nil {
		return nil, err
	}
	return s.clusterDetail(r.Context(), r.PathValue("run_id"), id, ref, page, cursor)
}

// KMeansRequest is the body of POST /api/clustering/kmeans.
type KMeansRequest struct {
	NClusters      int    `json:"n_clusters"`
	Seed           uint64 `json:"seed"`
	MaxIter        int    `json:"max_iter"`
	NInit          int    `json:"n_init"`
	Algorithm      string `json:"algorithm"`
	MBBatchSize    int    `json:"mb_batch_size"`
	ChunkSize      int    `json:"chunk_size"`
	EmbeddingModel string `json:"embedding_model"`
	Dataset        string `json:"dataset"`
	Description    string `json:"description"`
}

func (s *server) apiKMeans(r *http.Request) (any, error) {
	req := KMeansRequest{NClusters: 100, Seed: 42, MaxIter: 100, NInit: 3, MBBatchSize: 8192, ChunkSize: 65536}
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	if req.NClusters < 1 {
		return nil, badRequest("n_clusters must be at least 1, got %d", req.NClusters)
	}
	if req.MaxIter < 1 || req.NInit < 1 || req.MBBatchSize < 1 || req.ChunkSize < 1 {
		return nil, badRequest("max_iter, n_init, mb_batch_size and chunk_size must be positive")
	}
	params := map[string]any{"n_clusters": req.NClusters, "seed": req.Seed, "max_iter": req.MaxIter, "n_init": req.NInit, "spherical": true}
	spec := clustering.RunSpec{Algorithm: "kmeans", K: req.NClusters}
	switch req.Algorithm {
	case "", "lloyd":
		params["variant"] = "lloyd"
		spec.Clusterer = &clustering.KMeans{K: req.NClusters, MaxIter: req.MaxIter, NInit: req.NInit, Seed: req.Seed, Spherical: true}
	case "minibatch":
		params["variant"] = "minibatch"
		params["mb_batch_size"] = req.MBBatchSize
		params["chunk_size"] = req.ChunkSize
		spec.MiniBatch = &clustering.MiniBatch{K: req.NClusters, BatchSize: req.MBBatchSize, ChunkSize: req.ChunkSize, Seed: req.Seed, NInit: req.NInit, Spherical: true}
	default:
		return nil, badRequest("algorithm must be lloyd or minibatch, not %q", req.Algorithm)
	}
	spec.Parameters = params
	return s.runClustering(r.Context(), spec, req.EmbeddingModel, req.Dataset, req.Description)
}

// HDBSCANRequest is the body of POST /api/clustering/hdbscan.
type HDBSCANRequest struct {
	MinClusterSize          int     `json:"min_cluster_size"`
	MinSamples              int     `json:"min_samples"`
	ClusterSelectionEpsilon float64 `json:"cluster_selection_epsilon"`
	PCADims                 int     `json:"pca_dims"`
	ReassignNoise           bool    `json:"reassign_noise"`
	EmbeddingModel          string  `json:"embedding_model"`
	Dataset                 string  `json:"dataset"`
	Description             string  `json:"description"`
}

func (s *server) apiHDBSCAN(r *http.Request) (any, error) {
	req := HDBSCANRequest{MinClusterSize: 25, PCADims: 50}
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	if req.MinClusterSize < 2 {
		return nil, badRequest("min_cluster_size must be at least 2, got %d", req.MinClusterSize)
	}
	if req.MinSamples < 0 || req.PCADims < 0 || req.ClusterSelectionEpsilon < 0 {
		return nil, badRequest("min_samples, pca_dims and cluster_selection_epsilon must not be negative")
	}
	h := &clustering.HDBSCAN{MinClusterSize: req.MinClusterSize, MinSamples: req.MinSamples, ClusterSelectionEpsilon: req.ClusterSelectionEpsilon,
		PCADims: req.PCADims, ReassignNoise: req.ReassignNoise}
	spec := clustering.RunSpec{Algorithm: "hdbscan", Clusterer: h, Parameters: map[string]any{
		"min_cluster_size": req.MinClusterSize, "min_samples": req.MinSamples, "cluster_selection_epsilon": req.ClusterSelectionEpsilon,
		"pca_dims": req.PCADims, "reassign_noise": req.ReassignNoise}}
	return s.runClustering(r.Context(), spec, req.EmbeddingModel, req.Dataset, req.Description)
}

// runClustering embeds the missing queries and runs spec, as `lmsys cluster` does.
func (s *server) runClustering(ctx context.Context, spec clustering.RunSpec, model, dataset, description string) (any, error) {
	if model == "" {
		model = embed.DefaultModel
	}
	e, err := s.deps.Embedder(model)
	if err != nil {
		return nil, err
	}
	f := lmsys.QueryFilter{Dataset: dataset}
	if _, err := embed.Backfill(ctx, s.deps.Store, e, f, embed.BackfillOptions{}); err != nil {
		return nil, err
	}
	spec.Space = e.Space()
	spec.Filter = f
	spec.Description = description
	spec.Parameters["embedding_model"] = model
	if dataset != "" {
		spec.Parameters["dataset"] = dataset
	}
	run, err := clustering.Run(ctx, s.deps.Store, spec)
	if err != nil {
		return nil, err
	}
	return created{run}, nil
}

// ---- queries ----

func (s *server) apiQueries(r *http.Request) (any, error) {
	q := r.URL.Query()
	f := lmsys.QueryFilter{Dataset: q.Get("dataset"), Model: q.Get("model"), Language: q.Get("language"), Contains: q.Get("contains"), RunID: q.Get("run_id")}
	if q.Has("cluster_id") {
		c, err := queryInt(r, "cluster_id", 0)
		if err != nil {
			return nil, err
		}
		if f.RunID == "" {
			return nil, badRequest("cluster_id needs run_id")
		}
		f.ClusterID = &c
	}
	if f.RunID != "" {
		if _, err := s.deps.Store.GetRun(r.Context(), f.RunID); err != nil {
			return nil, err
		}
	}
	page, cursor, err := pageParams(r)
	if err != nil {
		return nil, err
	}
	qs, p, err := s.listPage(r.Context(), f, page, cursor)
	if err != nil {
		return nil, err
	}
	return map[string]any{"queries": queryRows(qs), "pagination": p}, nil
}

func (s *server) apiQuery(r *http.Request) (any, error) {
	id, err := pathInt64(r, "query_id")
	if err != nil {
		return nil, err
	}
	return s.cur.ViewQuery(r.Context(), id)
}

// ---- search and verify ----

var errNoSearch = &httpError{http.StatusServiceUnavailable, "unavailable", "search is not configured on this server (no vector index)"}

func (s *server) searchQueries(ctx context.Context, r *http.Request) (search.QueryResults, error) {
	q := r.URL.Query()
	text := q.Get("text")
	if text == "" {
		text = q.Get("q")
	}
	if strings.TrimSpace(text) == "" {
		return search.QueryResults{}, badRequest("parameter text is required")
	}
	o := search.QuerySearchOptions{RunID: q.Get("run_id"), WithinClusters: q.Get("within_clusters"), Facets: queryList(r, "facets"),
		By: q.Get("by"), Mode: q.Get("mode")}
	if o.Mode == "" {
		o.Mode = search.ModeSemantic
	}
	var err error
	if o.NResults, err = queryInt(r, "n_results", 50); err != nil {
		return search.QueryResults{}, err
	}
	if o.TopClusters, err = queryInt(r, "top_clusters", 5); err != nil {
		return search.QueryResults{}, err
	}
	if o.ClusterIDs, err = queryInts(r, "cluster_ids"); err != nil {
		return search.QueryResults{}, err
	}
	if o.SummaryRef, err = summaryRef(r); err != nil {
		return search.QueryResults{}, err
	}
	switch o.Mode {
	case search.ModeSemantic, search.ModeFullText, search.ModeHybrid:
	default:
		return search.QueryResults{}, badRequest("mode %q is not semantic, fulltext or hybrid", o.Mode)
	}
	if o.RunID == "" && o.Mode != search.ModeFullText {
		return search.QueryResults{}, badRequest("run_id is required for mode %s (the run names the embedding space); mode fulltext works without one", o.Mode)
	}
	if o.RunID == "" && (o.WithinClusters != "" || len(o.ClusterIDs) > 0 || o.By != "") {
		return search.QueryResults{}, badRequest("within_clusters, cluster_ids and by need run_id")
	}
	if o.By != "" && o.By != "cluster" {
		return search.QueryResults{}, badRequest("by %q: only 'cluster' is supported", o.By)
	}
	if o.NResults <= 0 || o.NResults > 1000 || o.TopClusters <= 0 {
		return search.QueryResults{}, badRequest("n_results must be in [1, 1000] and top_clusters positive")
	}
	if s.deps.Search == nil {
		return search.QueryResults{}, errNoSearch
	}
	return s.deps.Search.SearchQueries(ctx, text, o)
}

func (s *server) apiSearchQueries(r *http.Request) (any, error) {
	return s.searchQueries(r.Context(), r)
}

func (s *server) apiSearchClusters(r *http.Request) (any, error) {
	q := r.URL.Query()
	text := q.Get("text")
	if text == "" {
		text = q.Get("q")
	}
	if strings.TrimSpace(text) == "" {
		return nil, badRequest("parameter text is required")
	}
	o := search.ClusterSearchOptions{RunID: q.Get("run_id")}
	if o.RunID == "" {
		return nil, badRequest("parameter run_id is required")
	}
	var err error
	if o.TopK, err = queryInt(r, "top_k", 20); err != nil {
		return nil, err
	}
	if o.TopK <= 0 || o.TopK > 1000 {
		return nil, badRequest("top_k must be in [1, 1000], got %d", o.TopK)
	}
	if o.ClusterIDs, err = queryInts(r, "cluster_ids"); err != nil {
		return nil, err
	}
	if o.SummaryRef, err = summaryRef(r); err != nil {
		return nil, err
	}
	if s.deps.Search == nil {
		return nil, errNoSearch
	}
	return s.deps.Search.SearchClusters(r.Context(), text, o)
}

func (s *server) apiSearchInfo(r *http.Request) (any, error) {
	if s.deps.Search == nil {
		return nil, errNoSearch
	}
	cols, err := s.deps.Search.Info(r.Context())
	if err != nil {
		return nil, err
	}
	return map[string]any{"collections": cols}, nil
}

func (s *server) apiVerify(r *http.Request) (any, error) {
	if s.deps.Search == nil {
		return nil, errNoSearch
	}
	if _, err := s.deps.Store.GetRun(r.Context(), r.PathValue("run_id")); err != nil {
		return nil, err
	}
	return s.deps.Search.Verify(r.Context(), r.PathValue("run_id"), false)
}

func (s *server) apiSync(r *http.Request) (any, error) {
	if s.deps.Search == nil {
		return nil, errNoSearch
	}
	if err := decode(r, &struct{}{}); err != nil {
		return nil, err
	}
	if _, err := s.deps.Store.GetRun(r.Context(), r.PathValue("run_id")); err != nil {
		return nil, err
	}
	return s.deps.Search.Verify(r.Context(), r.PathValue("run_id"), true)
}

// ---- hierarchies ----

// HierarchyRef names one hierarchy run.
type HierarchyRef struct {
	HierarchyRunID string `json:"hierarchy_run_id"`
	RunID          string `json:"run_id"`
}

// hierarchyRunOf returns the clustering run of a hierarchy id hier-<run>-YYYYMMDD-HHMMSS.
func hierarchyRunOf(id string) string {
	rest := strings.TrimPrefix(id, "hier-")
	if len(rest) > len("-20060102-150405") {
		return rest[:len(rest)-len("-20060102-150405")]
	}
	return rest
}

func (s *server) hierarchies(ctx context.Context, runID string) ([]HierarchyRef, error) {
	ids, err := s.deps.Store.Hierarchies(ctx, runID)
	if err != nil {
		return nil, err
	}
	out := make([]HierarchyRef, 0, len(ids))
	for _, id := range ids {
		run := runID
		if run == "" {
			run = hierarchyRunOf(id)
		}
		out = append(out, HierarchyRef{HierarchyRunID: id, RunID: run})
	}
	return out, nil
}

func (s *server) apiHierarchies(r *http.Request) (any, error) {
	runID := r.URL.Query().Get("run_id")
	if runID != "" {
		if _, err := s.deps.Store.GetRun(r.Context(), runID); err != nil {
			return nil, err
		}
	}
	hs, err := s.hierarchies(r.Context(), runID)
	if err != nil {
		return nil, err
	}
	return map[string]any{"hierarchies": hs}, nil
}

// HierarchyTotals counts a hierarchy: nodes, leaves (level-0 clusters), levels and
// the queries under its leaves.
type HierarchyTotals struct {
	Clusters int `json:"clusters"`
	Leaves   int `json:"leaves"`
	Levels   int `json:"levels"`
	Queries  int `json:"queries"`
}

// TreeNode is a hierarchy node with its children, for rendering.
type TreeNode struct {
	lmsys.HierarchyNode
	Children []*TreeNode `json:"children,omitempty"`
	// Share is NumQueries over the hierarchy's queries.
	Share float64 `json:"share"`
}

// HierarchyDetail is one hierarchy run: nodes, per-level report, totals and the tree.
type HierarchyDetail struct {
	HierarchyRunID string                  `json:"hierarchy_run_id"`
	RunID          string                  `json:"run_id"`
	Totals         HierarchyTotals         `json:"totals"`
	Levels         []hierarchy.LevelReport `json:"levels"`
	Nodes          []lmsys.HierarchyNode   `json:"nodes"`
	Tree           []*TreeNode             `json:"tree"`
}

func (s *server) hierarchyDetail(ctx context.Context, id string) (HierarchyDetail, error) {
	nodes, err := s.deps.Store.Hierarchy(ctx, id)
	if err != nil {
		return HierarchyDetail{}, err
	}
	if len(nodes) == 0 {
		return HierarchyDetail{}, fmt.Errorf("hierarchy %q: %w", id, lmsys.ErrNotFound)
	}
	d := HierarchyDetail{HierarchyRunID: id, RunID: nodes[0].RunID, Nodes: nodes, Levels: hierarchy.Levels(nodes)}
	byID := make(map[int]*TreeNode, len(nodes))
	for _, n := range nodes {
		d.Totals.Clusters++
		if n.Level == 0 {
			d.Totals.Leaves++
			d.Totals.Queries += n.NumQueries
		}
		d.Totals.Levels = max(d.Totals.Levels, n.Level+1)
		byID[n.ClusterID] = &TreeNode{HierarchyNode: n}
	}
	for _, n := range nodes {
		t := byID[n.ClusterID]
		t.Share = float64(n.NumQueries) / float64(max(d.Totals.Queries, 1))
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
			if ts[i].NumQueries != ts[j].NumQueries {
				return ts[i].NumQueries > ts[j].NumQueries
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
	return s.hierarchyDetail(r.Context(), r.PathValue("hierarchy_run_id"))
}

// HierarchyRequest is the body of POST /api/hierarchy/ (an offline merge).
type HierarchyRequest struct {
	RunID        string  `json:"run_id"`
	TargetLevels int     `json:"target_levels"`
	MergeRatio   float64 `json:"merge_ratio"`
	TopClusters  int     `json:"top_clusters"`
	SummaryRunID string  `json:"summary_run_id"`
	Linkage      string  `json:"linkage"`
	Seed         int64   `json:"seed"`
}

func (s *server) apiBuildHierarchy(r *http.Request) (any, error) {
	req := HierarchyRequest{RunID: r.URL.Query().Get("run_id")}
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	if req.RunID == "" {
		return nil, badRequest("run_id is required (query parameter or body)")
	}
	if req.TargetLevels < 0 || req.TargetLevels == 1 || req.MergeRatio < 0 || req.MergeRatio >= 1 || req.TopClusters < 0 {
		return nil, badRequest("target_levels must be 0 (default 3) or at least 2, merge_ratio in [0, 1) and top_clusters not negative")
	}
	res, err := hierarchy.Run(r.Context(), s.deps.Store, req.RunID, hierarchy.Options{TargetLevels: req.TargetLevels, MergeRatio: req.MergeRatio,
		TopClusters: req.TopClusters, SummaryRun: req.SummaryRunID, Linkage: req.Linkage, Seed: req.Seed})
	if err != nil {
		return nil, err
	}
	return created{res.Report}, nil
}

// ---- summaries ----

func (s *server) apiSummaryRuns(r *http.Request) (any, error) {
	ctx := r.Context()
	runID := r.URL.Query().Get("run_id")
	var runs []string
	if runID != "" {
		if _, err := s.deps.Store.GetRun(ctx, runID); err != nil {
			return nil, err
		}
		runs = []string{runID}
	} else {
		all, err := s.deps.Store.ListRuns(ctx)
		if err != nil {
			return nil, err
		}
		for _, x := range all {
			runs = append(runs, x.ID)
		}
	}
	out := []lmsys.SummaryRun{}
	for _, id := range runs {
		srs, err := s.deps.Store.SummaryRuns(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, srs...)
	}
	return map[string]any{"summary_runs": out}, nil
}

func (s *server) apiSummary(r *http.Request) (any, error) {
	ctx := r.Context()
	cid, err := pathInt(r, "cluster_id")
	if err != nil {
		return nil, err
	}
	srID := r.PathValue("summary_run_id")
	runID := r.URL.Query().Get("run_id")
	if runID == "" {
		runs, err := s.deps.Store.ListRuns(ctx)
		if err != nil {
			return nil, err
		}
	find:
		for _, run := range runs {
			srs, err := s.deps.Store.SummaryRuns(ctx, run.ID)
			if err != nil {
				return nil, err
			}
			for _, sr := range srs {
				if sr.SummaryRunID == srID {
					runID = run.ID
					break find
				}
			}
		}
		if runID == "" {
			return nil, fmt.Errorf("summary run %q: %w", srID, lmsys.ErrNotFound)
		}
	}
	ss, err := s.deps.Store.Summaries(ctx, runID, srID)
	if err != nil {
		return nil, err
	}
	for _, x := range ss {
		if x.ClusterID == cid {
			return x, nil
		}
	}
	return nil, fmt.Errorf("cluster %d in summary run %s: %w", cid, srID, lmsys.ErrNotFound)
}

// SummarizeRequest is the body of POST /api/summaries/.
type SummarizeRequest struct {
	RunID string `json:"run_id"`
	// Model is an LLM provider/model; empty or "offline" uses the offline c-TF-IDF summarizer.
	Model        string `json:"model"`
	Alias        string `json:"alias"`
	SummaryRunID string `json:"summary_run_id"`
	MaxQueries   int    `json:"max_queries"`
	Resume       bool   `json:"resume"`
	ClusterID    *int   `json:"cluster_id"`
	Concurrency  int    `json:"concurrency"`
}

func (s *server) apiSummarize(r *http.Request) (any, error) {
	req := SummarizeRequest{RunID: r.URL.Query().Get("run_id"), MaxQueries: 100, Concurrency: 4}
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	if req.RunID == "" {
		return nil, badRequest("run_id is required (query parameter or body)")
	}
	if req.MaxQueries < 1 || req.Concurrency < 1 {
		return nil, badRequest("max_queries and concurrency must be positive")
	}
	ctx := r.Context()
	if _, err := s.deps.Store.GetRun(ctx, req.RunID); err != nil {
		return nil, err
	}
	var sm lmsys.Summarizer
	if req.Model == "" || req.Model == "offline" || req.Model == summarize.OfflineModel {
		sm = &summarize.Offline{}
	} else {
		client, err := llm.Open(req.Model, llm.WithConcurrency(req.Concurrency), llm.WithCache(s.deps.Store.LLMCache()))
		if err != nil {
			return nil, err
		}
		if sm, err = summarize.NewLLM(client, summarize.LLMOptions{}); err != nil {
			return nil, err
		}
	}
	res, err := summarize.Run(ctx, s.deps.Store, req.RunID, sm, summarize.RunOptions{SummaryRunID: req.SummaryRunID, Alias: req.Alias,
		Resume: req.Resume, ClusterID: req.ClusterID, Prepare: summarize.PrepareOptions{MaxQueries: req.MaxQueries}})
	s.sumCache.reset()
	if err != nil {
		return nil, err
	}
	if s.deps.Search != nil {
		// New titles change what cluster search finds; bring the index in step now.
		if err := s.deps.Search.ReindexClusters(context.WithoutCancel(ctx), req.RunID, nil); err != nil {
			s.log.Warn("web: re-index summaries", "run", req.RunID, "err", err)
		}
	}
	return created{res}, nil
}

// ---- curation ----

// runParam returns the run id from the body field (when set) or the run_id query
// parameter, and checks that the run exists.
func (s *server) runParam(r *http.Request, body string) (string, error) {
	id := body
	if id == "" {
		id = r.URL.Query().Get("run_id")
	}
	if id == "" {
		return "", badRequest("run_id is required (query parameter or body)")
	}
	if _, err := s.deps.Store.GetRun(r.Context(), id); err != nil {
		return "", err
	}
	return id, nil
}

func (s *server) apiMetadata(r *http.Request) (any, error) {
	cid, err := pathInt(r, "cluster_id")
	if err != nil {
		return nil, err
	}
	runID, err := s.runParam(r, "")
	if err != nil {
		return nil, err
	}
	return s.deps.Store.ClusterMetadata(r.Context(), runID, cid)
}

func (s *server) apiHistory(r *http.Request) (any, error) {
	cid, err := pathInt(r, "cluster_id")
	if err != nil {
		return nil, err
	}
	runID, err := s.runParam(r, "")
	if err != nil {
		return nil, err
	}
	es, err := s.cur.History(r.Context(), runID, cid)
	if err != nil {
		return nil, err
	}
	return map[string]any{"run_id": runID, "cluster_id": cid, "edits": nonNil(es)}, nil
}

func nonNil[T any](xs []T) []T {
	if xs == nil {
		return []T{}
	}
	return xs
}

func auditFilter(r *http.Request) (curation.AuditFilter, error) {
	q := r.URL.Query()
	f := curation.AuditFilter{Editor: q.Get("editor"), Type: q.Get("type")}
	if v := q.Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			if t, err = time.Parse("2006-01-02", v); err != nil {
				return f, badRequest("since %q is not RFC 3339 or YYYY-MM-DD", v)
			}
		}
		f.Since = t
	}
	if f.Type != "" && !contains(curation.EditTypes, f.Type) {
		return f, badRequest("type %q is not one of %s", f.Type, strings.Join(curation.EditTypes, ", "))
	}
	var err error
	if f.Limit, err = queryInt(r, "limit", 0); err != nil {
		return f, err
	}
	if f.Limit < 0 {
		return f, badRequest("limit must not be negative")
	}
	return f, nil
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

func (s *server) apiAudit(r *http.Request) (any, error) {
	runID, err := s.runParam(r, r.PathValue("run_id"))
	if err != nil {
		return nil, err
	}
	f, err := auditFilter(r)
	if err != nil {
		return nil, err
	}
	es, err := s.cur.Audit(r.Context(), runID, f)
	if err != nil {
		return nil, err
	}
	return map[string]any{"run_id": runID, "edits": nonNil(es)}, nil
}

func (s *server) apiOrphaned(r *http.Request) (any, error) {
	runID, err := s.runParam(r, r.PathValue("run_id"))
	if err != nil {
		return nil, err
	}
	os, err := s.cur.Orphaned(r.Context(), runID)
	if err != nil {
		return nil, err
	}
	return map[string]any{"run_id": runID, "orphaned": nonNil(os)}, nil
}

func (s *server) apiBadClusters(r *http.Request) (any, error) {
	runID, err := s.runParam(r, r.PathValue("run_id"))
	if err != nil {
		return nil, err
	}
	q := r.URL.Query()
	f := curation.BadFilter{GenericTitles: q.Get("generic_titles") == "true", Flags: queryList(r, "flags"), SummaryRunID: q.Get("summary_run_id")}
	if f.MaxSize, err = queryInt(r, "max_size", 0); err != nil {
		return nil, err
	}
	if f.MinCoherence, err = queryInt(r, "min_coherence", 0); err != nil {
		return nil, err
	}
	bs, err := s.cur.SelectBadClusters(r.Context(), runID, f)
	if err != nil {
		return nil, err
	}
	return map[string]any{"run_id": runID, "clusters": nonNil(bs)}, nil
}

// EditRequest holds the fields every edit accepts.
type EditRequest struct {
	RunID  string `json:"run_id"`
	Editor string `json:"editor"`
	Reason string `json:"reason"`
}

// editBody is a request body embedding EditRequest.
type editBody interface{ editRequest() *EditRequest }

func (e *EditRequest) editRequest() *EditRequest { return e }

// decodeEdit decodes an edit's body into req and returns the run it names (in the
// body or the run_id query parameter).
func (s *server) decodeEdit(r *http.Request, req editBody) (string, error) {
	if err := decode(r, req); err != nil {
		return "", err
	}
	return s.runParam(r, req.editRequest().RunID)
}

func (s *server) editor(e EditRequest) string {
	if e.Editor != "" {
		return e.Editor
	}
	return s.opts.Editor
}

// MoveRequest is the body of the move endpoints.
type MoveRequest struct {
	EditRequest
	ToClusterID *int    `json:"to_cluster_id"`
	QueryIDs    []int64 `json:"query_ids,omitempty"`
}

func (s *server) apiMove(r *http.Request) (any, error) {
	qid, err := pathInt64(r, "query_id")
	if err != nil {
		return nil, err
	}
	var req MoveRequest
	runID, err := s.decodeEdit(r, &req)
	if err != nil {
		return nil, err
	}
	if req.ToClusterID == nil {
		return nil, badRequest("to_cluster_id is required")
	}
	return s.cur.MoveQuery(r.Context(), runID, qid, *req.ToClusterID, s.editor(req.EditRequest), req.Reason)
}

func (s *server) apiMoveMany(r *http.Request) (any, error) {
	var req MoveRequest
	runID, err := s.decodeEdit(r, &req)
	if err != nil {
		return nil, err
	}
	if req.ToClusterID == nil || len(req.QueryIDs) == 0 {
		return nil, badRequest("to_cluster_id and query_ids are required")
	}
	return s.cur.MoveQueries(r.Context(), runID, req.QueryIDs, *req.ToClusterID, s.editor(req.EditRequest), req.Reason)
}

// RenameRequest is the body of POST /api/curation/clusters/{cluster_id}/rename.
type RenameRequest struct {
	EditRequest
	Title        string `json:"title"`
	Description  string `json:"description"`
	SummaryRunID string `json:"summary_run_id"`
}

func (s *server) apiRename(r *http.Request) (any, error) {
	cid, err := pathInt(r, "cluster_id")
	if err != nil {
		return nil, err
	}
	var req RenameRequest
	runID, err := s.decodeEdit(r, &req)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(req.Title) == "" && strings.TrimSpace(req.Description) == "" {
		return nil, badRequest("title or description is required")
	}
	return s.cur.RenameCluster(r.Context(), runID, cid, curation.Rename{Title: req.Title, Description: req.Description, SummaryRunID: req.SummaryRunID},
		s.editor(req.EditRequest), req.Reason)
}

// MergeRequest is the body of POST /api/curation/clusters/merge.
type MergeRequest struct {
	EditRequest
	SourceClusterIDs []int `json:"source_cluster_ids"`
	TargetClusterID  *int  `json:"target_cluster_id"`
}

func (s *server) apiMerge(r *http.Request) (any, error) {
	var req MergeRequest
	runID, err := s.decodeEdit(r, &req)
	if err != nil {
		return nil, err
	}
	if req.TargetClusterID == nil || len(req.SourceClusterIDs) == 0 {
		return nil, badRequest("source_cluster_ids and target_cluster_id are required")
	}
	return s.cur.MergeClusters(r.Context(), runID, req.SourceClusterIDs, *req.TargetClusterID, s.editor(req.EditRequest), req.Reason)
}

// SplitRequest is the body of POST /api/curation/clusters/{cluster_id}/split: give
// query_ids (they form one new cluster) or k.
type SplitRequest struct {
	EditRequest
	QueryIDs []int64 `json:"query_ids"`
	K        int     `json:"k"`
}

func (s *server) apiSplit(r *http.Request) (any, error) {
	cid, err := pathInt(r, "cluster_id")
	if err != nil {
		return nil, err
	}
	var req SplitRequest
	runID, err := s.decodeEdit(r, &req)
	if err != nil {
		return nil, err
	}
	if (len(req.QueryIDs) == 0) == (req.K == 0) {
		return nil, badRequest("give query_ids or k, exactly one")
	}
	return s.cur.SplitCluster(r.Context(), runID, cid, curation.Split{QueryIDs: req.QueryIDs, K: req.K}, s.editor(req.EditRequest), req.Reason)
}

// DeleteRequest is the body of POST /api/curation/clusters/{cluster_id}/delete: its
// queries are orphaned, or moved to move_to.
type DeleteRequest struct {
	EditRequest
	Orphan bool `json:"orphan"`
	MoveTo *int `json:"move_to"`
}

func (s *server) apiDelete(r *http.Request) (any, error) {
	cid, err := pathInt(r, "cluster_id")
	if err != nil {
		return nil, err
	}
	var req DeleteRequest
	runID, err := s.decodeEdit(r, &req)
	if err != nil {
		return nil, err
	}
	if req.Orphan == (req.MoveTo != nil) {
		return nil, badRequest("give orphan: true or move_to, exactly one")
	}
	return s.cur.DeleteCluster(r.Context(), runID, cid, curation.Delete{Orphan: req.Orphan, MoveTo: req.MoveTo}, s.editor(req.EditRequest), req.Reason)
}

// TagRequest is the body of POST /api/curation/clusters/{cluster_id}/tag; absent
// fields keep their values.
type TagRequest struct {
	EditRequest
	Coherence *int     `json:"coherence"`
	Quality   *string  `json:"quality"`
	Flags     []string `json:"flags"`
	Notes     *string  `json:"notes"`
}

func (s *server) apiTag(r *http.Request) (any, error) {
	cid, err := pathInt(r, "cluster_id")
	if err != nil {
		return nil, err
	}
	var req TagRequest
	runID, err := s.decodeEdit(r, &req)
	if err != nil {
		return nil, err
	}
	if req.Coherence == nil && req.Quality == nil && req.Flags == nil && req.Notes == nil {
		return nil, badRequest("give at least one of coherence, quality, flags, notes")
	}
	return s.cur.TagCluster(r.Context(), runID, cid, curation.Tag{Coherence: req.Coherence, Quality: req.Quality, Flags: req.Flags, Notes: req.Notes},
		s.editor(req.EditRequest), req.Reason)
}

// FlagRequest is the body of POST /api/curation/clusters/{cluster_id}/flag.
type FlagRequest struct {
	EditRequest
	Flag string `json:"flag"`
}

func (s *server) apiFlag(r *http.Request) (any, error) {
	cid, err := pathInt(r, "cluster_id")
	if err != nil {
		return nil, err
	}
	var req FlagRequest
	runID, err := s.decodeEdit(r, &req)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(req.Flag) == "" {
		return nil, badRequest("flag is required")
	}
	return s.cur.FlagCluster(r.Context(), runID, cid, req.Flag, s.editor(req.EditRequest), req.Reason)
}

// UndoRequest is the body of POST /api/curation/runs/{run_id}/undo.
type UndoRequest struct {
	EditRequest
	EditID int64 `json:"edit_id"`
}

func (s *server) apiUndo(r *http.Request) (any, error) {
	var req UndoRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	runID, err := s.runParam(r, r.PathValue("run_id"))
	if err != nil {
		return nil, err
	}
	if req.EditID <= 0 {
		return nil, badRequest("edit_id is required")
	}
	return s.cur.Undo(r.Context(), runID, req.EditID, s.editor(req.EditRequest), req.Reason)
}

// ReassignRequest is the body of POST /api/curation/runs/{run_id}/orphaned/reassign:
// the listed orphans (all when query_ids is empty) go to to_cluster_id.
type ReassignRequest struct {
	EditRequest
	ToClusterID *int    `json:"to_cluster_id"`
	QueryIDs    []int64 `json:"query_ids"`
}

func (s *server) apiReassign(r *http.Request) (any, error) {
	var req ReassignRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	runID, err := s.runParam(r, r.PathValue("run_id"))
	if err != nil {
		return nil, err
	}
	if req.ToClusterID == nil {
		return nil, badRequest("to_cluster_id is required")
	}
	return s.cur.ReassignOrphans(r.Context(), runID, *req.ToClusterID, req.QueryIDs, s.editor(req.EditRequest), req.Reason)
}

// ---- analysis ----

func (s *server) apiFacets(r *http.Request) (any, error) {
	runID, err := s.runParam(r, r.PathValue("run_id"))
	if err != nil {
		return nil, err
	}
	opts := analysis.FacetOptions{Fields: queryList(r, "by")}
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
	return map[string]any{"run_id": runID, "facets": fs}, nil
}

func trendOptions(r *http.Request) (analysis.TrendOptions, error) {
	q := r.URL.Query()
	o := analysis.TrendOptions{Period: q.Get("period"), Field: q.Get("field")}
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
