package web

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/lmsys-go/lmsys"
)

// The read endpoints. Their parameters, defaults and answers follow the Python tool's
// routers (api/routers/*.py): lists are pages of limit items (1 to 100), a malformed
// or out-of-range parameter is a 422, an unknown id in the path a 404, and a list
// filtered by a run that does not exist an empty page.

// registerAPI registers every /api route. The OpenAPI document (openapi.go) lists the
// same routes; TestOpenAPICoversRoutes keeps the two equal.
func (s *server) registerAPI() {
	s.get("/api/openapi.json", func(r *http.Request) (any, error) { return openAPIDocument(), nil })
	s.get("/openapi.json", func(r *http.Request) (any, error) { return openAPIDocument(), nil })
	s.get("/api/health", s.apiHealth)
	s.get("/api/status", s.apiStatus)

	s.get("/api/clustering/runs", alsoAs("runs", s.apiRuns))
	s.get("/api/clustering/runs/{run_id}", s.apiRun)
	s.get("/api/clustering/runs/{run_id}/status", s.apiRunStatus)
	s.get("/api/clustering/runs/{run_id}/clusters", alsoAs("clusters", s.apiClusters))
	s.get("/api/clustering/runs/{run_id}/clusters/{cluster_id}", s.apiCluster)
	s.post("/api/clustering/kmeans", s.apiKMeans)
	s.post("/api/clustering/hdbscan", s.apiHDBSCAN)

	s.get("/api/queries", alsoAs("queries", s.apiQueries))
	s.get("/api/queries/{query_id}", s.apiQuery)

	s.get("/api/search/queries", alsoAs("results", s.apiSearchQueries))
	s.get("/api/search/clusters", s.apiSearchClusters)
	s.get("/api/search/info", s.apiSearchInfo)
	s.get("/api/verify/runs/{run_id}", s.apiVerify)
	s.post("/api/verify/runs/{run_id}/sync", s.apiSync)

	s.get("/api/hierarchy/{$}", alsoAs("hierarchies", s.apiHierarchies))
	s.get("/api/hierarchy", alsoAs("hierarchies", s.apiHierarchies))
	s.get("/api/hierarchy/{hierarchy_run_id}", s.apiHierarchy)
	s.post("/api/hierarchy/{$}", s.apiBuildHierarchy)

	s.get("/api/summaries/{$}", alsoAs("summary_runs", s.apiSummaryRuns))
	s.get("/api/summaries", alsoAs("summary_runs", s.apiSummaryRuns))
	s.get("/api/summaries/{summary_run_id}/clusters/{cluster_id}", s.apiSummary)
	s.post("/api/summaries/{$}", s.apiSummarize)

	s.get("/api/curation/clusters/{cluster_id}/metadata", s.apiMetadata)
	s.get("/api/curation/clusters/{cluster_id}/history", alsoAs("edits", s.apiHistory))
	s.get("/api/curation/runs/{run_id}/audit", alsoAs("edits", s.apiAudit))
	s.get("/api/curation/runs/{run_id}/orphaned", alsoAs("orphaned", s.apiOrphaned))
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
	s.get("/api/analysis/runs/{run_id}/labels/{facet}", s.apiLabelClusters)
	s.get("/api/clustering/runs/{run_id}/clusters/{cluster_id}/labels", s.apiClusterLabels)
	s.get("/api/classifications", s.apiClassificationRuns)
	s.get("/api/classifications/{classification_run_id}", s.apiClassificationRun)
	s.get("/api/labels", s.apiLabelFacets)
	s.get("/api/clustering/runs/{run_id}/map", s.apiMap)
	s.raw("/api/clustering/runs/{run_id}/map/points", s.mapPoints)
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

func (s *server) apiHealth(r *http.Request) (any, error) {
	backend := "sqlite"
	if s.deps.Store.Postgres() {
		backend = "postgres"
	}
	return map[string]any{"status": "ok", "service": "lmsys-query-analysis", "store": backend, "search": s.deps.Search != nil}, nil
}

func containsInt(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}
