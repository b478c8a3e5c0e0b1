package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/lmsys-go/lmsys/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestHostAndOrigin drives forged Host and Origin pairs, tokens and PublicRead through
// the handler: what a DNS-rebinding page, another site, a LAN client and a script with
// the token each get.
func TestHostAndOrigin(t *testing.T) {
	f := shared
	read := "/api/clustering/runs"
	page := "/runs/" + f.runID
	// A write to a missing run: a request that passes every check answers 404, so no
	// case here edits the shared fixture.
	write := "/api/curation/clusters/1/rename?run_id=no-such-run"
	open := Options{}
	allowed := Options{AllowedHosts: []string{"lmsys.internal", "Box.LAN:9000"}}
	token := Options{Token: "tok"}
	public := Options{Token: "tok", PublicRead: true}
	anyHost := Options{AllowedHosts: []string{"*"}}
	cases := []struct {
		name                string
		opts                Options
		method, path        string
		host, origin, token string
		status              int
		code                string
	}{
		{"loopback name", open, "GET", read, "localhost:8000", "", "", 200, ""},
		{"loopback name without port", open, "GET", read, "localhost", "", "", 200, ""},
		{"loopback name, trailing dot, upper case", open, "GET", read, "LOCALHOST.:8000", "", "", 200, ""},
		{"name under .localhost", open, "GET", read, "app.localhost:8000", "", "", 200, ""},
		{"IPv4 loopback", open, "GET", read, "127.0.0.1:8000", "", "", 200, ""},
		{"IPv4 loopback elsewhere in 127/8", open, "GET", read, "127.1.2.3", "", "", 200, ""},
		{"IPv6 loopback", open, "GET", read, "[::1]:8000", "", "", 200, ""},
		{"IPv6 loopback without port", open, "GET", read, "[::1]", "", "", 200, ""},
		{"rebinding read", open, "GET", read, "evil.example:8000", "", "", 421, "misdirected_host"},
		{"rebinding page", open, "GET", page, "evil.example:8000", "", "", 421, "misdirected_host"},
		{"rebinding write: Host and Origin the attacker's", open, "POST", write, "evil.example:8000", "http://evil.example:8000", "", 421, "misdirected_host"},
		{"name that ends like localhost", open, "GET", read, "evil-localhost:8000", "", "", 421, "misdirected_host"},
		{"loopback prefix in a name", open, "GET", read, "127.0.0.1.evil.example", "", "", 421, "misdirected_host"},
		{"LAN address", open, "GET", read, "10.0.0.5:8000", "", "", 421, "misdirected_host"},
		{"IPv6 LAN address", open, "GET", read, "[fe80::1]:8000", "", "", 421, "misdirected_host"},
		{"no Host", open, "GET", read, "", "", "", 421, "misdirected_host"},
		{"allowed name", allowed, "GET", read, "lmsys.internal:8000", "", "", 200, ""},
		{"allowed name given with a port, other port", allowed, "GET", read, "box.lan:1234", "", "", 200, ""},
		{"not an allowed name", allowed, "GET", read, "other.internal", "", "", 421, "misdirected_host"},
		{"every host allowed", anyHost, "GET", read, "evil.example", "", "", 200, ""},
		{"same-origin write on loopback", open, "POST", write, "localhost:8000", "http://localhost:8000", "", 404, "not_found"},
		{"write without Origin on loopback", open, "POST", write, "127.0.0.1:8000", "", "", 404, "not_found"},
		{"write from another site to loopback", open, "POST", write, "localhost:8000", "http://evil.example", "", 403, "cross_origin"},
		{"write with Origin null", open, "POST", write, "localhost:8000", "null", "", 403, "cross_origin"},
		{"write from another port of loopback", open, "POST", write, "localhost:8000", "http://localhost:9000", "", 403, "cross_origin"},
		{"same-origin write on an allowed name", allowed, "POST", write, "lmsys.internal:8000", "http://lmsys.internal:8000", "", 404, "not_found"},
		{"write, Host and Origin the attacker's, every host allowed", anyHost, "POST", write, "evil.example", "http://evil.example", "", 404, "not_found"},
		{"token: read without it", token, "GET", read, "localhost:8000", "", "", 401, "unauthorized"},
		{"token: page without it", token, "GET", page, "localhost:8000", "", "", 401, "unauthorized"},
		{"token: read with a wrong one", token, "GET", read, "localhost:8000", "", "nope", 403, "forbidden"},
		{"token: read with it", token, "GET", read, "localhost:8000", "", "tok", 200, ""},
		{"token: read with it from a LAN name", token, "GET", read, "lmsys.corp:8000", "", "tok", 200, ""},
		{"token: static asset without it", token, "GET", "/static/app.js", "localhost:8000", "", "", 200, ""},
		{"token: write without it", token, "POST", write, "lmsys.corp:8000", "", "", 401, "unauthorized"},
		{"token: write with it from a LAN name", token, "POST", write, "lmsys.corp:8000", "http://lmsys.corp:8000", "tok", 404, "not_found"},
		{"token: write with it from another site", token, "POST", write, "lmsys.corp:8000", "http://evil.example", "tok", 403, "cross_origin"},
		{"public read: read without token on loopback", public, "GET", read, "[::1]:8000", "", "", 200, ""},
		{"public read: page without token on loopback", public, "GET", page, "localhost:8000", "", "", 200, ""},
		{"public read: rebinding read", public, "GET", read, "evil.example", "", "", 421, "misdirected_host"},
		{"public read: read with token from any name", public, "GET", read, "lmsys.corp", "", "tok", 200, ""},
		{"public read: read with a wrong token", public, "GET", read, "localhost", "", "nope", 403, "forbidden"},
		{"public read: write without token", public, "POST", write, "localhost:8000", "", "", 401, "unauthorized"},
		{"public read: rebinding write without token", public, "POST", write, "evil.example", "http://evil.example", "", 421, "misdirected_host"},
		{"read-only still checks Host", Options{ReadOnly: true}, "GET", read, "evil.example", "", "", 421, "misdirected_host"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, tc.path, nil)
			if tc.method == "POST" {
				req = httptest.NewRequest(tc.method, tc.path, strings.NewReader(`{"title": "x"}`))
				req.Header.Set("Content-Type", "text/plain")
			}
			req.Host = tc.host
			if tc.origin != "" {
				req.Header.Set("Origin", tc.origin)
			}
			if tc.token != "" {
				req.Header.Set("Authorization", "Bearer "+tc.token)
			}
			rec := httptest.NewRecorder()
			f.handler(tc.opts).ServeHTTP(rec, req)
			require.Equal(t, tc.status, rec.Code, rec.Body.String())
			if tc.code != "" {
				var body errorBody
				require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body), rec.Body.String())
				assert.Equal(t, tc.code, body.Code)
				assert.NotEmpty(t, body.Error)
			}
		})
	}
}

// TestRebindingRename sends, over a real connection, the rename a DNS-rebinding page
// would send (Host and Origin both the attacker's name) and checks that it is refused
// and that the cluster keeps its title; the same request with the loopback Host and
// Origin is applied.
func TestRebindingRename(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	srv := f.server(t, Options{})
	_, port, err := net.SplitHostPort(srv.Listener.Addr().String())
	require.NoError(t, err)
	detail := fmt.Sprintf("%s/api/clustering/runs/%s/clusters/%d", srv.URL, f.runID, f.xssClust)
	title := func() string {
		t.Helper()
		resp, err := http.Get(detail)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, 200, resp.StatusCode)
		var d struct {
			Summary struct {
				Title string `json:"title"`
			} `json:"summary"`
		}
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&d))
		return d.Summary.Title
	}
	rename := func(host string) (int, string) {
		t.Helper()
		req, err := http.NewRequest("POST", fmt.Sprintf("%s/api/curation/clusters/%d/rename?run_id=%s", srv.URL, f.xssClust, f.runID),
			strings.NewReader(`{"title": "renamed by `+host+`"}`))
		require.NoError(t, err)
		req.Host = host + ":" + port
		req.Header.Set("Origin", "http://"+host+":"+port)
		req.Header.Set("Content-Type", "text/plain") // a simple request: no CORS preflight
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	before := title()
	require.NotEqual(t, "renamed by evil.example", before)

	code, body := rename("evil.example")
	assert.Equal(t, http.StatusMisdirectedRequest, code, body)
	assert.Contains(t, body, `"code":"misdirected_host"`)
	assert.Equal(t, before, title(), "the refused rename must not be applied")
	edits, err := f.ws.Store.Edits(t.Context(), store.EditFilter{RunID: f.runID})
	require.NoError(t, err)
	assert.Empty(t, edits, "no edit recorded")

	code, body = rename("localhost")
	assert.Equal(t, 200, code, body)
	assert.Equal(t, "renamed by localhost", title())
}

// TestIPv6Loopback serves on [::1] and reads through it with the Host a browser sends.
func TestIPv6Loopback(t *testing.T) {
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback on this machine: %v", err)
	}
	srv := httptest.NewUnstartedServer(shared.handler(Options{}))
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	defer srv.Close()
	require.True(t, strings.HasPrefix(srv.URL, "http://[::1]:"), srv.URL)
	resp, err := http.Get(srv.URL + "/api/clustering/runs")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode)
}

// TestPanicRecovered checks that a panicking handler answers 500 JSON without its
// cause and that the panic is logged, and that the server keeps answering.
func TestPanicRecovered(t *testing.T) {
	var logs bytes.Buffer
	s := newServer(Deps{Store: shared.ws.Store}, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	s.mux.HandleFunc("GET /api/test-panic", func(w http.ResponseWriter, r *http.Request) { panic("boom at /secret/path") })
	s.mux.HandleFunc("GET /api/test-panic-late", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("partial"))
		panic("late boom")
	})
	code, b := call(t, s, "GET", "/api/test-panic", nil, "")
	assert.Equal(t, 500, code)
	assert.JSONEq(t, `{"error":{"type":"InternalServerError","message":"internal error (logged on the server)"},
		"detail":{"error":{"type":"InternalServerError","message":"internal error (logged on the server)"}},"code":"internal"}`, string(b))
	assert.Contains(t, logs.String(), "boom at /secret/path")
	assert.Contains(t, logs.String(), "host_test.go", "the stack is logged")

	// A panic after the answer started aborts the response (net/http closes the connection).
	assert.PanicsWithValue(t, http.ErrAbortHandler, func() { call(t, s, "GET", "/api/test-panic-late", nil, "") })
	assert.Contains(t, logs.String(), "late boom")

	code, _ = call(t, s, "GET", "/api/clustering/runs", nil, "")
	assert.Equal(t, 200, code)
}

// TestQueryTextCap checks that search texts over Options.MaxQueryChars answer 422
// query_too_long on the API and the viewer, counting characters, not bytes.
func TestQueryTextCap(t *testing.T) {
	f := shared
	h := f.handler(Options{MaxQueryChars: 10})
	run := f.runID
	cases := []struct {
		path   string
		status int
	}{
		{"/api/search/queries?mode=fulltext&text=" + strings.Repeat("a", 10), 200},
		{"/api/search/queries?mode=fulltext&text=" + strings.Repeat("é", 10), 200}, // 20 bytes, 10 characters
		{"/api/search/queries?mode=fulltext&text=" + strings.Repeat("a", 11), 422},
		{"/api/search/queries?mode=fulltext&q=" + strings.Repeat("a", 11), 422},
		{"/api/search/queries?run_id=" + run + "&text=email&within_clusters=" + strings.Repeat("a", 11), 422},
		{"/api/search/clusters?run_id=" + run + "&text=" + strings.Repeat("a", 11), 422},
		{"/search?mode=fulltext&text=" + strings.Repeat("a", 11), 422},
		{"/api/queries?contains=" + strings.Repeat("a", 11), 200}, // not a search text
	}
	for _, tc := range cases {
		code, b := call(t, h, "GET", tc.path, nil, "")
		require.Equal(t, tc.status, code, "%s: %s", tc.path, b)
		if tc.status == 422 {
			assert.Contains(t, string(b), `"code":"query_too_long"`)
			assert.Contains(t, string(b), "at most 10")
		}
	}
	// The OpenAPI document lists the answers.
	doc := openAPIDocument()["paths"].(map[string]any)
	for path, method := range map[string]string{"/api/search/queries": "get", "/api/clustering/runs": "get", "/api/curation/clusters/merge": "post"} {
		resp := doc[path].(map[string]any)[method].(map[string]any)["responses"].(map[string]any)
		assert.Contains(t, resp, "421", path)
		assert.Contains(t, resp, "401", path)
		if path == "/api/search/queries" {
			assert.Contains(t, resp, "422", path)
		}
	}
	// The default is DefaultMaxQueryChars.
	code, _ := call(t, f.handler(Options{}), "GET", "/api/search/queries?mode=fulltext&text="+strings.Repeat("a", DefaultMaxQueryChars+1), nil, "")
	assert.Equal(t, 422, code)
}
