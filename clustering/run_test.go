package clustering_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/clustering"
	"github.com/lmsys-go/lmsys/internal/testdb"
	"github.com/lmsys-go/lmsys/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var runSpace = lmsys.Space{Provider: "test", Model: "blobs", Dims: 8}

// seedBlobs stores n queries with embeddings around 3 well separated centres.
func seedBlobs(t *testing.T, db *store.DB, n int) {
	t.Helper()
	ctx := context.Background()
	ds, err := db.EnsureDataset(ctx, lmsys.Dataset{Name: "blobs"})
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(1, 2))
	qs := make([]lmsys.Query, n)
	vecs := map[string][]float32{}
	for i := range qs {
		text := fmt.Sprintf("blob %d item %d", i%3, i)
		qs[i] = lmsys.Query{DatasetID: ds.ID, ConversationID: fmt.Sprint(i), Text: text}
		v := make([]float32, runSpace.Dims)
		v[i%3] = 10
		for j := range v {
			v[j] += float32(rng.NormFloat64() * 0.3)
		}
		vecs[lmsys.TextHash(text)] = v
	}
	_, err = db.InsertQueries(ctx, qs)
	require.NoError(t, err)
	require.NoError(t, db.PutEmbeddings(ctx, runSpace, vecs))
}

type failing struct{}

func (failing) Cluster(context.Context, [][]float32) (lmsys.Partition, error) {
	return lmsys.Partition{}, errors.New("boom")
}

func TestRunRecordsRun(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		spec clustering.RunSpec
	}{
		{"kmeans", clustering.RunSpec{Algorithm: "kmeans", K: 3, Clusterer: &clustering.KMeans{K: 3, Seed: 1}}},
		{"minibatch", clustering.RunSpec{Algorithm: "kmeans", K: 3, MiniBatch: &clustering.MiniBatch{K: 3, BatchSize: 64, ChunkSize: 100, Seed: 1}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db := testdb.SQLite(t)
			seedBlobs(t, db, 300)
			tc.spec.Space = runSpace
			run, err := clustering.Run(ctx, db, tc.spec)
			require.NoError(t, err)
			assert.Equal(t, lmsys.RunCompleted, run.Status)
			assert.Equal(t, 300, run.NumQueries)
			assert.Equal(t, runSpace, run.Space)
			assert.Regexp(t, `^kmeans-3-\d{8}-\d{6}$`, run.ID)
			sizes, err := db.ClusterSizes(ctx, run.ID)
			require.NoError(t, err)
			assert.Equal(t, map[int]int{0: 100, 1: 100, 2: 100}, sizes, "three separated blobs are found exactly")
			cs, err := db.Centroids(ctx, run.ID)
			require.NoError(t, err)
			assert.Len(t, cs, 3)
		})
	}
}

func TestRunFailureLeavesNoAssignments(t *testing.T) {
	ctx := context.Background()
	db := testdb.SQLite(t)
	seedBlobs(t, db, 30)
	run, err := clustering.Run(ctx, db, clustering.RunSpec{ID: "bad-run", Algorithm: "x", K: 2, Space: runSpace, Clusterer: failing{}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "boom")
	got, err := db.GetRun(ctx, run.ID)
	require.NoError(t, err)
	assert.Equal(t, lmsys.RunFailed, got.Status)
	assert.Contains(t, got.Error, "boom")
	as, err := db.Assignments(ctx, run.ID, nil)
	require.NoError(t, err)
	assert.Empty(t, as)

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = clustering.Run(cctx, db, clustering.RunSpec{Algorithm: "kmeans", K: 2, Space: runSpace, Clusterer: &clustering.KMeans{K: 2}})
	assert.ErrorIs(t, err, context.Canceled)
}

func TestRunInputErrors(t *testing.T) {
	ctx := context.Background()
	db := testdb.SQLite(t)
	_, err := clustering.Run(ctx, db, clustering.RunSpec{Algorithm: "kmeans", K: 2, Space: runSpace, Clusterer: &clustering.KMeans{K: 2}})
	assert.ErrorIs(t, err, lmsys.ErrEmpty, "no queries")
	seedBlobs(t, db, 10)
	other := lmsys.Space{Provider: "test", Model: "other", Dims: 8}
	_, err = clustering.Run(ctx, db, clustering.RunSpec{Algorithm: "kmeans", K: 2, Space: other, Clusterer: &clustering.KMeans{K: 2}})
	assert.ErrorIs(t, err, lmsys.ErrEmpty, "no embeddings in that space")
	assert.Contains(t, err.Error(), "lmsys embed")
	_, err = clustering.Run(ctx, db, clustering.RunSpec{Algorithm: "kmeans", K: 2, Space: runSpace})
	assert.ErrorIs(t, err, lmsys.ErrInvalidInput)
}
