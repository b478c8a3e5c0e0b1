package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lmsys-go/lmsys"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLongLogIsRestartedByTheNextWriter checks the hand-over of checkpoint.go: once a
// checkpoint finds the log past restartFrames, the store's next write transaction
// copies what the checkpointer has not and restarts the log, so the log then holds
// only that transaction's own frames and its file grows no further. The checkpointer
// is stopped first, as when a writer keeps it behind: otherwise its passive rounds
// copy the whole log and SQLite rewinds a fully copied log by itself.
func TestLongLogIsRestartedByTheNextWriter(t *testing.T) {
	defer func(n int64) { restartFrames = n }(restartFrames)
	restartFrames = 32
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "q.db")
	db, err := Open(ctx, Config{Path: path})
	require.NoError(t, err)
	defer db.Close()
	close(db.ckpt.stop)
	<-db.ckpt.done
	db.ckpt.stop = make(chan struct{}) // for Close
	ds, err := db.EnsureDataset(ctx, lmsys.Dataset{Name: "log", Source: "test"})
	require.NoError(t, err)
	insert := func(prefix string, n int) {
		qs := make([]lmsys.Query, n)
		for i := range qs {
			qs[i] = lmsys.Query{DatasetID: ds.ID, ConversationID: fmt.Sprint(prefix, i), Text: fmt.Sprint(i, strings.Repeat(" long text", 200))}
		}
		_, err := db.InsertQueries(ctx, qs)
		require.NoError(t, err)
	}
	walSize := func() int64 {
		fi, err := os.Stat(path + "-wal")
		require.NoError(t, err)
		return fi.Size()
	}
	logFrames := func() int64 { // also copies the log, so only call it at the end
		var busy, frames, done int64
		require.NoError(t, db.ckpt.db.QueryRow(`PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &frames, &done))
		return frames
	}
	insert("big-", 1000) // ~2 MB: far past 32 frames, none of them copied yet
	before := walSize()
	require.Greater(t, before, int64(2<<20))
	db.ckpt.long.Store(true) // what checkpoint() does on finding the log this long

	insert("small-", 1)
	assert.Less(t, logFrames(), int64(16), "the next writer restarted the log before writing")
	assert.LessOrEqual(t, walSize(), before, "the log file was rewritten in place")
	assert.False(t, db.ckpt.long.Load(), "the restart was taken")
	n, err := db.CountQueries(ctx, lmsys.QueryFilter{})
	require.NoError(t, err)
	assert.Equal(t, int64(1001), n)
}

// TestCheckpointerWaitsForADueRestart checks that the checkpointer runs no passive
// round while a restart is due: SQLite refuses a checkpoint while another runs, so such
// a round would make the writer's restart fail. The checkpointer's connection is
// closed here, so a round that runs leaves an error behind.
func TestCheckpointerWaitsForADueRestart(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, Config{Path: filepath.Join(t.TempDir(), "q.db")})
	require.NoError(t, err)
	defer db.Close()
	c := db.ckpt
	close(c.stop)
	<-c.done
	c.stop = make(chan struct{}) // for Close
	require.NoError(t, c.db.Close())

	c.long.Store(true)
	c.checkpoint()
	assert.NoError(t, c.lastErr(), "no round while the restart is due")
	assert.True(t, c.long.Load(), "the restart is still due")

	require.True(t, c.restartDue())
	c.checkpoint()
	assert.Error(t, c.lastErr(), "a round once the restart was taken")
	c.restartFailed()
	assert.True(t, c.restartDue(), "a failed restart is due again")
}

// lastErr returns the error of the checkpointer's last round or optimize.
func (c *checkpointer) lastErr() error {
	c.errMu.Lock()
	defer c.errMu.Unlock()
	return c.err
}
