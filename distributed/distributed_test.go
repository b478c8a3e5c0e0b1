package distributed_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/classify"
	"github.com/lmsys-go/lmsys/clustering"
	"github.com/lmsys-go/lmsys/distributed"
	"github.com/lmsys-go/lmsys/embed"
	"github.com/lmsys-go/lmsys/internal/fakeembed"
	"github.com/lmsys-go/lmsys/internal/testdb"
	"github.com/lmsys-go/lmsys/llm"
	"github.com/lmsys-go/lmsys/llm/llmtest"
	"github.com/lmsys-go/lmsys/local"
	"github.com/lmsys-go/lmsys/store"
	"github.com/lmsys-go/lmsys/summarize"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// env is one test's PostgreSQL schema with a store, a client and loaded queries.
type env struct {
	url    string
	st     *store.DB
	client *distributed.Client
}

func newEnv(t *testing.T, n int) *env {
	t.Helper()
	ctx := context.Background()
	url := testdb.PostgresURL(t)
	st, err := store.Open(ctx, store.Config{URL: url})
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	c, err := distributed.Open(ctx, url)
	require.NoError(t, err)
	t.Cleanup(c.Close)
	c.PollInterval = 20 * time.Millisecond
	if n > 0 {
		loadQueries(t, st, "logs", n)
	}
	return &env{url: url, st: st, client: c}
}

func loadQueries(t *testing.T, st *store.DB, dataset string, n int) {
	t.Helper()
	ctx := context.Background()
	ds, err := st.EnsureDataset(ctx, lmsys.Dataset{Name: dataset, Source: "test"})
	require.NoError(t, err)
	qs := make([]lmsys.Query, n)
	for i := range qs {
		text := fmt.Sprintf("how do I fix error %d of %s in my %s program", i, dataset, []string{"python", "go", "rust"}[i%3])
		if i%2 == 1 {
			text = fmt.Sprintf("écris un poème numéro %d sur la mer pour %s", i, dataset)
		}
		qs[i] = lmsys.Query{DatasetID: ds.ID, ConversationID: fmt.Sprintf("%s-%d", dataset, i), Text: text}
	}
	_, err = st.InsertQueries(ctx, qs)
	require.NoError(t, err)
}

// startWorker starts an in-process worker, stopped when the test ends.
func startWorker(t *testing.T, e *env, cfg distributed.WorkerConfig) *distributed.Worker {
	t.Helper()
	ctx := context.Background()
	cfg.URL = e.url
	w, err := distributed.NewWorker(ctx, e.st, cfg)
	require.NoError(t, err)
	require.NoError(t, w.Start(ctx))
	t.Cleanup(func() { _ = w.Stop(context.Background()) })
	return w
}

func countEmbeddings(t *testing.T, st *store.DB, space lmsys.Space) int64 {
	t.Helper()
	var n int64
	require.NoError(t, st.Gorm().Raw(`SELECT COUNT(*) FROM embeddings WHERE space = ?`, space.String()).Scan(&n).Error)
	return n
}

func TestEmbedJobs(t *testing.T) {
	e := newEnv(t, 3000)
	ctx := context.Background()
	emb, err := embed.Open("local/lexical")
	require.NoError(t, err)
	space := emb.Space()

	b, err := e.client.EnqueueEmbed(ctx, e.st, space, "logs", 256)
	require.NoError(t, err)
	assert.Len(t, b.JobIDs, 12, "3000 queries in jobs of 256")
	assert.Zero(t, b.Duplicates)
	// Enqueued again before any worker runs: the same jobs, none added.
	again, err := e.client.EnqueueEmbed(ctx, e.st, space, "logs", 256)
	require.NoError(t, err)
	assert.Equal(t, b.JobIDs, again.JobIDs)
	assert.Equal(t, 12, again.Duplicates)

	var started atomic.Int32
	for i := range 2 {
		startWorker(t, e, distributed.WorkerConfig{ID: fmt.Sprintf("w%d", i), Queues: []string{distributed.QueueEmbed},
			OnJob: func(int64, string, string) { started.Add(1) }})
	}
	var seen []distributed.Progress
	p, err := e.client.Wait(ctx, b, func(p distributed.Progress) { seen = append(seen, p) })
	require.NoError(t, err)
	assert.Equal(t, distributed.Progress{Total: 12, Completed: 12}, p)
	assert.NotEmpty(t, seen)
	assert.EqualValues(t, 12, started.Load(), "every job ran once")

	missing, err := e.st.CountMissingEmbeddings(ctx, space, lmsys.QueryFilter{Dataset: "logs"})
	require.NoError(t, err)
	assert.Zero(t, missing)
	assert.EqualValues(t, 3000, countEmbeddings(t, e.st, space), "one vector per distinct text")

	// Everything is embedded: a new enqueue plans no job.
	none, err := e.client.EnqueueEmbed(ctx, e.st, space, "logs", 256)
	require.NoError(t, err)
	assert.Empty(t, none.JobIDs)
}

// TestBackfillLoadedLater: queries loaded after an analysis get jobs of their own;
// the ranges of the first load are the same and all done.
func TestBackfillLoadedLater(t *testing.T) {
	e := newEnv(t, 1000)
	ctx := context.Background()
	emb, err := embed.Open("local/lexical")
	require.NoError(t, err)
	startWorker(t, e, distributed.WorkerConfig{Queues: []string{distributed.QueueEmbed}})
	st, err := e.client.Backfill(ctx, e.st, emb, lmsys.QueryFilter{Dataset: "logs"}, embed.BackfillOptions{BatchSize: 300})
	require.NoError(t, err)
	assert.Equal(t, embed.BackfillStats{Embedded: 1000}, st)

	first, err := distributed.PlanEmbed(ctx, e.st, emb.Space(), "logs", 300)
	require.NoError(t, err)
	loadQueries(t, e.st, "more", 500)
	// A dataset of its own: only its 500 queries are embedded.
	st, err = e.client.Backfill(ctx, e.st, emb, lmsys.QueryFilter{Dataset: "more"}, embed.BackfillOptions{BatchSize: 300})
	require.NoError(t, err)
	assert.Equal(t, embed.BackfillStats{Embedded: 500}, st)
	after, err := distributed.PlanEmbed(ctx, e.st, emb.Space(), "logs", 300)
	require.NoError(t, err)
	for i := range first {
		first[i].Missing = 0
	}
	assert.Equal(t, first, after, "the ranges depend on the queries only")
}

// TestEmbedRetry: a remote embedder that fails its first requests makes jobs fail
// and retry; every query ends with one vector and the fake embedded each text once.
func TestEmbedRetry(t *testing.T) {
	e := newEnv(t, 600)
	ctx := context.Background()
	fake := fakeembed.Start(32)
	defer fake.Close()
	var n atomic.Int32
	fake.OnRequest = func(*http.Request, string, []string) bool { return n.Add(1) > 3 }
	opts := []embed.Option{embed.WithBaseURL(fake.URL), embed.WithAPIKey("test"), embed.WithMaxAttempts(1)}
	startWorker(t, e, distributed.WorkerConfig{Queues: []string{distributed.QueueEmbed}, EmbedOptions: opts})
	emb, err := embed.Open("openai/"+fakeembed.Model, append(opts, embed.WithDims(32))...)
	require.NoError(t, err)
	b, err := e.client.EnqueueEmbed(ctx, e.st, emb.Space(), "logs", 200)
	require.NoError(t, err)
	p, err := e.client.Wait(ctx, b, nil)
	require.NoError(t, err)
	assert.Equal(t, 3, p.Completed)
	assert.EqualValues(t, 600, countEmbeddings(t, e.st, emb.Space()))
	for text, k := range fake.Texts() {
		require.Equal(t, 1, k, "embedded once: %q", text)
	}
	var attempts int
	require.NoError(t, e.st.Gorm().Raw(`SELECT SUM(attempt) FROM river_job WHERE id IN ?`, b.JobIDs).Scan(&attempts).Error)
	assert.Greater(t, attempts, 3, "some jobs were retried")
}

// TestEmbedWrongSpace: a worker whose embedder cannot give the job's space cancels
// the job at once, and Wait names the reason.
func TestEmbedWrongSpace(t *testing.T) {
	e := newEnv(t, 100)
	ctx := context.Background()
	startWorker(t, e, distributed.WorkerConfig{Queues: []string{distributed.QueueEmbed}})
	b, err := e.client.EnqueueEmbed(ctx, e.st, lmsys.Space{Provider: "local", Model: "no-such-model", Dims: 8}, "", 0)
	require.NoError(t, err)
	p, err := e.client.Wait(ctx, b, nil)
	require.ErrorIs(t, err, distributed.ErrJobsFailed)
	assert.Equal(t, 1, p.Failed)
	assert.Contains(t, err.Error(), "no-such-model")
}

// TestWorkerStopReleasesJobs: a worker stopped while it holds a job cancels it after
// its stop timeout; the job fails that attempt and another worker finishes it.
func TestWorkerStopReleasesJobs(t *testing.T) {
	e := newEnv(t, 200)
	ctx := context.Background()
	fake := fakeembed.Start(16)
	defer fake.Close()
	held := make(chan struct{})
	var once sync.Once
	fake.OnRequest = func(r *http.Request, prefix string, _ []string) bool {
		if prefix == "stopping" {
			once.Do(func() { close(held) })
			<-r.Context().Done()
			return false
		}
		return true
	}
	opts := func(prefix string) []embed.Option {
		return []embed.Option{embed.WithBaseURL(fake.Prefixed(prefix)), embed.WithAPIKey("test"), embed.WithMaxAttempts(1)}
	}
	w, err := distributed.NewWorker(ctx, e.st, distributed.WorkerConfig{URL: e.url, ID: "stopping", Queues: []string{distributed.QueueEmbed},
		EmbedOptions: opts("stopping"), StopTimeout: time.Millisecond})
	require.NoError(t, err)
	require.NoError(t, w.Start(ctx))
	emb, err := embed.Open("openai/"+fakeembed.Model, append(opts(""), embed.WithDims(16))...)
	require.NoError(t, err)
	b, err := e.client.EnqueueEmbed(ctx, e.st, emb.Space(), "logs", 200)
	require.NoError(t, err)
	<-held
	require.NoError(t, w.Stop(ctx))
	p, err := e.client.Progress(ctx, b)
	require.NoError(t, err)
	assert.Equal(t, 1, p.Pending, "released for a retry: %+v", p)
	startWorker(t, e, distributed.WorkerConfig{ID: "other", Queues: []string{distributed.QueueEmbed}, EmbedOptions: opts("other")})
	_, err = e.client.Wait(ctx, b, nil)
	require.NoError(t, err)
	assert.EqualValues(t, 200, countEmbeddings(t, e.st, emb.Space()))
}

func TestClassifyJobs(t *testing.T) {
	e := newEnv(t, 700)
	ctx := context.Background()
	for i := range 2 {
		startWorker(t, e, distributed.WorkerConfig{ID: fmt.Sprintf("c%d", i), Queues: []string{distributed.QueueClassify}})
	}
	spec := distributed.ClassifierSpec{Builtin: "language"}
	cl, err := spec.Open(ctx, e.st)
	require.NoError(t, err)
	res, err := e.client.Classify(ctx, e.st, spec, cl, "logs", 100, nil)
	require.NoError(t, err)
	assert.EqualValues(t, 700, res.Classified)
	assert.Equal(t, lmsys.ClassificationCompleted, res.Run.Status)
	assert.EqualValues(t, 700, res.Run.ProcessedQueries)
	labels, err := e.st.Labels(ctx, lmsys.LabelFilter{Facet: "language", ResultKey: cl.ResultKey()})
	require.NoError(t, err)
	require.Len(t, labels, 700)
	byValue := map[string]int{}
	for _, l := range labels {
		assert.Equal(t, res.Run.ID, l.ClassificationRunID)
		byValue[l.Value]++
	}
	assert.Equal(t, map[string]int{"en": 350, "fr": 350}, byValue)

	// The same classification again: everything is labelled, nothing is enqueued.
	res2, err := e.client.Classify(ctx, e.st, spec, cl, "logs", 100, nil)
	require.NoError(t, err)
	assert.Zero(t, res2.Classified)
	assert.EqualValues(t, 700, res2.Skipped)

	// The same run through the local runner labels nothing new either.
	local, err := classify.Run(ctx, e.st, cl, classify.Options{Scope: classify.Scope{Dataset: "logs"}})
	require.NoError(t, err)
	assert.EqualValues(t, 700, local.Skipped)
}

func TestDistributedNeedsPostgres(t *testing.T) {
	ctx := context.Background()
	_, err := distributed.Open(ctx, "queries.db")
	require.ErrorIs(t, err, lmsys.ErrInvalidInput)
	_, err = distributed.NewWorker(ctx, testdb.SQLite(t), distributed.WorkerConfig{URL: "postgres://x"})
	require.ErrorIs(t, err, lmsys.ErrInvalidInput)
	_, err = distributed.PlanEmbed(ctx, testdb.SQLite(t), lmsys.Space{Provider: "local", Model: "lexical", Dims: 512}, "", 0)
	require.ErrorIs(t, err, lmsys.ErrInvalidInput)
}

func TestSummarizeJobs(t *testing.T) {
	e := newEnv(t, 600)
	ctx := context.Background()
	emb, err := embed.Open("local/lexical")
	require.NoError(t, err)
	_, err = embed.Backfill(ctx, e.st, emb, lmsys.QueryFilter{}, embed.BackfillOptions{})
	require.NoError(t, err)
	run, err := clustering.Run(ctx, e.st, clustering.RunSpec{Algorithm: "kmeans", K: 12, Space: emb.Space(),
		Clusterer: &clustering.KMeans{K: 12, Seed: 1}})
	require.NoError(t, err)

	srv := llmtest.OpenAI(func(req llmtest.Request) llmtest.Reply {
		return llmtest.Reply{Text: fmt.Sprintf(`{"title": "Topic number %d of the logs", "description": "Users asked one thing. It differs from the rest.", "coherence": 4, "mixed": false}`, req.N)}
	})
	defer srv.Close()
	llmOpts := []llm.Option{llm.WithBaseURL(srv.BaseURL()), llm.WithAPIKey("sk-test")}
	for i := range 2 {
		startWorker(t, e, distributed.WorkerConfig{ID: fmt.Sprintf("s%d", i), Queues: []string{distributed.QueueSummarize}, LLMOptions: llmOpts})
	}
	client, err := llm.Open("openai/gpt-4o-mini", append(llmOpts, llm.WithCache(e.st.LLMCache()))...)
	require.NoError(t, err)
	sum, err := summarize.NewLLM(client, summarize.LLMOptions{})
	require.NoError(t, err)
	var batches []*distributed.Batch
	e.client.OnEnqueue = func(b *distributed.Batch) { batches = append(batches, b) }
	res, err := e.client.SummarizeRun(ctx, e.st, run.ID, sum, summarize.RunOptions{Params: map[string]any{"pipeline_key": "k1"}})
	require.NoError(t, err)
	require.Len(t, batches, 1)
	assert.Len(t, batches[0].JobIDs, 2, "12 clusters in jobs of 10")
	assert.Equal(t, 12, res.Summarized)
	assert.Equal(t, 12, srv.Calls(), "one call per cluster, none here")
	assert.Equal(t, 12, res.SummaryRun.NumClusters)
	assert.Zero(t, res.SummaryRun.NumFailed)
	assert.Positive(t, res.SummaryRun.InputTokens)
	assert.Equal(t, res.Usage.InputTokens, res.SummaryRun.InputTokens, "the jobs' tokens, counted once each")

	sums, err := e.st.Summaries(ctx, run.ID, res.SummaryRun.SummaryRunID)
	require.NoError(t, err)
	require.Len(t, sums, 12)
	runs, err := e.st.SummaryRuns(ctx, run.ID)
	require.NoError(t, err)
	require.Len(t, runs, 1)
	assert.Equal(t, "k1", runs[0].Parameters["pipeline_key"], "the workers keep the summary run's parameters")

	// Resumed: every cluster is done, nothing is asked or enqueued.
	res2, err := e.client.SummarizeRun(ctx, e.st, run.ID, sum, summarize.RunOptions{SummaryRunID: res.SummaryRun.SummaryRunID, Resume: true})
	require.NoError(t, err)
	assert.Zero(t, res2.Summarized)
	assert.Equal(t, 12, res2.Skipped)
	assert.Equal(t, 12, srv.Calls())
	assert.Empty(t, batches[1].JobIDs)
}

// TestClassifyTemplateJobs: an LLM classifier of a template the workers read from the
// store (by its hash), with keys and endpoint of their own.
func TestClassifyTemplateJobs(t *testing.T) {
	e := newEnv(t, 120)
	ctx := context.Background()
	srv := llmtest.OpenAI(func(r llmtest.Request) llmtest.Reply {
		if strings.Contains(r.User, "python") {
			return llmtest.Reply{Text: `{"topic": "code"}`}
		}
		return llmtest.Reply{Text: `{"topic": "other"}`}
	})
	defer srv.Close()
	llmOpts := []llm.Option{llm.WithBaseURL(srv.BaseURL()), llm.WithAPIKey("sk-test")}
	startWorker(t, e, distributed.WorkerConfig{Queues: []string{distributed.QueueClassify}, LLMOptions: llmOpts})
	tmpl, err := classify.ParseTemplate([]byte("name: topic\ndescription: What the query is about.\n" +
		"facets:\n  - name: topic\n    labels: [code, other]\n"))
	require.NoError(t, err)
	c, err := llm.Open("openai/gpt-4o-mini", append(llmOpts, llm.WithCache(e.st.LLMCache()))...)
	require.NoError(t, err)
	cl, err := classify.NewLLM(c, tmpl, classify.LLMOptions{})
	require.NoError(t, err)
	spec := distributed.ClassifierSpec{Model: "openai/gpt-4o-mini"}
	res, err := e.client.Classify(ctx, e.st, spec, cl, "", 50, nil)
	require.NoError(t, err)
	assert.EqualValues(t, 120, res.Classified)
	assert.EqualValues(t, 120, res.Cost.Calls)
	assert.Equal(t, 120, srv.Calls(), "every call made by the worker, once")
	counts, err := e.st.LabelCounts(ctx, lmsys.LabelFilter{Facet: "topic", ResultKey: cl.ResultKey()})
	require.NoError(t, err)
	assert.ElementsMatch(t, []lmsys.Count{{Key: "code", Count: 20}, {Key: "other", Count: 100}}, counts)
}

// TestStartTogether: workers started at once on a fresh database migrate the store's
// and River's tables one at a time, not side by side.
func TestStartTogether(t *testing.T) {
	url := testdb.PostgresURL(t)
	ctx := context.Background()
	errs := make(chan error, 4)
	for i := range 4 {
		go func() {
			st, err := store.Open(ctx, store.Config{URL: url})
			if err != nil {
				errs <- err
				return
			}
			defer st.Close()
			w, err := distributed.NewWorker(ctx, st, distributed.WorkerConfig{URL: url, ID: fmt.Sprintf("t%d", i)})
			if err == nil {
				w.Close()
			}
			errs <- err
		}()
	}
	for range 4 {
		require.NoError(t, <-errs)
	}
}

// TestPipelineHooks: an analysis whose embedding and LLM summaries go to the workers
// (what `lmsys analyze --distributed` runs), run twice: the second run reuses the
// summary run and asks nothing again.
func TestPipelineHooks(t *testing.T) {
	e := newEnv(t, 400)
	ctx := context.Background()
	srv := llmtest.OpenAI(func(req llmtest.Request) llmtest.Reply {
		return llmtest.Reply{Text: fmt.Sprintf(`{"title": "Logs topic number %d", "description": "Users asked one kind of thing. It differs from the rest.", "coherence": 4, "mixed": false}`, req.N)}
	})
	defer srv.Close()
	t.Setenv("OPENAI_API_KEY", "sk-test")
	t.Setenv("OPENAI_BASE_URL", srv.BaseURL())
	startWorker(t, e, distributed.WorkerConfig{})
	ws, err := local.Open(ctx, local.Config{Dir: t.TempDir(), DBURL: e.url, EmbeddingModel: "local/lexical"})
	require.NoError(t, err)
	defer ws.Close()
	var kinds []string
	e.client.OnEnqueue = func(b *distributed.Batch) { kinds = append(kinds, fmt.Sprintf("%s:%d", b.Kind, len(b.JobIDs))) }
	analyse := func() *lmsys.State {
		pl := ws.Pipeline(local.Analysis{DatasetName: "logs", K: 8, SummaryModel: "openai/gpt-4o-mini", NoIndex: true,
			Backfill: e.client.Backfill, SummarizeRun: e.client.SummarizeRun})
		pl.Stages = pl.Stages[:4] // load, embed, cluster, summarize: the merge would ask the fake for a taxonomy
		st, err := pl.Run(ctx, nil)
		require.NoError(t, err)
		return st
	}
	first := analyse()
	assert.Equal(t, []string{"lmsys_embed:1", "lmsys_summarize:1"}, kinds)
	assert.Contains(t, first.Results["embed"], "400 embedded")
	assert.Contains(t, first.Results["summarize"], "8 summarised, 0 failed")
	calls := srv.Calls()
	assert.Equal(t, 8, calls)

	kinds = nil
	again := analyse()
	assert.Equal(t, []string{"lmsys_embed:0", "lmsys_summarize:0"}, kinds, "everything is done: no job")
	assert.Equal(t, first.RunID, again.RunID)
	assert.Equal(t, first.SummaryRunID, again.SummaryRunID, "the summary run is reused")
	assert.Contains(t, again.Results["summarize"], "8 already done")
	assert.Equal(t, calls, srv.Calls(), "nothing asked again")
}
