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
// empties it first, so the log file shrinks to that transaction's own frames.
func TestLongLogIsRestartedByTheNextWriter(t *testing.T) {
	defer func(n int64) { restartFrames = n }(restartFrames)
	restartFrames = 32
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "q.db")
	db, err := Open(ctx, Config{Path: path})
	require.NoError(t, err)
	defer db.Close()
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
	insert("big-", 1000) // ~2 MB: far past 32 frames
	db.ckpt.checkpoint()
	before := walSize()
	require.Greater(t, before, int64(2<<20))
	require.True(t, db.ckpt.long.Load(), "the checkpoint saw the long log")

	insert("small-", 1)
	assert.Less(t, walSize(), before/4, "the next writer emptied the log before writing")
	n, err := db.CountQueries(ctx, lmsys.QueryFilter{})
	require.NoError(t, err)
	assert.Equal(t, int64(1001), n)
}
