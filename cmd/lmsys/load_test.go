package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmsys-go/lmsys/dataset/demo"
)

func TestLoadFileSkipsAndIsIdempotent(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "q.db")
	src := filepath.Join(dir, "support.jsonl")
	require.NoError(t, os.WriteFile(src, []byte(`{"pid":"1","prompt":"How do I reset my password?","bot":"v2"}
{"pid":"2","prompt":"   "}
{broken
{"pid":"3","prompt":"Where is my order?","bot":"v1","lang":"English"}
`), 0o644))
	code, out, errOut := cli(t, "--db-path", db, "load", "--source", src, "--text-field", "prompt", "--id-field", "pid", "--model-field", "bot", "--dataset-name", "support-bot")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, `Loaded 2 new queries into dataset "support-bot"`)
	assert.Contains(t, out, "Skipped 2 rows:")
	assert.Contains(t, out, "empty text:")
	assert.Contains(t, out, "malformed row:")

	code, out, errOut = cli(t, "--db-path", db, "--json", "load", "--source", src, "--text-field", "prompt", "--id-field", "pid", "--dataset-name", "support-bot")
	require.Equal(t, 0, code, errOut)
	var stats map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &stats))
	assert.Equal(t, float64(0), stats["inserted"])
	assert.Equal(t, float64(2), stats["already_loaded"])
	assert.Equal(t, float64(4), stats["rows_read"])
	assert.Equal(t, map[string]any{"empty text": float64(1), "malformed row": float64(1)}, stats["skipped"])

	code, _, errOut = cli(t, "--db-path", db, "load", "--source", src, "--text-field", "prompt", "--strict")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, src+":2: empty text")

	code, out, _ = cli(t, "--db-path", db, "list", "--dataset", "support-bot", "--json")
	require.Equal(t, 0, code)
	var listed struct {
		Total   int64 `json:"total"`
		Queries []struct {
			Text  string `json:"query_text"`
			Model string `json:"model"`
			ID    string `json:"conversation_id"`
		} `json:"queries"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &listed))
	assert.Equal(t, int64(2), listed.Total)
	assert.Equal(t, "How do I reset my password?", listed.Queries[0].Text)
	assert.Equal(t, "v2", listed.Queries[0].Model)
	assert.Equal(t, "1", listed.Queries[0].ID)
}

func TestLoadUsageErrors(t *testing.T) {
	db := filepath.Join(t.TempDir(), "q.db")
	for _, args := range [][]string{
		{"load", "--source", "a.jsonl", "--hf-dataset", "x/y"},
		{"load", "--demo", "--source", "a.jsonl"},
		{"load", "--hf-dataset", "lmsys-chat-1m"},
		{"load", "--limit", "-5", "--demo"},
		{"load", "--demo", "--format", "xml"},
		{"load", "extra-arg"},
		{"list", "--limit", "0"},
		{"export", "--format", "xml", "--output", "x"},
		{"export", "--format", "csv"},
		{"export", "--format", "parquet", "--output", "-"},
	} {
		code, _, _ := cli(t, append([]string{"--db-path", db}, args...)...)
		assert.Equal(t, 2, code, args)
	}
	code, _, errOut := cli(t, "--db-path", db, "load", "--source", filepath.Join(t.TempDir(), "missing.jsonl"))
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "missing.jsonl")
}

// TestLoadHubUnauthorized points the hub client at a fake hub (HF_ENDPOINT) that
// refuses the download, and checks the error says what to do.
func TestLoadHubUnauthorized(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.URL.Path, "/api/datasets/lmsys/lmsys-chat-1m/tree/main/data"):
			fmt.Fprint(w, `[{"type":"file","path":"data/train-00000-of-00006.parquet","size":100}]`)
		default:
			http.Error(w, "gated", http.StatusUnauthorized)
		}
	}))
	defer srv.Close()
	t.Setenv("HF_ENDPOINT", srv.URL)
	t.Setenv("HF_HOME", t.TempDir())
	for _, v := range []string{"HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HUGGINGFACE_TOKEN", "HF_TOKEN_PATH"} {
		t.Setenv(v, "")
	}
	code, _, errOut := cli(t, "--db-path", filepath.Join(t.TempDir(), "q.db"), "load", "--limit", "10")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "accept its terms at "+srv.URL+"/datasets/lmsys/lmsys-chat-1m")
	assert.Contains(t, errOut, "set HF_TOKEN")
}

func TestListAndExport(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "q.db")
	code, out, errOut := cli(t, "--db-path", db, "load", "--demo")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, fmt.Sprintf("Loaded %d new queries", len(demo.Queries())))

	code, out, _ = cli(t, "--db-path", db, "list", "--language", "German", "--limit", "5", "--offset", "5")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "Showing 6–10 of 20.")
	assert.Equal(t, 1+5+2, strings.Count(out, "\n"))

	code, out, _ = cli(t, "--db-path", db, "list", "--contains", "SQL", "--model", "nobody")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "No queries match")

	for _, format := range []string{"csv", "json", "jsonl", "parquet"} {
		file := filepath.Join(dir, "out."+format)
		code, out, errOut = cli(t, "--db-path", db, "export", "--output", file) // format from the extension
		require.Equal(t, 0, code, errOut)
		assert.Contains(t, out, fmt.Sprintf("Exported %d queries", len(demo.Queries())))
		info, err := os.Stat(file)
		require.NoError(t, err)
		assert.Greater(t, info.Size(), int64(1000))
	}
	code, out, _ = cli(t, "--db-path", db, "export", "--format", "jsonl", "--output", "-", "--language", "Japanese")
	require.Equal(t, 0, code)
	assert.Equal(t, 11, strings.Count(out, "\n"))

	// An unknown run fails and leaves no file behind.
	file := filepath.Join(dir, "run.csv")
	code, _, errOut = cli(t, "--db-path", db, "export", "--format", "csv", "--output", file, "--run-id", "nope")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "nope")
	_, err := os.Stat(file)
	assert.True(t, os.IsNotExist(err))
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		assert.False(t, strings.HasSuffix(e.Name(), ".tmp"), e.Name())
	}
}
