package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/distributed"
	"github.com/lmsys-go/lmsys/embed"
	"github.com/lmsys-go/lmsys/llm"
	"github.com/spf13/cobra"
)

func init() {
	commandRegistrars = append(commandRegistrars, registerWorker)
}

// workerFlags are the flags of lmsys worker.
type workerFlags struct {
	id                                 string
	queues                             []string
	concurrency                        int
	jobTimeout, rescueAfter, stopAfter time.Duration
	embedBatch, embedConcurrency       int
	embedRPM                           float64
	embedBaseURL                       string
	llmBaseURL                         string
	llmConcurrency, llmRPM             int
	status                             bool
}

func registerWorker(root *cobra.Command, g *globals) {
	var f workerFlags
	cmd := &cobra.Command{
		Use:   "worker --db-url postgres://… [--queues embed,summarize,classify] [--concurrency N]",
		Short: "Work the embedding, summary and classification jobs of distributed analyses (PostgreSQL)",
		Long: `worker takes jobs from the queue kept in the PostgreSQL database of --db-url and does
them: embedding batches, LLM summary calls and classification batches, which
'lmsys analyze --distributed' and 'lmsys classify --distributed' enqueue. Run any number of
workers, on any number of machines, against one database; each job is done by one of
them. A worker killed mid-job loses nothing: its job is given to another worker after
--rescue-after, and every job's results are idempotent (vectors by text hash, summaries by
summary run and cluster, labels by result key), so nothing is duplicated.

SIGINT or SIGTERM stops the worker: it takes no new job, lets running ones finish for
--stop-timeout, then cancels them, which puts them back in the queue for another worker.

Keys and endpoints are the worker's own: OPENAI_API_KEY, OPENAI_BASE_URL, CO_API_KEY,
OLLAMA_HOST, ANTHROPIC_API_KEY … (and the flags below); jobs name models, never keys.`,
		Example: `  lmsys worker --db-url postgres://lmsys@db.internal/lmsys
  lmsys worker --db-url "$LMSYS_DATABASE_URL" --queues summarize,classify --concurrency 8
  lmsys worker --queues embed --concurrency 1     # CPU-bound local embedders: one job per machine uses every core`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runWorker(cmd, g, f) },
	}
	fs := cmd.Flags()
	fs.BoolVar(&f.status, "status", false, "print the jobs of each queue by state and exit")
	fs.StringVar(&f.id, "id", "", "worker id in the queue's tables, unique among running workers (default lmsys-HOST-PID)")
	fs.StringSliceVar(&f.queues, "queues", distributed.Queues(), "queues to work: "+strings.Join(distributed.Queues(), ", "))
	fs.IntVar(&f.concurrency, "concurrency", 2, "jobs of each queue worked at once")
	fs.DurationVar(&f.jobTimeout, "job-timeout", 10*time.Minute, "cancel a job's attempt after this long (it is retried)")
	fs.DurationVar(&f.rescueAfter, "rescue-after", 0, "give a job that has been running this long (its worker died) to another worker (default job timeout + 5m)")
	fs.DurationVar(&f.stopAfter, "stop-timeout", 30*time.Second, "on SIGINT/SIGTERM, let running jobs finish this long before cancelling them")
	fs.IntVar(&f.embedBatch, "embed-batch-size", 0, "texts per embedding request (provider default when 0)")
	fs.IntVar(&f.embedConcurrency, "embed-concurrency", 0, "embedding requests in flight per job (provider default when 0)")
	fs.Float64Var(&f.embedRPM, "embed-rpm", 0, "embedding requests per minute of this worker (no limit when 0)")
	fs.StringVar(&f.embedBaseURL, "embed-base-url", "", "embedding API endpoint (gateways, proxies)")
	fs.StringVar(&f.llmBaseURL, "llm-base-url", "", "LLM API endpoint for summaries and classifiers")
	fs.IntVar(&f.llmConcurrency, "llm-concurrency", 10, "LLM requests in flight per job")
	fs.IntVar(&f.llmRPM, "llm-rpm", 0, "LLM requests per minute per job (no limit when 0)")
	root.AddCommand(cmd)
}

// distributedURL returns the PostgreSQL URL a distributed command works on, or a
// usage error naming what is wrong.
func distributedURL(g *globals, what string) (string, error) {
	if g.dbPath != "" {
		return "", usagef("%s needs the PostgreSQL database the workers share (--db-url postgres://…), not the SQLite file %s", what, g.dbPath)
	}
	url := g.dbURL
	if url == "" {
		url = os.Getenv("LMSYS_DATABASE_URL")
	}
	if url == "" {
		return "", usagef("%s needs a PostgreSQL database that every worker reaches: give --db-url postgres://… (or LMSYS_DATABASE_URL); a SQLite file cannot be shared between machines", what)
	}
	if !strings.HasPrefix(url, "postgres://") && !strings.HasPrefix(url, "postgresql://") && !strings.Contains(url, "host=") {
		return "", usagef("%s needs a PostgreSQL URL (postgres://…)", what)
	}
	return url, nil
}

func runWorker(cmd *cobra.Command, g *globals, f workerFlags) error {
	url, err := distributedURL(g, "lmsys worker")
	if err != nil {
		return err
	}
	if f.status {
		return printQueueStatus(cmd, g, url)
	}
	switch {
	case f.concurrency < 1:
		return usagef("--concurrency must be at least 1, got %d", f.concurrency)
	case f.jobTimeout <= 0:
		return usagef("--job-timeout must be positive, got %s", f.jobTimeout)
	case f.rescueAfter != 0 && f.rescueAfter <= f.jobTimeout:
		return usagef("--rescue-after (%s) must exceed --job-timeout (%s): a job still running would be given to a second worker", f.rescueAfter, f.jobTimeout)
	}
	g.dbURL = url
	db, err := openStore(cmd, g)
	if err != nil {
		return err
	}
	cfg := distributed.WorkerConfig{URL: url, ID: f.id, Queues: f.queues, Concurrency: f.concurrency,
		JobTimeout: f.jobTimeout, RescueAfter: f.rescueAfter, StopTimeout: f.stopAfter, Logger: slog.Default()}
	if f.embedBatch > 0 {
		cfg.EmbedOptions = append(cfg.EmbedOptions, embed.WithBatchSize(f.embedBatch))
	}
	if f.embedConcurrency > 0 {
		cfg.EmbedOptions = append(cfg.EmbedOptions, embed.WithConcurrency(f.embedConcurrency))
	}
	if f.embedRPM > 0 {
		cfg.EmbedOptions = append(cfg.EmbedOptions, embed.WithRPM(f.embedRPM))
	}
	if f.embedBaseURL != "" {
		cfg.EmbedOptions = append(cfg.EmbedOptions, embed.WithBaseURL(f.embedBaseURL))
	}
	cfg.LLMOptions = append(cfg.LLMOptions, llm.WithConcurrency(f.llmConcurrency), llm.WithRPM(f.llmRPM))
	if f.llmBaseURL != "" {
		cfg.LLMOptions = append(cfg.LLMOptions, llm.WithBaseURL(f.llmBaseURL))
	}
	errw := cmd.ErrOrStderr()
	cfg.OnJob = func(id int64, kind, ev string) { slog.Debug("job", "id", id, "kind", kind, "event", ev) }
	ctx := cmd.Context()
	w, err := distributed.NewWorker(ctx, db, cfg)
	if errors.Is(err, lmsys.ErrInvalidInput) {
		return usageError{err}
	} else if err != nil {
		return err
	}
	// The worker stops on the signal below, not when River sees ctx end, so that
	// Stop's soft-stop timeout applies.
	if err := w.Start(context.WithoutCancel(ctx)); err != nil {
		w.Close()
		return err
	}
	fmt.Fprintf(errw, "worker %s: working queues %s of %s (concurrency %d); SIGINT or SIGTERM stops it\n",
		w.ID(), strings.Join(cfg.Queues, ","), db.Where(), f.concurrency)
	<-ctx.Done()
	fmt.Fprintf(errw, "worker %s: stopping (running jobs get %s to finish)\n", w.ID(), f.stopAfter)
	stopCtx, cancel := context.WithTimeout(context.Background(), f.stopAfter+time.Minute)
	defer cancel()
	if err := w.Stop(stopCtx); err != nil {
		return err
	}
	fmt.Fprintf(errw, "worker %s: stopped\n", w.ID())
	return nil
}

// printQueueStatus prints the number of jobs of each queue by state.
func printQueueStatus(cmd *cobra.Command, g *globals, url string) error {
	c, err := distributed.Open(cmd.Context(), url)
	if err != nil {
		return err
	}
	defer c.Close()
	st, err := c.Stats(cmd.Context())
	if err != nil {
		return err
	}
	if g.json {
		return printJSON(cmd.OutOrStdout(), st)
	}
	w := cmd.OutOrStdout()
	if len(st) == 0 {
		fmt.Fprintln(w, "no jobs")
		return nil
	}
	queues := make([]string, 0, len(st))
	for q := range st {
		queues = append(queues, q)
	}
	sort.Strings(queues)
	for _, q := range queues {
		states := make([]string, 0, len(st[q]))
		for s, n := range st[q] {
			states = append(states, fmt.Sprintf("%s %d", s, n))
		}
		sort.Strings(states)
		fmt.Fprintf(w, "%-10s %s\n", q, strings.Join(states, ", "))
	}
	return nil
}
