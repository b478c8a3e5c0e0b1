package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/lmsys-go/lmsys/llm/llmtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMergeAndShowHierarchyOffline(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "")
	path, _, runs := clusteredDB(t)
	code, out, errOut := cli(t, "--db-path", path, "merge-clusters", runs[0], "--target-levels", "2", "--merge-ratio", "0.5")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "Method: offline merge (no --model and no OPENAI_API_KEY)")
	assert.Contains(t, out, "3 → 2 clusters over 60 queries")

	code, out, errOut = cli(t, "--db-path", path, "--json", "merge-clusters", runs[0], "--offline", "--top-clusters", "1", "--target-levels", "2")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, errOut, "Method: offline merge (--offline)")
	var rep struct {
		HierarchyRunID string `json:"hierarchy_run_id"`
		Method         string `json:"method"`
		Leaves         int    `json:"leaves"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	assert.Equal(t, "offline", rep.Method)
	assert.Equal(t, 3, rep.Leaves)
	require.True(t, strings.HasPrefix(rep.HierarchyRunID, "hier-"+runs[0]+"-"))

	code, out, errOut = cli(t, "--db-path", path, "show-hierarchy", rep.HierarchyRunID)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "60 queries, 100.0%, 3 children")
	assert.Contains(t, out, "└── ")
	assert.Equal(t, 5, strings.Count(out, "\n"), out) // header, root, three leaves

	code, out, _ = cli(t, "--db-path", path, "show-hierarchy", rep.HierarchyRunID, "--depth", "0")
	require.Equal(t, 0, code)
	code, shallow, _ := cli(t, "--db-path", path, "show-hierarchy", rep.HierarchyRunID, "--depth", "1")
	require.Equal(t, 0, code)
	assert.Equal(t, out, shallow)

	code, out, _ = cli(t, "--db-path", path, "--json", "show-hierarchy", rep.HierarchyRunID)
	require.Equal(t, 0, code)
	var tree struct {
		Levels       int              `json:"levels"`
		TotalQueries int              `json:"total_queries"`
		Valid        bool             `json:"valid"`
		Nodes        []map[string]any `json:"nodes"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &tree))
	assert.Equal(t, 2, tree.Levels)
	assert.Equal(t, 60, tree.TotalQueries)
	assert.True(t, tree.Valid)
	assert.Len(t, tree.Nodes, 4)
}

func TestMergeClustersLLM(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "sk-test")
	srv := llmtest.OpenAI(func(r llmtest.Request) llmtest.Reply {
		switch {
		case strings.Contains(r.User, "Propose between"):
			return llmtest.Reply{Text: `{"categories": [{"name": "Programming and writing", "description": "Code and poems."}]}`}
		case strings.Contains(r.User, "<categories>"):
			return llmtest.Reply{Text: `{"parent": "programming and writing"}`}
		default:
			return llmtest.Reply{Text: `{"name": "Code, poems and SQL", "description": "Everything."}`}
		}
	})
	defer srv.Close()
	path, _, runs := clusteredDB(t)
	// Without summaries the LLM method refuses.
	code, _, errOut := cli(t, "--db-path", path, "merge-clusters", runs[0], "--base-url", srv.BaseURL(), "--embedding-model", "local/lexical")
	require.Equal(t, 1, code)
	assert.Contains(t, errOut, "summarize")
	code, _, errOut = cli(t, "--db-path", path, "summarize", runs[0], "--model", "offline")
	require.Equal(t, 0, code, errOut)
	code, out, errOut := cli(t, "--db-path", path, "merge-clusters", runs[0], "--base-url", srv.BaseURL(),
		"--embedding-model", "local/lexical", "--target-levels", "2", "--merge-ratio", "0.4")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "Method: Clio method with openai/gpt-4o-mini (OPENAI_API_KEY is set)")
	assert.Contains(t, out, "calls: propose 1, dedupe 0, assign 3, rename 1")
	assert.Equal(t, 5, srv.Calls())
	id := strings.Fields(out[strings.Index(out, "show-hierarchy "):])[1]
	code, out, errOut = cli(t, "--db-path", path, "show-hierarchy", id)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "Code, poems and SQL")
}

func TestMergeClustersUsageErrors(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "")
	path, _, runs := clusteredDB(t)
	for _, args := range [][]string{
		{"merge-clusters", runs[0], "--merge-ratio", "1.5"},
		{"merge-clusters", runs[0], "--target-levels", "1"},
		{"merge-clusters", runs[0], "--offline", "--model", "openai/gpt-4o-mini"},
		{"merge-clusters", runs[0], "--linkage", "single"},
		{"merge-clusters"},
		{"show-hierarchy", "x", "--depth", "-1"},
	} {
		code, _, errOut := cli(t, append([]string{"--db-path", path}, args...)...)
		assert.Equal(t, 2, code, "%v: %s", args, errOut)
	}
	code, _, errOut := cli(t, "--db-path", path, "merge-clusters", "kmeans-9-nope")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "not found")
	code, _, errOut = cli(t, "--db-path", path, "show-hierarchy", "hier-nope")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "not found")
}
