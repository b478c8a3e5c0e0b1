package store

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lmsys-go/lmsys"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRunScanPlanWalksTheRunIndex checks the plan SQLite picks for ScanQueryVectors'
// page of a run (filterSQLFrom with runScan): the run's (run, query) index is the
// outer loop, from the keyset bound on, and no page is sorted. It does not reproduce
// the stale statistics that made the unforced join walk the queries instead.
func TestRunScanPlanWalksTheRunIndex(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, Config{Path: filepath.Join(t.TempDir(), "q.db")})
	require.NoError(t, err)
	defer db.Close()
	f := lmsys.QueryFilter{RunID: "r", AfterID: 7}
	from, args, err := db.filterSQLFrom(ctx, f, true, "JOIN embeddings e ON e.space = ? AND e.text_hash = "+hashColumn(f), "s@2")
	require.NoError(t, err)
	rows, err := db.db.Raw(`EXPLAIN QUERY PLAN SELECT q.id, e.vector`+from+` ORDER BY `+orderKey(f)+` LIMIT 100`, args...).Rows()
	require.NoError(t, err)
	defer rows.Close()
	var steps []string
	for rows.Next() {
		var id, parent, notUsed int
		var detail string
		require.NoError(t, rows.Scan(&id, &parent, &notUsed, &detail))
		steps = append(steps, detail)
	}
	require.NoError(t, rows.Err())
	require.NotEmpty(t, steps)
	assert.Contains(t, steps[0], "qc USING COVERING INDEX ux_query_clusters_run_query (run_id=? AND query_id>?)", "%v", steps)
	assert.NotContains(t, strings.Join(steps, " | "), "TEMP B-TREE", "a page is read in index order, not sorted: %v", steps)
}
