package store

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
	"time"
)

// SQLite in WAL mode appends every committed page to the write-ahead log, and by
// default the committing connection then copies the log back into the database file
// (a checkpoint) each time the log passes 1,000 pages. In a bulk load that copy took
// about a seventh of the writer's CPU (0.9 of 6.9 CPU-s per million queries), on the
// writer's thread while nothing else could write. Open therefore turns automatic checkpoints off on its connections
// (wal_autocheckpoint = 0) and runs them from a checkpointer goroutine with a
// connection of its own, so the copy overlaps the writer's next transactions on
// another core:
//
//   - after each commit (and once a second for writes outside the store's
//     transactions) it runs a PASSIVE checkpoint, which never blocks readers or
//     writers;
//   - once the log holds more than restartFrames frames it asks the store's next
//     write transaction to restart it first (PRAGMA wal_checkpoint(RESTART) on the
//     writer's side: the checkpointer cannot do it itself, since a writer committing
//     back to back never leaves the gap a waiting checkpoint needs), and runs no
//     passive round until then, since SQLite refuses a second checkpoint without
//     waiting. The passive rounds have copied most of the log by then, so the writer
//     only copies the rest, and the next transaction writes the log from its start
//     again, so the log file stays bounded during a long load (1M queries: 101–121 MB
//     at most, 181–195 MB with random conversation ids, against 220–560 MB when
//     passive rounds made most restarts fail). The file is rewritten in place rather
//     than emptied (TRUNCATE), which spares the file system allocating its blocks
//     anew after each restart; journal_size_limit (logSizeLimit) caps what a restart
//     keeps.
//
// The checkpointer also keeps the query planner's statistics fresh: once the store
// has been idle for a tick after writes, it runs PRAGMA optimize, which re-runs
// ANALYZE on tables that were never analysed or have grown many times since.
// Without statistics SQLite picked the (run, cluster, query) index to look up 50
// queries of a run by id, scanning all 100,000 of its rows (9 ms instead of 30 µs).
//
// Closing the store stops the checkpointer; SQLite checkpoints whatever is left when
// the last connection closes. A process killed at any point loses nothing: committed
// transactions are in the log, and the next open reads them from there.

// restartFrames is the log length (frames of sqlitePageSize bytes) past which the
// next write transaction restarts the log: 4,096 frames of 16 KB = 64 MB. (A variable so
// tests can make it small.)
var restartFrames int64 = 4096

// logSizeLimit is the store's journal_size_limit: a log file longer than this when it
// restarts is cut back to it, so one huge transaction does not leave a huge file
// behind. Twice the restart length, so a steady load never cuts it.
const logSizeLimit = 128 << 20

// checkpointTick is how often the checkpointer looks at the log without being told
// of a commit, and the idle time after which it refreshes statistics.
var checkpointTick = time.Second

// checkpointer runs the checkpoints of one SQLite database.
type checkpointer struct {
	db    *sql.DB
	poke  chan struct{}
	stop  chan struct{}
	done  chan struct{}
	once  sync.Once
	tick  time.Duration
	err   error // the last checkpoint error, for tests
	errMu sync.Mutex
	long  atomic.Bool // the log is past restartFrames: the next writer restarts it
	// rounds asks the checkpointer for one round now; it closes the channel sent when
	// the round is done (tests use it to give the checkpointer its turn between writes).
	rounds chan chan struct{}
}

// startCheckpointer opens a second connection to the database at dsn and starts
// checkpointing it.
func startCheckpointer(ctx context.Context, dsn string) (*checkpointer, error) {
	db, err := sql.Open(sqliteDriver, dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, err
	}
	c := &checkpointer{db: db, poke: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}), tick: checkpointTick,
		rounds: make(chan chan struct{})}
	// A database written by another process (or before this version) gets its
	// statistics at once, so a server opening it plans well from its first request —
	// unless another process is writing, then the first idle tick does it.
	if _, err := db.ExecContext(ctx, `PRAGMA busy_timeout = 100`); err == nil {
		c.optimize()
		_, _ = db.ExecContext(ctx, `PRAGMA busy_timeout = 30000`)
	}
	go c.run()
	return c, nil
}

// notify tells the checkpointer that a transaction committed. It never blocks.
func (c *checkpointer) notify() {
	if c == nil {
		return
	}
	select {
	case c.poke <- struct{}{}:
	default:
	}
}

func (c *checkpointer) run() {
	defer close(c.done)
	t := time.NewTicker(c.tick)
	defer t.Stop()
	// dirty: writes since the last optimize; busy: a commit since the last tick.
	dirty, busy := false, false
	for {
		select {
		case <-c.stop:
			return
		case <-c.poke:
			dirty, busy = true, true
		case r := <-c.rounds:
			c.checkpoint()
			close(r)
			continue
		case <-t.C:
			if dirty && !busy {
				c.optimize()
				dirty = false
			}
			busy = false
		}
		c.checkpoint()
	}
}

// optimize refreshes the planner's statistics where they are missing or stale.
func (c *checkpointer) optimize() {
	// No analysis_limit: a sampled ANALYZE caps the rows it believes share a leading
	// key value at the sample size, and a run's query_clusters rows all share run_id
	// (100,000 of them looked like 401, which made scanning the run look cheap).
	// A full one takes ~0.15 s per 100,000 queries, once per tenfold growth.
	_, err := c.db.Exec(`PRAGMA analysis_limit = 0; PRAGMA optimize = 0x10002`)
	c.setErr(err)
}

func (c *checkpointer) setErr(err error) {
	c.errMu.Lock()
	c.err = err
	c.errMu.Unlock()
}

// checkpoint runs one PASSIVE checkpoint and notes whether the log is long. While a
// restart is due it does nothing: the restarting writer copies what is left, and
// SQLite refuses a checkpoint while another is running, without waiting, so a passive
// round at that moment made the restart fail (during a load, most of them did, and the
// log grew to 220–560 MB).
func (c *checkpointer) checkpoint() {
	if c.long.Load() {
		return
	}
	var busy, logFrames, done int64
	err := c.db.QueryRow(`PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &logFrames, &done)
	if err == nil && logFrames > restartFrames {
		c.long.Store(true)
	}
	c.setErr(err)
}

// restartDue reports, once, that the log has grown past restartFrames.
func (c *checkpointer) restartDue() bool {
	return c != nil && c.long.CompareAndSwap(true, false)
}

// restartFailed asks for the restart again, before the next write transaction.
func (c *checkpointer) restartFailed() {
	c.long.Store(true)
}

// close stops the checkpointer and closes its connection.
func (c *checkpointer) close() error {
	if c == nil {
		return nil
	}
	var err error
	c.once.Do(func() {
		close(c.stop)
		<-c.done
		err = c.db.Close()
	})
	return err
}
