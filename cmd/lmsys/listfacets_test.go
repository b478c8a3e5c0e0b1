package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/llm/llmtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestClioLanguagesCountPerItem classifies two dated conversations with the Clio
// facet set, the fake model answering languages ["English", "French"] and
// ["French"], and reads the languages facet back through the commands: French
// counts twice, English once, while the export keeps the stored label whole.
func TestClioLanguagesCountPerItem(t *testing.T) {
	path, db := tempDB(t, 0)
	ctx := context.Background()
	ds, err := db.EnsureDataset(ctx, lmsys.Dataset{Name: "chats"})
	require.NoError(t, err)
	var qs []lmsys.Query
	for i := range 2 {
		ts := time.Date(2026, 9, 1+7*i, 12, 0, 0, 0, time.UTC) // two weeks
		text := fmt.Sprintf("[conv %d] bonjour, how do I say this in French?", i+1)
		qs = append(qs, lmsys.Query{DatasetID: ds.ID, ConversationID: fmt.Sprint(i), Text: text, Timestamp: &ts, Conversation: []lmsys.Message{
			{Role: lmsys.RoleUser, Content: text}, {Role: lmsys.RoleAssistant, Content: "Bonjour !"}}})
	}
	_, err = db.InsertQueries(ctx, qs)
	require.NoError(t, err)
	require.NoError(t, db.CreateRun(ctx, lmsys.Run{ID: "run-l", Algorithm: "kmeans", NumClusters: 1, Status: lmsys.RunCompleted}))
	require.NoError(t, db.SaveAssignments(ctx, []lmsys.Assignment{{RunID: "run-l", QueryID: 1, ClusterID: 0}, {RunID: "run-l", QueryID: 2, ClusterID: 0}}))

	srv := llmtest.OpenAI(func(r llmtest.Request) llmtest.Reply {
		langs := `["French"]`
		if strings.Contains(r.User, "[conv 1]") {
			langs = `["English", "French"]`
		}
		return llmtest.Reply{Text: `{"request": "Translate a greeting.", "task": "translation", "languages": ` + langs +
			`, "concerning": 1, "frustration": 1, "assistant_errors": "none"}`}
	})
	t.Cleanup(srv.Close)
	code, out, errOut := cli(t, "--db-path", path, "classify", "--facets", "clio", "--model", "openai/gpt-4o-mini", "--base-url", srv.BaseURL())
	require.Equal(t, 0, code, errOut)
	assert.Regexp(t, `languages\s+French\s+2\n\s+English\s+1\n`, out, "the classify summary counts items")

	code, out, errOut = cli(t, "--db-path", path, "facets", "run-l", "--by", "languages", "--json")
	require.Equal(t, 0, code, errOut)
	var f struct {
		Facets []struct {
			Field   string `json:"field"`
			List    bool   `json:"list"`
			Total   int64  `json:"total_queries"`
			Overall []struct {
				Key   string  `json:"key"`
				Count int64   `json:"count"`
				Share float64 `json:"share"`
			} `json:"overall"`
			Clusters []struct {
				Size int64 `json:"num_queries"`
			} `json:"clusters"`
		} `json:"facets"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &f), out)
	require.Len(t, f.Facets, 1)
	lf := f.Facets[0]
	assert.True(t, lf.List)
	assert.EqualValues(t, 2, lf.Total, "queries, not items")
	require.Len(t, lf.Overall, 2)
	assert.Equal(t, "French", lf.Overall[0].Key)
	assert.EqualValues(t, 2, lf.Overall[0].Count)
	assert.InDelta(t, 1.0, lf.Overall[0].Share, 1e-9)
	assert.Equal(t, "English", lf.Overall[1].Key)
	assert.EqualValues(t, 1, lf.Overall[1].Count)
	assert.InDelta(t, 0.5, lf.Overall[1].Share, 1e-9)
	require.Len(t, lf.Clusters, 1)
	assert.EqualValues(t, 2, lf.Clusters[0].Size)

	trend := func(label string) []int64 {
		t.Helper()
		code, out, errOut := cli(t, "--db-path", path, "trends", "run-l", "--label", label, "--json")
		require.Equal(t, 0, code, errOut)
		var tr struct {
			Totals []int64 `json:"totals"`
		}
		require.NoError(t, json.Unmarshal([]byte(out), &tr), out)
		return tr.Totals
	}
	assert.Equal(t, []int64{1, 1}, trend("languages=French"))
	assert.Equal(t, []int64{1}, trend("languages=English"))
	assert.Equal(t, []int64{1}, trend("languages=English, French"), "a value with a comma is the whole label")
	code, _, errOut = cli(t, "--db-path", path, "trends", "run-l", "--label", "languages=Engl", "--json")
	assert.NotEqual(t, 0, code, "no query holds the item Engl")
	assert.Contains(t, errOut, "none of its 0 queries")

	code, out, errOut = cli(t, "--db-path", path, "export", "--format", "jsonl", "--output", "-")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, `"languages":"English, French"`, "the export keeps the stored label")
}
