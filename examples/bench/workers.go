package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/distributed"
	"github.com/lmsys-go/lmsys/embed"
	"github.com/lmsys-go/lmsys/internal/fakeembed"
	"github.com/lmsys-go/lmsys/store"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

func init() {
	subcommands["workers"] = subcommand{
		summary: "distributed embedding throughput with 1, 2, 3 … workers on one PostgreSQL: CPU-bound (a local embedder) and remote-bound (a fake API answering after a delay)",
		run:     runWorkersBench,
	}
}

func runWorkersBench(ctx context.Context, args []string, r *reporter) error {
	fs := flag.NewFlagSet("workers", flag.ContinueOnError)
	dbURL := fs.String("db-url", firstNonEmpty(os.Getenv("LMSYS_DATABASE_URL"), os.Getenv("LMSYS_TEST_POSTGRES_URL")), "PostgreSQL server (each measurement uses a schema of its own, dropped after)")
	counts := fs.String("workers", "1,2,3", "numbers of workers to measure")
	n := fs.Int("n", 20000, "queries of the CPU-bound case (0 skips it)")
	cpuModel := fs.String("cpu-model", "local/use-lite", "local embedder of the CPU-bound case")
	cpuJob := fs.Int("cpu-job-size", 1024, "queries per job, CPU-bound case")
	remoteN := fs.Int("remote-n", 3000, "queries of the remote-bound case (0 skips it)")
	remoteJob := fs.Int("remote-job-size", 100, "queries per job (one request each), remote-bound case")
	latency := fs.Duration("latency", 200*time.Millisecond, "the fake embedding API's delay per request")
	concurrency := fs.Int("concurrency", 1, "jobs at once per worker")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dbURL == "" {
		return errors.New("workers: give -db-url postgres://… (or set LMSYS_DATABASE_URL)")
	}
	var ws []int
	for _, s := range strings.Split(*counts, ",") {
		k, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || k < 1 {
			return fmt.Errorf("workers: bad -workers entry %q", s)
		}
		ws = append(ws, k)
	}
	// River's and the workers' logs would drown the figures.
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	type kase struct {
		name, model string
		n, job      int
		opts        []embed.Option
	}
	var cases []kase
	if *n > 0 {
		cases = append(cases, kase{name: "cpu", model: *cpuModel, n: *n, job: *cpuJob})
	}
	var fake *fakeembed.Server
	if *remoteN > 0 {
		fake = fakeembed.Start(64)
		defer fake.Close()
		fake.Delay = *latency
		cases = append(cases, kase{name: "remote", model: "openai/" + fakeembed.Model, n: *remoteN, job: *remoteJob,
			opts: []embed.Option{embed.WithBaseURL(fake.URL), embed.WithAPIKey("bench"), embed.WithDims(64), embed.WithBatchSize(*remoteJob)}})
	}
	for _, c := range cases {
		e, err := embed.Open(c.model, c.opts...)
		if err != nil {
			return err
		}
		// Load the model's weights once, outside the measurements.
		if _, err := e.Embed(ctx, []string{"warm up"}, lmsys.PurposeClustering); err != nil {
			return err
		}
		var base float64
		for _, k := range ws {
			secs, jobs, err := measureWorkers(ctx, *dbURL, e.Space(), c.n, c.job, k, *concurrency, c.opts, quiet)
			if err != nil {
				return fmt.Errorf("workers: %s with %d workers: %w", c.name, k, err)
			}
			qps := float64(c.n) / secs
			if base == 0 {
				base = qps / float64(k)
			}
			lat := 0.0
			if c.name == "remote" {
				lat = float64(latency.Milliseconds())
			}
			r.Row("case", c.name, "model", c.model, "workers", k, "concurrency", *concurrency, "queries", c.n, "jobs", jobs,
				"seconds", secs, "queries_per_s", qps, "speedup", qps/base, "latency_ms", lat)
		}
	}
	return nil
}

// measureWorkers embeds n generated queries in a fresh schema with k in-process
// workers (each its own River client and connections, as separate processes would
// have) and returns the seconds from enqueueing to the last job's completion.
func measureWorkers(ctx context.Context, base string, space lmsys.Space, n, job, k, conc int, opts []embed.Option, logger *slog.Logger) (float64, int, error) {
	schema := fmt.Sprintf("bench_workers_%d", rand.Uint64()>>1)
	admin, err := gorm.Open(postgres.Open(base), &gorm.Config{Logger: logger0()})
	if err != nil {
		return 0, 0, err
	}
	defer func() {
		admin.Exec("DROP SCHEMA " + schema + " CASCADE")
		if db, err := admin.DB(); err == nil {
			db.Close()
		}
	}()
	if err := admin.Exec("CREATE SCHEMA " + schema).Error; err != nil {
		return 0, 0, err
	}
	u, err := url.Parse(base)
	if err != nil {
		return 0, 0, err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	dsn := u.String()
	st, err := store.Open(ctx, store.Config{URL: dsn})
	if err != nil {
		return 0, 0, err
	}
	defer st.Close()
	ds, err := st.EnsureDataset(ctx, lmsys.Dataset{Name: "bench"})
	if err != nil {
		return 0, 0, err
	}
	qs := make([]lmsys.Query, n)
	words := []string{"python", "alarm", "recipe", "poem", "travel", "weather", "invoice", "translate"}
	for i := range qs {
		qs[i] = lmsys.Query{DatasetID: ds.ID, ConversationID: fmt.Sprint(i),
			Text: fmt.Sprintf("question %d: how do I %s with my %s at work", i, words[i%len(words)], words[(i/8)%len(words)])}
	}
	if _, err := st.InsertQueries(ctx, qs); err != nil {
		return 0, 0, err
	}
	client, err := distributed.Open(ctx, dsn)
	if err != nil {
		return 0, 0, err
	}
	defer client.Close()
	client.PollInterval = 20 * time.Millisecond
	for i := range k {
		w, err := distributed.NewWorker(ctx, st, distributed.WorkerConfig{URL: dsn, ID: fmt.Sprintf("bench-%d", i),
			Queues: []string{distributed.QueueEmbed}, Concurrency: conc, EmbedOptions: opts, Logger: logger})
		if err != nil {
			return 0, 0, err
		}
		if err := w.Start(ctx); err != nil {
			return 0, 0, err
		}
		defer w.Stop(context.WithoutCancel(ctx))
	}
	start := time.Now()
	b, err := client.EnqueueEmbed(ctx, st, space, "bench", job)
	if err != nil {
		return 0, 0, err
	}
	if _, err := client.Wait(ctx, b, nil); err != nil {
		return 0, 0, err
	}
	secs := since(start)
	missing, err := st.CountMissingEmbeddings(ctx, space, lmsys.QueryFilter{})
	if err != nil {
		return 0, 0, err
	}
	if missing != 0 {
		return 0, 0, fmt.Errorf("%d queries left without a vector", missing)
	}
	return secs, len(b.JobIDs), nil
}

func logger0() logger.Interface { return logger.Default.LogMode(logger.Silent) }

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
