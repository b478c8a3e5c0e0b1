package store_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPageSize checks that new SQLite files (missing, or empty) get 16 KB pages in
// WAL mode, while an existing file keeps the page size it was written with through
// the store's migrations, writes and a second open.
func TestPageSize(t *testing.T) {
	ctx := context.Background()
	pragma := func(t *testing.T, db *store.DB, name string) string {
		t.Helper()
		var v string
		require.NoError(t, db.Gorm().Raw("PRAGMA "+name).Row().Scan(&v))
		return v
	}
	for _, tc := range []struct {
		name     string
		existing int // page size of a file written before the store opens it; 0: no file, -1: an empty file
		want     string
	}{
		{name: "missing file", existing: 0, want: "16384"},
		{name: "empty file", existing: -1, want: "16384"},
		{name: "existing 4 KB pages", existing: 4096, want: "4096"},
		{name: "existing 8 KB pages", existing: 8192, want: "8192"},
		{name: "existing 32 KB pages", existing: 32768, want: "32768"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "sub", "q.db")
			switch {
			case tc.existing < 0:
				require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
				require.NoError(t, os.WriteFile(path, nil, 0o644))
			case tc.existing > 0:
				require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
				raw, err := sql.Open("sqlite3", "file:"+path)
				require.NoError(t, err)
				_, err = raw.Exec(`PRAGMA page_size = ` + tc.want)
				require.NoError(t, err)
				_, err = raw.Exec(`CREATE TABLE keep (x INTEGER)`)
				require.NoError(t, err)
				require.NoError(t, raw.Close())
			}
			for open := 1; open <= 2; open++ {
				db, err := store.Open(ctx, store.Config{Path: path})
				require.NoError(t, err)
				assert.Equal(t, tc.want, pragma(t, db, "page_size"), "open %d", open)
				assert.Equal(t, "wal", pragma(t, db, "journal_mode"), "open %d", open)
				if open == 1 {
					_, ids := seed(t, db, 3)
					require.Len(t, ids, 3)
				}
				n, err := db.CountQueries(ctx, lmsys.QueryFilter{})
				require.NoError(t, err)
				assert.Equal(t, int64(3), n, "open %d", open)
				require.NoError(t, db.Close())
			}
		})
	}
}
