package mcpserver_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmsys-go/lmsys/mcpserver"
)

// collect calls a list tool until its list is exhausted and returns every item: it
// follows a cut result's truncation.next, and otherwise the next page or cursor. It
// checks that every answer fits the server's cap.
func collect(t *testing.T, cs *mcp.ClientSession, tool string, args map[string]any, list string) []any {
	t.Helper()
	args = maps.Clone(args)
	path := strings.Split(list, ".")
	var all []any
	for range 200 {
		res := call(t, cs, tool, args)
		body := text(t, res)
		require.False(t, res.IsError, body)
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(body), &m))
		all = append(all, items(t, m, path...)...)
		if tr, cut := m["truncation"].(map[string]any); cut {
			assert.Equal(t, true, m["truncated"])
			assert.LessOrEqual(t, len(body), int(tr["max_bytes"].(float64)), "a cut answer fits the cap")
			next, more := tr["next"].(map[string]any)
			if !more {
				return all
			}
			if _, c := next["cursor"]; c {
				delete(args, "page")
			}
			maps.Copy(args, next)
			continue
		}
		parent := m
		for _, p := range path[:len(path)-1] {
			parent = parent[p].(map[string]any)
		}
		if _, paged := args["cursor"]; !paged {
			if pg, ok := m["paging"].(map[string]any); ok {
				parent = pg
			}
			if _, byOffset := args["offset"]; byOffset {
				next, more := parent["next_offset"].(float64)
				if !more {
					return all
				}
				args["offset"] = next
				continue
			}
			if page, pages := parent["page"], parent["pages"]; page != nil && pages != nil {
				if page.(float64) >= pages.(float64) {
					return all
				}
				args["page"] = page.(float64) + 1
				continue
			}
		}
		c, ok := parent["next_cursor"].(float64)
		if !ok || c == 0 {
			return all
		}
		delete(args, "page")
		args["cursor"] = c
	}
	t.Fatalf("%s: no end after 200 calls", tool)
	return nil
}

func ids(t *testing.T, items []any, key string) []float64 {
	t.Helper()
	out := make([]float64, len(items))
	for i, it := range items {
		out[i] = it.(map[string]any)[key].(float64)
	}
	return out
}

func TestByteCapPaging(t *testing.T) {
	f := shared
	full := f.session(t, mcpserver.Options{})
	capped := f.session(t, mcpserver.Options{MaxResultBytes: 4096})

	t.Run("clusters by page", func(t *testing.T) {
		args := map[string]any{"run_id": f.runID, "examples": 5, "limit": 12}
		want := items(t, ok(t, full, "list_clusters", args), "items")
		require.Len(t, want, 12)
		first := ok(t, capped, "list_clusters", args)
		tr := first["truncation"].(map[string]any)
		assert.Equal(t, "items", tr["list"])
		assert.Less(t, tr["returned"], 12.0)
		assert.EqualValues(t, 12, tr["of"])
		assert.Contains(t, tr["hint"], fmt.Sprintf("call again with offset=%v, limit=12", tr["returned"]))
		got := collect(t, capped, "list_clusters", args, "items")
		assert.Equal(t, ids(t, want, "cluster_id"), ids(t, got, "cluster_id"), "every cluster once, in order")
	})

	t.Run("cluster queries by cursor", func(t *testing.T) {
		args := map[string]any{"run_id": f.runID, "cluster_id": f.clusters[0], "limit": 100}
		want := collect(t, full, "inspect_cluster", args, "queries.items")
		got := collect(t, capped, "inspect_cluster", args, "queries.items")
		require.Len(t, want, 67)
		assert.Equal(t, ids(t, want, "id"), ids(t, got, "id"))
	})

	t.Run("cluster queries by page", func(t *testing.T) {
		args := map[string]any{"run_id": f.runID, "cluster_id": f.clusters[0], "limit": 30, "page": 2}
		want := items(t, ok(t, full, "inspect_cluster", args), "queries", "items")
		got := ok(t, capped, "inspect_cluster", args)
		tr := got["truncation"].(map[string]any)
		kept := items(t, got, "queries", "items")
		assert.Equal(t, ids(t, want[:len(kept)], "id"), ids(t, kept, "id"))
		next := tr["next"].(map[string]any)
		assert.Equal(t, kept[len(kept)-1].(map[string]any)["id"], next["cursor"], "continues after the last query kept")
		assert.Equal(t, next["cursor"], got["queries"].(map[string]any)["next_cursor"], "the page's own cursor follows the cut")
	})

	t.Run("export by cursor", func(t *testing.T) {
		got := collect(t, capped, "export", map[string]any{"run_id": f.runID, "limit": 100}, "items")
		require.Len(t, got, 393)
		for i, id := range ids(t, got, "id") {
			assert.EqualValues(t, i+1, id)
		}
	})

	t.Run("search by page", func(t *testing.T) {
		args := map[string]any{"text": "write", "mode": "fulltext", "limit": 40}
		want := collect(t, full, "search_queries", args, "items")
		got := collect(t, capped, "search_queries", args, "items")
		require.NotEmpty(t, want)
		assert.Equal(t, ids(t, want, "query_id"), ids(t, got, "query_id"))
	})

	t.Run("hierarchy nodes", func(t *testing.T) {
		args := map[string]any{"hierarchy_id": f.hierID, "limit": 100}
		want := items(t, ok(t, full, "show_hierarchy", args), "nodes")
		got := collect(t, f.session(t, mcpserver.Options{MaxResultBytes: 2048}), "show_hierarchy", args, "nodes")
		require.Len(t, want, 19)
		assert.Equal(t, ids(t, want, "cluster_id"), ids(t, got, "cluster_id"))
	})

	t.Run("other lists halved", func(t *testing.T) {
		m := ok(t, capped, "facets", map[string]any{"run_id": f.runID, "by": []string{"language", "model"}})
		tr := m["truncation"].(map[string]any)
		assert.NotEmpty(t, tr["cut"])
		assert.Contains(t, tr["hint"], "give cluster_id, fewer facets in by, or a smaller top")
	})

	t.Run("too small to fit", func(t *testing.T) {
		cs := f.session(t, mcpserver.Options{MaxResultBytes: 200})
		res := call(t, cs, "list_runs", nil)
		assert.True(t, res.IsError)
		assert.Contains(t, text(t, res), "the answer does not fit in 200 bytes even cut down")
	})
}
