package mcpserver_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/require"

	"github.com/lmsys-go/lmsys/local"
	"github.com/lmsys-go/lmsys/mcpserver"
	"github.com/lmsys-go/lmsys/search"
	"github.com/lmsys-go/lmsys/semantic"
)

// fixture is the bundled demo set analysed in a temporary directory: a k-means run of
// 12 clusters with offline summaries, a three-level hierarchy and a vector index.
type fixture struct {
	ws       *local.Workspace
	svc      *search.Service
	runID    string
	hierID   string
	sumID    string
	clusters []int // the run's cluster ids, largest first
}

// shared is the fixture of the tests that do not edit it.
var shared *fixture

func buildFixture(dir string) (f *fixture, err error) {
	ctx := context.Background()
	ws, err := local.Open(ctx, local.Config{Dir: dir, EmbeddingModel: "local/use-lite"}) // the fixture's clusters were chosen with the float32 pass
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			ws.Close()
		}
	}()
	st, err := ws.Pipeline(local.Analysis{Source: local.DemoSource(), K: 12, Offline: true, TargetLevels: 3, MergeRatio: 0.4}).Run(ctx, nil)
	if err != nil {
		return nil, err
	}
	idx, err := semantic.OpenIndex(ctx, semantic.IndexOptions{Dir: ws.IndexDir()})
	if err != nil {
		return nil, err
	}
	f = &fixture{ws: ws, svc: search.New(ws.Store, idx, search.Options{}), runID: st.RunID, hierID: st.HierarchyRunID, sumID: st.SummaryRunID}
	sizes, err := ws.Store.ClusterSizes(ctx, f.runID)
	if err != nil {
		return nil, err
	}
	for c := range sizes {
		f.clusters = append(f.clusters, c)
	}
	sort.Slice(f.clusters, func(i, j int) bool {
		a, b := f.clusters[i], f.clusters[j]
		if sizes[a] != sizes[b] {
			return sizes[a] > sizes[b]
		}
		return a < b
	})
	return f, nil
}

// newFixture analyses the demo set for a test that edits it.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	f, err := buildFixture(t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { f.ws.Close() })
	return f
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// server returns an MCP server over the fixture.
func (f *fixture) server(opts mcpserver.Options) *mcp.Server {
	if opts.Logger == nil {
		opts.Logger = quiet
	}
	return mcpserver.New(mcpserver.Deps{Store: f.ws.Store, Search: f.svc}, opts)
}

// session connects an in-process client to a server over the fixture.
func (f *fixture) session(t *testing.T, opts mcpserver.Options) *mcp.ClientSession {
	t.Helper()
	cs, err := mcpserver.Connect(context.Background(), f.server(opts))
	require.NoError(t, err)
	t.Cleanup(func() { cs.Close() })
	return cs
}

// call calls a tool; a protocol error fails the test.
func call(t *testing.T, cs *mcp.ClientSession, name string, args any) *mcp.CallToolResult {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: name, Arguments: args})
	require.NoError(t, err, "%s %v", name, args)
	return res
}

// text returns a result's text content.
func text(t *testing.T, res *mcp.CallToolResult) string {
	t.Helper()
	require.NotEmpty(t, res.Content)
	tc, ok := res.Content[0].(*mcp.TextContent)
	require.True(t, ok, "content %T", res.Content[0])
	return tc.Text
}

// ok calls a tool that must succeed and decodes its JSON into a map.
func ok(t *testing.T, cs *mcp.ClientSession, name string, args any) map[string]any {
	t.Helper()
	res := call(t, cs, name, args)
	body := text(t, res)
	require.False(t, res.IsError, "%s %v: %s", name, args, body)
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(body), &m), body)
	return m
}

// decode calls a tool that must succeed and decodes its JSON into v.
func decode(t *testing.T, cs *mcp.ClientSession, name string, args any, v any) {
	t.Helper()
	res := call(t, cs, name, args)
	body := text(t, res)
	require.False(t, res.IsError, "%s %v: %s", name, args, body)
	require.NoError(t, json.Unmarshal([]byte(body), v), body)
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "lmsys-mcp-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if shared, err = buildFixture(dir); err != nil {
		fmt.Fprintln(os.Stderr, "mcpserver tests: build the demo fixture:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	shared.ws.Close()
	os.RemoveAll(dir)
	os.Exit(code)
}
