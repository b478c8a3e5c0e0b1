package store

import (
	"context"
	"time"

	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// OpenAtVersion creates a SQLite database at path migrated only up to version, as an
// older release of this library (version 1: the Python seed tool) would have left it.
func OpenAtVersion(ctx context.Context, path string, version int) (*gorm.DB, error) {
	db, err := gorm.Open(sqlite.Open("file:"+path+"?_foreign_keys=on"), &gorm.Config{Logger: logger.Default.LogMode(logger.Silent)})
	if err != nil {
		return nil, err
	}
	return db, migrate(ctx, db, false, version, nil)
}

// SetRestartFrames sets the log length past which the checkpointer restarts the
// log, and returns a function restoring the previous value.
func SetRestartFrames(n int64) (restore func()) {
	old := restartFrames
	restartFrames = n
	return func() { restartFrames = old }
}

// CheckpointRound has db's checkpointer run one checkpoint round and returns when it
// is done: what the checkpointer does after a commit when the writer pauses (a loader
// parsing its next batch), without a pause of any length.
func CheckpointRound(db *DB) {
	r := make(chan struct{})
	db.ckpt.rounds <- r
	<-r
}

// SetCheckpointTick sets the idle tick of checkpointers started from now on, and
// returns a function restoring the previous value.
func SetCheckpointTick(d time.Duration) (restore func()) {
	old := checkpointTick
	checkpointTick = d
	return func() { checkpointTick = old }
}
