package mcpserver_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmsys-go/lmsys/mcpserver"
	"github.com/lmsys-go/lmsys/web"
)

func toolNames(t *testing.T, cs *mcp.ClientSession) []string {
	t.Helper()
	var names []string
	for tool, err := range cs.Tools(context.Background(), nil) {
		require.NoError(t, err)
		names = append(names, tool.Name)
	}
	return names
}

func TestListTools(t *testing.T) {
	ro := shared.session(t, mcpserver.Options{})
	assert.ElementsMatch(t, mcpserver.ReadTools(), toolNames(t, ro), "a read-only server lists the read tools only")

	rw := shared.session(t, mcpserver.Options{AllowWrites: true})
	assert.ElementsMatch(t, append(mcpserver.ReadTools(), mcpserver.WriteTools()...), toolNames(t, rw))

	res, err := rw.ListTools(context.Background(), nil)
	require.NoError(t, err)
	for _, tool := range res.Tools {
		assert.NotEmpty(t, tool.Description, tool.Name)
		require.NotNil(t, tool.Annotations, tool.Name)
		assert.Equal(t, !slices.Contains(mcpserver.WriteTools(), tool.Name) && tool.Name != mcpserver.ToolClassify, tool.Annotations.ReadOnlyHint, tool.Name)
		schema, ok := tool.InputSchema.(map[string]any)
		require.True(t, ok, "%s schema %T", tool.Name, tool.InputSchema)
		assert.Equal(t, "object", schema["type"], tool.Name)
		assert.Equal(t, false, schema["additionalProperties"], "%s refuses unknown arguments", tool.Name)
		props := schema["properties"].(map[string]any)
		for name, p := range props {
			assert.NotEmpty(t, p.(map[string]any)["description"], "%s.%s has a description", tool.Name, name)
		}
		if l, ok := props["limit"]; ok {
			assert.Contains(t, l.(map[string]any)["description"], "1 to 100 (default 20)", tool.Name)
		}
	}
}

// toolCase is one call of a tool: its arguments, and the error it must give ("" for
// success) or a check of its answer.
type toolCase struct {
	name    string
	tool    string
	args    map[string]any
	wantErr string
	check   func(t *testing.T, m map[string]any)
}

func runCases(t *testing.T, cs *mcp.ClientSession, cases []toolCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.tool+"/"+c.name, func(t *testing.T) {
			res := call(t, cs, c.tool, c.args)
			body := text(t, res)
			if c.wantErr != "" {
				assert.True(t, res.IsError, "want a tool error, got %s", body)
				assert.Contains(t, body, c.wantErr)
				return
			}
			require.False(t, res.IsError, body)
			var m map[string]any
			require.NoError(t, json.Unmarshal([]byte(body), &m))
			assert.NotContains(t, m, "truncated", "a default-size answer of the demo set is not cut")
			if c.check != nil {
				c.check(t, m)
			}
		})
	}
}

func items(t *testing.T, m map[string]any, path ...string) []any {
	t.Helper()
	var cur any = m
	for _, p := range path {
		cur = cur.(map[string]any)[p]
	}
	l, ok := cur.([]any)
	require.True(t, ok, "%v is %T", path, cur)
	return l
}

func TestReadTools(t *testing.T) {
	f := shared
	run := f.runID
	big := f.clusters[0]
	cs := f.session(t, mcpserver.Options{})
	long := strings.Repeat("a", web.DefaultMaxQueryChars+1)
	runCases(t, cs, []toolCase{
		{name: "all", tool: "list_runs", check: func(t *testing.T, m map[string]any) {
			l := items(t, m, "items")
			require.Len(t, l, 1)
			assert.Equal(t, run, l[0].(map[string]any)["run_id"])
			assert.EqualValues(t, 20, m["limit"])
		}},
		{name: "algorithm", tool: "list_runs", args: map[string]any{"algorithm": "hdbscan"}, check: func(t *testing.T, m map[string]any) {
			assert.Empty(t, items(t, m, "items"))
		}},
		{name: "limit too large", tool: "list_runs", args: map[string]any{"limit": 101}, wantErr: "limit: 101 is out of range: give 1 to 100 (default 20)"},
		{name: "limit negative", tool: "list_runs", args: map[string]any{"limit": -1}, wantErr: "limit: -1 is out of range"},
		{name: "page zero allowed, negative not", tool: "list_runs", args: map[string]any{"page": -2}, wantErr: "page: -2 is not a page"},
		{name: "unknown argument", tool: "list_runs", args: map[string]any{"limt": 5}, wantErr: `unexpected additional properties ["limt"]`},

		{name: "page", tool: "list_clusters", args: map[string]any{"run_id": run, "limit": 5, "page": 3}, check: func(t *testing.T, m map[string]any) {
			assert.Len(t, items(t, m, "items"), 2, "12 clusters: page 3 of 5 holds 2")
			assert.EqualValues(t, 3, m["pages"])
			assert.EqualValues(t, 12, m["num_clusters"])
			assert.EqualValues(t, 393, m["total_queries"])
		}},
		{name: "offset", tool: "list_clusters", args: map[string]any{"run_id": run, "offset": 5, "limit": 3}, check: func(t *testing.T, m map[string]any) {
			assert.Equal(t, []float64{float64(f.clusters[5]), float64(f.clusters[6]), float64(f.clusters[7])}, ids(t, items(t, m, "items"), "cluster_id"))
			assert.EqualValues(t, 5, m["offset"])
			assert.EqualValues(t, 8, m["next_offset"])
			assert.EqualValues(t, 3, m["limit"])
			assert.EqualValues(t, 2, m["page"])
			assert.EqualValues(t, 12, m["total"])
		}},
		{name: "offset at the end", tool: "list_clusters", args: map[string]any{"run_id": run, "offset": 10, "limit": 3}, check: func(t *testing.T, m map[string]any) {
			assert.Len(t, items(t, m, "items"), 2)
			assert.NotContains(t, m, "next_offset")
		}},
		{name: "page and offset", tool: "list_clusters", args: map[string]any{"run_id": run, "offset": 5, "page": 2}, wantErr: "offset: give page or offset, not both"},
		{name: "negative offset", tool: "list_clusters", args: map[string]any{"run_id": run, "offset": -5}, wantErr: "offset: -5 is not an offset: items count from 0"},
		{name: "examples", tool: "list_clusters", args: map[string]any{"run_id": run, "limit": 1, "examples": 2}, check: func(t *testing.T, m map[string]any) {
			c := items(t, m, "items")[0].(map[string]any)
			assert.EqualValues(t, big, c["cluster_id"], "largest first")
			assert.Len(t, c["examples"], 2)
			assert.NotEmpty(t, c["title"])
		}},
		{name: "by alias of the summary run", tool: "list_clusters", args: map[string]any{"run_id": run, "summary": f.sumID}},
		{name: "missing run", tool: "list_clusters", args: map[string]any{}, wantErr: `required: missing properties: ["run_id"]`},
		{name: "unknown run", tool: "list_clusters", args: map[string]any{"run_id": "kmeans-nope"}, wantErr: `run_id: no clustering run "kmeans-nope" (list_runs lists the runs)`},
		{name: "unknown summary", tool: "list_clusters", args: map[string]any{"run_id": run, "summary": "nope"}, wantErr: `summary: run ` + run + ` has no summary run with id or alias "nope"`},
		{name: "examples out of range", tool: "list_clusters", args: map[string]any{"run_id": run, "examples": 11}, wantErr: "examples: 11 is out of range: give 0 to 10"},
		{name: "wrong type", tool: "list_clusters", args: map[string]any{"run_id": run, "limit": "ten"}, wantErr: `/properties/limit: type: ten has type "string", want "integer"`},

		{name: "page", tool: "inspect_cluster", args: map[string]any{"run_id": run, "cluster_id": big, "limit": 4}, check: func(t *testing.T, m map[string]any) {
			assert.Len(t, items(t, m, "queries", "items"), 4)
			assert.EqualValues(t, big, m["cluster_id"])
			assert.NotNil(t, m["summary"])
			assert.NotZero(t, m["queries"].(map[string]any)["next_cursor"])
		}},
		{name: "unknown cluster", tool: "inspect_cluster", args: map[string]any{"run_id": run, "cluster_id": 99}, wantErr: "cluster_id: run " + run + " has no cluster 99 (list_clusters lists its clusters)"},
		{name: "cluster id missing", tool: "inspect_cluster", args: map[string]any{"run_id": run}, wantErr: `missing properties: ["cluster_id"]`},
		{name: "page and cursor", tool: "inspect_cluster", args: map[string]any{"run_id": run, "cluster_id": big, "page": 2, "cursor": 5}, wantErr: "cursor: give page or cursor, not both"},

		{name: "semantic by default with a run", tool: "search_queries", args: map[string]any{"text": "python csv file", "run_id": run, "limit": 3},
			check: func(t *testing.T, m map[string]any) {
				assert.Equal(t, "semantic", m["mode"])
				assert.Len(t, items(t, m, "items"), 3)
			}},
		{name: "fulltext with facets", tool: "search_queries", args: map[string]any{"text": "python", "facets": []string{"language"}, "limit": 2},
			check: func(t *testing.T, m map[string]any) {
				assert.Equal(t, "fulltext", m["mode"])
				assert.Len(t, items(t, m, "items"), 2)
				assert.Greater(t, m["total"], 2.0)
				assert.NotEmpty(t, m["facets"].(map[string]any)["language"])
			}},
		{name: "within clusters", tool: "search_queries", args: map[string]any{"text": "sort a list", "run_id": run, "within_clusters": "programming", "top_clusters": 2},
			check: func(t *testing.T, m map[string]any) { assert.Len(t, items(t, m, "applied_clusters"), 2) }},
		{name: "empty text", tool: "search_queries", args: map[string]any{"text": "  "}, wantErr: "text: empty: give the words to search for"},
		{name: "text too long", tool: "search_queries", args: map[string]any{"text": long}, wantErr: fmt.Sprintf("text: %d characters long: searches take at most %d", len(long), web.DefaultMaxQueryChars)},
		{name: "semantic without a run", tool: "search_queries", args: map[string]any{"text": "x", "mode": "semantic"}, wantErr: "run_id: required for a semantic search"},
		{name: "bad mode", tool: "search_queries", args: map[string]any{"text": "x", "mode": "fuzzy"}, wantErr: "/properties/mode: enum: fuzzy does not equal any of: [semantic fulltext hybrid]"},
		{name: "unknown label facet", tool: "search_queries", args: map[string]any{"text": "x", "label": "nosuchfacet=yes"}, wantErr: `label: no classifier has labelled facet "nosuchfacet"`},
		{name: "malformed label", tool: "search_queries", args: map[string]any{"text": "x", "label": "refusal"}, wantErr: "label: "},
		{name: "past the best 1000", tool: "search_queries", args: map[string]any{"text": "x", "page": 11, "limit": 100}, wantErr: "page: item 1000 (page 11 of 100 results) is past the 1000 best matches"},

		{name: "semantic", tool: "search_clusters", args: map[string]any{"text": "cover letter for a job", "run_id": run, "limit": 3}, check: func(t *testing.T, m map[string]any) {
			l := items(t, m, "items")
			require.Len(t, l, 3)
			assert.Contains(t, l[0].(map[string]any)["title"], "cover letter")
		}},
		{name: "fulltext over every run", tool: "search_clusters", args: map[string]any{"text": "cover letter"}, check: func(t *testing.T, m map[string]any) {
			assert.NotEmpty(t, items(t, m, "items"))
		}},
		{name: "semantic without a run", tool: "search_clusters", args: map[string]any{"text": "x", "mode": "semantic"}, wantErr: "run_id: required for a semantic search"},
		{name: "empty text", tool: "search_clusters", args: map[string]any{"text": ""}, wantErr: "text: empty"},

		{name: "of a run", tool: "list_hierarchies", args: map[string]any{"run_id": run}, check: func(t *testing.T, m map[string]any) {
			l := items(t, m, "items")
			require.Len(t, l, 1)
			assert.Equal(t, f.hierID, l[0].(map[string]any)["hierarchy_run_id"])
		}},
		{name: "unknown run", tool: "list_hierarchies", args: map[string]any{"run_id": "nope"}, wantErr: `run_id: no clustering run "nope"`},

		{name: "top first", tool: "show_hierarchy", args: map[string]any{"hierarchy_id": f.hierID, "limit": 3}, check: func(t *testing.T, m map[string]any) {
			l := items(t, m, "nodes")
			require.Len(t, l, 3)
			assert.EqualValues(t, 2, l[0].(map[string]any)["level"], "the top level first")
			assert.EqualValues(t, map[string]any{"list": "nodes", "total": 19.0, "page": 1.0, "pages": 7.0, "limit": 3.0}, m["paging"])
			assert.EqualValues(t, 3, m["totals"].(map[string]any)["levels"])
			assert.Nil(t, m["tree"])
		}},
		{name: "by offset", tool: "show_hierarchy", args: map[string]any{"hierarchy_id": f.hierID, "offset": 17, "limit": 5}, check: func(t *testing.T, m map[string]any) {
			assert.Len(t, items(t, m, "nodes"), 2)
			assert.EqualValues(t, map[string]any{"list": "nodes", "total": 19.0, "page": 4.0, "pages": 4.0, "limit": 5.0, "offset": 17.0}, m["paging"])
		}},
		{name: "one level", tool: "show_hierarchy", args: map[string]any{"run_id": run, "level": 1}, check: func(t *testing.T, m map[string]any) {
			for _, n := range items(t, m, "nodes") {
				assert.EqualValues(t, 1, n.(map[string]any)["level"])
			}
		}},
		{name: "no id", tool: "show_hierarchy", args: map[string]any{}, wantErr: "hierarchy_id: required"},
		{name: "unknown id", tool: "show_hierarchy", args: map[string]any{"hierarchy_id": "hier-nope"}, wantErr: `hierarchy_id: no hierarchy "hier-nope"`},
		{name: "level out of range", tool: "show_hierarchy", args: map[string]any{"hierarchy_id": f.hierID, "level": 7}, wantErr: "level: hierarchy " + f.hierID + " has levels 0 to 2"},
		{name: "unknown parent", tool: "show_hierarchy", args: map[string]any{"hierarchy_id": f.hierID, "parent_cluster_id": 424242}, wantErr: "parent_cluster_id: hierarchy " + f.hierID + " has no node 424242"},

		{name: "language of one cluster", tool: "facets", args: map[string]any{"run_id": run, "by": []string{"language"}, "cluster_id": big}, check: func(t *testing.T, m map[string]any) {
			fs := items(t, m, "facets")
			require.Len(t, fs, 1)
			assert.Equal(t, "language", fs[0].(map[string]any)["field"])
			assert.Equal(t, run, m["run_id"])
		}},
		{name: "bad field", tool: "facets", args: map[string]any{"run_id": run, "by": []string{"no spaces allowed"}}, wantErr: "by: "},
		{name: "unknown cluster", tool: "facets", args: map[string]any{"run_id": run, "cluster_id": 77}, wantErr: "cluster_id: run " + run + " has no cluster 77"},
		{name: "top out of range", tool: "facets", args: map[string]any{"run_id": run, "top": 51}, wantErr: "top: 51 is out of range: give 1 to 50"},
		{name: "bad sort", tool: "facets", args: map[string]any{"run_id": run, "sort": "size"}, wantErr: "/properties/sort: enum"},

		{name: "months", tool: "trends", args: map[string]any{"run_id": run, "period": "month", "limit": 5}, check: func(t *testing.T, m map[string]any) {
			assert.Len(t, items(t, m, "clusters"), 5)
			assert.Equal(t, []any{"2026-01", "2026-02", "2026-03"}, m["periods"])
			assert.EqualValues(t, 12, m["paging"].(map[string]any)["total"])
		}},
		{name: "bad period", tool: "trends", args: map[string]any{"run_id": run, "period": "year"}, wantErr: "/properties/period: enum"},
		{name: "unknown run", tool: "trends", args: map[string]any{"run_id": "nope"}, wantErr: `run_id: no clustering run "nope"`},

		{name: "two months", tool: "compare_periods", args: map[string]any{"run_id": run, "a": "2026-01", "b": "2026-02", "top": 3}, check: func(t *testing.T, m map[string]any) {
			assert.EqualValues(t, 178, m["total_a"])
			assert.LessOrEqual(t, len(items(t, m, "risers")), 3)
		}},
		{name: "two datasets", tool: "compare_periods", args: map[string]any{"run_id": run, "a": "demo", "b": "demo", "by": "dataset"}},
		{name: "not a period", tool: "compare_periods", args: map[string]any{"run_id": run, "a": "January", "b": "2026-02"}, wantErr: `a: "January" is not a period`},
		{name: "b missing", tool: "compare_periods", args: map[string]any{"run_id": run, "a": "2026-01"}, wantErr: `missing properties: ["b"]`},

		{name: "a run with itself", tool: "compare_runs", args: map[string]any{"run_a": run, "run_b": run}, check: func(t *testing.T, m map[string]any) {
			assert.EqualValues(t, 1, m["ari"])
			assert.EqualValues(t, 393, m["shared_queries"])
		}},
		{name: "unknown second run", tool: "compare_runs", args: map[string]any{"run_a": run, "run_b": "nope"}, wantErr: `run_b: no clustering run "nope"`},

		{name: "none yet", tool: "list_edits", args: map[string]any{"run_id": run}, check: func(t *testing.T, m map[string]any) {
			assert.Empty(t, items(t, m, "items"))
		}},
		{name: "bad since", tool: "list_edits", args: map[string]any{"run_id": run, "since": "yesterday"}, wantErr: `since: "yesterday" is not RFC 3339`},
		{name: "bad type", tool: "list_edits", args: map[string]any{"run_id": run, "type": "recolor"}, wantErr: "/properties/type: enum"},

		{name: "a run's rows", tool: "export", args: map[string]any{"run_id": run, "limit": 3}, check: func(t *testing.T, m map[string]any) {
			l := items(t, m, "items")
			require.Len(t, l, 3)
			row := l[0].(map[string]any)
			assert.Equal(t, run, row["run_id"])
			assert.NotEmpty(t, row["cluster_title"])
			assert.EqualValues(t, row["id"], 1)
			assert.EqualValues(t, 3, m["next_cursor"])
		}},
		{name: "after a cursor, filtered", tool: "export", args: map[string]any{"cursor": 390, "language": "English"}, check: func(t *testing.T, m map[string]any) {
			for _, r := range items(t, m, "items") {
				assert.Greater(t, r.(map[string]any)["id"], 390.0)
			}
			assert.NotContains(t, m, "next_cursor", "the last page")
		}},
		{name: "summary without a run", tool: "export", args: map[string]any{"summary": "x"}, wantErr: "summary: needs run_id"},
		{name: "unknown run", tool: "export", args: map[string]any{"run_id": "nope"}, wantErr: `run_id: no clustering run "nope"`},
	})
}

// TestEveryToolHasCases keeps the tables above covering every tool.
func TestEveryToolHasCases(t *testing.T) {
	src := readTestSources(t)
	for _, name := range append(mcpserver.ReadTools(), mcpserver.WriteTools()...) {
		assert.True(t, strings.Contains(src, `tool: "`+name+`"`), "no table case calls %s", name)
	}
}
