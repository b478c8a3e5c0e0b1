package layout_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/layout"
	"github.com/lmsys-go/lmsys/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestByCluster: a stored map's points carry their queries' clusters as the run has
// them now, and a query that left the run is counted outside, in group -1.
func TestByCluster(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{Path: filepath.Join(t.TempDir(), "q.db")})
	require.NoError(t, err)
	defer db.Close()
	ds, err := db.EnsureDataset(ctx, lmsys.Dataset{Name: "d"})
	require.NoError(t, err)
	var qs []lmsys.Query
	for i := range 4 {
		qs = append(qs, lmsys.Query{DatasetID: ds.ID, ConversationID: fmt.Sprint(i), Text: fmt.Sprint("query ", i)})
	}
	_, err = db.InsertQueries(ctx, qs)
	require.NoError(t, err)
	all, err := db.ListQueries(ctx, lmsys.QueryFilter{})
	require.NoError(t, err)
	run := lmsys.Run{ID: "kmeans-2-20260101-000000", Algorithm: "kmeans", NumClusters: 2, Space: lmsys.Space{Provider: "local", Model: "lexical", Dims: 4}}
	require.NoError(t, db.CreateRun(ctx, run))
	var as []lmsys.Assignment
	var ids []int64
	for i, q := range all {
		as = append(as, lmsys.Assignment{RunID: run.ID, QueryID: q.ID, ClusterID: i % 2})
		ids = append(ids, q.ID)
	}
	require.NoError(t, db.SaveAssignments(ctx, as))
	require.NoError(t, db.DeleteAssignments(ctx, run.ID, ids[3:]))
	l := store.Layout{RunID: run.ID, QueryIDs: ids, X: []float32{0, 1, 2, 3}, Y: []float32{4, 5, 6, 7}}
	pts, groups, outside, err := layout.ByCluster(ctx, db, l)
	require.NoError(t, err)
	assert.Equal(t, []layout.Point{{X: 0, Y: 4}, {X: 1, Y: 5}, {X: 2, Y: 6}, {X: 3, Y: 7}}, pts)
	assert.Equal(t, []int{0, 1, 0, -1}, groups)
	assert.Equal(t, 1, outside)
}
