package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// labelledFile writes a JSONL file of 3 labels with disjoint vocabularies.
func labelledFile(t *testing.T) string {
	t.Helper()
	vocab := map[string][]string{
		"cooking": {"recipe", "bake", "oven", "flour", "sugar", "pasta", "sauce", "garlic"},
		"coding":  {"python", "function", "compile", "error", "golang", "variable", "loop", "array"},
		"travel":  {"flight", "hotel", "passport", "beach", "visa", "airport", "luggage", "train"},
	}
	var b strings.Builder
	i := 0
	for label, words := range vocab {
		for j := 0; j < 30; j++ {
			text := fmt.Sprintf("%s %s %s", words[j%8], words[(j+3)%8], words[(j/8+5)%8])
			fmt.Fprintf(&b, `{"id": "%d", "text": %q, "label": %q}`+"\n", i, text, label)
			i++
		}
	}
	path := filepath.Join(t.TempDir(), "labelled.jsonl")
	require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o644))
	return path
}

func TestEval(t *testing.T) {
	path := labelledFile(t)
	code, out, errOut := cli(t, "eval", "--input", path, "--embedding-model", "local/lexical", "--json")
	require.Equal(t, 0, code, errOut)
	var r map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &r))
	assert.Equal(t, float64(90), r["queries"])
	assert.Equal(t, float64(3), r["labels"])
	assert.Equal(t, float64(3), r["n_clusters"])
	assert.Greater(t, r["nmi"].(float64), 0.9, "disjoint vocabularies separate")

	code, _, errOut = cli(t, "eval", "--input", path, "--label-field", "nope", "--embedding-model", "local/lexical")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, `label field "nope"`)
	code, _, _ = cli(t, "eval")
	assert.Equal(t, 2, code)
	code, _, errOut = cli(t, "eval", "--input", path, "--embedding-model", "nosuch/model")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "nosuch")
}

func TestClusterCommands(t *testing.T) {
	path := labelledFile(t)
	db := filepath.Join(t.TempDir(), "q.db")
	code, _, errOut := cli(t, "--db-path", db, "eval", "--input", path, "--embedding-model", "local/lexical")
	require.Equal(t, 0, code, errOut)

	code, out, errOut := cli(t, "--db-path", db, "cluster", "kmeans", "--n-clusters", "3", "--embedding-model", "local/lexical", "--json")
	require.Equal(t, 0, code, errOut)
	var run map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &run))
	assert.Equal(t, "completed", run["status"])
	assert.Equal(t, float64(90), run["num_queries"])

	code, out, errOut = cli(t, "--db-path", db, "cluster", "kmeans", "--n-clusters", "3", "--mb-batch-size", "32", "--chunk-size", "40", "--embedding-model", "local/lexical")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "3 clusters over 90 queries")

	code, out, errOut = cli(t, "--db-path", db, "cluster", "hdbscan", "--min-cluster-size", "5", "--pca-dims", "0", "--embedding-model", "local/lexical", "--json")
	require.Equal(t, 0, code, errOut)
	require.NoError(t, json.Unmarshal([]byte(out), &run))
	assert.Equal(t, "hdbscan", run["algorithm"])

	// --build-index leaves the run's index in sync beside the database.
	code, out, errOut = cli(t, "--db-path", db, "cluster", "kmeans", "--n-clusters", "3", "--build-index", "--embedding-model", "local/lexical", "--json")
	require.Equal(t, 0, code, errOut)
	require.NoError(t, json.Unmarshal([]byte(out), &run))
	code, out, errOut = cli(t, "--db-path", db, "verify", "sync", run["run_id"].(string), "--json")
	require.Equal(t, 0, code, errOut)
	var rep map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	assert.Equal(t, true, rep["in_sync"], out)
	assert.FileExists(t, filepath.Join(filepath.Dir(db), "index", "queries_local_lexical_512.vec"))

	code, out, _ = cli(t, "--db-path", db, "runs", "--json")
	require.Equal(t, 0, code)
	var runs []map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &runs))
	assert.Len(t, runs, 5)

	code, _, _ = cli(t, "--db-path", db, "cluster", "kmeans", "--n-clusters", "0")
	assert.Equal(t, 2, code)
	code, _, _ = cli(t, "--db-path", db, "cluster", "kmeans", "--algorithm", "magic")
	assert.Equal(t, 2, code)
	code, _, errOut = cli(t, "--db-path", filepath.Join(t.TempDir(), "empty.db"), "cluster", "kmeans", "--embedding-model", "local/lexical")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "no queries")
}
