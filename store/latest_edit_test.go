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

func TestLatestEdit(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		require.NoError(t, db.CreateRun(ctx, lmsys.Run{ID: "r1", Algorithm: "kmeans", Status: lmsys.RunCompleted}))
		require.NoError(t, db.CreateRun(ctx, lmsys.Run{ID: "r2", Algorithm: "kmeans", Status: lmsys.RunCompleted}))
		n, err := db.LatestEdit(ctx, "r1")
		require.NoError(t, err)
		assert.Zero(t, n)
		a, err := db.AddEdit(ctx, lmsys.Edit{RunID: "r1", EditType: "tag"})
		require.NoError(t, err)
		b, err := db.AddEdit(ctx, lmsys.Edit{RunID: "r2", EditType: "tag"})
		require.NoError(t, err)
		got, err := db.LatestEdit(ctx, "r1")
		require.NoError(t, err)
		assert.Equal(t, a, got, "the run's own newest edit, not another run's")
		got, err = db.LatestEdit(ctx, "r2")
		require.NoError(t, err)
		assert.Equal(t, b, got)
	})
}
