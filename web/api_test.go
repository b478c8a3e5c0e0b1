package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// call sends one request to h and returns the status and body.
func call(t testing.TB, h http.Handler, method, path string, body any, token string) (int, []byte) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		js, err := json.Marshal(b)
		require.NoError(t, err)
		rd = bytes.NewReader(js)
	}
	req := httptest.NewRequest(method, path, rd)
	req.Host = "localhost:8000" // httptest's example.com is no allowed host
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.Bytes()
}

// callJSON is call decoding a JSON object answer.
func callJSON(t testing.TB, h http.Handler, method, path string, body any, token string) (int, map[string]any) {
	t.Helper()
	code, b := call(t, h, method, path, body, token)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m), "%s %s answered %d %q", method, path, code, b)
	return code, m
}

func TestReadRoutes(t *testing.T) {
	f := shared
	h := f.handler(Options{})
	run, c := f.runID, f.xssClust
	cases := []struct {
		path string
		keys []string
	}{
		{"/api/status", []string{"total_queries", "datasets"}},
		{"/api/openapi.json", []string{"openapi", "paths"}},
		{"/api/clustering/runs", []string{"items", "total", "page", "pages", "limit"}},
		{"/api/clustering/runs/" + run, []string{"run_id", "algorithm", "embedding_space", "parameters", "description", "metrics", "latest_errors"}},
		{"/api/clustering/runs/" + run + "/status", []string{"status", "num_clusters", "processed"}},
		{"/api/clustering/runs/" + run + "/clusters", []string{"run_id", "summary_run_id", "total_queries", "num_clusters", "items", "total", "pages"}},
		{"/api/clustering/runs/" + run + "/clusters?alias=&summary_run_id=" + f.sumID + "&examples=2&limit=3", []string{"items"}},
		{fmt.Sprintf("/api/clustering/runs/%s/clusters/%d", run, c), []string{"cluster", "summary", "metadata", "queries", "pagination", "num_queries"}},
		{"/api/queries?run_id=" + run + fmt.Sprintf("&cluster_id=%d", c), []string{"items", "total", "page", "pages", "limit"}},
		{"/api/queries?contains=python&language=English", []string{"items", "total"}},
		{fmt.Sprintf("/api/queries/%d", f.xssID), []string{"query", "clusters"}},
		{"/api/search/queries?mode=fulltext&text=python", []string{"text", "items", "total", "applied_clusters", "facets"}},
		{"/api/search/queries?run_id=" + run + "&text=write+a+python+script&mode=semantic&facets=cluster,language", []string{"items", "facets"}},
		{"/api/search/queries?run_id=" + run + "&text=python&mode=hybrid&by=cluster", []string{"items", "facets"}},
		{"/api/search/clusters?run_id=" + run + "&text=email&top_k=3&mode=semantic", []string{"text", "run_id", "items"}},
		{"/api/search/clusters?text=email", []string{"items", "total"}},
		{"/api/search/info", []string{"collections"}},
		{"/api/verify/runs/" + run, []string{"collections", "in_sync"}},
		{"/api/hierarchy/", []string{"items", "total"}},
		{"/api/hierarchy?run_id=" + run, []string{"items", "total"}},
		{"/api/hierarchy/" + f.hierID, []string{"hierarchy_run_id", "totals", "levels", "nodes", "tree", "total_queries"}},
		{"/api/summaries/", []string{"items", "total"}},
		{"/api/summaries?run_id=" + run, []string{"items", "total"}},
		{fmt.Sprintf("/api/summaries/%s/clusters/%d", f.sumID, c), []string{"title", "description", "representative_queries"}},
		{fmt.Sprintf("/api/summaries/%s/clusters/%d?run_id=%s", f.sumID, c, run), []string{"title"}},
		{fmt.Sprintf("/api/curation/clusters/%d/metadata?run_id=%s", c, run), []string{"run_id", "cluster_id", "coherence_score", "quality", "notes", "flags", "last_edited"}},
		{fmt.Sprintf("/api/curation/clusters/%d/history?run_id=%s", c, run), []string{"items", "total"}},
		{"/api/curation/runs/" + run + "/audit", []string{"items", "total"}},
		{"/api/curation/runs/" + run + "/orphaned", []string{"items", "total"}},
		{"/api/health", []string{"status", "service"}},
		{"/openapi.json", []string{"openapi", "paths"}},
		{"/api/curation/runs/" + run + "/bad-clusters?max_size=20&generic_titles=true", []string{"clusters"}},
		{"/api/analysis/runs/" + run + "/facets?by=language,model", []string{"facets"}},
		{"/api/analysis/runs/" + run + "/trends?period=month", []string{"periods", "clusters"}},
		{"/api/analysis/runs/" + run + "/compare?a=2026-01&b=2026-02&period=month", []string{"risers", "fallers"}},
	}
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			code, m := callJSON(t, h, "GET", tc.path, nil, "")
			require.Equal(t, http.StatusOK, code, "%v", m)
			for _, k := range tc.keys {
				assert.Contains(t, m, k)
			}
		})
	}
	// The hierarchy totals add up.
	_, m := callJSON(t, h, "GET", "/api/hierarchy/"+f.hierID, nil, "")
	tot := m["totals"].(map[string]any)
	assert.EqualValues(t, 3, tot["levels"])
	assert.EqualValues(t, 12, tot["leaves"])
	_, cl := callJSON(t, h, "GET", "/api/clustering/runs/"+run+"/clusters", nil, "")
	assert.Equal(t, cl["total_queries"], tot["queries"])
	assert.Equal(t, m["total_queries"], tot["queries"])
}

func TestErrors(t *testing.T) {
	f := shared
	h := f.handler(Options{})
	run := f.runID
	cases := []struct {
		method, path string
		body         any
		status       int
		code         string
	}{
		{"GET", "/api/clustering/runs/nope", nil, 404, "not_found"},
		{"GET", "/api/clustering/runs/nope/status", nil, 404, "not_found"},
		{"GET", "/api/clustering/runs/" + run + "/clusters/9999", nil, 404, "not_found"},
		{"GET", "/api/clustering/runs/" + run + "/clusters/abc", nil, 422, "validation_error"},
		{"GET", "/api/clustering/runs/" + run + "/clusters?summary_run_id=a&alias=b", nil, 400, "invalid_input"},
		{"GET", "/api/clustering/runs/" + run + "/clusters/0?page=0", nil, 422, "validation_error"},
		{"GET", "/api/clustering/runs/" + run + "/clusters/0?page=x", nil, 422, "validation_error"},
		{"GET", "/api/clustering/runs/" + run + "/clusters/0?cursor=-4", nil, 422, "validation_error"},
		{"GET", "/api/queries/999999", nil, 404, "not_found"},
		{"GET", "/api/queries/x", nil, 422, "validation_error"},
		{"GET", "/api/queries?cluster_id=1", nil, 400, "invalid_input"},
		{"GET", "/api/search/queries?run_id=" + run, nil, 422, "validation_error"},
		{"GET", "/api/search/queries?text=x&mode=semantic", nil, 400, "invalid_input"},
		{"GET", "/api/search/queries?text=x&run_id=" + run + "&mode=fuzzy", nil, 422, "validation_error"},
		{"GET", "/api/search/queries?text=x&run_id=nope&mode=semantic", nil, 404, "not_found"},
		{"GET", "/api/search/clusters?text=x&mode=semantic", nil, 400, "invalid_input"},
		{"GET", "/api/search/clusters?text=x&run_id=nope&mode=semantic", nil, 404, "not_found"},
		{"GET", "/api/verify/runs/nope", nil, 404, "not_found"},
		{"GET", "/api/hierarchy/hier-nope", nil, 404, "not_found"},
		{"GET", "/api/summaries/nope/clusters/1", nil, 404, "not_found"},
		{"GET", "/api/summaries/" + f.sumID + "/clusters/9999", nil, 404, "not_found"},
		{"GET", "/api/curation/clusters/1/metadata", nil, 422, "validation_error"},
		{"GET", "/api/curation/runs/" + run + "/audit?type=bogus", nil, 422, "validation_error"},
		{"GET", "/api/curation/runs/" + run + "/audit?since=yesterday", nil, 422, "validation_error"},
		{"GET", "/api/curation/runs/" + run + "/bad-clusters", nil, 400, "invalid_input"},
		{"GET", "/api/analysis/runs/nope/facets", nil, 404, "not_found"},
		{"GET", "/api/analysis/runs/" + run + "/compare", nil, 400, "invalid_input"},
		{"GET", "/api/nothing/here", nil, 404, "not_found"},
		{"POST", "/api/clustering/kmeans", `{"n_clusters": 0}`, 400, "invalid_input"},
		{"POST", "/api/clustering/kmeans", `{"n_clusters": 3, "algorithm": "magic"}`, 400, "invalid_input"},
		{"POST", "/api/clustering/kmeans", `{"n_clusters": 3, "embedding_model": "nobody/nothing"}`, 400, "invalid_input"},
		{"POST", "/api/clustering/hdbscan", `{"min_cluster_size": 1}`, 400, "invalid_input"},
		{"POST", "/api/clustering/kmeans", `{"n_clusters": 3,`, 400, "invalid_input"},
		{"POST", "/api/clustering/kmeans", `{"n_cluster": 3}`, 400, "invalid_input"},
		{"POST", "/api/clustering/kmeans", `[1,2]`, 400, "invalid_input"},
		{"POST", "/api/clustering/kmeans", `{} {}`, 400, "invalid_input"},
		{"POST", "/api/summaries/", `{}`, 400, "invalid_input"},
		{"POST", "/api/summaries/", `{"run_id": "nope"}`, 404, "not_found"},
		{"POST", "/api/summaries/", `{"run_id": "` + run + `", "model": "nobody/x"}`, 400, "invalid_input"},
		{"POST", "/api/hierarchy/", `{}`, 400, "invalid_input"},
		{"POST", "/api/hierarchy/?run_id=nope", `{}`, 404, "not_found"},
		{"POST", "/api/hierarchy/", `{"run_id": "` + run + `", "target_levels": 1}`, 400, "invalid_input"},
		{"POST", "/api/curation/queries/1/move", `{"to_cluster_id": 1}`, 400, "invalid_input"},
		{"POST", "/api/curation/queries/1/move?run_id=nope", `{"to_cluster_id": 1}`, 404, "not_found"},
		{"POST", "/api/curation/queries/1/move?run_id=" + run, `{}`, 400, "invalid_input"},
		{"POST", "/api/curation/queries/x/move?run_id=" + run, `{"to_cluster_id": 1}`, 422, "validation_error"},
		{"POST", "/api/curation/queries/999999/move?run_id=" + run, `{"to_cluster_id": 1}`, 404, "not_found"},
		{"POST", "/api/curation/queries/1/move?run_id=" + run, `{"to_cluster_id": 9999}`, 404, "not_found"},
		{"POST", "/api/curation/queries/move", `{"run_id": "` + run + `", "to_cluster_id": 1}`, 400, "invalid_input"},
		{"POST", "/api/curation/clusters/1/rename?run_id=" + run, `{}`, 400, "invalid_input"},
		{"POST", "/api/curation/clusters/9999/rename?run_id=" + run, `{"title": "x"}`, 404, "not_found"},
		{"POST", "/api/curation/clusters/1/rename?run_id=" + run, `{"title": 5}`, 400, "invalid_input"},
		{"POST", "/api/curation/clusters/merge?run_id=" + run, `{"target_cluster_id": 1}`, 400, "invalid_input"},
		{"POST", "/api/curation/clusters/merge?run_id=" + run, `{"source_cluster_ids": [9999], "target_cluster_id": 1}`, 404, "not_found"},
		{"POST", "/api/curation/clusters/1/split?run_id=" + run, `{}`, 400, "invalid_input"},
		{"POST", "/api/curation/clusters/1/delete?run_id=" + run, `{}`, 400, "invalid_input"},
		{"POST", "/api/curation/clusters/1/delete?run_id=" + run, `{"orphan": true, "move_to": 2}`, 400, "invalid_input"},
		{"POST", "/api/curation/clusters/1/tag?run_id=" + run, `{}`, 400, "invalid_input"},
		{"POST", "/api/curation/clusters/1/tag?run_id=" + run, `{"quality": "superb"}`, 400, "invalid_input"},
		{"POST", "/api/curation/clusters/1/flag?run_id=" + run, `{}`, 400, "invalid_input"},
		{"POST", "/api/curation/runs/" + run + "/undo", `{}`, 400, "invalid_input"},
		{"POST", "/api/curation/runs/" + run + "/undo", `{"edit_id": 999999}`, 404, "not_found"},
		{"POST", "/api/curation/runs/nope/undo", `{"edit_id": 1}`, 404, "not_found"},
		{"POST", "/api/curation/runs/" + run + "/orphaned/reassign", `{}`, 400, "invalid_input"},
		{"POST", "/api/curation/runs/" + run + "/orphaned/reassign", `{"to_cluster_id": 1}`, 422, "empty"},
		{"POST", "/api/verify/runs/nope/sync", ``, 404, "not_found"},
		{"PUT", "/api/clustering/runs", nil, 405, "method_not_allowed"},
		{"GET", "/api/clustering/kmeans", nil, 405, "method_not_allowed"},
	}
	for _, tc := range cases {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			code, b := call(t, h, tc.method, tc.path, tc.body, "")
			require.Equal(t, tc.status, code, "%s", b)
			if tc.code == "" {
				return
			}
			var e errorBody
			require.NoError(t, json.Unmarshal(b, &e), "%s", b)
			assert.Equal(t, tc.code, e.Code)
			assert.NotEmpty(t, e.Error.Message)
			assert.Equal(t, e.Error, e.Detail.Error)
			assert.NotEmpty(t, e.Error.Type)
			assert.NotContains(t, e.Error.Message, "goroutine")
		})
	}
}

func TestPagination(t *testing.T) {
	f := shared
	h := f.handler(Options{})
	_, list := callJSON(t, h, "GET", "/api/clustering/runs/"+f.runID+"/clusters", nil, "")
	big := list["items"].([]any)[0].(map[string]any)
	n := int(big["num_queries"].(float64))
	require.Greater(t, n, PageSize, "the largest demo cluster needs two pages")
	cid := int(big["cluster_id"].(float64))
	base := fmt.Sprintf("/api/clustering/runs/%s/clusters/%d", f.runID, cid)
	ids := func(m map[string]any) []int64 {
		var out []int64
		for _, q := range m["queries"].(map[string]any)["items"].([]any) {
			out = append(out, int64(q.(map[string]any)["id"].(float64)))
		}
		return out
	}
	_, p1 := callJSON(t, h, "GET", base, nil, "")
	_, p2 := callJSON(t, h, "GET", base+"?page=2", nil, "")
	pg := p1["queries"].(map[string]any)
	assert.EqualValues(t, 1, pg["page"])
	assert.EqualValues(t, (n+PageSize-1)/PageSize, pg["pages"])
	assert.EqualValues(t, n, pg["total"])
	assert.EqualValues(t, PageSize, pg["limit"])
	require.Len(t, ids(p1), PageSize)
	assert.Len(t, ids(p2), min(n-PageSize, PageSize))
	cursor := int64(pg["next_cursor"].(float64))
	assert.Equal(t, ids(p1)[PageSize-1], cursor)
	assert.EqualValues(t, cursor, p1["pagination"].(map[string]any)["next_cursor"])
	_, c2 := callJSON(t, h, "GET", fmt.Sprintf("%s?cursor=%d", base, cursor), nil, "")
	assert.Equal(t, ids(p2), ids(c2))
	all := append(ids(p1), ids(p2)...)
	assert.True(t, sort.SliceIsSorted(all, func(i, j int) bool { return all[i] < all[j] }))
	// A page size of its own.
	_, small := callJSON(t, h, "GET", base+"?limit=7&page=2", nil, "")
	assert.Equal(t, all[7:14], ids(small))
	// Past the end: an empty page, not an error.
	code, pz := callJSON(t, h, "GET", base+"?page=99", nil, "")
	assert.Equal(t, 200, code)
	assert.Empty(t, pz["queries"].(map[string]any)["items"])
}

func TestOpenAPICoversRoutes(t *testing.T) {
	s := newServer(Deps{Store: shared.ws.Store}, Options{})
	registered := map[string]bool{}
	for _, p := range s.routes {
		method, path, _ := strings.Cut(p, " ")
		registered[method+" "+strings.ReplaceAll(path, "{$}", "")] = true
	}
	documented := map[string]bool{}
	doc := openAPIDocument()
	js, err := json.Marshal(doc)
	require.NoError(t, err)
	var parsed struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(js, &parsed))
	assert.Equal(t, "3.0.3", parsed.OpenAPI)
	for path, ops := range parsed.Paths {
		for method, raw := range ops {
			documented[strings.ToUpper(method)+" "+path] = true
			var op struct {
				Parameters []struct{ Name, In string } `json:"parameters"`
				Responses  map[string]any              `json:"responses"`
			}
			require.NoError(t, json.Unmarshal(raw, &op))
			assert.NotEmpty(t, op.Responses, path)
			// Every path parameter of the route is documented.
			for _, seg := range strings.Split(path, "/") {
				if strings.HasPrefix(seg, "{") {
					name := strings.Trim(seg, "{}")
					found := false
					for _, p := range op.Parameters {
						found = found || (p.Name == name && p.In == "path")
					}
					assert.True(t, found, "%s %s: path parameter %s undocumented", method, path, name)
				}
			}
		}
	}
	for r := range registered {
		assert.True(t, documented[r], "route %s is not in the OpenAPI document", r)
	}
	for d := range documented {
		assert.True(t, registered[d], "the OpenAPI document lists %s, which is not a route", d)
	}
	assert.Equal(t, len(registered), len(documented))
	// The served document is the same.
	code, m := callJSON(t, s, "GET", "/api/openapi.json", nil, "")
	require.Equal(t, 200, code)
	assert.Len(t, m["paths"], len(parsed.Paths))
}

func TestSecurity(t *testing.T) {
	f := shared
	run := f.runID
	rename := fmt.Sprintf("/api/curation/clusters/%d/rename?run_id=%s", f.xssClust, run)
	t.Run("token", func(t *testing.T) {
		h := f.handler(Options{Token: "s3cret"})
		code, b := call(t, h, "POST", rename, `{"title": "x"}`, "")
		assert.Equal(t, 401, code)
		assert.Contains(t, string(b), `"code":"unauthorized"`)
		code, b = call(t, h, "POST", rename, `{"title": "x"}`, "wrong")
		assert.Equal(t, 403, code)
		assert.Contains(t, string(b), `"code":"forbidden"`)
		// Bad input is only looked at after the token: no information leaks.
		code, _ = call(t, h, "POST", "/api/curation/clusters/1/rename?run_id=nope", `{`, "")
		assert.Equal(t, 401, code)
		code, _ = call(t, h, "POST", "/api/curation/clusters/1/rename?run_id=nope", `{"title": "x"}`, "s3cret")
		assert.Equal(t, 404, code)
		// Reads need the token too, unless PublicRead.
		code, _ = call(t, h, "GET", "/api/clustering/runs", nil, "")
		assert.Equal(t, 401, code)
		code, _ = call(t, f.handler(Options{Token: "s3cret", PublicRead: true}), "GET", "/api/clustering/runs", nil, "")
		assert.Equal(t, 200, code)
	})
	t.Run("read-only", func(t *testing.T) {
		h := f.handler(Options{ReadOnly: true, Token: "s3cret", PublicRead: true})
		for _, p := range []string{rename, "/api/clustering/kmeans", "/api/summaries/", "/api/hierarchy/", "/api/curation/clusters/merge"} {
			code, b := call(t, h, "POST", p, `{}`, "s3cret")
			assert.Equal(t, 403, code, p)
			assert.Contains(t, string(b), `"code":"read_only"`)
		}
		code, b := call(t, h, "GET", fmt.Sprintf("/clusters/%s/%d", run, f.xssClust), nil, "")
		assert.Equal(t, 200, code)
		assert.NotContains(t, string(b), "api-form", "no edit forms on a read-only server")
	})
	t.Run("body limit", func(t *testing.T) {
		h := f.handler(Options{})
		big := `{"title": "` + strings.Repeat("a", DefaultMaxBodyBytes+10) + `"}`
		code, b := call(t, h, "POST", rename, big, "")
		assert.Equal(t, 413, code, "%.200s", b)
		assert.Contains(t, string(b), `"code":"body_too_large"`)
		small := f.handler(Options{MaxBodyBytes: 64})
		code, _ = call(t, small, "POST", rename, `{"title": "`+strings.Repeat("b", 100)+`"}`, "")
		assert.Equal(t, 413, code)
	})
	t.Run("cross-origin writes", func(t *testing.T) {
		h := f.handler(Options{CORSOrigin: "https://app.example"})
		for origin, want := range map[string]int{"https://evil.example": 403, "null": 403, "https://app.example": 400, "http://localhost:8000": 400} {
			req := httptest.NewRequest("POST", "/api/curation/clusters/1/rename?run_id="+run, strings.NewReader(`{}`))
			req.Host = "localhost:8000"
			req.Header.Set("Content-Type", "text/plain")
			req.Header.Set("Origin", origin)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			assert.Equal(t, want, rec.Code, "%s: %s", origin, rec.Body.String())
		}
	})
	t.Run("cors", func(t *testing.T) {
		h := f.handler(Options{})
		req := httptest.NewRequest("GET", "/api/clustering/runs", nil)
		req.Host = "localhost:8000"
		req.Header.Set("Origin", "https://evil.example")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		assert.Empty(t, rec.Header().Get("Access-Control-Allow-Origin"))
		h = f.handler(Options{CORSOrigin: "https://app.example"})
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		assert.Empty(t, rec.Header().Get("Access-Control-Allow-Origin"), "only the listed origin is allowed")
		req.Header.Set("Origin", "https://app.example")
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		assert.Equal(t, "https://app.example", rec.Header().Get("Access-Control-Allow-Origin"))
		assert.Equal(t, "true", rec.Header().Get("Access-Control-Allow-Credentials"))
		pre := httptest.NewRequest("OPTIONS", rename, nil)
		pre.Host = "localhost:8000"
		pre.Header.Set("Origin", "https://app.example")
		pre.Header.Set("Access-Control-Request-Method", "POST")
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, pre)
		assert.Equal(t, 204, rec.Code)
		assert.Equal(t, "https://app.example", rec.Header().Get("Access-Control-Allow-Origin"))
		assert.Contains(t, rec.Header().Get("Access-Control-Allow-Headers"), "Authorization")
	})
}

func TestIsLoopback(t *testing.T) {
	for addr, want := range map[string]bool{"127.0.0.1:8000": true, "localhost:1": true, "[::1]:80": true, ":8000": false, "0.0.0.0:80": false, "10.0.0.2:80": false, "example.com:80": false} {
		assert.Equal(t, want, IsLoopback(addr), addr)
	}
}

func TestXSSEscaped(t *testing.T) {
	f := shared
	h := f.handler(Options{Token: "t", PublicRead: true})
	pages := []string{
		fmt.Sprintf("/clusters/%s/%d", f.runID, f.xssClust),
		fmt.Sprintf("/clusters/%s/%d?page=1", f.runID, f.xssClust),
		"/search?text=" + url.QueryEscape("<script>alert(1)</script>") + "&mode=fulltext",
		"/search?text=alert&mode=fulltext",
		"/runs/" + f.runID + "/audit?editor=" + url.QueryEscape(`"><script>alert(1)</script>`),
		"/runs/<script>alert(1)</script>",
	}
	for _, p := range pages {
		code, b := call(t, h, "GET", p, nil, "")
		body := string(b)
		assert.Contains(t, []int{200, 404}, code, p)
		assert.NotContains(t, body, "<script>alert(1)", p)
		if strings.Contains(p, "search?text=alert") || strings.Contains(p, "clusters/") {
			assert.Contains(t, body, "&lt;script&gt;alert(1)&lt;/script&gt;", p)
		}
	}
	// JSON escapes it too, so a browser sniffing the answer never runs it.
	_, b := call(t, h, "GET", fmt.Sprintf("/api/queries/%d", f.xssID), nil, "")
	assert.NotContains(t, string(b), "<script>")
	assert.Contains(t, string(b), `\u003cscript\u003ealert(1)`)
}

func TestMountedUnderPrefix(t *testing.T) {
	f := shared
	mux := http.NewServeMux()
	mux.Handle("/lmsys/", http.StripPrefix("/lmsys", f.handler(Options{})))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/lmsys/runs/" + f.runID)
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
	assert.Contains(t, string(b), `href="/lmsys/static/style.css"`)
	assert.Contains(t, string(b), `data-base="/lmsys"`)
	assert.Contains(t, string(b), `href="/lmsys/clusters/`+f.runID+`/`)
	resp, err = http.Get(srv.URL + "/lmsys/static/app.js")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode)
	resp, err = http.Get(srv.URL + "/lmsys/api/clustering/runs")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode)
}

func TestViewerPages(t *testing.T) {
	f := shared
	h := f.handler(Options{})
	for _, tc := range []struct {
		path   string
		status int
		want   string
	}{
		{"/", 200, f.runID},
		{"/runs/" + f.runID, 200, `id="clusters"`},
		{fmt.Sprintf("/clusters/%s/%d", f.runID, f.xssClust), 200, `id="rename-form"`},
		{"/runs/" + f.runID + "/audit", 200, "No edits"},
		{"/runs/" + f.runID + "/orphaned", 200, "No orphaned queries"},
		{"/search", 200, `id="search-form"`},
		{"/search?text=python&run_id=" + f.runID, 200, `id="results"`},
		{"/search?text=python", 200, `id="results"`},
		{"/search?text=python&run_id=" + f.runID + "&mode=bogus", 200, `class="error"`},
		{"/hierarchy/" + f.hierID, 200, `id="expand-all"`},
		{"/runs/nope", 404, "not found"},
		{"/clusters/" + f.runID + "/9999", 404, "not found"},
		{"/hierarchy/nope", 404, "not found"},
		{"/no/such/page", 404, "not found"},
		{"/static/style.css", 200, "--accent"},
	} {
		code, b := call(t, h, "GET", tc.path, nil, "")
		assert.Equal(t, tc.status, code, tc.path)
		assert.Contains(t, string(b), tc.want, tc.path)
		// Optional fields render as text, never as Go's nil or a formatting error.
		assert.NotContains(t, string(b), "&lt;nil&gt;", tc.path)
		assert.NotContains(t, string(b), "%!", tc.path)
		assert.NotRegexp(t, `0x[0-9a-f]{8,}`, string(b), tc.path) // a pointer printed
	}
	_, b := call(t, h, "GET", "/hierarchy/"+f.hierID, nil, "")
	assert.Regexp(t, `· \d+ child(ren)?<`, string(b))
	assert.NotRegexp(t, `\D1 children`, string(b))
}
