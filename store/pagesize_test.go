package store_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/lmsys-go/lmsys/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPageSize checks that new SQLite files get 16 KB pages in WAL mode while an
// existing file keeps the page size it was written with.
func TestPageSize(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	pragma := func(db *store.DB, name string) string {
		var v string
		require.NoError(t, db.Gorm().Raw("PRAGMA "+name).Row().Scan(&v))
		return v
	}

	fresh, err := store.Open(ctx, store.Config{Path: filepath.Join(dir, "sub", "new.db")})
	require.NoError(t, err)
	assert.Equal(t, "16384", pragma(fresh, "page_size"))
	assert.Equal(t, "wal", pragma(fresh, "journal_mode"))
	_, ids := seed(t, fresh, 3)
	require.Len(t, ids, 3)
	require.NoError(t, fresh.Close())

	oldPath := filepath.Join(dir, "old.db")
	raw, err := sql.Open("sqlite3", "file:"+oldPath)
	require.NoError(t, err)
	_, err = raw.Exec(`PRAGMA page_size = 4096`)
	require.NoError(t, err)
	_, err = raw.Exec(`CREATE TABLE keep (x INTEGER)`)
	require.NoError(t, err)
	require.NoError(t, raw.Close())
	old, err := store.Open(ctx, store.Config{Path: oldPath})
	require.NoError(t, err)
	defer old.Close()
	assert.Equal(t, "4096", pragma(old, "page_size"))
	assert.Equal(t, "wal", pragma(old, "journal_mode"))
}
