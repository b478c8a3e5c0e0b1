package store_test

import (
	"context"
	"testing"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/internal/testdb"
	"github.com/lmsys-go/lmsys/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLayouts(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		_, ids := seed(t, db, 3)
		require.NoError(t, db.CreateRun(ctx, lmsys.Run{ID: "kmeans-2-20260101-000000", Algorithm: "kmeans", NumClusters: 2,
			Space: lmsys.Space{Provider: "local", Model: "lexical", Dims: 4}, Status: lmsys.RunCompleted}))
		_, err := db.GetLayout(ctx, "kmeans-2-20260101-000000")
		require.ErrorIs(t, err, lmsys.ErrNotFound)

		l := store.Layout{RunID: "kmeans-2-20260101-000000", Seed: 42, QueryIDs: ids, X: []float32{1, 2, 3}, Y: []float32{-1, -2.5, 0},
			Parameters: map[string]any{"method": "umap"}}
		require.NoError(t, db.SaveLayout(ctx, l))
		got, err := db.GetLayout(ctx, l.RunID)
		require.NoError(t, err)
		assert.Equal(t, l.QueryIDs, got.QueryIDs)
		assert.Equal(t, l.X, got.X)
		assert.Equal(t, l.Y, got.Y)
		assert.Equal(t, uint64(42), got.Seed)
		assert.Equal(t, "umap", got.Parameters["method"])

		// Saving again replaces the layout whole.
		l2 := store.Layout{RunID: l.RunID, Seed: 7, QueryIDs: ids[:2], X: []float32{5, 6}, Y: []float32{7, 8}}
		require.NoError(t, db.SaveLayout(ctx, l2))
		got, err = db.GetLayout(ctx, l.RunID)
		require.NoError(t, err)
		assert.Equal(t, ids[:2], got.QueryIDs)
		assert.Equal(t, uint64(7), got.Seed)

		err = db.SaveLayout(ctx, store.Layout{RunID: l.RunID, QueryIDs: ids, X: []float32{1}, Y: []float32{1}})
		require.ErrorIs(t, err, lmsys.ErrInvalidInput)
		got, err = db.GetLayout(ctx, l.RunID)
		require.NoError(t, err)
		assert.Len(t, got.QueryIDs, 2, "a refused layout changes nothing")

		// Deleting the run deletes its layout.
		require.NoError(t, db.DeleteRun(ctx, l.RunID))
		_, err = db.GetLayout(ctx, l.RunID)
		require.ErrorIs(t, err, lmsys.ErrNotFound)
	})
}
