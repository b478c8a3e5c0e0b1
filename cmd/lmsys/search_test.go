package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/embed"
	"github.com/lmsys-go/lmsys/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const searchRun = "kmeans-2-20260101-000000"

// searchCLI runs the command line with args and returns exit code, stdout and stderr.
func searchCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

// searchDB writes a SQLite store with one run of two clusters (programming, cooking) in
// the local/lexical@64 space, its vectors and summaries, and returns its path.
func searchDB(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "queries.db")
	db, err := store.Open(ctx, store.Config{Path: path})
	require.NoError(t, err)
	defer db.Close()
	space := lmsys.Space{Provider: "local", Model: "lexical", Dims: 64}
	ds, err := db.EnsureDataset(ctx, lmsys.Dataset{Name: "demo"})
	require.NoError(t, err)
	texts := [][]string{
		{"python list sort", "python dictionary keys", "debug python script error", "python class example"},
		{"chocolate cake recipe", "pasta recipe dinner", "how to boil eggs", "bread recipe easy"},
	}
	var qs []lmsys.Query
	for c, ts := range texts {
		for i, tx := range ts {
			qs = append(qs, lmsys.Query{DatasetID: ds.ID, ConversationID: fmt.Sprintf("%d-%d", c, i), Text: tx, Model: "gpt-4",
				Language: []string{"English", "German"}[i%2]})
		}
	}
	_, err = db.InsertQueries(ctx, qs)
	require.NoError(t, err)
	stored, err := db.ListQueries(ctx, lmsys.QueryFilter{})
	require.NoError(t, err)
	e, err := embed.Open(space.Name(), embed.WithDims(space.Dims))
	require.NoError(t, err)
	var all []string
	for _, q := range stored {
		all = append(all, q.Text)
	}
	_, err = embed.Cached(e, db).Embed(ctx, all, lmsys.PurposeClustering)
	require.NoError(t, err)
	require.NoError(t, db.CreateRun(ctx, lmsys.Run{ID: searchRun, Algorithm: "kmeans", NumClusters: 2, Space: space, Status: lmsys.RunCompleted}))
	var as []lmsys.Assignment
	for i, q := range stored {
		as = append(as, lmsys.Assignment{RunID: searchRun, QueryID: q.ID, ClusterID: i / 4})
	}
	require.NoError(t, db.SaveAssignments(ctx, as))
	require.NoError(t, db.SaveSummaries(ctx, []lmsys.Summary{
		{RunID: searchRun, ClusterID: 0, SummaryRunID: "summary-t-1", Alias: "v1", Title: "Python programming", Description: "Python code", NumQueries: 4, GeneratedAt: time.Now()},
		{RunID: searchRun, ClusterID: 1, SummaryRunID: "summary-t-1", Alias: "v1", Title: "Cooking recipes", Description: "Food", NumQueries: 4, GeneratedAt: time.Now()},
	}))
	return path
}

func sortedKeys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestSearchCommands(t *testing.T) {
	path := searchDB(t)
	db := []string{"--db-path", path}

	code, out, errOut := searchCLI(t, append(db, "search-cluster", "python code", "--run-id", searchRun, "--top-k", "1", "--alias", "v1", "--json")...)
	require.Equal(t, 0, code, errOut)
	var cr map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &cr))
	assert.Equal(t, []string{"results", "run_id", "text"}, sortedKeys(cr))
	res := cr["results"].([]any)
	require.Len(t, res, 1)
	assert.Equal(t, "Python programming", res[0].(map[string]any)["title"])
	_, err := os.Stat(filepath.Join(filepath.Dir(path), "index"))
	require.NoError(t, err, "the default index lives beside the database")

	code, out, errOut = searchCLI(t, append(db, "search", "recipe", "--run-id", searchRun, "--within-clusters", "cooking food",
		"--top-clusters", "1", "--n-results", "3", "--facets", "cluster,language,model", "--json")...)
	require.Equal(t, 0, code, errOut)
	var qr map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &qr))
	assert.Equal(t, []string{"applied_clusters", "facets", "results", "run_id", "text"}, sortedKeys(qr))
	assert.Equal(t, []string{"clusters", "language", "model"}, sortedKeys(qr["facets"].(map[string]any)))
	require.Len(t, qr["results"], 3)
	for _, r := range qr["results"].([]any) {
		assert.Equal(t, float64(1), r.(map[string]any)["cluster_id"])
	}

	tests := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"table", []string{"search", "python", "--run-id", searchRun, "--cluster-ids", "0", "--n-results", "2"}, 0, []string{"Within clusters:", "Python programming", "QUERY"}},
		{"by cluster", []string{"search", "recipe", "--run-id", searchRun, "--by", "cluster"}, 0, []string{"Cluster 1: Cooking recipes"}},
		{"fulltext without run", []string{"search", "recipe", "--mode", "fulltext", "--facets", "language"}, 0, []string{"all queries", "By language:"}},
		{"hybrid", []string{"search", "python list", "--run-id", searchRun, "--mode", "hybrid", "--n-results", "2"}, 0, []string{"python list sort"}},
		{"cluster table", []string{"search-cluster", "recipes", "--run-id", searchRun}, 0, []string{"Cooking recipes"}},
		{"semantic needs run", []string{"search", "x"}, 2, nil},
		{"bad mode", []string{"search", "x", "--run-id", searchRun, "--mode", "fuzzy"}, 2, nil},
		{"bad cluster ids", []string{"search", "x", "--run-id", searchRun, "--cluster-ids", "a,b"}, 2, nil},
		{"bad facet", []string{"search", "x", "--run-id", searchRun, "--facets", "color"}, 2, nil},
		{"run id required", []string{"search-cluster", "x"}, 2, nil},
		{"unknown run", []string{"search-cluster", "x", "--run-id", "nope"}, 1, nil},
		{"unknown cluster", []string{"search", "x", "--run-id", searchRun, "--cluster-ids", "9"}, 1, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := searchCLI(t, append(db, tc.args...)...)
			require.Equal(t, tc.code, code, "stdout %s stderr %s", out, errOut)
			for _, w := range tc.want {
				assert.Contains(t, out, w)
			}
		})
	}
}

func TestVerifySyncAndIndexInfo(t *testing.T) {
	path := searchDB(t)
	db := []string{"--db-path", path}
	idxDir := filepath.Join(t.TempDir(), "idx")

	code, out, errOut := searchCLI(t, append(db, "verify", "sync", searchRun, "--index-dir", idxDir, "--json")...)
	require.Equal(t, 0, code, errOut)
	var rep map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	assert.Equal(t, false, rep["in_sync"])
	colls := rep["collections"].([]any)
	require.Len(t, colls, 2)
	assert.Equal(t, float64(8), colls[0].(map[string]any)["missing_in_index"].(map[string]any)["count"])

	code, out, _ = searchCLI(t, append(db, "verify", "sync", searchRun, "--index-dir", idxDir, "--repair")...)
	require.Equal(t, 0, code)
	assert.Contains(t, out, "Repaired.")
	assert.Contains(t, out, "wrote 8 query vectors")

	code, out, _ = searchCLI(t, append(db, "verify", "sync", searchRun, "--index-dir", idxDir)...)
	require.Equal(t, 0, code)
	assert.Contains(t, out, "In sync.")

	code, out, errOut = searchCLI(t, append(db, "index", "info", "--index-dir", idxDir, "--json")...)
	require.Equal(t, 0, code, errOut)
	var info struct {
		Dir         string           `json:"index_dir"`
		Collections []map[string]any `json:"collections"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &info))
	assert.Equal(t, idxDir, info.Dir)
	require.Len(t, info.Collections, 2)
	for _, c := range info.Collections {
		assert.Equal(t, map[string]any{"provider": "local", "model": "lexical", "dimension": float64(64)}, c["space"])
		assert.Equal(t, "exact", c["index"])
		assert.Equal(t, []any{searchRun}, c["runs"])
	}
	code, out, _ = searchCLI(t, append(db, "index", "info", "--index-dir", idxDir)...)
	require.Equal(t, 0, code)
	assert.Contains(t, out, "queries_local_lexical_64")

	code, _, _ = searchCLI(t, append(db, "verify", "sync", "nope", "--index-dir", idxDir)...)
	assert.Equal(t, 1, code)
	code, _, _ = searchCLI(t, append(db, "index", "info", "--index-kind", "btree")...)
	assert.Equal(t, 2, code)
}

// TestEditReindexesSummaries checks the edit hook: a rename through the CLI reaches
// the default index, so verify finds nothing to repair.
func TestEditReindexesSummaries(t *testing.T) {
	path := searchDB(t)
	db := []string{"--db-path", path}
	code, _, errOut := searchCLI(t, append(db, "search-cluster", "python", "--run-id", searchRun)...)
	require.Equal(t, 0, code, errOut)
	code, _, errOut = searchCLI(t, append(db, "edit", "rename-cluster", searchRun, "--cluster-id", "1", "--title", "Kitchen", "--editor", "t")...)
	require.Equal(t, 0, code, errOut)
	code, out, _ := searchCLI(t, append(db, "verify", "sync", searchRun)...)
	require.Equal(t, 0, code)
	assert.Contains(t, out, "In sync.")
	code, out, _ = searchCLI(t, append(db, "search-cluster", "kitchen", "--run-id", searchRun, "--top-k", "1")...)
	require.Equal(t, 0, code)
	assert.Contains(t, out, "Kitchen")
}
