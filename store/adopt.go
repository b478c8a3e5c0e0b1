package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"

	"gorm.io/gorm"
)

// A database the Python tool wrote (SQLModel's create_all, never altered afterwards) has
// no schema_migrations table, and its tables differ from this library's version 1 in
// ways that break writes: NOT NULL columns without defaults (datasets.query_count,
// query_clusters.created_at, cluster_edits.editor …), a summaries table that predates
// summary runs and is unique on (run_id, cluster_id), and columns version 1 does not
// have (queries.timestamp, queries.dataset_id, datasets.column_mapping). Adoption reads
// the layout first, read-only, and refuses one it cannot recognise without writing a
// byte; a recognised one is rebuilt, table by table in one transaction, into version 1
// plus the columns the Python tool has beyond it, every row and every value copied, and
// the ordinary migrations take it from there.

// foreignTable describes a table of the Python tool: the columns any of its layouts
// has, the ones this library cannot do without, and how a missing optional column is
// filled when the table is rebuilt.
type foreignTable struct {
	name string
	// known are the columns of every layout the Python tool's history has had.
	known []string
	// required must all be present.
	required []string
	// fill gives SQL for a known column a layout may lack (default NULL).
	fill map[string]string
	// extra are the columns the table keeps beyond this library's version 1 layout,
	// with their types (dialect placeholders, see expand).
	extra map[string]string
}

// pythonTables lists the Python tool's tables in an order that copies referenced rows
// before the rows referring to them (foreign keys stay off during the rebuild anyway).
var pythonTables = []foreignTable{
	{name: "datasets",
		known:    []string{"id", "name", "source", "description", "created_at", "column_mapping", "query_count"},
		required: []string{"id", "name"},
		fill:     map[string]string{"query_count": "0"},
		extra:    map[string]string{"column_mapping": "TEXT", "query_count": "INTEGER NOT NULL DEFAULT 0"}},
	{name: "queries",
		known:    []string{"id", "dataset_id", "conversation_id", "model", "query_text", "language", "timestamp", "extra_metadata", "created_at"},
		required: []string{"id", "conversation_id", "query_text"},
		fill:     map[string]string{"dataset_id": "0"},
		extra:    map[string]string{"dataset_id": "{{bigint}} NOT NULL DEFAULT 0", "timestamp": "{{ts}}"}},
	{name: "clustering_runs",
		known:    []string{"run_id", "algorithm", "parameters", "description", "created_at", "num_clusters"},
		required: []string{"run_id", "algorithm"}},
	{name: "query_clusters",
		known:    []string{"id", "run_id", "query_id", "cluster_id", "confidence_score", "created_at"},
		required: []string{"id", "run_id", "query_id", "cluster_id"}},
	{name: "cluster_summaries",
		known: []string{"id", "run_id", "cluster_id", "summary_run_id", "alias", "title", "description", "summary",
			"num_queries", "representative_queries", "model", "parameters", "generated_at"},
		required: []string{"id", "run_id", "cluster_id"},
		// Summaries written before the Python tool had summary runs belong to one
		// summary run per clustering run.
		fill: map[string]string{"summary_run_id": "'summary-legacy-' || run_id"}},
	{name: "cluster_hierarchies",
		known: []string{"id", "run_id", "hierarchy_run_id", "cluster_id", "parent_cluster_id", "level", "children_ids",
			"title", "description", "created_at"},
		required: []string{"id", "run_id", "hierarchy_run_id", "cluster_id", "level"}},
	{name: "cluster_edits",
		known:    []string{"id", "run_id", "cluster_id", "edit_type", "editor", "timestamp", "old_value", "new_value", "reason"},
		required: []string{"id", "run_id", "edit_type"}},
	{name: "cluster_metadata",
		known:    []string{"id", "run_id", "cluster_id", "coherence_score", "quality", "flags", "notes", "last_edited"},
		required: []string{"id", "run_id", "cluster_id"}},
	{name: "orphaned_queries",
		known:    []string{"id", "run_id", "query_id", "original_cluster_id", "orphaned_at", "reason"},
		required: []string{"id", "run_id", "query_id"}},
}

// ownTables are the tables only this library creates: a database without
// schema_migrations that has one of them was not written by the Python tool.
var ownTables = []string{"summary_runs", "embeddings", "cluster_centroids", "llm_cache", "hierarchy_runs", "queries_fts", "query_layouts", "layout_runs"}

// ErrUnknownLayout is wrapped by Open's error for a database whose tables match no
// layout this library knows; the file is left as it was.
var ErrUnknownLayout = errors.New("unknown database layout")

// adoption is what inspecting a foreign SQLite database found: for each present table
// of pythonTables, its columns.
type adoption struct {
	columns map[string][]string
}

// inspectSQLite reads, without writing, the layout of an existing SQLite file. It
// returns nil for a file this library manages (it has schema_migrations), an empty
// one, or a missing one; an adoption plan for a Python tool database; and an error
// wrapping ErrUnknownLayout, naming the table and column, for anything else.
func inspectSQLite(ctx context.Context, path string) (*adoption, error) {
	if strings.HasPrefix(path, ":") || strings.Contains(path, "mode=memory") {
		return nil, nil
	}
	if fi, err := os.Stat(path); err != nil || fi.Size() == 0 {
		return nil, nil
	}
	db, err := sql.Open("sqlite3", sqliteURI(path)+"?mode=ro")
	if err != nil {
		return nil, fmt.Errorf("store: inspect %s: %w", path, err)
	}
	defer db.Close()
	tables, err := sqliteTables(ctx, db)
	if err != nil {
		return nil, fmt.Errorf("store: inspect %s: %w", path, err)
	}
	if len(tables) == 0 || slices.Contains(tables, "schema_migrations") {
		return nil, nil
	}
	if !slices.Contains(tables, "queries") {
		if !slices.ContainsFunc(tables, isOurs) {
			// Another program's tables only: this library's are created beside them.
			return nil, nil
		}
		return nil, fmt.Errorf("store: %s: %w: it has tables (%s) but no queries table; the file was left unchanged",
			path, ErrUnknownLayout, strings.Join(tables, ", "))
	}
	for _, t := range ownTables {
		if slices.Contains(tables, t) {
			return nil, fmt.Errorf("store: %s: %w: table %s belongs to this library, but schema_migrations is missing; the file was left unchanged",
				path, ErrUnknownLayout, t)
		}
	}
	a := &adoption{columns: map[string][]string{}}
	for _, ft := range pythonTables {
		if !slices.Contains(tables, ft.name) {
			continue
		}
		cols, err := sqliteColumns(ctx, db, ft.name)
		if err != nil {
			return nil, fmt.Errorf("store: inspect %s: %w", path, err)
		}
		for _, c := range cols {
			if !slices.Contains(ft.known, c) {
				return nil, fmt.Errorf("store: %s: %w: table %s has a column %s that no layout of the Python tool has; the file was left unchanged",
					path, ErrUnknownLayout, ft.name, c)
			}
		}
		for _, c := range ft.required {
			if !slices.Contains(cols, c) {
				return nil, fmt.Errorf("store: %s: %w: table %s lacks its column %s; the file was left unchanged",
					path, ErrUnknownLayout, ft.name, c)
			}
		}
		a.columns[ft.name] = cols
	}
	return a, nil
}

// isOurs reports whether a table name is one of this library's or the Python tool's.
func isOurs(table string) bool {
	return slices.Contains(ownTables, table) || slices.ContainsFunc(pythonTables, func(ft foreignTable) bool { return ft.name == table })
}

func sqliteTables(ctx context.Context, db *sql.DB) ([]string, error) {
	rows, err := db.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		names = append(names, n)
	}
	return names, rows.Err()
}

type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func sqliteColumns(ctx context.Context, db queryer, table string) ([]string, error) {
	rows, err := db.QueryContext(ctx, `SELECT name FROM pragma_table_info(?) ORDER BY cid`, table)
	if err != nil {
		return nil, fmt.Errorf("columns of %s: %w", table, err)
	}
	defer rows.Close()
	var cols []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		cols = append(cols, c)
	}
	return cols, rows.Err()
}

// createStatement returns the statement of migrations that creates table (version 1,
// or version 2 for datasets), renamed to newName and with extra columns appended.
func createStatement(table, newName string, extra map[string]string) (string, error) {
	re := regexp.MustCompile(`^CREATE TABLE IF NOT EXISTS ` + table + ` \(`)
	for _, m := range migrations[:2] {
		for _, stmt := range m.sql {
			if !re.MatchString(stmt) {
				continue
			}
			body := strings.TrimSuffix(strings.TrimSpace(re.ReplaceAllString(stmt, "")), ")")
			names := make([]string, 0, len(extra))
			for c := range extra {
				names = append(names, c)
			}
			sort.Strings(names)
			for _, c := range names {
				body += ",\n\t\t\t" + c + " " + extra[c]
			}
			return "CREATE TABLE " + newName + " (" + body + ")", nil
		}
	}
	return "", fmt.Errorf("no creating statement for table %s", table)
}

// adopt rebuilds the Python tool's tables into this library's version 1 layout (plus
// their extra columns) and records version 1, all in one transaction on one connection
// with foreign keys off, as SQLite's procedure for changing a table's constraints asks.
// A foreign key violation found afterwards aborts it: the file keeps its old layout.
func adopt(ctx context.Context, db *gorm.DB, a *adoption, recordVersion string) error {
	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return fmt.Errorf("store: adopt the Python tool's database: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `PRAGMA foreign_keys = OFF`); err != nil {
		return fmt.Errorf("store: adopt the Python tool's database: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA foreign_keys = ON`)
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: adopt the Python tool's database: %w", err)
	}
	defer tx.Rollback()
	for _, ft := range pythonTables {
		cols, ok := a.columns[ft.name]
		if !ok {
			continue
		}
		if err := rebuildTable(ctx, tx, ft, cols); err != nil {
			return fmt.Errorf("store: adopt the Python tool's database: table %s: %w", ft.name, err)
		}
	}
	// Version 1's indexes (the tables exist now, so only the indexes are created).
	for _, stmt := range migrations[0].sql {
		if _, err := tx.ExecContext(ctx, expand(stmt, false)); err != nil {
			return fmt.Errorf("store: adopt the Python tool's database: %w\n%s", err, stmt)
		}
	}
	rows, err := tx.QueryContext(ctx, `PRAGMA foreign_key_check`)
	if err != nil {
		return fmt.Errorf("store: adopt the Python tool's database: %w", err)
	}
	var bad []string
	for rows.Next() {
		var table, parent string
		var rowid sql.NullInt64
		var fk int
		if err := rows.Scan(&table, &rowid, &parent, &fk); err != nil {
			rows.Close()
			return fmt.Errorf("store: adopt the Python tool's database: %w", err)
		}
		if len(bad) < 5 {
			bad = append(bad, fmt.Sprintf("%s row %d refers to a missing %s row", table, rowid.Int64, parent))
		}
	}
	rows.Close()
	if len(bad) > 0 {
		return fmt.Errorf("store: adopt the Python tool's database: %w: %s; the file was left unchanged", ErrUnknownLayout, strings.Join(bad, "; "))
	}
	if _, err := tx.ExecContext(ctx, expand(`CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name VARCHAR, applied_at {{ts}})`, false)); err != nil {
		return fmt.Errorf("store: adopt the Python tool's database: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (1, ?, CURRENT_TIMESTAMP)`, recordVersion); err != nil {
		return fmt.Errorf("store: adopt the Python tool's database: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: adopt the Python tool's database: %w", err)
	}
	return nil
}

// rebuildTable copies one table into this library's layout under a temporary name,
// drops the old table (and with it its indexes) and renames the copy.
func rebuildTable(ctx context.Context, tx *sql.Tx, ft foreignTable, cols []string) error {
	tmp := "adopt_" + ft.name
	create, err := createStatement(ft.name, tmp, ft.extra)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, expand(create, false)); err != nil {
		return fmt.Errorf("%w\n%s", err, create)
	}
	target, err := sqliteColumns(ctx, tx, tmp)
	if err != nil {
		return err
	}
	var into, from []string
	for _, c := range target {
		switch {
		case slices.Contains(cols, c) && ft.fill[c] != "":
			into, from = append(into, c), append(from, "COALESCE("+c+", "+ft.fill[c]+")")
		case slices.Contains(cols, c):
			into, from = append(into, c), append(from, c)
		case ft.fill[c] != "":
			into, from = append(into, c), append(from, ft.fill[c])
		}
	}
	copyStmt := "INSERT INTO " + tmp + " (" + strings.Join(into, ", ") + ") SELECT " + strings.Join(from, ", ") + " FROM " + ft.name + " ORDER BY rowid"
	if _, err := tx.ExecContext(ctx, copyStmt); err != nil {
		return fmt.Errorf("copy rows: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "DROP TABLE "+ft.name); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, "ALTER TABLE "+tmp+" RENAME TO "+ft.name)
	return err
}
