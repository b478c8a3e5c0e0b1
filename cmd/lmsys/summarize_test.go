package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/llm/llmtest"
	"github.com/lmsys-go/lmsys/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// summarizeFixture stores a run of three clusters over topical queries.
func summarizeFixture(t *testing.T) (string, *store.DB) {
	t.Helper()
	path, db := tempDB(t, 0)
	ctx := context.Background()
	ds, err := db.EnsureDataset(ctx, lmsys.Dataset{Name: "demo"})
	require.NoError(t, err)
	topics := [][]string{
		{"sort a python list", "python list sort descending", "sort python list of tuples", "python sort list by key"},
		{"write a poem about the sea", "short poem about love", "poem about autumn rain", "write a poem for my mother"},
		{"capital of france", "capital city of japan", "what is the capital of peru, mail bob@example.org", "capital of canada"},
	}
	var qs []lmsys.Query
	for c, ts := range topics {
		for i, text := range ts {
			qs = append(qs, lmsys.Query{DatasetID: ds.ID, ConversationID: fmt.Sprintf("%d-%d", c, i), Text: text, Language: "English", Model: "gpt-4"})
		}
	}
	_, err = db.InsertQueries(ctx, qs)
	require.NoError(t, err)
	space := lmsys.Space{Provider: "test", Model: "t", Dims: 2}
	require.NoError(t, db.CreateRun(ctx, lmsys.Run{ID: "kmeans-3-test", Algorithm: "kmeans", NumClusters: 3, Space: space, Status: lmsys.RunCompleted}))
	stored, err := db.ListQueries(ctx, lmsys.QueryFilter{})
	require.NoError(t, err)
	var as []lmsys.Assignment
	for i, q := range stored {
		as = append(as, lmsys.Assignment{RunID: "kmeans-3-test", QueryID: q.ID, ClusterID: i / 4, Confidence: 1})
	}
	require.NoError(t, db.SaveAssignments(ctx, as))
	require.NoError(t, db.SaveCentroids(ctx, "kmeans-3-test", map[int][]float32{0: {1, 0}, 1: {0, 1}, 2: {-1, 0}}))
	return path, db
}

func TestSummarizeOfflineByDefault(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "")
	path, db := summarizeFixture(t)
	code, out, errOut := cli(t, "--db-path", path, "summarize", "kmeans-3-test", "--alias", "kw")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "Summarizer: offline c-TF-IDF keywords (no --model and no OPENAI_API_KEY)")
	assert.Contains(t, out, "3 clusters summarised")
	ss, err := db.Summaries(context.Background(), "kmeans-3-test", "kw")
	require.NoError(t, err)
	require.Len(t, ss, 3)
	assert.Contains(t, strings.ToLower(ss[1].Title), "poem")
}

func TestSummarizeLLM(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "sk-test")
	srv := llmtest.OpenAI(func(r llmtest.Request) llmtest.Reply {
		return llmtest.Reply{Text: fmt.Sprintf(`{"title": "Topic from request %d", "description": "Users asked. They differ.", "coherence": 5, "mixed": false}`, r.N)}
	})
	defer srv.Close()
	path, _ := summarizeFixture(t)
	code, out, errOut := cli(t, "--db-path", path, "--json", "summarize", "kmeans-3-test", "--base-url", srv.BaseURL(), "--alias", "v1", "--concurrency", "1")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, errOut, "Summarizer: openai/gpt-4o-mini (OPENAI_API_KEY is set), text scrubbed")
	var res struct {
		SummaryRun lmsys.SummaryRun `json:"summary_run"`
		Summarized int              `json:"summarized"`
		Summaries  []lmsys.Summary  `json:"summaries"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &res))
	assert.Equal(t, 3, res.Summarized)
	assert.Equal(t, "v1", res.SummaryRun.Alias)
	assert.Greater(t, res.SummaryRun.InputTokens, int64(0))
	require.Len(t, res.Summaries, 3)
	assert.True(t, strings.HasPrefix(res.Summaries[0].Title, "Topic from request"))
	for _, r := range srv.Requests() {
		assert.NotContains(t, r.User, "bob@example.org")
	}
	// The same run again is answered from the store's cache.
	code, out, errOut = cli(t, "--db-path", path, "summarize", "kmeans-3-test", "--base-url", srv.BaseURL(), "--model", "openai/gpt-4o-mini")
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, 3, srv.Calls())
	assert.Contains(t, out, "3 from cache")
	// --resume of a complete run asks nothing.
	code, out, errOut = cli(t, "--db-path", path, "summarize", "kmeans-3-test", "--base-url", srv.BaseURL(), "--alias", "v1", "--resume", "--cluster-id", "1")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "1 already done")
	assert.Equal(t, 3, srv.Calls())
}

func TestSummarizeUsageErrors(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "")
	path, _ := summarizeFixture(t)
	for _, args := range [][]string{
		{"summarize"},
		{"summarize", "kmeans-3-test", "--max-queries", "0"},
		{"summarize", "kmeans-3-test", "--concurrency", "0"},
		{"summarize", "kmeans-3-test", "--model", "nosuch/model"},
		{"summarize", "kmeans-3-test", "--model", "anthropic/claude-3-5-haiku-latest"},
		{"summarize", "kmeans-3-test", "--base-url", "http://x"},
		{"summarize", "kmeans-3-test", "--model", "openai/x", "--prompt-file", "/no/such/file"},
	} {
		t.Setenv("ANTHROPIC_API_KEY", "")
		code, _, errOut := cli(t, append([]string{"--db-path", path}, args...)...)
		assert.Equal(t, 2, code, "%v: %s", args, errOut)
	}
	code, _, errOut := cli(t, "--db-path", path, "summarize", "no-such-run")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "no-such-run")
}
