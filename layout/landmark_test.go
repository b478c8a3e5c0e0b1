package layout_test

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/layout"
	"github.com/lmsys-go/lmsys/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// landmarkOpts sends sets of more than 400 points down the landmark path, with 300
// landmarks, so that the tests stay small.
func landmarkOpts(seed uint64) layout.Options {
	return layout.Options{Seed: seed, Epochs: 100, LandmarksAbove: 400, Landmarks: 300}
}

func TestComputeByLandmarksKeepsPlantedClustersApart(t *testing.T) {
	vs, labels := planted(1500, 32, 6, 0.35, 3)
	var stages []string
	opts := landmarkOpts(7)
	opts.Progress = func(p lmsys.Progress) {
		if len(stages) == 0 || stages[len(stages)-1] != p.Stage {
			stages = append(stages, p.Stage)
		}
	}
	pts, err := layout.Compute(context.Background(), vs, opts)
	require.NoError(t, err)
	require.Len(t, pts, len(vs))
	assert.Equal(t, []string{"layout neighbours", "layout epochs", "layout landmark graph", "layout placement"}, stages)
	assert.Greater(t, layout.Agreement(pts, labels, 10), 0.9)
}

// TestComputeByLandmarksIsDeterministic: the same seed gives the same map whatever the
// number of goroutines placing the points; another seed another map.
func TestComputeByLandmarksIsDeterministic(t *testing.T) {
	vs, _ := planted(1000, 16, 4, 0.4, 5)
	opts := landmarkOpts(11)
	opts.Workers = 1
	one, err := layout.Compute(context.Background(), vs, opts)
	require.NoError(t, err)
	for _, w := range []int{2, 5} {
		opts.Workers = w
		many, err := layout.Compute(context.Background(), vs, opts)
		require.NoError(t, err)
		require.Equal(t, one, many, "%d workers", w)
	}
	opts.Seed = 12
	other, err := layout.Compute(context.Background(), vs, opts)
	require.NoError(t, err)
	assert.NotEqual(t, one, other)

	opts.PlacementEpochs = 20 // the optional descent of each placed point is deterministic too
	opts.Workers = 1
	a, err := layout.Compute(context.Background(), vs, opts)
	require.NoError(t, err)
	opts.Workers = 3
	b, err := layout.Compute(context.Background(), vs, opts)
	require.NoError(t, err)
	assert.Equal(t, a, b)
	assert.NotEqual(t, other, a)
}

func TestComputeByLandmarksStopsWhenCancelled(t *testing.T) {
	vs, _ := planted(1000, 8, 3, 0.4, 9)
	for _, stage := range []string{"layout epochs", "layout placement"} {
		t.Run(stage, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			opts := landmarkOpts(1)
			opts.Progress = func(p lmsys.Progress) {
				if p.Stage == stage {
					cancel()
				}
			}
			_, err := layout.Compute(ctx, vs, opts)
			require.ErrorIs(t, err, context.Canceled)
		})
	}
}

// plantedRun stores n planted vectors as the queries of a run whose clusters are the
// planted centres, and returns the store and the run.
func plantedRun(t *testing.T, n int) (*store.DB, string) {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{Path: filepath.Join(t.TempDir(), "q.db")})
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	ds, err := db.EnsureDataset(ctx, lmsys.Dataset{Name: "d"})
	require.NoError(t, err)
	vs, labels := planted(n, 16, 5, 0.4, 21)
	space := lmsys.Space{Provider: "test", Model: "planted", Dims: 16}
	qs := make([]lmsys.Query, n)
	emb := map[string][]float32{}
	for i := range qs {
		text := fmt.Sprint("query ", i)
		qs[i] = lmsys.Query{DatasetID: ds.ID, ConversationID: strconv.Itoa(i), Text: text}
		emb[lmsys.TextHash(text)] = vs[i]
	}
	_, err = db.InsertQueries(ctx, qs)
	require.NoError(t, err)
	require.NoError(t, db.PutEmbeddings(ctx, space, emb))
	all, err := db.ListQueries(ctx, lmsys.QueryFilter{})
	require.NoError(t, err)
	run := lmsys.Run{ID: "kmeans-5-20260101-000000", Algorithm: "kmeans", NumClusters: 5, Space: space}
	require.NoError(t, db.CreateRun(ctx, run))
	as := make([]lmsys.Assignment, len(all))
	for i, q := range all {
		c, _ := strconv.Atoi(labels[i])
		as[i] = lmsys.Assignment{RunID: run.ID, QueryID: q.ID, ClusterID: c}
	}
	require.NoError(t, db.SaveAssignments(ctx, as))
	return db, run.ID
}

// TestRunByLandmarks: a large run is laid out by landmarks, stored with the method
// named, reused when asked again with the seed, and the same, byte for byte, when laid
// out again on any number of cores; a cancelled layout stores nothing.
func TestRunByLandmarks(t *testing.T) {
	ctx := context.Background()
	db, runID := plantedRun(t, 900)

	cctx, cancel := context.WithCancel(ctx)
	opts := landmarkOpts(3)
	opts.Progress = func(p lmsys.Progress) {
		if p.Stage == "layout placement" && p.Done > 0 {
			cancel()
		}
	}
	_, err := layout.Run(cctx, db, runID, opts)
	require.ErrorIs(t, err, context.Canceled)
	_, err = db.GetLayout(ctx, runID)
	require.ErrorIs(t, err, lmsys.ErrNotFound, "a cancelled layout stores nothing")

	opts = landmarkOpts(3)
	m, err := layout.Run(ctx, db, runID, opts)
	require.NoError(t, err)
	assert.False(t, m.Reused)
	require.Len(t, m.Points, 900)
	stored, err := db.GetLayout(ctx, runID)
	require.NoError(t, err)
	assert.Equal(t, "tsne-landmarks", stored.Parameters["method"])
	assert.EqualValues(t, 300, stored.Parameters["landmarks"])
	labels := make([]string, len(m.Clusters))
	for i, c := range m.Clusters {
		labels[i] = strconv.Itoa(c)
	}
	assert.Greater(t, layout.Agreement(m.Points, labels, 10), 0.9)

	again, err := layout.Run(ctx, db, runID, opts)
	require.NoError(t, err)
	assert.True(t, again.Reused)
	assert.Equal(t, m.Points, again.Points)

	// Laid out afresh (another seed and back) on one core, then on several.
	procs := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(procs)
	for _, w := range []int{1, 4} {
		runtime.GOMAXPROCS(w)
		_, err := layout.Run(ctx, db, runID, landmarkOpts(4))
		require.NoError(t, err)
		fresh, err := layout.Run(ctx, db, runID, opts)
		require.NoError(t, err)
		require.False(t, fresh.Reused)
		got, err := db.GetLayout(ctx, runID)
		require.NoError(t, err)
		assert.Equal(t, stored.X, got.X, "GOMAXPROCS %d", w)
		assert.Equal(t, stored.Y, got.Y, "GOMAXPROCS %d", w)
	}
}
