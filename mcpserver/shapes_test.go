package mcpserver_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmsys-go/lmsys/mcpserver"
	"github.com/lmsys-go/lmsys/web"
)

// getJSON reads an HTTP API answer as a generic JSON value.
func getJSON(t *testing.T, srv *httptest.Server, path string) any {
	t.Helper()
	resp, err := http.Get(srv.URL + path)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(b))
	var v any
	require.NoError(t, json.Unmarshal(b, &v))
	return v
}

// TestSameShapesAsHTTP compares tool answers and resources with the HTTP API's
// answers to the same requests.
func TestSameShapesAsHTTP(t *testing.T) {
	f := shared
	api := httptest.NewServer(web.Handler(web.Deps{Store: f.ws.Store, Search: f.svc}, web.Options{Logger: quiet}))
	t.Cleanup(api.Close)
	cs := f.session(t, mcpserver.Options{})
	run, big := url.PathEscape(f.runID), f.clusters[0]
	// The HTTP lists also carry their items under a second key for the Python
	// tool's clients (alias); the tools leave that copy out.
	cases := []struct {
		tool  string
		args  map[string]any
		path  string
		alias string
	}{
		{"list_runs", nil, "/api/clustering/runs?limit=20", "runs"},
		{"list_clusters", map[string]any{"run_id": f.runID, "page": 2, "limit": 5}, "/api/clustering/runs/" + run + "/clusters?page=2&page_limit=5", "clusters"},
		{"inspect_cluster", map[string]any{"run_id": f.runID, "cluster_id": big, "limit": 7}, "/api/clustering/runs/" + run + "/clusters/" + itoa(big) + "?limit=7", ""},
		{"search_queries", map[string]any{"text": "python", "mode": "fulltext", "limit": 5}, "/api/search/queries?text=python&mode=fulltext&limit=5", "results"},
		{"search_queries", map[string]any{"text": "python list", "run_id": f.runID, "facets": []string{"cluster", "language"}, "limit": 5},
			"/api/search/queries?text=python+list&run_id=" + run + "&mode=semantic&facets=cluster,language&limit=5", "results"},
		{"search_clusters", map[string]any{"text": "letter", "limit": 5}, "/api/search/clusters?text=letter&n_results=5", ""},
		{"list_hierarchies", nil, "/api/hierarchy?limit=20", "hierarchies"},
		{"facets", map[string]any{"run_id": f.runID, "by": []string{"model"}, "cluster_id": big}, "/api/analysis/runs/" + run + "/facets?by=model&cluster_id=" + itoa(big), ""},
		{"compare_periods", map[string]any{"run_id": f.runID, "a": "2026-01", "b": "2026-02"}, "/api/analysis/runs/" + run + "/compare?a=2026-01&b=2026-02", ""},
		{"list_edits", map[string]any{"run_id": f.runID}, "/api/curation/runs/" + run + "/audit?limit=20", "edits"},
	}
	for _, c := range cases {
		t.Run(c.tool, func(t *testing.T) {
			var got any
			decode(t, cs, c.tool, c.args, &got)
			want := getJSON(t, api, c.path)
			if c.alias != "" {
				m := want.(map[string]any)
				assert.Equal(t, m["items"], m[c.alias])
				delete(m, c.alias)
			}
			assert.Equal(t, want, got)
		})
	}

	t.Run("resources", func(t *testing.T) {
		for uri, path := range map[string]string{
			mcpserver.RunURI(f.runID):        "/api/clustering/runs/" + run,
			mcpserver.HierarchyURI(f.hierID): "/api/hierarchy/" + url.PathEscape(f.hierID),
		} {
			res, err := cs.ReadResource(context.Background(), &mcp.ReadResourceParams{URI: uri})
			require.NoError(t, err, uri)
			require.Len(t, res.Contents, 1)
			assert.Equal(t, "application/json", res.Contents[0].MIMEType)
			var got any
			require.NoError(t, json.Unmarshal([]byte(res.Contents[0].Text), &got))
			assert.Equal(t, getJSON(t, api, path), got, uri)
		}
	})
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func TestResources(t *testing.T) {
	f := shared
	ctx := context.Background()
	cs := f.session(t, mcpserver.Options{})
	var uris []string
	for r, err := range cs.Resources(ctx, nil) {
		require.NoError(t, err)
		uris = append(uris, r.URI)
	}
	assert.Equal(t, []string{mcpserver.RunURI(f.runID), mcpserver.HierarchyURI(f.hierID)}, uris, "each run, then its hierarchies")
	var templates []string
	for rt, err := range cs.ResourceTemplates(ctx, nil) {
		require.NoError(t, err)
		templates = append(templates, rt.URITemplate)
	}
	assert.ElementsMatch(t, []string{"lmsys://runs/{run_id}", "lmsys://hierarchies/{hierarchy_id}"}, templates)
	for _, uri := range []string{"lmsys://runs/nope", "lmsys://hierarchies/nope", "lmsys://other/x"} {
		_, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: uri})
		assert.ErrorContains(t, err, "Resource not found", uri)
	}
	_, err := cs.ListResources(ctx, &mcp.ListResourcesParams{Cursor: "not-a-number"})
	assert.ErrorContains(t, err, "invalid cursor")
	res, err := cs.ListResources(ctx, &mcp.ListResourcesParams{Cursor: "1"})
	require.NoError(t, err)
	assert.Empty(t, res.Resources, "past the last run")
}
