package store_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pythonRows are rows as the Python tool writes them: datetimes as text with
// microseconds, JSON as text (None as 'null'), one statement per table. A table the
// layout lacks, or a column it lacks, is skipped by writePythonDB.
var pythonRows = []struct {
	table string
	cols  []string
	rows  [][]any
}{
	{"datasets", []string{"id", "name", "source", "description", "created_at", "column_mapping", "query_count"}, [][]any{
		{1, "lmsys-1m", "lmsys/lmsys-chat-1m", "LMSYS-Chat-1M", "2025-10-04 17:00:00.000001", `{"query_text": "conversation"}`, 3},
		{2, "wildchat", "allenai/WildChat-1M", nil, "2025-10-05 09:00:00.5", "null", 1},
	}},
	{"queries", []string{"id", "dataset_id", "conversation_id", "model", "query_text", "language", "timestamp", "extra_metadata", "created_at"}, [][]any{
		{1, 1, "c0ffee01", "vicuna-13b", "how do I sort a list in python", "English", "2023-04-01 12:00:00", `{"turn": 1, "redacted": false}`, "2025-10-04 17:04:42.123456"},
		{2, 1, "c0ffee02", "gpt-4", "écris un poème sur la mer", "French", nil, "null", "2025-10-04 17:04:42.223456"},
		{3, 1, "c0ffee03", "koala-13b", "напиши функцию на Go", "Russian", "2023-04-02 08:30:00", nil, "2025-10-04 17:04:42.323456"},
		{5, 2, "c0ffee05", "claude-2", "日本語で説明してください", "Japanese", nil, `{"toxic": true}`, "2025-10-05 09:00:01"},
	}},
	{"clustering_runs", []string{"run_id", "algorithm", "parameters", "description", "created_at", "num_clusters"}, [][]any{
		{"kmeans-2-20251004-170442", "kmeans", `{"n_clusters": 2, "embedding_provider": "cohere", "embedding_model": "embed-v4.0", "embedding_dimension": 256}`, "first run", "2025-10-04 17:04:42.5", 2},
		{"hdbscan-20251005-090000", "hdbscan", "null", nil, "2025-10-05 09:00:00", nil},
	}},
	{"query_clusters", []string{"id", "run_id", "query_id", "cluster_id", "confidence_score", "created_at"}, [][]any{
		{1, "kmeans-2-20251004-170442", 1, 0, 0.91, "2025-10-04 17:05:00.1"},
		{2, "kmeans-2-20251004-170442", 2, 1, 0.5, "2025-10-04 17:05:00.2"},
		{3, "kmeans-2-20251004-170442", 3, 1, nil, "2025-10-04 17:05:00.3"},
		{4, "hdbscan-20251005-090000", 5, -1, nil, "2025-10-05 09:00:02"},
	}},
	{"cluster_summaries", []string{"id", "run_id", "cluster_id", "summary_run_id", "alias", "title", "description", "summary",
		"num_queries", "representative_queries", "model", "parameters", "generated_at"}, [][]any{
		{1, "kmeans-2-20251004-170442", 0, "summary-gpt-4o-mini-20251006-155519", "v1", "Python list sorting", "Sorting lists in Python.", nil, 1, `["how do I sort a list in python"]`, "openai/gpt-4o-mini", `{"max_queries": 50}`, "2025-10-06 15:55:19.000100"},
		{2, "kmeans-2-20251004-170442", 1, "summary-gpt-4o-mini-20251006-155519", "v1", "Creative and code requests", "Poems and functions.", "legacy text", 2, `["écris un poème sur la mer", "напиши функцию на Go"]`, "openai/gpt-4o-mini", "null", "2025-10-06 15:55:19.000200"},
	}},
	{"cluster_hierarchies", []string{"id", "run_id", "hierarchy_run_id", "cluster_id", "parent_cluster_id", "level", "children_ids", "title", "description", "created_at"}, [][]any{
		{1, "kmeans-2-20251004-170442", "hier-kmeans-2-20251004-170442-20251007-101010", 0, 2, 0, "null", "Python list sorting", nil, "2025-10-07 10:10:10.1"},
		{2, "kmeans-2-20251004-170442", "hier-kmeans-2-20251004-170442-20251007-101010", 1, 2, 0, "null", "Creative and code requests", nil, "2025-10-07 10:10:10.2"},
		{3, "kmeans-2-20251004-170442", "hier-kmeans-2-20251004-170442-20251007-101010", 2, nil, 1, "[0, 1]", "Everything", "All requests.", "2025-10-07 10:10:10.3"},
	}},
	{"cluster_edits", []string{"id", "run_id", "cluster_id", "edit_type", "editor", "timestamp", "old_value", "new_value", "reason"}, [][]any{
		{1, "kmeans-2-20251004-170442", 0, "rename", "cli-user", "2025-10-08 11:00:00.000001", `{"title": "Sorting"}`, `{"title": "Python list sorting"}`, "clearer"},
		{2, "kmeans-2-20251004-170442", nil, "move_query", "claude", "2025-10-08 11:01:00", `{"query_id": 3, "cluster_id": 0}`, `{"query_id": 3, "cluster_id": 1}`, nil},
	}},
	{"cluster_metadata", []string{"id", "run_id", "cluster_id", "coherence_score", "quality", "flags", "notes", "last_edited"}, [][]any{
		{1, "kmeans-2-20251004-170442", 1, 2, "low", `["language_mixing", "needs_review"]`, "French and Russian together", "2025-10-08 11:02:00.25"},
	}},
	{"orphaned_queries", []string{"id", "run_id", "query_id", "original_cluster_id", "orphaned_at", "reason"}, [][]any{
		{1, "hdbscan-20251005-090000", 5, -1, "2025-10-08 12:00:00", "noise"},
	}},
}

// writePythonDB creates a SQLite file in the Python tool's layout (a file of
// testdata/python) and fills every table it has with pythonRows.
func writePythonDB(t *testing.T, layout string) string {
	t.Helper()
	ddl, err := os.ReadFile(filepath.Join("testdata", "python", layout+".sql"))
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "queries.db")
	db, err := sql.Open("sqlite3", "file:"+path)
	require.NoError(t, err)
	defer db.Close()
	_, err = db.Exec(string(ddl))
	require.NoError(t, err)
	for _, tr := range pythonRows {
		cols := tableColumns(t, db, tr.table)
		if len(cols) == 0 {
			continue
		}
		for _, row := range tr.rows {
			var names []string
			var args []any
			for i, c := range tr.cols {
				if slices.Contains(cols, c) {
					names = append(names, c)
					args = append(args, row[i])
				}
			}
			stmt := "INSERT INTO " + tr.table + " (" + strings.Join(names, ", ") + ") VALUES (" + placeholders(len(names)) + ")"
			_, err := db.Exec(stmt, args...)
			require.NoError(t, err, stmt)
		}
	}
	return path
}

func tableColumns(t *testing.T, db *sql.DB, table string) []string {
	t.Helper()
	rows, err := db.Query(`SELECT name FROM pragma_table_info(?)`, table)
	require.NoError(t, err)
	defer rows.Close()
	var cols []string
	for rows.Next() {
		var c string
		require.NoError(t, rows.Scan(&c))
		cols = append(cols, c)
	}
	return cols
}

// snapshot reads every row of every Python table, column by column, as SQLite holds
// it (text and numbers as they are stored).
func snapshot(t *testing.T, path string, tables map[string][]string) map[string][][]any {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	require.NoError(t, err)
	defer db.Close()
	out := map[string][][]any{}
	for table, cols := range tables {
		rows, err := db.Query("SELECT " + strings.Join(cols, ", ") + " FROM " + table + " ORDER BY rowid")
		require.NoError(t, err)
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			require.NoError(t, rows.Scan(ptrs...))
			for i, v := range vals {
				switch x := v.(type) {
				case []byte:
					vals[i] = string(x)
				case time.Time:
					// The driver parses DATETIME columns; compare the instant.
					vals[i] = x.UTC().Format(time.RFC3339Nano)
				}
			}
			out[table] = append(out[table], vals)
		}
		require.NoError(t, rows.Err())
		rows.Close()
	}
	return out
}

func pythonTables(t *testing.T, path string) map[string][]string {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	require.NoError(t, err)
	defer db.Close()
	out := map[string][]string{}
	for _, tr := range pythonRows {
		if cols := tableColumns(t, db, tr.table); len(cols) > 0 {
			out[tr.table] = cols
		}
	}
	return out
}

// TestOpenPythonToolDatabase opens databases in each layout the Python tool's history
// produced: the file is upgraded in place, every row of every table reads back with
// the same values, the library reads them through its API, and writes that the
// Python layout's constraints would refuse work.
func TestOpenPythonToolDatabase(t *testing.T) {
	for _, layout := range []string{"head", "pre-datasets", "early"} {
		t.Run(layout, func(t *testing.T) {
			ctx := context.Background()
			path := writePythonDB(t, layout)
			tables := pythonTables(t, path)
			before := snapshot(t, path, tables)

			db, err := store.Open(ctx, store.Config{Path: path})
			require.NoError(t, err)

			after := snapshot(t, path, tables)
			for table := range tables {
				assert.Equal(t, before[table], after[table], "rows of %s", table)
			}

			qs, err := db.ListQueries(ctx, lmsys.QueryFilter{})
			require.NoError(t, err)
			require.Len(t, qs, 4)
			assert.Equal(t, int64(5), qs[3].ID)
			assert.Equal(t, "日本語で説明してください", qs[3].Text)
			assert.Equal(t, map[string]any{"turn": float64(1), "redacted": false}, qs[0].Metadata)
			assert.Nil(t, qs[1].Metadata, "JSON null reads as no metadata")
			assert.Equal(t, time.Date(2023, 4, 1, 12, 0, 0, 0, time.UTC), qs[0].Timestamp.UTC())
			if layout == "head" {
				assert.Equal(t, qs[0].DatasetID, int64(1))
				dss, err := db.Datasets(ctx)
				require.NoError(t, err)
				require.Len(t, dss, 2)
				assert.Equal(t, "lmsys-1m", dss[0].Name)
			}

			run, err := db.GetRun(ctx, "kmeans-2-20251004-170442")
			require.NoError(t, err)
			assert.Equal(t, lmsys.Space{Provider: "cohere", Model: "embed-v4.0", Dims: 256}, run.Space)
			sizes, err := db.ClusterSizes(ctx, run.ID)
			require.NoError(t, err)
			assert.Equal(t, map[int]int{0: 1, 1: 2}, sizes)
			_, err = db.GetRun(ctx, "hdbscan-20251005-090000")
			require.NoError(t, err)

			sums, err := db.Summaries(ctx, run.ID, "")
			require.NoError(t, err)
			require.Len(t, sums, 2)
			assert.Equal(t, "Python list sorting", sums[0].Title)
			assert.Equal(t, []string{"écris un poème sur la mer", "напиши функцию на Go"}, sums[1].RepresentativeQueries)
			// A second summary run of the same clusters: the early layout's unique
			// (run_id, cluster_id) would refuse it.
			require.NoError(t, db.SaveSummaries(ctx, []lmsys.Summary{{RunID: run.ID, ClusterID: 0, SummaryRunID: "summary-offline-20261201-000000", Title: "Sorting"}}))
			again, err := db.Summaries(ctx, run.ID, "summary-offline-20261201-000000")
			require.NoError(t, err)
			require.Len(t, again, 1)

			if layout != "early" {
				nodes, err := db.Hierarchy(ctx, "hier-kmeans-2-20251004-170442-20251007-101010")
				require.NoError(t, err)
				require.Len(t, nodes, 3)
				edits, err := db.Edits(ctx, store.EditFilter{RunID: run.ID})
				require.NoError(t, err)
				require.Len(t, edits, 2)
				assert.Equal(t, "Python list sorting", edits[0].NewValue["title"])
				md, err := db.ClusterMetadata(ctx, run.ID, 1)
				require.NoError(t, err)
				assert.Equal(t, []string{"language_mixing", "needs_review"}, md.Flags)
				orphans, err := db.Orphans(ctx, "hdbscan-20251005-090000")
				require.NoError(t, err)
				require.Len(t, orphans, 1)
			}
			// Writes the Python layout's NOT NULL columns without defaults refused.
			_, err = db.AddEdit(ctx, lmsys.Edit{RunID: run.ID, EditType: "tag", NewValue: map[string]any{"tags": []string{"x"}}})
			require.NoError(t, err)
			require.NoError(t, db.SaveAssignments(ctx, []lmsys.Assignment{{RunID: "hdbscan-20251005-090000", QueryID: 1, ClusterID: 3}}))
			ds, err := db.EnsureDataset(ctx, lmsys.Dataset{Name: "new-logs"})
			require.NoError(t, err)
			n, err := db.InsertQueries(ctx, []lmsys.Query{{DatasetID: ds.ID, ConversationID: "c0ffee01", Text: "same id, new dataset"}})
			require.NoError(t, err)
			assert.Equal(t, 1, n)
			require.NoError(t, db.Close())

			// Opening again migrates nothing and loses nothing.
			db2, err := store.Open(ctx, store.Config{Path: path})
			require.NoError(t, err)
			defer db2.Close()
			count, err := db2.CountQueries(ctx, lmsys.QueryFilter{})
			require.NoError(t, err)
			assert.Equal(t, int64(5), count)
			final := snapshot(t, path, map[string][]string{"queries": tables["queries"]})
			assert.Equal(t, before["queries"], final["queries"][:4])
		})
	}
}

// TestOpenPythonToolDatabaseMixed opens a database used across the Python tool's
// versions: create_all added the newer tables beside an early summaries table.
func TestOpenPythonToolDatabaseMixed(t *testing.T) {
	ctx := context.Background()
	path := writePythonDB(t, "early")
	raw, err := sql.Open("sqlite3", "file:"+path)
	require.NoError(t, err)
	ddl, err := os.ReadFile(filepath.Join("testdata", "python", "pre-datasets.sql"))
	require.NoError(t, err)
	// The newer layout's tables that the early file lacks, as create_all adds them.
	for _, stmt := range splitSQL(string(ddl)) {
		if containsAny(stmt, "cluster_hierarchies", "cluster_edits", "cluster_metadata", "orphaned_queries") {
			_, err := raw.Exec(stmt)
			require.NoError(t, err, stmt)
		}
	}
	_, err = raw.Exec(`INSERT INTO cluster_edits (run_id, cluster_id, edit_type, editor, timestamp) VALUES ('kmeans-2-20251004-170442', 1, 'flag', 'cli-user', '2025-10-09 10:00:00')`)
	require.NoError(t, err)
	require.NoError(t, raw.Close())

	db, err := store.Open(ctx, store.Config{Path: path})
	require.NoError(t, err)
	defer db.Close()
	sums, err := db.Summaries(ctx, "kmeans-2-20251004-170442", "")
	require.NoError(t, err)
	require.Len(t, sums, 2)
	assert.Equal(t, "summary-legacy-kmeans-2-20251004-170442", sums[0].SummaryRunID, "summaries older than summary runs form one")
	edits, err := db.Edits(ctx, store.EditFilter{RunID: "kmeans-2-20251004-170442"})
	require.NoError(t, err)
	require.Len(t, edits, 1)
}

// TestRefuseUnknownLayout: a database that is neither this library's nor a layout of
// the Python tool is refused with a message naming the table and column, and the file
// is left byte for byte as it was (no write-ahead log appears either).
func TestRefuseUnknownLayout(t *testing.T) {
	cases := []struct {
		name  string
		alter string
		want  string
	}{
		{"unknown column", `ALTER TABLE queries ADD COLUMN sentiment REAL`, "table queries has a column sentiment"},
		{"unknown column in summaries", `ALTER TABLE cluster_summaries ADD COLUMN score INTEGER`, "table cluster_summaries has a column score"},
		{"missing column", `ALTER TABLE query_clusters DROP COLUMN confidence_score; ALTER TABLE queries RENAME COLUMN query_text TO prompt`, "table queries has a column prompt"},
		{"missing required column", `CREATE TABLE q2 AS SELECT id, conversation_id, model FROM queries; DROP TABLE queries; ALTER TABLE q2 RENAME TO queries`, "table queries lacks its column query_text"},
		{"own table without version", `CREATE TABLE embeddings (space VARCHAR, text_hash VARCHAR, vector BLOB)`, "table embeddings belongs to this library"},
		{"no queries table", `DROP TABLE orphaned_queries; DROP TABLE query_clusters; DROP TABLE queries`, "no queries table"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := writePythonDB(t, "head")
			raw, err := sql.Open("sqlite3", "file:"+path)
			require.NoError(t, err)
			_, err = raw.Exec(tc.alter)
			require.NoError(t, err)
			require.NoError(t, raw.Close())
			sum := fileSum(t, path)

			_, err = store.Open(context.Background(), store.Config{Path: path})
			require.ErrorIs(t, err, store.ErrUnknownLayout)
			assert.Contains(t, err.Error(), tc.want)
			assert.Contains(t, err.Error(), "left unchanged")
			assert.Equal(t, sum, fileSum(t, path), "the file is untouched")
			_, statErr := os.Stat(path + "-wal")
			assert.True(t, os.IsNotExist(statErr), "no write-ahead log was created")
		})
	}
}

func fileSum(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return sha256.Sum256(b)
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

func splitSQL(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ";\n") {
		if strings.TrimSpace(part) != "" {
			out = append(out, part)
		}
	}
	return out
}
