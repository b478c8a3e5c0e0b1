package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/dataset/demo"
	"github.com/lmsys-go/lmsys/mcpserver"
	"github.com/lmsys-go/lmsys/store"
)

// mcpChild starts `lmsys mcp` with args in a child process (this test binary standing
// in for lmsys, see TestMain) and connects an MCP client to it over stdio.
func mcpChild(t *testing.T, args ...string) *mcp.ClientSession {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "LMSYS_CLI_CHILD=1", "OPENAI_API_KEY=", "LMSYS_API_TOKEN=")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	client := mcp.NewClient(&mcp.Implementation{Name: "cli-test", Version: "v0"}, nil)
	cs, err := client.Connect(context.Background(), &mcp.CommandTransport{Command: cmd}, nil)
	require.NoError(t, err, stderr.String())
	t.Cleanup(func() {
		assert.NoError(t, cs.Close(), "the server exits when its stdin closes")
		assert.NotContains(t, stderr.String(), "level=ERROR", "stderr: %s", stderr.String())
	})
	return cs
}

// callJSON calls a tool and returns its result's text, and whether it is a tool error.
func callJSON(t *testing.T, cs *mcp.ClientSession, name string, args map[string]any) (string, bool) {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: name, Arguments: args})
	require.NoError(t, err, name)
	require.NotEmpty(t, res.Content, name)
	return res.Content[0].(*mcp.TextContent).Text, res.IsError
}

// demoDB returns a database holding the demo set analysed offline: run, summaries,
// hierarchy and vector index.
func demoDB(t *testing.T) (path, runID, hierID string) {
	t.Helper()
	t.Setenv("OPENAI_API_KEY", "")
	dir := t.TempDir()
	logs := filepath.Join(dir, "logs.jsonl")
	require.NoError(t, os.WriteFile(logs, demo.JSONL(), 0o644))
	path = filepath.Join(dir, "q.db")
	code, out, errOut := cli(t, "--db-path", path, "--json", "analyze", "--source", logs, "--n-clusters", "12", "--target-levels", "3", "--offline")
	require.Equal(t, 0, code, errOut)
	var r struct {
		RunID  string `json:"run_id"`
		HierID string `json:"hierarchy_run_id"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &r), out)
	require.NotEmpty(t, r.RunID, out)
	require.NotEmpty(t, r.HierID, out)
	return path, r.RunID, r.HierID
}

// mcpCase is one tool call: its arguments, and the error it must give or a text its
// answer must contain.
type mcpCase struct {
	tool    string
	args    map[string]any
	wantErr string
	want    string
}

// TestMCPStdioSubprocess runs the real command line in a child process and calls
// every tool over stdio with good and bad input.
func TestMCPStdioSubprocess(t *testing.T) {
	path, run, hier := demoDB(t)
	cs := mcpChild(t, "--db-path", path, "mcp", "--max-result-bytes", "4096")

	var names []string
	for tool, err := range cs.Tools(context.Background(), nil) {
		require.NoError(t, err)
		names = append(names, tool.Name)
	}
	assert.ElementsMatch(t, mcpserver.ReadTools(), names, "read-only without --allow-writes")

	tests := []mcpCase{
		{tool: "list_runs", want: `"run_id":"` + run + `"`},
		{tool: "list_runs", args: map[string]any{"limit": 0.5}, wantErr: `want "integer"`},
		{tool: "list_clusters", args: map[string]any{"run_id": run, "limit": 3}, want: `"num_clusters":12`},
		{tool: "list_clusters", args: map[string]any{"run_id": "run-x"}, wantErr: `run_id: no clustering run "run-x"`},
		{tool: "list_clusters", args: map[string]any{"run_id": run, "limit": 1000}, wantErr: "limit: 1000 is out of range: give 1 to 100"},
		{tool: "inspect_cluster", args: map[string]any{"run_id": run, "cluster_id": 1, "limit": 2}, want: `"next_cursor":`},
		{tool: "inspect_cluster", args: map[string]any{"run_id": run, "cluster_id": 50}, wantErr: "cluster_id: run " + run + " has no cluster 50"},
		{tool: "search_queries", args: map[string]any{"text": "python csv file", "run_id": run, "limit": 3}, want: `"mode":"semantic"`},
		{tool: "search_queries", args: map[string]any{"text": ""}, wantErr: "text: empty"},
		{tool: "search_queries", args: map[string]any{"text": strings.Repeat("x", 4001)}, wantErr: "text: 4001 characters long: searches take at most 4000"},
		{tool: "search_clusters", args: map[string]any{"text": "cover letter", "run_id": run, "limit": 2}, want: `"cluster_id":`},
		{tool: "search_clusters", args: map[string]any{"text": "x", "mode": "semantic"}, wantErr: "run_id: required for a semantic search"},
		{tool: "list_hierarchies", want: `"hierarchy_run_id":"` + hier + `"`},
		{tool: "list_hierarchies", args: map[string]any{"run_id": "nope"}, wantErr: `run_id: no clustering run "nope"`},
		{tool: "show_hierarchy", args: map[string]any{"hierarchy_id": hier, "limit": 3}, want: `"paging":{"list":"nodes"`},
		{tool: "show_hierarchy", args: map[string]any{"hierarchy_id": "nope"}, wantErr: `hierarchy_id: no hierarchy "nope"`},
		{tool: "facets", args: map[string]any{"run_id": run, "by": []string{"language"}, "top": 3}, want: `"field":"language"`},
		{tool: "facets", args: map[string]any{"run_id": run, "sort": "size"}, wantErr: "/properties/sort: enum"},
		{tool: "trends", args: map[string]any{"run_id": run, "period": "month", "limit": 2}, want: `"periods":["2026-01","2026-02","2026-03"]`},
		{tool: "trends", args: map[string]any{"run_id": run, "page": -1}, wantErr: "page: -1 is not a page"},
		{tool: "compare_periods", args: map[string]any{"run_id": run, "a": "2026-01", "b": "2026-02", "top": 2}, want: `"risers":`},
		{tool: "compare_periods", args: map[string]any{"run_id": run, "a": "last month", "b": "2026-02"}, wantErr: `a: "last month" is not a period`},
		{tool: "compare_runs", args: map[string]any{"run_a": run, "run_b": run}, want: `"ari":1`},
		{tool: "compare_runs", args: map[string]any{"run_a": run}, wantErr: `missing properties: ["run_b"]`},
		{tool: "list_edits", args: map[string]any{"run_id": run}, want: `"items":[]`},
		{tool: "list_edits", args: map[string]any{"run_id": run, "since": "soon"}, wantErr: `since: "soon" is not RFC 3339`},
		{tool: "export", args: map[string]any{"run_id": run, "limit": 100}, want: `"truncated":true`},
		{tool: "export", args: map[string]any{"cursor": -1}, wantErr: "cursor: -1 is not a query id"},
		{tool: "classify", args: map[string]any{"builtin": []string{"code"}, "run_id": run}, want: `"classified":393`},
		{tool: "classify", args: map[string]any{"facets": "clio", "model": "openai/gpt-4o-mini"}, wantErr: "max_cost: required"},
		{tool: "rename_cluster", args: map[string]any{"run_id": run, "cluster_id": 0, "title": "Dates"}, wantErr: "start it with `lmsys mcp --allow-writes`"},
		{tool: "tag_cluster", args: map[string]any{"run_id": run, "cluster_id": 0, "notes": "x"}, wantErr: "tag_cluster edits the store and this server is read-only"},
	}
	for _, tt := range tests {
		body, isErr := callJSON(t, cs, tt.tool, tt.args)
		if tt.wantErr != "" {
			assert.True(t, isErr, "%s %v: %s", tt.tool, tt.args, body)
			assert.Contains(t, body, tt.wantErr, tt.tool)
			continue
		}
		assert.False(t, isErr, "%s %v: %s", tt.tool, tt.args, body)
		assert.Contains(t, body, tt.want, tt.tool)
		assert.LessOrEqual(t, len(body), 4096, "%s: --max-result-bytes caps every answer", tt.tool)
	}
	for _, name := range mcpserver.ReadTools() {
		good := slices.ContainsFunc(tests, func(tt mcpCase) bool { return tt.tool == name && tt.wantErr == "" })
		bad := slices.ContainsFunc(tests, func(tt mcpCase) bool { return tt.tool == name && tt.wantErr != "" })
		assert.True(t, good && bad, "%s needs a good and a bad call", name)
	}
	for _, name := range mcpserver.WriteTools() {
		body, isErr := callJSON(t, cs, name, map[string]any{"run_id": run})
		assert.True(t, isErr, name)
		assert.Contains(t, body, name+" edits the store and this server is read-only")
	}

	// A cut page continues exactly where it stopped.
	args := map[string]any{"run_id": run, "examples": 5, "limit": 12}
	var seen []float64
	for len(seen) < 12 {
		body, isErr := callJSON(t, cs, "list_clusters", args)
		require.False(t, isErr, body)
		var page struct {
			Items []struct {
				ClusterID float64 `json:"cluster_id"`
			} `json:"items"`
			Truncation *struct {
				Next map[string]any `json:"next"`
			} `json:"truncation"`
		}
		require.NoError(t, json.Unmarshal([]byte(body), &page))
		require.NotEmpty(t, page.Items)
		for _, c := range page.Items {
			assert.NotContains(t, seen, c.ClusterID, "no cluster twice")
			seen = append(seen, c.ClusterID)
		}
		if page.Truncation == nil {
			break
		}
		for k, v := range page.Truncation.Next {
			args[k] = v
		}
	}
	assert.Len(t, seen, 12)

	db, err := store.Open(context.Background(), store.Config{Path: path})
	require.NoError(t, err)
	defer db.Close()
	edits, err := db.Edits(context.Background(), store.EditFilter{RunID: run})
	require.NoError(t, err)
	assert.Empty(t, edits, "no edit without --allow-writes")
	n, err := db.LabelCounts(context.Background(), lmsys.LabelFilter{Facet: "code"})
	require.NoError(t, err)
	assert.NotEmpty(t, n, "classify wrote its labels to the store")
}

func TestMCPStdioWrites(t *testing.T) {
	path, db := chatDB(t, 10)
	cs := mcpChild(t, "--db-path", path, "mcp", "--allow-writes", "--editor", "agent:triage")
	body, isErr := callJSON(t, cs, "tag_cluster", map[string]any{"run_id": "run-c", "cluster_id": 1, "coherence": 2, "reason": "mixed"})
	require.False(t, isErr, body)
	body, isErr = callJSON(t, cs, "move_queries", map[string]any{"run_id": "run-c", "query_ids": []int{1}, "to_cluster_id": 1})
	require.False(t, isErr, body)
	body, isErr = callJSON(t, cs, "list_edits", map[string]any{"run_id": "run-c"})
	require.False(t, isErr, body)
	var page struct {
		Items []struct {
			Editor   string `json:"editor"`
			EditType string `json:"edit_type"`
		} `json:"items"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &page))
	require.Len(t, page.Items, 2)
	assert.Equal(t, "move_query", page.Items[0].EditType)
	edits, err := db.Edits(context.Background(), store.EditFilter{RunID: "run-c"})
	require.NoError(t, err)
	require.Len(t, edits, 2)
	for _, e := range edits {
		assert.Equal(t, "agent:triage", e.Editor, "audited under --editor")
	}
}

var servingRe = regexp.MustCompile(`on (http://\S+/mcp) `)

func TestMCPHTTPSubprocess(t *testing.T) {
	path, _ := chatDB(t, 4)
	cmd := exec.Command(os.Args[0], "--db-path", path, "mcp", "--http", "127.0.0.1:0", "--allowed-host", "mcp.internal")
	cmd.Env = append(os.Environ(), "LMSYS_CLI_CHILD=1", "LMSYS_API_TOKEN=")
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(t, err)
	assert.Contains(t, line, "(read-only)")
	m := servingRe.FindStringSubmatch(line)
	require.NotNil(t, m, line)
	endpoint := m[1]

	client := mcp.NewClient(&mcp.Implementation{Name: "cli-test", Version: "v0"}, nil)
	cs, err := client.Connect(context.Background(), &mcp.StreamableClientTransport{Endpoint: endpoint, DisableStandaloneSSE: true}, nil)
	require.NoError(t, err)
	defer cs.Close()
	body, isErr := callJSON(t, cs, "list_runs", nil)
	require.False(t, isErr, body)
	assert.Contains(t, body, `"run_id":"run-c"`)

	for host, want := range map[string]int{"evil.example": http.StatusMisdirectedRequest, "mcp.internal:80": http.StatusOK} {
		req, err := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"0"}}}`))
		require.NoError(t, err)
		req.Host = host
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, want, resp.StatusCode, host)
	}
}

func TestMCPFlags(t *testing.T) {
	path, _ := tempDB(t, 1)
	t.Setenv("LMSYS_API_TOKEN", "")
	code, _, errOut := cli(t, "--db-path", path, "mcp", "--http", "0.0.0.0:8765")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "refusing to serve MCP on non-loopback address 0.0.0.0:8765 without a token")
	code, _, errOut = cli(t, "--db-path", path, "mcp", "--max-result-bytes", "100")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "--max-result-bytes must be at least 1024")
	code, _, errOut = cli(t, "--db-path", path, "mcp", "--editor", "")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "--editor must not be empty")
}
