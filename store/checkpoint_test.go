package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if os.IsNotExist(err) {
		return 0
	}
	require.NoError(t, err)
	return fi.Size()
}

// TestCheckpointerCopiesAndBoundsTheLog writes ~8 MB through a SQLite store whose
// writers never checkpoint (wal_autocheckpoint = 0) and checks that the
// checkpointer copies the log into the database file while the store stays open,
// and restarts the log so that it stays far smaller than what was written.
func TestCheckpointerCopiesAndBoundsTheLog(t *testing.T) {
	defer store.SetRestartFrames(32)()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "q.db")
	db, err := store.Open(ctx, store.Config{Path: path})
	require.NoError(t, err)
	defer db.Close()

	var autockpt int
	require.NoError(t, db.Gorm().Raw("PRAGMA wal_autocheckpoint").Row().Scan(&autockpt))
	assert.Equal(t, 0, autockpt, "writers leave checkpoints to the checkpointer")

	ds, err := db.EnsureDataset(ctx, lmsys.Dataset{Name: "ckpt", Source: "test"})
	require.NoError(t, err)
	text := strings.Repeat("checkpoint me ", 150) // ~2 KB
	const batches, per = 20, 200
	var maxWAL int64
	for b := 0; b < batches; b++ {
		qs := make([]lmsys.Query, per)
		for i := range qs {
			qs[i] = lmsys.Query{DatasetID: ds.ID, ConversationID: fmt.Sprintf("c-%d-%d", b, i), Text: fmt.Sprintf("%d %s", i, text)}
		}
		n, err := db.InsertQueries(ctx, qs)
		require.NoError(t, err)
		require.Equal(t, per, n)
		maxWAL = max(maxWAL, fileSize(t, path+"-wal"))
		// A pause, as a loader's parsing between batches: the checkpointer gets its
		// turn and copies, but never finds the log idle enough to start it again by
		// itself.
		store.CheckpointRound(db)
	}
	written := int64(batches * per * len(text))

	// The database file receives the data while the store is open.
	require.Eventually(t, func() bool { return fileSize(t, path) >= written }, 10*time.Second, 20*time.Millisecond,
		"the checkpointer copied nothing into %s (size %d of %d written)", path, fileSize(t, path), written)
	maxWAL = max(maxWAL, fileSize(t, path+"-wal"))
	assert.Less(t, maxWAL, written*3/4, "the log restarts instead of growing with everything written")

	count, err := db.CountQueries(ctx, lmsys.QueryFilter{})
	require.NoError(t, err)
	assert.Equal(t, int64(batches*per), count)
	require.NoError(t, db.Close())
	require.NoError(t, db.Close(), "closing twice is harmless")

	re, err := store.Open(ctx, store.Config{Path: path})
	require.NoError(t, err)
	defer re.Close()
	count, err = re.CountQueries(ctx, lmsys.QueryFilter{})
	require.NoError(t, err)
	assert.Equal(t, int64(batches*per), count)
}

// TestStatisticsKeepPlansRight loads a run and checks that, once the store is idle,
// looking up a few of its queries by id uses the (run, query) index instead of
// scanning the run through the (run, cluster, query) one, which is what SQLite does
// without statistics.
func TestStatisticsKeepPlansRight(t *testing.T) {
	defer store.SetCheckpointTick(50 * time.Millisecond)()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "q.db")
	db, err := store.Open(ctx, store.Config{Path: path})
	require.NoError(t, err)
	defer db.Close()
	_, ids := seed(t, db, 3000)
	run := lmsys.Run{ID: "plan-run", Algorithm: "kmeans", NumClusters: 30}
	as := make([]lmsys.Assignment, len(ids))
	for i, id := range ids {
		as[i] = lmsys.Assignment{RunID: run.ID, QueryID: id, ClusterID: i % 30}
	}
	require.NoError(t, db.CreateRun(ctx, run))
	require.NoError(t, db.SaveAssignments(ctx, as))

	// Statistics reach a connection when it opens (the store's pool renews its
	// connections after a while): plan on a new one each time.
	plan := func() string {
		raw, err := sql.Open("sqlite3", "file:"+path)
		require.NoError(t, err)
		defer raw.Close()
		rows, err := raw.Query(`EXPLAIN QUERY PLAN SELECT query_id, cluster_id FROM query_clusters WHERE run_id = ? AND query_id IN (?, ?, ?)`,
			run.ID, ids[1], ids[500], ids[2000])
		require.NoError(t, err)
		defer rows.Close()
		var out []string
		for rows.Next() {
			var a, b, c int
			var d string
			require.NoError(t, rows.Scan(&a, &b, &c, &d))
			out = append(out, d)
		}
		return strings.Join(out, "; ")
	}
	require.Eventually(t, func() bool { return strings.Contains(plan(), "ux_query_clusters_run_query") }, 10*time.Second, 50*time.Millisecond,
		"the lookup still plans as %q", plan())
}
