package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/llm/llmtest"
	"github.com/lmsys-go/lmsys/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestClusterOnRequest loads conversations in five languages about two tasks,
// labels each through classify --facets clio against a fake model that answers an
// English one-sentence request, and clusters on the requests: each task's conversations share a
// cluster whatever their language. Summaries and facets then work on the run as on
// any other.
func TestClusterOnRequest(t *testing.T) {
	type conv struct{ lang, text, request string }
	convs := []conv{
		{"English", "Write a poem about the sea", "The user asks for a poem about the ocean."},
		{"Russian", "Напиши стихотворение о море", "The user asks for a poem about the ocean."},
		{"Chinese", "写一首关于大海的诗", "The user asks for a poem about the ocean."},
		{"Portuguese", "Escreva um poema sobre o mar", "The user asks for a poem about the ocean."},
		{"German", "Schreib ein Gedicht über das Meer", "The user asks for a poem about the ocean."},
		{"English", "Fix the bug in my SQL query that joins orders and users", "The user wants help debugging a SQL join query."},
		{"Russian", "Исправь ошибку в моём SQL-запросе с JOIN заказов и пользователей", "The user wants help debugging a SQL join query."},
		{"Chinese", "修复我的SQL查询中连接订单和用户表的错误", "The user wants help debugging a SQL join query."},
		{"Portuguese", "Corrija o erro na minha consulta SQL que junta pedidos e usuários", "The user wants help debugging a SQL join query."},
		{"German", "Behebe den Fehler in meiner SQL-Abfrage, die Bestellungen und Nutzer verknüpft", "The user wants help debugging a SQL join query."},
		{"English", "asdf", lmsys.ErrorLabel}, // a conversation the classifier could not label: left out
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "chats.jsonl")
	var b strings.Builder
	for i, c := range convs {
		row, _ := json.Marshal(map[string]any{"conversation_id": fmt.Sprint("c", i), "language": c.lang,
			"conversation": []map[string]string{{"role": "user", "content": c.text}, {"role": "assistant", "content": "…"}}})
		b.Write(append(row, '\n'))
	}
	require.NoError(t, os.WriteFile(src, []byte(b.String()), 0o644))
	dbPath := filepath.Join(dir, "q.db")
	code, _, stderr := cli(t, "load", "--db-path", dbPath, "--source", src)
	require.Zero(t, code, stderr)

	// The fake model summarises each conversation in English, whatever its language;
	// one conversation it keeps answering with a task outside the vocabulary.
	srv := llmtest.OpenAI(func(r llmtest.Request) llmtest.Reply {
		request := "The user asks for a poem about the ocean."
		switch {
		case strings.Contains(r.User, "asdf"):
			return llmtest.Reply{Text: `{"request": "?", "task": "no such task", "languages": ["en"], "concerning": 1, "frustration": 1, "assistant_errors": "none"}`}
		case strings.Contains(r.User, "SQL"):
			request = "The user wants help debugging a SQL join query."
		}
		return llmtest.Reply{Text: `{"request": "` + request + `", "task": "coding", "languages": ["xx"], "concerning": 1, "frustration": 1, "assistant_errors": "none"}`}
	})
	t.Cleanup(srv.Close)
	code, out, stderr := cli(t, "--db-path", dbPath, "classify", "--facets", "clio", "--model", "openai/gpt-4o-mini", "--base-url", srv.BaseURL())
	require.Zero(t, code, stderr)
	require.Contains(t, out, "completed")

	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{Path: dbPath})
	require.NoError(t, err)
	qs, err := db.ListQueries(ctx, lmsys.QueryFilter{})
	require.NoError(t, err)
	require.Len(t, qs, len(convs))
	ls, err := db.Labels(ctx, lmsys.LabelFilter{Facet: "request"})
	require.NoError(t, err)
	for i, l := range ls {
		require.Equal(t, convs[i].request, l.Value, "the fake's request for %q", convs[i].text)
	}
	require.NoError(t, db.Close())

	code, out, stderr = cli(t, "cluster", "kmeans", "--db-path", dbPath, "--on", "request", "--n-clusters", "2",
		"--embedding-model", "local/lexical", "--json")
	require.Zero(t, code, stderr)
	assert.NotContains(t, stderr, "not English", "the requests are English, whatever the conversations' languages")
	var run lmsys.Run
	require.NoError(t, json.Unmarshal([]byte(out), &run))
	assert.Equal(t, "request", run.Parameters["on"], "the run records the text it clustered")

	db, err = store.Open(ctx, store.Config{Path: dbPath})
	require.NoError(t, err)
	defer db.Close()
	as, err := db.Assignments(ctx, run.ID, nil)
	require.NoError(t, err)
	require.Len(t, as, len(convs)-1, "the ERROR-labelled conversation is not clustered")
	cluster := map[int64]int{}
	for _, a := range as {
		cluster[a.QueryID] = a.ClusterID
	}
	for i, q := range qs[:10] {
		same := cluster[q.ID] == cluster[qs[0].ID]
		assert.Equal(t, i < 5, same, "%s %q goes with its task, not its language", convs[i].lang, convs[i].text)
	}
	// Reading the run's vectors follows its text: the vectors are the requests'.
	var n int
	require.NoError(t, db.ScanQueryVectors(ctx, run.Space, lmsys.QueryFilter{RunID: run.ID}, 100, func(ids []int64, _ [][]float32) error {
		n += len(ids)
		return nil
	}))
	assert.Equal(t, len(convs)-1, n)

	code, _, stderr = cli(t, "summarize", run.ID, "--db-path", dbPath, "--json")
	require.Zero(t, code, stderr)
	code, out, stderr = cli(t, "facets", run.ID, "--db-path", dbPath, "--by", "language", "--json")
	require.Zero(t, code, stderr)
	assert.Contains(t, out, "Russian")

	code, _, stderr = cli(t, "cluster", "kmeans", "--db-path", dbPath, "--on", "summary", "--n-clusters", "2", "--embedding-model", "local/lexical")
	assert.NotZero(t, code)
	assert.Contains(t, stderr, "--on summary")
}
