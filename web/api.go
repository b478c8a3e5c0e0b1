package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
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
	"github.com/lmsys-go/lmsys/store"
	"github.com/lmsys-go/lmsys/summarize"
)

// registerAPI registers every /api route. The OpenAPI document (openapi.go) lists the
// same routes; TestOpenAPICoversRoutes keeps the two equal.
func (s *server) registerAPI() {
	s.get("/api/openapi.json", func(r *http.Request) (any, error) { return openAPIDocument(), nil })
	s.get("/openapi.json", func(r *http.Request) (any, error) { return openAPIDocument(), nil })
	s.get("/api/health", s.apiHealth)
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
	s.get("/api/hierarchy", s.apiHierarchies)
	s.get("/api/hierarchy/{hierarchy_run_id}", s.apiHierarchy)
	s.post("/api/hierarchy/{$}", s.apiBuildHierarchy)

	s.get("/api/summaries/{$}", s.apiSummaryRuns)
	s.get("/api/summaries", s.apiSummaryRuns)
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

var errNoSearch = &httpError{http.StatusServiceUnavailable, "unavailable", "search is not configured on this server (no vector index)"}

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

func nonNil[T any](xs []T) []T {
	if xs == nil {
		return []T{}
	}
	return xs
}

// parseSince reads an RFC 3339 time or a YYYY-MM-DD date.
func parseSince(v string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		t, err = time.Parse("2006-01-02", v)
	}
	return t, err
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
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
