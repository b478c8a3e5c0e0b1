package curation_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/lmsys-go/lmsys/curation"
	"github.com/lmsys-go/lmsys/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestUndoRefusesCorruptEditLog damages the stored new value of an edit and checks
// that undo fails naming that edit and changes nothing, where it used to read the
// edit as having no footprint and undo on that basis.
func TestUndoRefusesCorruptEditLog(t *testing.T) {
	db, err := store.Open(context.Background(), store.Config{Path: t.TempDir() + "/q.db"})
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	f := newFixture(t, db)
	ctx := context.Background()
	first, err := f.cur.RenameCluster(ctx, runID, 0, curation.Rename{Title: "First"}, "t", "")
	require.NoError(t, err)
	second, err := f.cur.RenameCluster(ctx, runID, 0, curation.Rename{Title: "Second"}, "t", "")
	require.NoError(t, err)
	require.NoError(t, db.Gorm().Exec(`UPDATE cluster_edits SET new_value = ? WHERE id = ?`, `[1, 2]`, second.Edit.ID).Error)
	snapshot := func() (edits int, titles string) {
		t.Helper()
		require.NoError(t, db.Gorm().Raw(`SELECT COUNT(*) FROM cluster_edits`).Row().Scan(&edits))
		require.NoError(t, db.Gorm().Raw(`SELECT GROUP_CONCAT(title, '|') FROM cluster_summaries WHERE run_id = ?`, runID).Row().Scan(&titles))
		return edits, titles
	}
	edits, titles := snapshot()

	_, err = f.cur.Undo(ctx, runID, first.Edit.ID, "t", "")
	require.Error(t, err)
	assert.Contains(t, err.Error(), fmt.Sprintf("edit %d of %s", second.Edit.ID, runID))
	assert.Contains(t, err.Error(), "new_value")
	e2, t2 := snapshot()
	assert.Equal(t, edits, e2, "a refused undo records no edit")
	assert.Equal(t, titles, t2, "a refused undo changes no title")
}
