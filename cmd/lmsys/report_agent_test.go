package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/agent"
	"github.com/lmsys-go/lmsys/llm/llmtest"
	"github.com/lmsys-go/lmsys/mcpserver"
	"github.com/lmsys-go/lmsys/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// biggestCluster returns the largest cluster of a run and one of its queries.
func biggestCluster(t *testing.T, dbPath, runID string) (int, int64) {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{Path: dbPath})
	require.NoError(t, err)
	defer db.Close()
	sizes, err := db.ClusterSizes(ctx, runID)
	require.NoError(t, err)
	big := -1
	for c, n := range sizes {
		if big < 0 || n > sizes[big] || n == sizes[big] && c < big {
			big = c
		}
	}
	qs, err := db.ListQueries(ctx, lmsys.QueryFilter{RunID: runID, ClusterID: &big, Limit: 1})
	require.NoError(t, err)
	require.Len(t, qs, 1)
	return big, qs[0].ID
}

// TestReportWithAgent runs lmsys report --model against a fake OpenAI that plays a
// scripted exploration through the real MCP tools: a good call and a refused one, a
// submission citing a cluster that is not in the run (sent back), then a good one
// whose finding heads the report.
func TestReportWithAgent(t *testing.T) {
	dir, db, runID := reportDemo(t, true, true)
	big, qid := biggestCluster(t, db, runID)
	title := `Jailbreaks <b>refused</b> & pushed back`
	fake := llmtest.OpenAI(func(r llmtest.Request) llmtest.Reply {
		switch r.N {
		case 1:
			return llmtest.Reply{Text: "Hypothesis: refusals sit in one cluster.", ToolCalls: []llmtest.ToolCall{
				{ID: "c1", Name: "list_clusters", Arguments: fmt.Sprintf(`{"run_id":%q,"limit":5}`, runID)},
				{ID: "c2", Name: "inspect_cluster", Arguments: fmt.Sprintf(`{"run_id":%q,"cluster_id":"big"}`, runID)},
			}}
		case 2:
			return llmtest.Reply{ToolCalls: []llmtest.ToolCall{{ID: "c3", Name: agent.SubmitTool, Arguments: fmt.Sprintf(
				`{"findings":[{"title":"x","kind":"risk","summary":"s","evidence":"e","cluster_ids":[%d, 9999],"query_ids":[]}]}`, big)}}}
		}
		return llmtest.Reply{ToolCalls: []llmtest.ToolCall{{ID: "c4", Name: agent.SubmitTool, Arguments: fmt.Sprintf(
			`{"findings":[{"title":%q,"kind":"prompt_improvement","summary":"Soften the refusal and offer a safe alternative.","evidence":"18 refusals, every one pushed back on","cluster_ids":[%d],"query_ids":[%d]}]}`,
			title, big, qid)}}}
	})
	defer fake.Close()
	t.Setenv("OPENAI_API_KEY", "sk-report-secret")
	out := filepath.Join(dir, "findings.html")
	r := runReportCLI(t, db, runID, "--output", out, "--model", "openai/gpt-4o-mini", "--base-url", fake.BaseURL(), "--max-cost", "1", "--max-steps", "6")

	require.Len(t, r.Report.Findings, 1)
	f := r.Report.Findings[0]
	assert.Equal(t, title, f.Title)
	assert.Equal(t, []int{big}, f.ClusterIDs)
	assert.Equal(t, []int64{qid}, f.QueryIDs)
	assert.Equal(t, "findings", r.Sections[0], "findings head the report")
	page, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.Contains(t, string(page), "Jailbreaks &lt;b&gt;refused&lt;/b&gt; &amp; pushed back")
	assert.NotContains(t, string(page), "<b>refused</b>")

	reqs := fake.Requests()
	require.Len(t, reqs, 3)
	for _, name := range []string{mcpserver.ToolClassify, mcpserver.ToolExport, mcpserver.ToolRenameCluster} {
		assert.NotContains(t, reqs[0].Tools, name, "the agent gets read tools only")
	}
	assert.Contains(t, reqs[0].Tools, mcpserver.ToolListClusters)
	require.Len(t, reqs[1].ToolResults, 2)
	assert.Contains(t, reqs[1].ToolResults[0].Content, fmt.Sprintf(`"cluster_id":%d`, big), "list_clusters answered from the store")
	assert.Contains(t, reqs[1].ToolResults[1].Content, "cluster_id", "the refused input names its field")
	require.Len(t, reqs[2].ToolResults, 3)
	assert.Contains(t, reqs[2].ToolResults[2].Content, "cluster 9999 is not a cluster of run")

	tf, err := os.Open(filepath.Join(dir, "findings.transcript.jsonl"))
	require.NoError(t, err)
	defer tf.Close()
	kinds := map[string]int{}
	sc := bufio.NewScanner(tf)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var line map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &line))
		kinds[line["kind"].(string)]++
		assert.NotContains(t, sc.Text(), "sk-report-secret")
	}
	assert.Equal(t, map[string]int{"model": 3, "tool": 4}, kinds)
}

// TestReportAgentStepCapAndFlags: a model that never submits stops at --max-steps
// and the offline report is still written; agent flags without --model, or --model
// without a cost cap, are usage errors.
func TestReportAgentStepCapAndFlags(t *testing.T) {
	dir, db, runID := reportDemo(t, false, false)
	fake := llmtest.OpenAI(func(r llmtest.Request) llmtest.Reply {
		return llmtest.Reply{ToolCalls: []llmtest.ToolCall{{ID: fmt.Sprint("c", r.N), Name: "list_runs", Arguments: `{}`}}}
	})
	defer fake.Close()
	t.Setenv("OPENAI_API_KEY", "sk-test")
	out := filepath.Join(dir, "r.md")
	code, stdout, stderr := cli(t, "--db-path", db, "report", runID, "--output", out, "--model", "openai/gpt-4o-mini", "--base-url", fake.BaseURL(),
		"--max-cost", "1", "--max-steps", "2")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "max_steps after 2 steps")
	assert.Contains(t, stderr, "before submitting findings")
	assert.Equal(t, 2, fake.Calls())
	md, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.Contains(t, string(md), "## The numbers that matter")

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--max-cost", "1"}, "give --model too"},
		{[]string{"--model", "openai/gpt-4o-mini"}, "--max-cost above zero"},
		{[]string{"--model", "openai/gpt-4o-mini", "--max-cost", "1", "--max-steps", "0"}, "--max-steps must be at least 1"},
		{[]string{"--model", "nope", "--max-cost", "1"}, "provider/model"},
	} {
		code, _, stderr := cli(t, append([]string{"--db-path", db, "report", runID, "--output", filepath.Join(dir, "x.md")}, tc.args...)...)
		assert.Equal(t, 2, code, "%v: %s", tc.args, stderr)
		assert.Contains(t, stderr, tc.want, "%v", tc.args)
		_, err := os.Stat(filepath.Join(dir, "x.md"))
		assert.True(t, os.IsNotExist(err), "%v wrote a report", tc.args)
	}
	assert.Equal(t, 2, fake.Calls(), "a refused command calls no model")
	assert.False(t, strings.Contains(stdout, "sk-test"))
}
