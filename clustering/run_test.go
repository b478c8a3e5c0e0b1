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

func TestHalfMatrixOfStoreMatchesStore(t *testing.T) {
	ctx := context.Background()
	db := testdb.SQLite(t)
	seedBlobs(t, db, 250)
	src := clustering.StoreSource(db, runSpace, lmsys.QueryFilter{})
	hm := clustering.NewHalfMatrix(runSpace.Dims, 64)
	var wantIDs []int64
	var want [][]float32
	require.NoError(t, src.Scan(ctx, 37, func(ids []int64, vecs [][]float32) error {
		for j, v := range vecs {
			require.NoError(t, hm.Append(ids[j], v))
			wantIDs = append(wantIDs, ids[j])
			want = append(want, append([]float32(nil), v...))
		}
		return nil
	}))
	require.Len(t, wantIDs, 250)
	var gotIDs []int64
	require.NoError(t, hm.Scan(ctx, 50, func(ids []int64, vecs [][]float32) error {
		for j, v := range vecs {
			i := len(gotIDs)
			for p, x := range want[i] {
				require.InDelta(t, x, v[p], float64(abs32(x))/2048+1e-7, "query %d dim %d", ids[j], p)
			}
			gotIDs = append(gotIDs, ids[j])
		}
		return nil
	}))
	assert.Equal(t, wantIDs, gotIDs, "the store's ids, in its order")
}

func abs32(x float32) float32 {
	if x < 0 {
		return -x
	}
	return x
}

func TestRunMatrixAndStreamingAgree(t *testing.T) {
	ctx := context.Background()
	db := testdb.SQLite(t)
	seedBlobs(t, db, 900)
	labels := map[string]map[int64]int{}
	for _, tc := range []struct {
		name   string
		budget int64
	}{{"matrix", 0}, {"streaming", -1}} {
		t.Run(tc.name, func(t *testing.T) {
			mb := &clustering.MiniBatch{K: 3, BatchSize: 64, ChunkSize: 200, Seed: 5, Spherical: true, MatrixBudget: tc.budget}
			run, err := clustering.Run(ctx, db, clustering.RunSpec{ID: tc.name, Algorithm: "kmeans", K: 3, Space: runSpace, MiniBatch: mb})
			require.NoError(t, err)
			assert.Equal(t, lmsys.RunCompleted, run.Status)
			assert.Equal(t, 900, run.NumQueries)
			sizes, err := db.ClusterSizes(ctx, run.ID)
			require.NoError(t, err)
			assert.Equal(t, map[int]int{0: 300, 1: 300, 2: 300}, sizes)
			as, err := db.Assignments(ctx, run.ID, nil)
			require.NoError(t, err)
			labels[tc.name] = map[int64]int{}
			for _, a := range as {
				labels[tc.name][a.QueryID] = a.ClusterID
			}
		})
	}
	require.Len(t, labels["matrix"], 900)
	var a, b []int
	for id, l := range labels["matrix"] {
		a = append(a, l)
		b = append(b, labels["streaming"][id])
	}
	ari, err := clustering.ARI(a, b)
	require.NoError(t, err)
	assert.Equal(t, 1.0, ari, "both paths recover the same three clusters")
}

func TestRunCancelledMidRunLeavesNoAssignments(t *testing.T) {
	db := testdb.SQLite(t)
	seedBlobs(t, db, 30000)
	for _, tc := range []struct {
		name   string
		budget int64
	}{{"matrix", 0}, {"streaming", -1}} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			saved := false
			spec := clustering.RunSpec{ID: "cancel-" + tc.name, Algorithm: "kmeans", K: 3, Space: runSpace,
				MiniBatch: &clustering.MiniBatch{K: 3, ChunkSize: 5000, BatchSize: 1000, Seed: 1, MatrixBudget: tc.budget},
				// The first batch of assignments is saved, then the run is cancelled.
				Progress: func(p lmsys.Progress) {
					if p.Stage == "save assignments" && p.Done > 0 {
						saved = true
						cancel()
					}
				}}
			_, err := clustering.Run(ctx, db, spec)
			require.ErrorIs(t, err, context.Canceled)
			require.True(t, saved, "the run was cancelled after saving assignments")
			got, err := db.GetRun(context.Background(), spec.ID)
			require.NoError(t, err)
			assert.Equal(t, lmsys.RunFailed, got.Status)
			as, err := db.Assignments(context.Background(), spec.ID, nil)
			require.NoError(t, err)
			assert.Empty(t, as, "no half run")
		})
	}
}
