package mcpserver_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmsys-go/lmsys/mcpserver"
)

// bearer adds an Authorization header to every request.
type bearer struct {
	token string
	next  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(r)
}

// httpServer serves the fixture's MCP server at /mcp on a loopback test server.
func httpServer(t *testing.T, o mcpserver.HTTPOptions) *httptest.Server {
	t.Helper()
	o.Logger = quiet
	mux := http.NewServeMux()
	mux.Handle("/mcp", mcpserver.HTTPHandler(shared.server(mcpserver.Options{}), o))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// initialize posts an initialize request with the given Host, headers and returns
// the status and body.
func initialize(t *testing.T, url, host string, header map[string]string) (int, string) {
	t.Helper()
	body := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"0"}}}`
	req, err := http.NewRequest(http.MethodPost, url+"/mcp", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if host != "" {
		req.Host = host
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

func errorCode(t *testing.T, body string) string {
	t.Helper()
	var e struct {
		Code string `json:"code"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &e), body)
	return e.Code
}

func TestHTTPTransport(t *testing.T) {
	ctx := context.Background()
	client := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "v0"}, nil)

	t.Run("loopback without a token", func(t *testing.T) {
		srv := httpServer(t, mcpserver.HTTPOptions{AllowedHosts: []string{"mcp.internal"}})
		cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: srv.URL + "/mcp", DisableStandaloneSSE: true}, nil)
		require.NoError(t, err)
		defer cs.Close()
		assert.ElementsMatch(t, mcpserver.ReadTools(), toolNames(t, cs))
		m := ok(t, cs, "list_runs", nil)
		assert.Len(t, items(t, m, "items"), 1)

		status, body := initialize(t, srv.URL, "evil.example:8765", nil)
		assert.Equal(t, http.StatusMisdirectedRequest, status, "a forged Host (DNS rebinding) is refused")
		assert.Equal(t, "misdirected_host", errorCode(t, body))

		status, _ = initialize(t, srv.URL, "mcp.internal:8765", nil)
		assert.Equal(t, http.StatusOK, status, "an --allowed-host name is answered")
		status, _ = initialize(t, srv.URL, "localhost:9", nil)
		assert.Equal(t, http.StatusOK, status)

		status, body = initialize(t, srv.URL, "", map[string]string{"Origin": "https://evil.example"})
		assert.Equal(t, http.StatusForbidden, status, "a foreign page's request is refused")
		assert.Equal(t, "cross_origin", errorCode(t, body))
	})

	t.Run("token required when set", func(t *testing.T) {
		srv := httpServer(t, mcpserver.HTTPOptions{Token: "s3cret"})
		_, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: srv.URL + "/mcp", DisableStandaloneSSE: true, MaxRetries: -1}, nil)
		require.Error(t, err, "no token, no session")

		status, body := initialize(t, srv.URL, "", nil)
		assert.Equal(t, http.StatusUnauthorized, status)
		assert.Equal(t, "unauthorized", errorCode(t, body))
		status, body = initialize(t, srv.URL, "", map[string]string{"Authorization": "Bearer wrong"})
		assert.Equal(t, http.StatusForbidden, status)
		assert.Equal(t, "forbidden", errorCode(t, body))
		status, _ = initialize(t, srv.URL, "mcp.example.com", map[string]string{"Authorization": "Bearer s3cret"})
		assert.Equal(t, http.StatusOK, status, "with the token any Host is answered, as serve does")

		hc := &http.Client{Transport: bearer{token: "s3cret", next: http.DefaultTransport}}
		cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: srv.URL + "/mcp", HTTPClient: hc}, nil)
		require.NoError(t, err)
		defer cs.Close()
		m := ok(t, cs, "list_clusters", map[string]any{"run_id": shared.runID, "limit": 2})
		assert.Len(t, items(t, m, "items"), 2)
	})
}
