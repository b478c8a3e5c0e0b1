package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/layout"
	"github.com/lmsys-go/lmsys/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMapBench(t *testing.T) {
	in := filepath.Join(t.TempDir(), "labelled.jsonl")
	writeLabelled(t, in, 120)
	rows := run(t, "map", "-in", in, "-model", "local/lexical", "-epochs", "400")
	require.Len(t, rows, 1)
	assert.Equal(t, 120, rows[0]["n"], "%v", rows[0])
	agreement, err := strconv.ParseFloat(rows[0]["agreement"].(string), 64)
	require.NoError(t, err)
	assert.Greater(t, agreement, 0.3, "twelve topics of distinct words: far above a random map's 1/12")

	// -vectors writes the embeddings once, and a second run reads them back instead of
	// embedding: the same vectors give the same map.
	cache := filepath.Join(t.TempDir(), "v.npy")
	first := run(t, "map", "-in", in, "-model", "local/lexical", "-epochs", "400", "-vectors", cache)
	_, err = os.Stat(cache)
	require.NoError(t, err)
	second := run(t, "map", "-in", in, "-model", "local/lexical", "-epochs", "400", "-vectors", cache)
	assert.Equal(t, "0.00", second[0]["embed_s"], "read from the file")
	assert.Equal(t, first[0]["agreement"], second[0]["agreement"])
	assert.Equal(t, rows[0]["agreement"], second[0]["agreement"])
	writeLabelled(t, in, 60)
	err = subcommands["map"].run(context.Background(), []string{"-in", in, "-model", "local/lexical", "-vectors", cache}, &reporter{json: true})
	require.ErrorContains(t, err, "remove it to embed again", "a file of another set's vectors is refused")
}

func TestMapViewBench(t *testing.T) {
	if _, err := os.Stat("/usr/bin/chromium"); err != nil {
		t.Skip("no /usr/bin/chromium (apt-get install -y chromium); .ci/run installs it")
	}
	rows := run(t, "mapview", "-n", "501", "-k", "7", "-frames", "3", "-timeout", "2m")
	stages := map[string]map[string]any{}
	for _, r := range rows {
		if s, ok := r["stage"].(string); ok {
			stages[s] = r
		}
	}
	require.Contains(t, stages, "open", "%v", rows)
	require.Contains(t, stages, "pan", "%v", rows)
	assert.Equal(t, 501, stages["open"]["points"])
	assert.Equal(t, 3, stages["pan"]["frames"])
}

// TestMapBenchReplicates: -replicate makes noisy copies of the labelled set, laid out
// by landmarks when -landmarks-above says so.
func TestMapBenchReplicates(t *testing.T) {
	in := filepath.Join(t.TempDir(), "labelled.jsonl")
	writeLabelled(t, in, 120)
	rows := run(t, "map", "-in", in, "-model", "local/lexical", "-epochs", "400", "-replicate", "3", "-noise", "0.2",
		"-landmarks-above", "200", "-landmarks", "150")
	require.Len(t, rows, 1)
	assert.Equal(t, 360, rows[0]["n"], "%v", rows[0])
	assert.NotEqual(t, "0", rows[0]["placement_s"], "laid out by landmarks")
}

// TestMapStore: the new store's run holds n queries with vectors, each in the cluster
// of the vector it copies, ready for layout.Run.
func TestMapStore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src, err := store.Open(ctx, store.Config{Path: filepath.Join(dir, "src.db")})
	require.NoError(t, err)
	ds, err := src.EnsureDataset(ctx, lmsys.Dataset{Name: "d"})
	require.NoError(t, err)
	space := lmsys.Space{Provider: "test", Model: "unit", Dims: 4}
	var qs []lmsys.Query
	emb := map[string][]float32{}
	for i := range 10 {
		text := fmt.Sprint("query ", i)
		qs = append(qs, lmsys.Query{DatasetID: ds.ID, ConversationID: strconv.Itoa(i), Text: text})
		v := make([]float32, 4)
		v[i%4] = 1
		emb[lmsys.TextHash(text)] = v
	}
	_, err = src.InsertQueries(ctx, qs)
	require.NoError(t, err)
	require.NoError(t, src.PutEmbeddings(ctx, space, emb))
	all, err := src.ListQueries(ctx, lmsys.QueryFilter{})
	require.NoError(t, err)
	require.NoError(t, src.CreateRun(ctx, lmsys.Run{ID: "kmeans-2-20260101-000000", Algorithm: "kmeans", NumClusters: 2, Space: space}))
	var as []lmsys.Assignment
	for i, q := range all {
		as = append(as, lmsys.Assignment{RunID: "kmeans-2-20260101-000000", QueryID: q.ID, ClusterID: i % 2})
	}
	require.NoError(t, src.SaveAssignments(ctx, as))
	require.NoError(t, src.Close())

	out := filepath.Join(dir, "out.db")
	rows := run(t, "mapstore", "-from", filepath.Join(dir, "src.db"), "-run", "kmeans-2-20260101-000000", "-out", out, "-n", "35")
	require.Len(t, rows, 1)
	dst, err := store.Open(ctx, store.Config{Path: out})
	require.NoError(t, err)
	defer dst.Close()
	got, err := dst.Assignments(ctx, rows[0]["run"].(string), nil)
	require.NoError(t, err)
	require.Len(t, got, 35)
	sizes := map[int]int{}
	for _, a := range got {
		sizes[a.ClusterID]++
	}
	assert.Equal(t, map[int]int{0: 18, 1: 17}, sizes, "copy i joins the cluster of vector i mod 10")
	m, err := layout.Run(ctx, dst, rows[0]["run"].(string), layout.Options{Seed: 1, Epochs: 20})
	require.NoError(t, err)
	assert.Len(t, m.Points, 35)
}
