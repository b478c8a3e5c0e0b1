// Package distributed spreads an analysis's remote-bound and CPU-bound work over any
// number of worker processes that share one PostgreSQL database, through River
// (github.com/riverqueue/river), a job queue kept in the same database.
//
// Three kinds of job exist, each in a queue of its own:
//
//   - embed (EmbedArgs): embed the queries of one id range that have no vector yet in
//     one embedding space;
//   - summarize (SummarizeArgs): name a few clusters of a clustering run into one
//     summary run with an LLM;
//   - classify (ClassifyArgs): label the conversations of one id range with a
//     classifier (a built-in one, a facet set or a stored template).
//
// Jobs carry ids, never texts: a worker reads the texts from the store and writes its
// results there. Every job is idempotent, so a job that is run twice (its worker was
// killed mid-way and River's rescuer gave it to another) duplicates nothing: vectors
// are keyed by (space, text hash) and a text already embedded is skipped, summaries
// are keyed by (summary run, cluster) and replaced, and labels are keyed by the
// classifier's result key and skipped when present. Jobs are unique by their
// arguments, so enqueueing the same analysis twice adds no work.
//
// A program enqueues with a Client (Open) and waits (Client.Wait, with Progress);
// workers run NewWorker(…).Start. `lmsys worker` and `lmsys analyze --distributed` are
// the command-line faces of the two.
package distributed

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/store"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"
)

// The queues, one per kind of job. A worker serves a subset (WorkerConfig.Queues).
const (
	QueueEmbed     = "embed"
	QueueClassify  = "classify"
	QueueSummarize = "summarize"
)

// Queues lists every queue, in the order the stages of an analysis use them.
func Queues() []string { return []string{QueueEmbed, QueueSummarize, QueueClassify} }

// maxAttempts is how many times a job is tried before River discards it. Retries wait
// River's default backoff (attempt⁴ seconds, with jitter).
const maxAttempts = 8

// migrateLockKey is the advisory lock under which River's migrations run, so that
// workers started at once on a fresh database do not migrate side by side.
const migrateLockKey = 0x6c6d7379730002 // "lmsys" 2

// connect opens a pgx pool on a PostgreSQL URL and migrates River's tables.
func connect(ctx context.Context, url string) (*pgxpool.Pool, error) {
	if !strings.HasPrefix(url, "postgres://") && !strings.HasPrefix(url, "postgresql://") && !strings.Contains(url, "host=") {
		return nil, fmt.Errorf("%w: distributed work needs a PostgreSQL URL (postgres://…), got %q", lmsys.ErrInvalidInput, store.RedactURL(url))
	}
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("distributed: connect to %s: %w", store.RedactURL(url), err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("distributed: connect to %s: %w", store.RedactURL(url), err)
	}
	if err := Migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	return pool, nil
}

// Migrate creates or upgrades River's tables (river_job, river_leader, river_queue …)
// in the schema the pool's search_path names. It is idempotent and safe to run from
// many processes at once: the migrations run under an advisory lock.
func Migrate(ctx context.Context, pool *pgxpool.Pool) error {
	m, err := rivermigrate.New(riverpgxv5.New(pool), nil)
	if err != nil {
		return fmt.Errorf("distributed: migrations: %w", err)
	}
	// Each migration is a transaction of its own (PostgreSQL cannot use an enum value
	// added in the same transaction), so the lock is a session lock on a connection
	// held meanwhile.
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("distributed: migrations: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, int64(migrateLockKey)); err != nil {
		return fmt.Errorf("distributed: lock for migrations: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, int64(migrateLockKey))
	_, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return fmt.Errorf("distributed: migrate River's tables: %w", err)
	}
	return nil
}

// Client enqueues jobs and follows them. It works no job itself, so it never becomes
// River's leader: a program can enqueue and wait while workers elsewhere do the work.
type Client struct {
	pool  *pgxpool.Pool
	river *river.Client[pgx.Tx]
	// PollInterval is how often Wait reads the jobs' states (default 500 ms).
	PollInterval time.Duration
	// OnEnqueue, when set, is called with each batch the client enqueues (by
	// EnqueueEmbed, Backfill, SummarizeRun and Classify), before any wait for it.
	OnEnqueue func(*Batch)
}

// Open connects to the PostgreSQL database at url (the store's own), migrates River's
// tables and returns a Client. Close it when done.
func Open(ctx context.Context, url string) (*Client, error) {
	pool, err := connect(ctx, url)
	if err != nil {
		return nil, err
	}
	rc, err := river.NewClient(riverpgxv5.New(pool), &river.Config{})
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("distributed: %w", err)
	}
	return &Client{pool: pool, river: rc, PollInterval: 500 * time.Millisecond}, nil
}

// Close closes the client's connections.
func (c *Client) Close() { c.pool.Close() }

// Batch is a set of enqueued jobs: the ones an Enqueue call inserted, and those it
// found already enqueued with the same arguments (unique jobs).
type Batch struct {
	// Kind is the kind of the jobs (EmbedArgs{}.Kind() …).
	Kind string `json:"kind"`
	// JobIDs are River's job ids.
	JobIDs []int64 `json:"job_ids"`
	// Duplicates counts the jobs that were already enqueued (or done) with the same
	// arguments and were not inserted again.
	Duplicates int `json:"duplicates"`
}

// Progress counts the jobs of a batch by state. Completed counts jobs done and also
// jobs River's cleaner has deleted (it deletes only finished jobs, after a day).
type Progress struct {
	Total int `json:"total"`
	// Pending is waiting to run: available, scheduled, pending or retryable (a
	// retryable job failed and waits for its next attempt).
	Pending   int `json:"pending"`
	Running   int `json:"running"`
	Completed int `json:"completed"`
	// Retrying counts the pending jobs that have failed at least once.
	Retrying int `json:"retrying"`
	// Failed counts jobs River gave up on (discarded after their attempts, or
	// cancelled because they can never succeed), with their last errors.
	Failed int      `json:"failed"`
	Errors []string `json:"errors,omitempty"`
}

// Done reports whether no job of the batch is left to run.
func (p Progress) Done() bool { return p.Pending == 0 && p.Running == 0 }

// String renders the counts for a progress line.
func (p Progress) String() string {
	s := fmt.Sprintf("%d/%d jobs done, %d running, %d waiting", p.Completed, p.Total, p.Running, p.Pending)
	if p.Retrying > 0 {
		s += fmt.Sprintf(" (%d retrying)", p.Retrying)
	}
	if p.Failed > 0 {
		s += fmt.Sprintf(", %d failed", p.Failed)
	}
	return s
}

// ErrJobsFailed is wrapped by Wait when jobs of the batch were given up on.
var ErrJobsFailed = errors.New("distributed: jobs failed")

// idChunk bounds the ids per ANY($1) array.
const idChunk = 10000

// Progress reads the states of the batch's jobs.
func (c *Client) Progress(ctx context.Context, b *Batch) (Progress, error) {
	p := Progress{Total: len(b.JobIDs)}
	found := 0
	for start := 0; start < len(b.JobIDs); start += idChunk {
		part := b.JobIDs[start:min(start+idChunk, len(b.JobIDs))]
		rows, err := c.pool.Query(ctx, `SELECT state, attempt, COALESCE(errors[array_length(errors, 1)]->>'error', '') FROM river_job WHERE id = ANY($1)`, part)
		if err != nil {
			return p, fmt.Errorf("distributed: progress: %w", err)
		}
		for rows.Next() {
			var state, lastErr string
			var attempt int
			if err := rows.Scan(&state, &attempt, &lastErr); err != nil {
				rows.Close()
				return p, fmt.Errorf("distributed: progress: %w", err)
			}
			found++
			switch rivertype.JobState(state) {
			case rivertype.JobStateRunning:
				p.Running++
			case rivertype.JobStateCompleted:
				p.Completed++
			case rivertype.JobStateDiscarded, rivertype.JobStateCancelled:
				p.Failed++
				if len(p.Errors) < 5 && lastErr != "" {
					p.Errors = append(p.Errors, lastErr)
				}
			default:
				p.Pending++
				if attempt > 0 {
					p.Retrying++
				}
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return p, fmt.Errorf("distributed: progress: %w", err)
		}
	}
	p.Completed += len(b.JobIDs) - found
	return p, nil
}

// Wait polls the batch until no job of it is left to run, calling fn (when not nil)
// with each reading. It returns an error wrapping ErrJobsFailed when jobs were given up
// on, naming their last errors; cancelling ctx stops the wait, never the jobs.
func (c *Client) Wait(ctx context.Context, b *Batch, fn func(Progress)) (Progress, error) {
	every := c.PollInterval
	if every <= 0 {
		every = 500 * time.Millisecond
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		p, err := c.Progress(ctx, b)
		if err != nil {
			return p, err
		}
		if fn != nil {
			fn(p)
		}
		if p.Done() {
			if p.Failed > 0 {
				return p, fmt.Errorf("%w: %d of %d %s jobs: %s", ErrJobsFailed, p.Failed, p.Total, b.Kind, strings.Join(p.Errors, "; "))
			}
			return p, nil
		}
		select {
		case <-ctx.Done():
			return p, fmt.Errorf("distributed: wait for %s jobs: %w", b.Kind, ctx.Err())
		case <-t.C:
		}
	}
}

// insert enqueues jobs in transactions of at most 1000, returning the batch.
func (c *Client) insert(ctx context.Context, kind string, params []river.InsertManyParams) (*Batch, error) {
	b := &Batch{Kind: kind, JobIDs: make([]int64, 0, len(params))}
	for start := 0; start < len(params); start += 1000 {
		res, err := c.river.InsertMany(ctx, params[start:min(start+1000, len(params))])
		if err != nil {
			return nil, fmt.Errorf("distributed: enqueue %s jobs: %w", kind, err)
		}
		for _, r := range res {
			b.JobIDs = append(b.JobIDs, r.Job.ID)
			if r.UniqueSkippedAsDuplicate {
				b.Duplicates++
			}
		}
	}
	if c.OnEnqueue != nil {
		c.OnEnqueue(b)
	}
	return b, nil
}

// Outputs returns the outputs the batch's completed jobs recorded, decoded into
// values of T (a job's output is what its worker passed to river.RecordOutput).
func outputs[T any](ctx context.Context, c *Client, b *Batch) ([]T, error) {
	var out []T
	for start := 0; start < len(b.JobIDs); start += idChunk {
		part := b.JobIDs[start:min(start+idChunk, len(b.JobIDs))]
		rows, err := c.pool.Query(ctx, `SELECT metadata->'output' FROM river_job WHERE id = ANY($1) AND state = 'completed' AND metadata ? 'output'`, part)
		if err != nil {
			return nil, fmt.Errorf("distributed: job outputs: %w", err)
		}
		for rows.Next() {
			var v T
			if err := rows.Scan(&v); err != nil {
				rows.Close()
				return nil, fmt.Errorf("distributed: job outputs: %w", err)
			}
			out = append(out, v)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("distributed: job outputs: %w", err)
		}
	}
	return out, nil
}

// Stats counts the jobs of each queue by state (River's states: available, running,
// retryable, completed, discarded …), over every analysis: what `lmsys worker
// --status` prints.
func (c *Client) Stats(ctx context.Context) (map[string]map[string]int, error) {
	rows, err := c.pool.Query(ctx, `SELECT queue, state, COUNT(*) FROM river_job GROUP BY queue, state`)
	if err != nil {
		return nil, fmt.Errorf("distributed: stats: %w", err)
	}
	defer rows.Close()
	out := map[string]map[string]int{}
	for rows.Next() {
		var q, s string
		var n int
		if err := rows.Scan(&q, &s, &n); err != nil {
			return nil, fmt.Errorf("distributed: stats: %w", err)
		}
		if out[q] == nil {
			out[q] = map[string]int{}
		}
		out[q][s] = n
	}
	return out, rows.Err()
}
