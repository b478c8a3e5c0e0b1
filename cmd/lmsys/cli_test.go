package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// cli runs the command line with args and returns exit code, stdout and stderr.
func cli(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

// tempDB returns a --db-path argument pair for a fresh database with n queries.
func tempDB(t *testing.T, n int) (string, *store.DB) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "q.db")
	db, err := store.Open(context.Background(), store.Config{Path: path})
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	if n > 0 {
		ds, err := db.EnsureDataset(context.Background(), lmsys.Dataset{Name: "demo"})
		require.NoError(t, err)
		qs := make([]lmsys.Query, n)
		for i := range qs {
			qs[i] = lmsys.Query{DatasetID: ds.ID, ConversationID: fmt.Sprint(i), Text: fmt.Sprintf("query %d", i),
				Language: []string{"English", "German"}[i%2], Model: "gpt-4"}
		}
		_, err = db.InsertQueries(context.Background(), qs)
		require.NoError(t, err)
	}
	return path, db
}

func TestStatusRunsClear(t *testing.T) {
	path, db := tempDB(t, 10)
	code, out, _ := cli(t, "--db-path", path, "status", "--json")
	require.Equal(t, 0, code)
	var st map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &st))
	assert.Equal(t, float64(10), st["total_queries"])
	assert.Len(t, st["languages"], 2)

	code, out, _ = cli(t, "--db-path", path, "status")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "Queries:  10")
	assert.Contains(t, out, "German")

	code, out, _ = cli(t, "--db-path", path, "runs", "--latest")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "No clustering runs yet")

	require.NoError(t, db.CreateRun(context.Background(), lmsys.Run{ID: "kmeans-5-20260101-000000", Algorithm: "kmeans", NumClusters: 5}))
	code, out, _ = cli(t, "--db-path", path, "runs", "--latest", "--json")
	require.Equal(t, 0, code)
	var r map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &r))
	assert.Equal(t, "kmeans-5-20260101-000000", r["run_id"])

	code, _, errOut := cli(t, "--db-path", path, "clear")
	assert.Equal(t, 2, code, "clear without --yes is a usage error")
	assert.Contains(t, errOut, "--yes")
	code, out, _ = cli(t, "--db-path", path, "clear", "--yes")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "10 queries")
	n, err := db.CountQueries(context.Background(), lmsys.QueryFilter{})
	require.NoError(t, err)
	assert.Zero(t, n)
}

func TestUsageErrors(t *testing.T) {
	tests := [][]string{{"no-such-command"}, {"status", "--no-such-flag"}, {"status", "extra-arg"}}
	for _, args := range tests {
		code, _, errOut := cli(t, args...)
		assert.Equal(t, 2, code, "%v", args)
		assert.Contains(t, errOut, "Error:")
	}
	code, _, errOut := cli(t, "--db-url", "mysql://nope", "status")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "not a PostgreSQL URL")
}

func TestEnvDBPath(t *testing.T) {
	path, _ := tempDB(t, 3)
	t.Setenv("LMSYS_DB_PATH", path)
	code, out, _ := cli(t, "status", "--json")
	require.Equal(t, 0, code)
	assert.Contains(t, out, `"total_queries": 3`)
}
