package store_test

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPathWithURICharacters opens database files whose names hold the characters a
// SQLite URI gives a meaning to, and checks that the store writes exactly that file
// (and its log), that a reopen sees the rows, and that no other file appears.
func TestPathWithURICharacters(t *testing.T) {
	for _, name := range []string{"a?b.db", "a#b.db", "a%41b.db", "a%3fb.db", "q?mode=ro&x=1.db", "plain.db"} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			path := filepath.Join(dir, name)
			db, err := store.Open(ctx, store.Config{Path: path})
			require.NoError(t, err)
			ds, err := db.EnsureDataset(ctx, lmsys.Dataset{Name: "demo"})
			require.NoError(t, err)
			_, err = db.InsertQueries(ctx, []lmsys.Query{{DatasetID: ds.ID, ConversationID: "c1", Text: "hello"}})
			require.NoError(t, err)
			require.NoError(t, db.Close())

			entries, err := os.ReadDir(dir)
			require.NoError(t, err)
			var files []string
			for _, e := range entries {
				files = append(files, e.Name())
			}
			sort.Strings(files)
			for _, f := range files {
				assert.Contains(t, []string{name, name + "-wal", name + "-shm"}, f, "the store wrote a file it was not given")
			}
			require.Contains(t, files, name)

			db, err = store.Open(ctx, store.Config{Path: path})
			require.NoError(t, err)
			defer db.Close()
			n, err := db.CountQueries(ctx, lmsys.QueryFilter{})
			require.NoError(t, err)
			assert.EqualValues(t, 1, n)
		})
	}
}
