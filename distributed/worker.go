package distributed

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/embed"
	"github.com/lmsys-go/lmsys/llm"
	"github.com/lmsys-go/lmsys/store"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
)

// WorkerConfig configures a Worker. The zero value (with URL) serves every queue.
type WorkerConfig struct {
	// URL is the PostgreSQL database of the store and the queue.
	URL string
	// ID names the worker in River's tables (river_job.attempted_by, river_leader);
	// it must be unique among running workers. Default: host name and process id.
	ID string
	// Queues are the queues served (default Queues()).
	Queues []string
	// Concurrency is the number of jobs of each queue worked at once (default 2).
	Concurrency int
	// JobTimeout cancels a job's context after this long (default 10 minutes); the
	// attempt fails and is retried.
	JobTimeout time.Duration
	// RescueAfter is how long a job may stay running before River's rescuer gives it
	// to another worker: the time a killed worker's job waits. It must exceed
	// JobTimeout (default JobTimeout + 5 minutes).
	RescueAfter time.Duration
	// StopTimeout is how long Stop lets running jobs finish before cancelling them,
	// which makes them retryable at once (default 30 s).
	StopTimeout time.Duration
	// EmbedOptions are passed to embed.Open with the space's model and dimension
	// (endpoints, keys, request batch size, rate limits).
	EmbedOptions []embed.Option
	// LLMOptions are passed to llm.Open for summaries and LLM classifiers (endpoints,
	// keys, concurrency, rate limits); the store's LLM cache is always used.
	LLMOptions []llm.Option
	// Logger receives River's and the jobs' logs (default slog.Default()).
	Logger *slog.Logger
	// OnJob, when set, is called as each job starts (event "start") in this worker.
	OnJob func(jobID int64, kind, event string)
}

// Worker works jobs from the shared queue with one River client.
type Worker struct {
	cfg   WorkerConfig
	store *store.DB
	pool  *pgxpool.Pool
	river *river.Client[pgx.Tx]

	mu        sync.Mutex
	embedders map[lmsys.Space]lmsys.Embedder
}

// NewWorker connects a worker to cfg.URL (migrating River's tables when needed);
// st is the store on the same database, which the jobs read and write.
func NewWorker(ctx context.Context, st *store.DB, cfg WorkerConfig) (*Worker, error) {
	if st == nil || !st.Postgres() {
		return nil, fmt.Errorf("%w: a worker needs the PostgreSQL store its jobs read and write", lmsys.ErrInvalidInput)
	}
	if cfg.Concurrency == 0 {
		cfg.Concurrency = 2
	}
	if cfg.JobTimeout == 0 {
		cfg.JobTimeout = 10 * time.Minute
	}
	if cfg.RescueAfter == 0 {
		cfg.RescueAfter = cfg.JobTimeout + 5*time.Minute
	}
	if cfg.StopTimeout == 0 {
		cfg.StopTimeout = 30 * time.Second
	}
	if len(cfg.Queues) == 0 {
		cfg.Queues = Queues()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.ID == "" {
		host, _ := os.Hostname()
		cfg.ID = fmt.Sprintf("lmsys-%s-%d", host, os.Getpid())
	}
	switch {
	case cfg.Concurrency < 1:
		return nil, fmt.Errorf("%w: worker concurrency %d must be at least 1", lmsys.ErrInvalidInput, cfg.Concurrency)
	case cfg.JobTimeout < 0 || cfg.RescueAfter <= cfg.JobTimeout:
		return nil, fmt.Errorf("%w: the rescue delay (%s) must exceed the job timeout (%s)", lmsys.ErrInvalidInput, cfg.RescueAfter, cfg.JobTimeout)
	}
	for _, q := range cfg.Queues {
		if !slices.Contains(Queues(), q) {
			return nil, fmt.Errorf("%w: unknown queue %q (known: %v)", lmsys.ErrInvalidInput, q, Queues())
		}
	}
	pool, err := connect(ctx, cfg.URL)
	if err != nil {
		return nil, err
	}
	w := &Worker{cfg: cfg, store: st, pool: pool, embedders: map[lmsys.Space]lmsys.Embedder{}}
	workers := river.NewWorkers()
	river.AddWorker(workers, &embedWorker{w: w})
	river.AddWorker(workers, &summarizeWorker{w: w})
	river.AddWorker(workers, &classifyWorker{w: w})
	queues := map[string]river.QueueConfig{}
	for _, q := range cfg.Queues {
		queues[q] = river.QueueConfig{MaxWorkers: cfg.Concurrency}
	}
	w.river, err = river.NewClient(riverpgxv5.New(pool), &river.Config{
		ID: cfg.ID, Queues: queues, Workers: workers, Logger: cfg.Logger,
		JobTimeout: cfg.JobTimeout, RescueStuckJobsAfter: cfg.RescueAfter, SoftStopTimeout: cfg.StopTimeout,
		MaxAttempts: maxAttempts,
	})
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("distributed: %w", err)
	}
	return w, nil
}

// ID returns the worker's id in River's tables.
func (w *Worker) ID() string { return w.cfg.ID }

// Start starts working jobs in the background. Cancelling ctx stops the worker as
// Stop does.
func (w *Worker) Start(ctx context.Context) error {
	if err := w.river.Start(ctx); err != nil {
		return fmt.Errorf("distributed: start worker: %w", err)
	}
	return nil
}

// Stop stops fetching jobs, lets the running ones finish for up to StopTimeout, then
// cancels the rest (their attempts fail and they are retried by another worker), and
// closes the worker's connections.
func (w *Worker) Stop(ctx context.Context) error {
	err := w.river.Stop(ctx)
	w.pool.Close()
	if err != nil {
		return fmt.Errorf("distributed: stop worker: %w", err)
	}
	return nil
}

// Stopped is closed when the worker has stopped (after Stop, or after the context
// given to Start is cancelled and the running jobs are done).
func (w *Worker) Stopped() <-chan struct{} { return w.river.Stopped() }

// Close closes the worker's connections after it has stopped.
func (w *Worker) Close() { w.pool.Close() }

// embedder returns the worker's embedder of space, opened once.
func (w *Worker) embedder(space lmsys.Space) (lmsys.Embedder, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if e, ok := w.embedders[space]; ok {
		return e, nil
	}
	e, err := embed.Open(space.Name(), append(slices.Clone(w.cfg.EmbedOptions), embed.WithDims(space.Dims))...)
	if err != nil {
		return nil, fmt.Errorf("distributed: embedder for %s: %w", space, err)
	}
	if e.Space() != space {
		return nil, fmt.Errorf("%w: this worker's embedder is %s, the job wants %s", lmsys.ErrSpaceMismatch, e.Space(), space)
	}
	w.embedders[space] = e
	return e, nil
}

// llmClient opens an LLM client for model with the worker's options and the store's
// cache.
func (w *Worker) llmClient(model string) (*llm.Client, error) {
	opts := append([]llm.Option{llm.WithCache(w.store.LLMCache())}, w.cfg.LLMOptions...)
	c, err := llm.Open(model, opts...)
	if err != nil {
		return nil, fmt.Errorf("distributed: LLM %s: %w", model, err)
	}
	return c, nil
}

func (w *Worker) event(id int64, kind, ev string) {
	if w.cfg.OnJob != nil {
		w.cfg.OnJob(id, kind, ev)
	}
}
