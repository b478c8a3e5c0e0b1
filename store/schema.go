package store

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/lmsys-go/lmsys"
	"gorm.io/gorm"
)

// A migration moves the schema from version-1 to version. Migrations are written once
// and never edited: a database written by any earlier version of this library (or by
// the Python tool this one re-implements, which is version 1) is upgraded in place and
// keeps every row.
type migration struct {
	version int
	name    string
	// sql holds statements with dialect placeholders, see expand.
	sql []string
	// after, when set, runs in the same transaction after the statements (data backfills).
	after func(ctx context.Context, tx *gorm.DB) error
}

// expand replaces the dialect placeholders of a migration statement:
// {{id}} an auto-increment primary key, {{blob}} bytes, {{ts}} a timestamp,
// {{float}} a double, {{bigint}} a 64-bit integer.
func expand(stmt string, postgres bool) string {
	r := strings.NewReplacer(
		"{{id}}", map[bool]string{false: "INTEGER PRIMARY KEY AUTOINCREMENT", true: "BIGSERIAL PRIMARY KEY"}[postgres],
		"{{blob}}", map[bool]string{false: "BLOB", true: "BYTEA"}[postgres],
		"{{ts}}", map[bool]string{false: "DATETIME", true: "TIMESTAMPTZ"}[postgres],
		"{{float}}", map[bool]string{false: "REAL", true: "DOUBLE PRECISION"}[postgres],
		"{{bigint}}", map[bool]string{false: "INTEGER", true: "BIGINT"}[postgres],
	)
	return r.Replace(stmt)
}

// migrations is the schema's history. Version 1 is the Python seed tool's schema, so its
// databases open here and are upgraded like any other.
var migrations = []migration{
	{version: 1, name: "seed schema", sql: []string{
		`CREATE TABLE IF NOT EXISTS queries (
			id {{id}},
			conversation_id VARCHAR NOT NULL,
			model VARCHAR,
			query_text TEXT NOT NULL,
			language VARCHAR,
			extra_metadata TEXT,
			created_at {{ts}})`,
		`CREATE UNIQUE INDEX IF NOT EXISTS ix_queries_conversation_id ON queries (conversation_id)`,
		`CREATE INDEX IF NOT EXISTS ix_queries_model ON queries (model)`,
		`CREATE INDEX IF NOT EXISTS ix_queries_language ON queries (language)`,
		`CREATE TABLE IF NOT EXISTS clustering_runs (
			run_id VARCHAR PRIMARY KEY,
			algorithm VARCHAR NOT NULL,
			num_clusters INTEGER,
			parameters TEXT,
			description TEXT,
			created_at {{ts}})`,
		`CREATE TABLE IF NOT EXISTS query_clusters (
			id {{id}},
			run_id VARCHAR NOT NULL REFERENCES clustering_runs (run_id) ON DELETE CASCADE,
			query_id {{bigint}} NOT NULL REFERENCES queries (id) ON DELETE CASCADE,
			cluster_id INTEGER NOT NULL,
			confidence_score {{float}},
			created_at {{ts}})`,
		`CREATE INDEX IF NOT EXISTS ix_query_clusters_run_id ON query_clusters (run_id)`,
		`CREATE INDEX IF NOT EXISTS ix_query_clusters_query_id ON query_clusters (query_id)`,
		`CREATE TABLE IF NOT EXISTS cluster_summaries (
			id {{id}},
			run_id VARCHAR NOT NULL REFERENCES clustering_runs (run_id) ON DELETE CASCADE,
			cluster_id INTEGER NOT NULL,
			summary_run_id VARCHAR NOT NULL,
			alias VARCHAR,
			title VARCHAR,
			description TEXT,
			summary TEXT,
			num_queries INTEGER,
			representative_queries TEXT,
			model VARCHAR,
			parameters TEXT,
			generated_at {{ts}})`,
		`CREATE INDEX IF NOT EXISTS ix_cluster_summaries_run_id ON cluster_summaries (run_id)`,
		`CREATE TABLE IF NOT EXISTS cluster_hierarchies (
			id {{id}},
			hierarchy_run_id VARCHAR NOT NULL,
			run_id VARCHAR NOT NULL REFERENCES clustering_runs (run_id) ON DELETE CASCADE,
			cluster_id INTEGER NOT NULL,
			parent_cluster_id INTEGER,
			level INTEGER NOT NULL,
			children_ids TEXT,
			title VARCHAR,
			description TEXT,
			created_at {{ts}})`,
		`CREATE INDEX IF NOT EXISTS ix_cluster_hierarchies_hierarchy_run_id ON cluster_hierarchies (hierarchy_run_id)`,
		`CREATE TABLE IF NOT EXISTS cluster_edits (
			id {{id}},
			run_id VARCHAR NOT NULL,
			cluster_id INTEGER,
			edit_type VARCHAR NOT NULL,
			editor VARCHAR,
			timestamp {{ts}},
			old_value TEXT,
			new_value TEXT,
			reason TEXT)`,
		`CREATE INDEX IF NOT EXISTS ix_cluster_edits_run_id ON cluster_edits (run_id)`,
		`CREATE TABLE IF NOT EXISTS cluster_metadata (
			id {{id}},
			run_id VARCHAR NOT NULL,
			cluster_id INTEGER NOT NULL,
			coherence_score INTEGER,
			quality VARCHAR,
			flags TEXT,
			notes TEXT,
			last_edited {{ts}})`,
		`CREATE TABLE IF NOT EXISTS orphaned_queries (
			id {{id}},
			run_id VARCHAR NOT NULL,
			query_id {{bigint}} NOT NULL,
			original_cluster_id INTEGER,
			orphaned_at {{ts}},
			reason TEXT)`,
	}},
	{version: 2, name: "datasets, embeddings, run status, summary runs, centroids, LLM cache", sql: []string{
		`CREATE TABLE IF NOT EXISTS datasets (
			id {{id}},
			name VARCHAR NOT NULL UNIQUE,
			source TEXT,
			description TEXT,
			created_at {{ts}})`,
		`ALTER TABLE queries ADD COLUMN dataset_id {{bigint}} NOT NULL DEFAULT 0`,
		`ALTER TABLE queries ADD COLUMN timestamp {{ts}}`,
		`DROP INDEX IF EXISTS ix_queries_conversation_id`,
		`CREATE UNIQUE INDEX IF NOT EXISTS ux_queries_dataset_conversation ON queries (dataset_id, conversation_id)`,
		`CREATE INDEX IF NOT EXISTS ix_queries_timestamp ON queries (timestamp)`,
		`ALTER TABLE clustering_runs ADD COLUMN embedding_provider VARCHAR`,
		`ALTER TABLE clustering_runs ADD COLUMN embedding_model VARCHAR`,
		`ALTER TABLE clustering_runs ADD COLUMN embedding_dim INTEGER`,
		`ALTER TABLE clustering_runs ADD COLUMN status VARCHAR NOT NULL DEFAULT 'completed'`,
		`ALTER TABLE clustering_runs ADD COLUMN num_queries INTEGER NOT NULL DEFAULT 0`,
		`ALTER TABLE clustering_runs ADD COLUMN error TEXT`,
		`ALTER TABLE clustering_runs ADD COLUMN finished_at {{ts}}`,
		`ALTER TABLE query_clusters ADD COLUMN late INTEGER NOT NULL DEFAULT 0`,
		`CREATE UNIQUE INDEX IF NOT EXISTS ux_query_clusters_run_query ON query_clusters (run_id, query_id)`,
		`CREATE INDEX IF NOT EXISTS ix_query_clusters_run_cluster ON query_clusters (run_id, cluster_id)`,
		`ALTER TABLE cluster_summaries ADD COLUMN keywords TEXT`,
		`ALTER TABLE cluster_summaries ADD COLUMN coherence INTEGER NOT NULL DEFAULT 0`,
		`ALTER TABLE cluster_summaries ADD COLUMN mixed INTEGER NOT NULL DEFAULT 0`,
		`ALTER TABLE cluster_summaries ADD COLUMN error TEXT`,
		`CREATE UNIQUE INDEX IF NOT EXISTS ux_cluster_summaries_run_cluster ON cluster_summaries (summary_run_id, cluster_id)`,
		`ALTER TABLE cluster_hierarchies ADD COLUMN num_queries INTEGER NOT NULL DEFAULT 0`,
		`CREATE UNIQUE INDEX IF NOT EXISTS ux_cluster_metadata_run_cluster ON cluster_metadata (run_id, cluster_id)`,
		`CREATE INDEX IF NOT EXISTS ix_orphaned_queries_run_id ON orphaned_queries (run_id)`,
		`CREATE TABLE IF NOT EXISTS summary_runs (
			summary_run_id VARCHAR PRIMARY KEY,
			run_id VARCHAR NOT NULL REFERENCES clustering_runs (run_id) ON DELETE CASCADE,
			alias VARCHAR,
			model VARCHAR,
			prompt_hash VARCHAR,
			parameters TEXT,
			input_tokens {{bigint}} NOT NULL DEFAULT 0,
			output_tokens {{bigint}} NOT NULL DEFAULT 0,
			cost_usd {{float}} NOT NULL DEFAULT 0,
			num_clusters INTEGER NOT NULL DEFAULT 0,
			num_failed INTEGER NOT NULL DEFAULT 0,
			created_at {{ts}})`,
		`CREATE TABLE IF NOT EXISTS embeddings (
			space VARCHAR NOT NULL,
			text_hash VARCHAR NOT NULL,
			vector {{blob}} NOT NULL,
			created_at {{ts}},
			PRIMARY KEY (space, text_hash))`,
		`CREATE TABLE IF NOT EXISTS cluster_centroids (
			run_id VARCHAR NOT NULL REFERENCES clustering_runs (run_id) ON DELETE CASCADE,
			cluster_id INTEGER NOT NULL,
			vector {{blob}} NOT NULL,
			PRIMARY KEY (run_id, cluster_id))`,
		`CREATE TABLE IF NOT EXISTS llm_cache (
			cache_key VARCHAR PRIMARY KEY,
			response TEXT NOT NULL,
			created_at {{ts}})`,
	}},
	{version: 3, name: "text hash on queries for embedding joins", sql: []string{
		`ALTER TABLE queries ADD COLUMN text_hash VARCHAR`,
		`CREATE INDEX IF NOT EXISTS ix_queries_text_hash ON queries (text_hash)`,
	}, after: backfillTextHashes},
	// Embedding joins go from queries to embeddings by (space, text_hash), the
	// embeddings' primary key, and trends scan a run's rows whole: nothing looks
	// queries up by hash or time, and maintaining those two indexes cost a third of
	// the load time.
	{version: 4, name: "drop the unused text hash and timestamp indexes", sql: []string{
		`DROP INDEX IF EXISTS ix_queries_text_hash`,
		`DROP INDEX IF EXISTS ix_queries_timestamp`,
	}},
	// Scans of one dataset page through it in id order (WHERE dataset_id = ? AND id > ?
	// ORDER BY id LIMIT n). With only the (dataset_id, conversation_id) index SQLite
	// read and sorted every row of the dataset for each page, O(n²) over a scan: a
	// million-query embed backfill crawled. This index seeks to the page instead.
	{version: 5, name: "dataset and id index for keyset scans of a dataset", sql: []string{
		`CREATE INDEX IF NOT EXISTS ix_queries_dataset_id ON queries (dataset_id, id)`,
	}},
	{version: 6, name: "hierarchy runs: how each hierarchy was built", sql: []string{
		`CREATE TABLE IF NOT EXISTS hierarchy_runs (
			hierarchy_run_id VARCHAR PRIMARY KEY,
			run_id VARCHAR NOT NULL REFERENCES clustering_runs (run_id) ON DELETE CASCADE,
			method VARCHAR NOT NULL,
			model VARCHAR,
			parameters TEXT,
			report TEXT,
			created_at {{ts}})`,
		`CREATE INDEX IF NOT EXISTS ix_hierarchy_runs_run_id ON hierarchy_runs (run_id)`,
	}},
	// A cluster's page of queries filtered (run_id, cluster_id) but ordered by query id,
	// so SQLite walked the whole run's (run_id, query_id) index to find one cluster's
	// rows; this index serves the filter and the order, covering the join.
	{version: 7, name: "cluster pages seek by (run, cluster, query)", sql: []string{
		`CREATE INDEX IF NOT EXISTS ix_query_clusters_run_cluster_query ON query_clusters (run_id, cluster_id, query_id)`,
		`DROP INDEX IF EXISTS ix_query_clusters_run_cluster`,
	}},
	// Every cluster page resolves the run's latest summary run; without this index that
	// read and sorted all of the run's summaries (large rows) each time.
	{version: 8, name: "latest summary run by index", sql: []string{
		`CREATE INDEX IF NOT EXISTS ix_cluster_summaries_run_generated ON cluster_summaries (run_id, generated_at, summary_run_id)`,
	}},
	// A run's 2-D map (package layout) is derived data, like the vector index, but
	// costs seconds to minutes to compute: it is kept with the seed it was made with.
	{version: 9, name: "2-D layouts of runs", sql: []string{
		`CREATE TABLE IF NOT EXISTS query_layouts (
			run_id VARCHAR NOT NULL REFERENCES clustering_runs (run_id) ON DELETE CASCADE,
			query_id {{bigint}} NOT NULL,
			x {{float}} NOT NULL,
			y {{float}} NOT NULL,
			PRIMARY KEY (run_id, query_id))`,
		`CREATE TABLE IF NOT EXISTS layout_runs (
			run_id VARCHAR PRIMARY KEY REFERENCES clustering_runs (run_id) ON DELETE CASCADE,
			seed {{bigint}} NOT NULL,
			num_points INTEGER NOT NULL,
			parameters TEXT,
			created_at {{ts}})`,
	}},
	// Chat rows keep every turn beside the query (compressed when that pays), and
	// classifiers label them. The three classification tables follow the Python
	// tool's planned layout (classification_templates, classification_runs,
	// query_classifications), with a facet column because one template can answer
	// several facets, and a result key so equal configurations share their labels.
	{version: 10, name: "conversations and classifications", sql: []string{
		`CREATE TABLE IF NOT EXISTS conversations (
			query_id {{bigint}} PRIMARY KEY REFERENCES queries (id) ON DELETE CASCADE,
			turns INTEGER NOT NULL,
			encoding VARCHAR NOT NULL,
			body {{blob}} NOT NULL,
			text_bytes {{bigint}} NOT NULL,
			truncated VARCHAR)`,
		`CREATE TABLE IF NOT EXISTS classification_templates (
			template_id VARCHAR PRIMARY KEY,
			name VARCHAR NOT NULL,
			version VARCHAR,
			description TEXT,
			source VARCHAR NOT NULL,
			yaml_content TEXT NOT NULL,
			template_hash VARCHAR NOT NULL,
			created_at {{ts}},
			updated_at {{ts}})`,
		`CREATE INDEX IF NOT EXISTS ix_classification_templates_name ON classification_templates (name)`,
		`CREATE TABLE IF NOT EXISTS classification_runs (
			classification_run_id VARCHAR PRIMARY KEY,
			template_id VARCHAR NOT NULL,
			template_hash VARCHAR NOT NULL,
			result_key VARCHAR NOT NULL,
			provider VARCHAR NOT NULL,
			model VARCHAR NOT NULL,
			facets TEXT,
			parameters TEXT,
			scope TEXT,
			status VARCHAR NOT NULL,
			error TEXT,
			total_queries {{bigint}} NOT NULL DEFAULT 0,
			processed_queries {{bigint}} NOT NULL DEFAULT 0,
			error_count {{bigint}} NOT NULL DEFAULT 0,
			calls {{bigint}} NOT NULL DEFAULT 0,
			input_tokens {{bigint}} NOT NULL DEFAULT 0,
			output_tokens {{bigint}} NOT NULL DEFAULT 0,
			cost {{float}} NOT NULL DEFAULT 0,
			created_at {{ts}},
			completed_at {{ts}})`,
		`CREATE INDEX IF NOT EXISTS ix_classification_runs_key ON classification_runs (result_key)`,
		`CREATE TABLE IF NOT EXISTS query_classifications (
			id {{id}},
			classification_run_id VARCHAR NOT NULL REFERENCES classification_runs (classification_run_id) ON DELETE CASCADE,
			result_key VARCHAR NOT NULL,
			query_id {{bigint}} NOT NULL REFERENCES queries (id) ON DELETE CASCADE,
			facet VARCHAR NOT NULL,
			label TEXT NOT NULL,
			text_hash VARCHAR NOT NULL,
			reasoning TEXT,
			created_at {{ts}})`,
		`CREATE UNIQUE INDEX IF NOT EXISTS ix_query_classifications_key ON query_classifications (result_key, query_id, facet)`,
		`CREATE INDEX IF NOT EXISTS ix_query_classifications_facet ON query_classifications (facet, result_key, label)`,
		`CREATE INDEX IF NOT EXISTS ix_query_classifications_query ON query_classifications (query_id)`,
	}},
	// A cluster's labels are read through its members: an index on the query id that
	// also holds the facet, key and label answers that without reading the table
	// (a cluster of 500 queries with seven facets: 2-5 ms instead of 7-18).
	{version: 11, name: "covering index of labels by query", sql: []string{
		`CREATE INDEX IF NOT EXISTS ix_query_classifications_query_labels ON query_classifications (query_id, facet, result_key, label)`,
		`DROP INDEX IF EXISTS ix_query_classifications_query`,
	}},
	// Conversations are written in the binary turns encoding (encodings "turns" and
	// "turns+s2"), which leaves out the first message its query row holds. The tables
	// do not change; the version does, so a library from before it refuses the
	// database ("newer than this library") instead of failing on an unknown encoding
	// when it reads a conversation.
	{version: 12, name: "conversations in the turns encoding", sql: nil},
}

func init() {
	for i := 1; i < len(migrations); i++ {
		if migrations[i].version != migrations[i-1].version+1 {
			panic(fmt.Sprintf("store: migration %d follows %d: versions must increase by one", migrations[i].version, migrations[i-1].version))
		}
	}
}

// SchemaVersion is the version of the newest migration this library knows.
var SchemaVersion = migrations[len(migrations)-1].version

// migrate brings the schema to version target (SchemaVersion when target is 0). A
// non-nil foreign is the plan for adopting a database the Python tool wrote
// (inspectSQLite), run before any migration.
func migrate(ctx context.Context, db *gorm.DB, postgres bool, target int, foreign *adoption) error {
	if target == 0 {
		target = SchemaVersion
	}
	if err := db.WithContext(ctx).Exec(expand(`CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name VARCHAR, applied_at {{ts}})`, postgres)).Error; err != nil {
		return fmt.Errorf("store: create schema_migrations: %w", err)
	}
	var current int
	if err := db.WithContext(ctx).Raw(`SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current).Error; err != nil {
		return fmt.Errorf("store: read schema version: %w", err)
	}
	if current > SchemaVersion {
		return fmt.Errorf("store: database schema version %d is newer than this library's %d: upgrade the library", current, SchemaVersion)
	}
	if current == 0 && foreign != nil {
		if err := adopt(ctx, db, foreign, "adopted the Python tool's database"); err != nil {
			return err
		}
		current = 1
	} else if current == 0 && tableExists(db, postgres, "queries") {
		// A database written by the Python seed tool: its tables are version 1.
		if err := db.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (1, 'adopted seed schema', ?)`, time.Now().UTC()).Error; err != nil {
			return fmt.Errorf("store: adopt seed schema: %w", err)
		}
		current = 1
	}
	for _, m := range migrations {
		if m.version <= current || m.version > target {
			continue
		}
		err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			for _, stmt := range m.sql {
				if columnExists(tx, postgres, stmt) {
					// A column the Python tool's layout already had (adopt keeps it).
					continue
				}
				if err := tx.Exec(expand(stmt, postgres)).Error; err != nil {
					return fmt.Errorf("store: migration %d (%s): %w\n%s", m.version, m.name, err, stmt)
				}
			}
			if m.after != nil {
				if err := m.after(ctx, tx); err != nil {
					return fmt.Errorf("store: migration %d (%s): %w", m.version, m.name, err)
				}
			}
			return tx.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`, m.version, m.name, time.Now().UTC()).Error
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// addColumn matches a migration statement that adds a column.
var addColumn = regexp.MustCompile(`^ALTER TABLE (\w+) ADD COLUMN (\w+) `)

// columnExists reports whether stmt adds a column that its table already has. Adding
// a column is the one statement that cannot be written "IF NOT EXISTS".
func columnExists(db *gorm.DB, postgres bool, stmt string) bool {
	m := addColumn.FindStringSubmatch(stmt)
	if m == nil {
		return false
	}
	var n int
	if postgres {
		db.Raw(`SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ? AND column_name = ?`, m[1], m[2]).Scan(&n)
	} else {
		db.Raw(`SELECT COUNT(*) FROM pragma_table_info(?) WHERE name = ?`, m[1], m[2]).Scan(&n)
	}
	return n > 0
}

func tableExists(db *gorm.DB, postgres bool, name string) bool {
	var n int
	if postgres {
		db.Raw(`SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ?`, name).Scan(&n)
	} else {
		db.Raw(`SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?`, name).Scan(&n)
	}
	return n > 0
}

// backfillTextHashes fills queries.text_hash for rows written before version 3.
func backfillTextHashes(ctx context.Context, tx *gorm.DB) error {
	type row struct {
		ID   int64
		Text string
	}
	var last int64
	for {
		var rows []row
		if err := tx.WithContext(ctx).Raw(`SELECT id, query_text AS text FROM queries WHERE id > ? AND text_hash IS NULL ORDER BY id LIMIT 5000`, last).Scan(&rows).Error; err != nil {
			return err
		}
		if len(rows) == 0 {
			return nil
		}
		for _, r := range rows {
			if err := tx.Exec(`UPDATE queries SET text_hash = ? WHERE id = ?`, lmsys.TextHash(r.Text), r.ID).Error; err != nil {
				return err
			}
			last = r.ID
		}
	}
}
