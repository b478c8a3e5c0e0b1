package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/internal/testdb"
	"github.com/lmsys-go/lmsys/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCorruptStoredJSON overwrites each JSON column the store reads with JSON of the
// wrong shape (valid JSON, so PostgreSQL's json columns accept it too) and checks that
// the read fails naming the row and the column, instead of returning an empty value.
func TestCorruptStoredJSON(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		const run, sum, hier = "kmeans-2-20260101-000000", "summary-x-1", "hier-x-1"
		require.NoError(t, db.CreateRun(ctx, lmsys.Run{ID: run, Algorithm: "kmeans", NumClusters: 2}))
		editID, err := db.AddEdit(ctx, lmsys.Edit{RunID: run, ClusterID: ptr(1), EditType: "rename", Editor: "t",
			OldValue: map[string]any{"title": "a"}, NewValue: map[string]any{"title": "b"}, CreatedAt: time.Now()})
		require.NoError(t, err)
		require.NoError(t, db.SaveClusterMetadata(ctx, lmsys.ClusterMetadata{RunID: run, ClusterID: 1, Flags: []string{"review"}}))
		require.NoError(t, db.SaveSummaryRun(ctx, lmsys.SummaryRun{SummaryRunID: sum, RunID: run, Model: "m", Parameters: map[string]any{"k": 1}}))
		require.NoError(t, db.SaveSummaries(ctx, []lmsys.Summary{{RunID: run, ClusterID: 1, SummaryRunID: sum, Title: "t",
			Keywords: []string{"a"}, Parameters: map[string]any{"k": 1}, GeneratedAt: time.Now()}}))
		require.NoError(t, db.SaveHierarchyRun(ctx, lmsys.HierarchyRun{HierarchyRunID: hier, RunID: run, Method: "offline",
			Parameters: map[string]any{"k": 1}, Report: map[string]any{"levels": 2}}))

		reads := map[string]func() error{
			"edits":       func() error { _, err := db.Edits(ctx, store.EditFilter{RunID: run}); return err },
			"metadata":    func() error { _, err := db.ClusterMetadata(ctx, run, 1); return err },
			"summaryRuns": func() error { _, err := db.SummaryRuns(ctx, run); return err },
			"summaries":   func() error { _, err := db.Summaries(ctx, run, sum); return err },
			"hierarchy":   func() error { _, err := db.HierarchyRun(ctx, hier); return err },
		}
		for name, read := range reads {
			require.NoError(t, read(), "%s reads before the damage", name)
		}
		cases := []struct {
			name, table, column, key, where string
			arg                             any
			read                            string
			want                            []string
		}{
			{"edit old value", "cluster_edits", "old_value", "id", "", editID, "edits", []string{"edit", "old_value"}},
			{"edit new value", "cluster_edits", "new_value", "id", "", editID, "edits", []string{"edit", "new_value"}},
			{"metadata flags", "cluster_metadata", "flags", "run_id", `{"a": 1}`, run, "metadata", []string{run + "/1", "flags"}},
			{"summary run parameters", "summary_runs", "parameters", "summary_run_id", "", sum, "summaryRuns", []string{sum, "parameters"}},
			{"summary keywords", "cluster_summaries", "keywords", "summary_run_id", `{"a": 1}`, sum, "summaries", []string{sum + "/1", "keywords"}},
			{"summary parameters", "cluster_summaries", "parameters", "summary_run_id", "", sum, "summaries", []string{sum + "/1", "parameters"}},
			{"hierarchy parameters", "hierarchy_runs", "parameters", "hierarchy_run_id", "", hier, "hierarchy", []string{hier, "parameters"}},
			{"hierarchy report", "hierarchy_runs", "report", "hierarchy_run_id", "", hier, "hierarchy", []string{hier, "report"}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				bad := tc.where
				if bad == "" {
					bad = `[1, 2]` // a list where an object belongs
				}
				var good string
				require.NoError(t, db.Gorm().Raw("SELECT "+tc.column+" FROM "+tc.table+" WHERE "+tc.key+" = ?", tc.arg).Row().Scan(&good))
				require.NoError(t, db.Gorm().Exec("UPDATE "+tc.table+" SET "+tc.column+" = ? WHERE "+tc.key+" = ?", bad, tc.arg).Error)
				err := reads[tc.read]()
				require.Error(t, err, "a %s holding %s must not read as empty", tc.column, bad)
				for _, w := range tc.want {
					assert.Contains(t, err.Error(), w)
				}
				require.NoError(t, db.Gorm().Exec("UPDATE "+tc.table+" SET "+tc.column+" = ? WHERE "+tc.key+" = ?", good, tc.arg).Error)
				require.NoError(t, reads[tc.read](), "restored")
			})
		}
	})
}
