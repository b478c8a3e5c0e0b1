package store

import (
	"context"
	"database/sql"
	"sync"
	"time"
)

// SQLite in WAL mode appends every committed page to the write-ahead log, and by
// default the committing connection then copies the log back into the database file
// (a checkpoint) each time the log passes 1,000 pages. For a bulk load that copy is a
// third of the writer's time, and it runs on the writer's thread while nothing else
// can write. Open therefore turns automatic checkpoints off on its connections
// (wal_autocheckpoint = 0) and runs them from a checkpointer goroutine with a
// connection of its own, so the copy overlaps the writer's next transactions on
// another core:
//
//   - after each commit (and once a second for writes outside the store's
//     transactions) it runs a PASSIVE checkpoint, which never blocks readers or
//     writers;
//   - once the log holds more than restartFrames frames it runs a RESTART checkpoint
//     with a short busy timeout, which lets the next writer start the log again from
//     its beginning, so the log file stays bounded during a long load. If readers
//     hold old snapshots the attempt gives up quickly and is retried later.
//
// Closing the store stops the checkpointer; SQLite checkpoints whatever is left when
// the last connection closes. A process killed at any point loses nothing: committed
// transactions are in the log, and the next open reads them from there.

// restartFrames is the log length (frames of sqlitePageSize bytes) past which the
// checkpointer restarts the log: 4,096 frames of 16 KB = 64 MB. (A variable so
// tests can make it small.)
var restartFrames int64 = 4096

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
	c := &checkpointer{db: db, poke: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}), tick: time.Second}
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
	for {
		select {
		case <-c.stop:
			return
		case <-c.poke:
		case <-t.C:
		}
		c.checkpoint()
	}
}

// checkpoint runs one PASSIVE checkpoint, and a RESTART one when the log is long.
func (c *checkpointer) checkpoint() {
	var busy, logFrames, done int64
	err := c.db.QueryRow(`PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &logFrames, &done)
	if err == nil && logFrames > restartFrames && done == logFrames {
		// Everything is copied: restarting the log only waits for the writer in
		// flight. A short busy timeout keeps writers from queueing behind readers
		// of old snapshots; the next round tries again.
		if _, err = c.db.Exec(`PRAGMA busy_timeout = 250`); err == nil {
			err = c.db.QueryRow(`PRAGMA wal_checkpoint(RESTART)`).Scan(&busy, &logFrames, &done)
			if _, e := c.db.Exec(`PRAGMA busy_timeout = 30000`); err == nil {
				err = e
			}
		}
	}
	c.errMu.Lock()
	c.err = err
	c.errMu.Unlock()
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
