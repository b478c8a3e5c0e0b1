package main

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/analysis"
	"github.com/lmsys-go/lmsys/clustering"
	"github.com/lmsys-go/lmsys/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var blobSpace = lmsys.Space{Provider: "test", Model: "blobs", Dims: 4}

// clusteredDB returns a database with 60 queries in 3 obvious clusters and two runs.
func clusteredDB(t *testing.T) (string, *store.DB, [2]string) {
	t.Helper()
	ctx := context.Background()
	path, db := tempDB(t, 0)
	ds, err := db.EnsureDataset(ctx, lmsys.Dataset{Name: "blobs"})
	require.NoError(t, err)
	var qs []lmsys.Query
	vecs := map[string][]float32{}
	topics := []string{"python sorting", "french poem", "<b>sql</b> join"}
	for i := 0; i < 60; i++ {
		text := fmt.Sprintf("%s question %d", topics[i%3], i)
		qs = append(qs, lmsys.Query{DatasetID: ds.ID, ConversationID: fmt.Sprint(i), Text: text, Language: "English"})
		v := make([]float32, 4)
		v[i%3] = 1
		v[3] = float32(i%5) * 0.01
		vecs[lmsys.TextHash(text)] = v
	}
	_, err = db.InsertQueries(ctx, qs)
	require.NoError(t, err)
	require.NoError(t, db.PutEmbeddings(ctx, blobSpace, vecs))
	var ids [2]string
	for i, seed := range []uint64{1, 2} {
		run, err := clustering.Run(ctx, db, clustering.RunSpec{ID: fmt.Sprintf("kmeans-3-2026010%d-000000", i+1), Algorithm: "kmeans", K: 3,
			Space: blobSpace, Clusterer: &clustering.KMeans{K: 3, Seed: seed}})
		require.NoError(t, err)
		ids[i] = run.ID
	}
	return path, db, ids
}

func TestListInspectCompare(t *testing.T) {
	path, db, runs := clusteredDB(t)
	ctx := context.Background()
	require.NoError(t, db.SaveSummaries(ctx, []lmsys.Summary{{RunID: runs[0], ClusterID: 0, SummaryRunID: "s1", Alias: "v1", Title: "Cluster zero title", Model: "offline"}}))

	code, out, errOut := cli(t, "--db-path", path, "list-clusters", runs[0], "--json", "--show-examples", "2")
	require.Equal(t, 0, code, errOut)
	var lc struct {
		SummaryRunID string                `json:"summary_run_id"`
		Clusters     []analysis.ClusterRow `json:"clusters"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &lc))
	assert.Equal(t, "s1", lc.SummaryRunID)
	require.Len(t, lc.Clusters, 3)
	for _, c := range lc.Clusters {
		assert.Equal(t, 20, c.NumQueries)
		assert.Len(t, c.Examples, 2)
		if c.ClusterID == 0 {
			assert.Equal(t, "Cluster zero title", c.Title)
		}
	}
	code, out, _ = cli(t, "--db-path", path, "list-clusters", runs[0], "--alias", "v1", "--limit", "1")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "3 clusters, 60 queries, titles from s1")
	code, _, errOut = cli(t, "--db-path", path, "list-clusters", runs[0], "--alias", "nope")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "not found")

	code, out, _ = cli(t, "--db-path", path, "inspect", runs[0], "0", "--show-queries", "5", "--json")
	require.Equal(t, 0, code)
	var in struct {
		NumQueries int              `json:"num_queries"`
		Queries    []map[string]any `json:"queries"`
		Summary    lmsys.Summary    `json:"summary"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &in))
	assert.Equal(t, 20, in.NumQueries)
	assert.Len(t, in.Queries, 5)
	assert.Equal(t, "Cluster zero title", in.Summary.Title)
	code, out, _ = cli(t, "--db-path", path, "inspect", runs[0], "1")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "cluster 1: 20 queries")

	code, _, errOut = cli(t, "--db-path", path, "inspect", runs[0], "99")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "cluster 99")
	code, _, _ = cli(t, "--db-path", path, "inspect", runs[0], "x")
	assert.Equal(t, 2, code)
	code, _, errOut = cli(t, "--db-path", path, "inspect", "no-such-run", "1")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "no-such-run")

	code, out, _ = cli(t, "--db-path", path, "compare-runs", runs[0], runs[1], "--json")
	require.Equal(t, 0, code)
	var cmp map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &cmp))
	assert.Equal(t, float64(60), cmp["shared_queries"])
	assert.InDelta(t, 1.0, cmp["ari"], 1e-9, "both runs find the same three blobs")
	assert.InDelta(t, 1.0, cmp["nmi"], 1e-9)
}
