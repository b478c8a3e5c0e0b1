// Package store is the system of record: a GORM implementation of lmsys.Store on SQLite
// (the default, one file) or PostgreSQL.
//
// Tables and columns keep the names of the Python tool this library re-implements
// (queries, clustering_runs, query_clusters, cluster_summaries, cluster_hierarchies,
// cluster_edits, cluster_metadata, orphaned_queries), so SQL written against its
// databases keeps working, and its databases open here: the schema is versioned
// (schema_migrations) and upgraded in place, never dropped.
//
// Hot paths (loading queries, storing embeddings and assignments, streaming vectors)
// use multi-row prepared statements inside large transactions; the rest goes through
// GORM.
//
// Every stage of the pipeline reads its input from a DB and writes its output to it,
// through the role interfaces of package lmsys (QueryStore, EmbeddingStore, RunStore,
// SummaryStore, HierarchyStore, ConversationStore, LabelStore); the vector index is
// rebuilt from it.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/lmsys-go/lmsys"
	sqlite3 "github.com/mattn/go-sqlite3"
	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Config says which database to open. URL (PostgreSQL) wins over Path (SQLite); when both
// are empty, the environment decides (LMSYS_DATABASE_URL, then LMSYS_DB_PATH), then the
// default SQLite file DefaultPath.
type Config struct {
	// Path is a SQLite database file, created with its directory when missing.
	Path string
	// URL is a PostgreSQL connection string (postgres://user@host:port/db?...).
	URL string
	// Debug logs every SQL statement.
	Debug bool
}

// DefaultPath returns $LMSYS_DB_PATH or ~/.lmsys-query-analysis/queries.db.
func DefaultPath() string {
	if p := os.Getenv("LMSYS_DB_PATH"); p != "" {
		return p
	}
	home, err := os.UserHomeDir()
	if err != nil {
		home = "."
	}
	return filepath.Join(home, ".lmsys-query-analysis", "queries.db")
}

// DB is the GORM store. It implements lmsys.Store and is safe for concurrent use.
type DB struct {
	db       *gorm.DB
	postgres bool
	// where names the database for messages (the file, or the URL without password).
	where string
	// ckpt checkpoints a SQLite file's write-ahead log; nil for PostgreSQL.
	ckpt *checkpointer
	// runTexts caches each run's "on" parameter (run id → facet, "" for the query text).
	runTexts *sync.Map
}

var (
	_ lmsys.Store         = (*DB)(nil)
	_ lmsys.QueryPreparer = (*DB)(nil)
)

// Open opens (creating and migrating when needed) the database cfg names.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	if cfg.URL == "" && cfg.Path == "" {
		cfg.URL = os.Getenv("LMSYS_DATABASE_URL")
		if cfg.URL == "" {
			cfg.Path = DefaultPath()
		}
	}
	gcfg := &gorm.Config{Logger: logger.Default.LogMode(logger.Silent), SkipDefaultTransaction: true, PrepareStmt: false}
	if cfg.Debug {
		gcfg.Logger = logger.Default.LogMode(logger.Info)
	}
	d := &DB{runTexts: &sync.Map{}}
	var err error
	var dsn string
	var foreign *adoption
	if cfg.URL != "" {
		if !strings.HasPrefix(cfg.URL, "postgres://") && !strings.HasPrefix(cfg.URL, "postgresql://") && !strings.Contains(cfg.URL, "host=") {
			return nil, fmt.Errorf("%w: database URL %q is not a PostgreSQL URL (postgres://…)", lmsys.ErrInvalidInput, RedactURL(cfg.URL))
		}
		d.postgres = true
		d.where = RedactURL(cfg.URL)
		d.db, err = gorm.Open(postgres.Open(cfg.URL), gcfg)
	} else {
		if dir := filepath.Dir(cfg.Path); dir != "" {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return nil, fmt.Errorf("store: create directory for %s: %w", cfg.Path, err)
			}
		}
		d.where = cfg.Path
		if foreign, err = inspectSQLite(ctx, cfg.Path); err != nil {
			return nil, err
		}
		if err := createSQLite(ctx, cfg.Path); err != nil {
			return nil, err
		}
		// _mutex=no: database/sql hands a connection to one goroutine at a time, so
		// SQLite's per-connection mutex (a lock and unlock around every bound parameter)
		// protects nothing here.
		dsn = sqliteURI(cfg.Path) + "?_journal_mode=WAL&_busy_timeout=30000&_foreign_keys=on&_synchronous=NORMAL&_txlock=immediate&_cache_size=-65536&_mutex=no"
		d.db, err = gorm.Open(sqlite.New(sqlite.Config{DriverName: sqliteDriver, DSN: dsn}), gcfg)
	}
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", d.where, err)
	}
	sqlDB, err := d.db.DB()
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", d.where, err)
	}
	if err := sqlDB.PingContext(ctx); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("store: connect to %s: %w", d.where, err)
	}
	if !d.postgres {
		sqlDB.SetMaxOpenConns(4)
		// A SQLite connection reads the planner's statistics when it opens; renewing
		// connections lets those the checkpointer refreshes (checkpoint.go) reach them.
		sqlDB.SetConnMaxIdleTime(time.Minute)
		sqlDB.SetConnMaxLifetime(10 * time.Minute)
	}
	if err := d.migrateLocked(ctx, foreign); err != nil {
		sqlDB.Close()
		return nil, err
	}
	if !d.postgres && !strings.HasPrefix(cfg.Path, ":") && !strings.Contains(cfg.Path, "mode=memory") {
		if d.ckpt, err = startCheckpointer(ctx, dsn); err != nil {
			sqlDB.Close()
			return nil, fmt.Errorf("store: open %s: %w", d.where, err)
		}
		d.ckpt.notify() // whatever the migrations wrote
		// The connections opened so far predate the statistics startCheckpointer may
		// just have written: let the pool open new ones.
		sqlDB.SetMaxIdleConns(0)
		sqlDB.SetMaxIdleConns(2)
	}
	return d, nil
}

// migrateLockKey is the PostgreSQL advisory lock that serialises schema migrations:
// several processes opening one fresh database at once (workers started together on
// many machines) would otherwise create the same tables side by side.
const migrateLockKey = 0x6c6d7379730001 // "lmsys" 1

// migrateLocked brings the schema up to date; on PostgreSQL it holds migrateLockKey on
// one connection meanwhile. SQLite serialises writers by itself.
func (d *DB) migrateLocked(ctx context.Context, foreign *adoption) error {
	if !d.postgres {
		return migrate(ctx, d.db, false, 0, foreign)
	}
	return d.db.WithContext(ctx).Connection(func(conn *gorm.DB) error {
		if err := conn.Exec(`SELECT pg_advisory_lock(?)`, migrateLockKey).Error; err != nil {
			return fmt.Errorf("store: lock for migrations: %w", err)
		}
		defer conn.Exec(`SELECT pg_advisory_unlock(?)`, migrateLockKey)
		return migrate(ctx, conn, true, 0, foreign)
	})
}

// sqliteDriver is the database/sql name of the SQLite driver Open uses: mattn's driver
// with a hook that sets, on every new connection, what its DSN cannot.
const sqliteDriver = "sqlite3_lmsys"

func init() {
	sql.Register(sqliteDriver, &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		// The checkpointer copies the log back (see checkpoint.go), not the writers.
		_, err := c.Exec(fmt.Sprintf("PRAGMA wal_autocheckpoint = 0; PRAGMA journal_size_limit = %d", logSizeLimit), nil)
		return err
	}})
}

// sqlitePageSize is the page size of the SQLite files Open creates. An embedding row
// (a 512-dimensional vector is a 2 KB blob) does not fit twice in SQLite's default
// 4 KB page, so every vector took a page of its own: 16 KB pages hold seven, which
// made a million-query database 40% smaller and halved the CPU time of storing the
// vectors (measured: 200k vectors, 8.2 → 4.0 CPU-s).
const sqlitePageSize = 16384

// createSQLite creates a missing (or empty) SQLite file at path with sqlitePageSize
// pages in WAL mode. The page size of a WAL database is fixed when its header is first
// written, which the WAL setting of the store's own connections would otherwise do
// with the default size. Existing databases are left as they are.
func createSQLite(ctx context.Context, path string) error {
	if strings.HasPrefix(path, ":") || strings.Contains(path, "mode=memory") {
		return nil
	}
	if fi, err := os.Stat(path); err == nil && fi.Size() > 0 || err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil
	}
	db, err := sql.Open("sqlite3", sqliteURI(path))
	if err != nil {
		return fmt.Errorf("store: create %s: %w", path, err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	for _, stmt := range []string{fmt.Sprintf("PRAGMA page_size = %d", sqlitePageSize), "PRAGMA journal_mode = WAL"} {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("store: create %s: %w", path, err)
		}
	}
	return nil
}

// sqliteURI returns the SQLite URI ("file:…") of the file at path. The characters a
// URI gives a meaning to are escaped, so that a path holding them names that file: a
// '?' would start the parameters (mattn's driver and SQLite both cut the name there),
// a '#' the fragment, and a '%' an escape. A path naming an in-memory database
// (":memory:", or one carrying mode=memory) is a URI already and is kept as it is.
func sqliteURI(path string) string {
	if strings.HasPrefix(path, ":") || strings.Contains(path, "mode=memory") {
		return "file:" + path
	}
	return "file:" + strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
}

// RedactURL returns a connection URL with its password hidden, for messages and logs.
func RedactURL(u string) string {
	at := strings.IndexByte(u, '@')
	scheme := strings.Index(u, "://")
	if at < 0 || scheme < 0 || scheme > at {
		return u
	}
	cred := u[scheme+3 : at]
	if i := strings.IndexByte(cred, ':'); i >= 0 {
		return u[:scheme+3] + cred[:i] + ":***" + u[at:]
	}
	return u
}

// Close closes the database.
func (d *DB) Close() error {
	cerr := d.ckpt.close()
	sqlDB, err := d.db.DB()
	if err != nil {
		return err
	}
	if err := sqlDB.Close(); err != nil {
		return err
	}
	return cerr
}

// Gorm returns the underlying *gorm.DB for packages that need SQL of their own
// (curation, facets). Use Tx for writes that must be atomic.
func (d *DB) Gorm() *gorm.DB { return d.db }

// Postgres reports whether the store is PostgreSQL.
func (d *DB) Postgres() bool { return d.postgres }

// Where names the database (file path, or URL without password).
func (d *DB) Where() string { return d.where }

// Tx runs fn in one transaction: fn receives a DB bound to it, and everything fn does
// through it commits together or not at all. Writers are serialised (SQLite begins
// transactions IMMEDIATE), so concurrent processes never lose an update.
func (d *DB) Tx(ctx context.Context, fn func(tx *DB) error) error {
	d.restartLog(ctx)
	err := d.db.WithContext(ctx).Transaction(func(gtx *gorm.DB) error {
		return fn(&DB{db: gtx, postgres: d.postgres, where: d.where, ckpt: d.ckpt, runTexts: d.runTexts})
	})
	if err == nil {
		d.ckpt.notify()
	}
	return err
}

// inTx runs fn in a transaction unless d is already bound to one.
func (d *DB) inTx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	if _, ok := d.db.Statement.ConnPool.(gorm.TxCommitter); ok {
		return fn(d.db.WithContext(ctx))
	}
	d.restartLog(ctx)
	err := d.db.WithContext(ctx).Transaction(fn)
	if err == nil {
		d.ckpt.notify()
	}
	return err
}

// restartLog restarts a SQLite write-ahead log the checkpointer found long, before a
// write transaction (see checkpoint.go). A restart that could not complete (another
// connection was checkpointing) is tried again before the next transaction; the log
// only grows meanwhile.
func (d *DB) restartLog(ctx context.Context) {
	if _, inTx := d.db.Statement.ConnPool.(gorm.TxCommitter); inTx {
		return // a checkpoint cannot run inside a transaction; the outermost one restarts
	}
	if d.ckpt.restartDue() {
		var busy, logFrames, done int64
		err := d.db.WithContext(ctx).Raw(`PRAGMA wal_checkpoint(RESTART)`).Row().Scan(&busy, &logFrames, &done)
		if err != nil || busy != 0 {
			d.ckpt.restartFailed()
		}
	}
}

// anyTime scans a timestamp that SQLite may return as text (from aggregates such as
// MAX, which lose the column's declared type).
type anyTime time.Time

// Scan implements sql.Scanner.
func (t *anyTime) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		*t = anyTime{}
	case time.Time:
		*t = anyTime(x)
	case string:
		return t.parse(x)
	case []byte:
		return t.parse(string(x))
	default:
		return fmt.Errorf("store: cannot read %T as a time", v)
	}
	return nil
}

func (t *anyTime) parse(s string) error {
	for _, layout := range []string{"2006-01-02 15:04:05.999999999-07:00", "2006-01-02T15:04:05.999999999-07:00",
		"2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999Z07:00", "2006-01-02 15:04:05", "2006-01-02"} {
		if p, err := time.Parse(layout, s); err == nil {
			*t = anyTime(p)
			return nil
		}
	}
	return fmt.Errorf("store: cannot parse time %q", s)
}
