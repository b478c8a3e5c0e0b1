package distributed

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/llm"
	"github.com/lmsys-go/lmsys/summarize"
	"github.com/riverqueue/river"
)

// SummarizeArgs is one summary job: name ClusterIDs of clustering run RunID into
// summary run SummaryRunID with the LLM Model and the prompt whose hash is
// PromptHash. A worker whose prompt differs (another version of the library) cancels
// the job rather than mixing prompts in one summary run. Params and Alias are what
// the summary run records.
type SummarizeArgs struct {
	RunID        string         `json:"run_id"`
	SummaryRunID string         `json:"summary_run_id"`
	Alias        string         `json:"alias,omitempty"`
	Model        string         `json:"model"`
	PromptHash   string         `json:"prompt_hash"`
	ClusterIDs   []int          `json:"cluster_ids"`
	Params       map[string]any `json:"params,omitempty"`
}

// Kind names the job kind in River's tables.
func (SummarizeArgs) Kind() string { return "lmsys_summarize" }

// InsertOpts puts summary jobs in QueueSummarize, unique by their arguments.
func (SummarizeArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueSummarize, MaxAttempts: maxAttempts, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// SummarizeOutput is what a summary job records when it completes.
type SummarizeOutput struct {
	Summarized int       `json:"summarized"`
	Failed     int       `json:"failed"`
	Skipped    int       `json:"skipped"`
	Usage      llm.Usage `json:"usage"`
}

// DefaultClustersPerJob is the number of clusters of one summary job. Each job
// prepares its clusters' inputs from the run's queries, so larger jobs read the run
// fewer times; the LLM client's concurrency asks for them in parallel.
const DefaultClustersPerJob = 10

// SummarizeRun is summarize.Run done by workers, for LLM summarizers (others, and a
// run of one cluster, run here with summarize.Run: offline names compare every
// cluster with the others). It records the summary run, enqueues the clusters that
// need a summary in jobs of ClustersPerJob, waits for them, then runs summarize.Run
// here with Resume, which asks again only for clusters whose summary failed and
// counts the summary run's clusters, and records the tokens and cost the jobs spent.
// Workers build their LLM client from the model name and their own options (keys and
// endpoints stay on the workers).
func (c *Client) SummarizeRun(ctx context.Context, st lmsys.Store, runID string, s lmsys.Summarizer, opts summarize.RunOptions) (summarize.Result, error) {
	sum, ok := s.(*summarize.LLM)
	if !ok || opts.ClusterID != nil || (opts.Resume && opts.SummaryRunID == "") || opts.Prepare.ClusterIDs != nil {
		return summarize.Run(ctx, st, runID, s, opts)
	}
	var res summarize.Result
	if _, err := st.GetRun(ctx, runID); err != nil {
		return res, err
	}
	params := map[string]any{}
	for k, v := range sum.Params() {
		params[k] = v
	}
	for k, v := range opts.Params {
		params[k] = v
	}
	// The summary run as it stands, and the clusters it has done.
	sr := lmsys.SummaryRun{SummaryRunID: opts.SummaryRunID, RunID: runID, Alias: opts.Alias, Model: sum.Model(), PromptHash: sum.PromptHash(), Parameters: params}
	done := map[int]bool{}
	if sr.SummaryRunID != "" {
		existing, err := st.Summaries(ctx, runID, sr.SummaryRunID)
		if err != nil && !errors.Is(err, lmsys.ErrNotFound) {
			return res, err
		}
		for _, e := range existing {
			if opts.Resume && e.Error == "" && e.Title != "" {
				done[e.ClusterID] = true
			}
		}
		runs, err := st.SummaryRuns(ctx, runID)
		if err != nil {
			return res, err
		}
		for _, r := range runs {
			if r.SummaryRunID == sr.SummaryRunID {
				sr.InputTokens, sr.OutputTokens, sr.CostUSD, sr.CreatedAt = r.InputTokens, r.OutputTokens, r.CostUSD, r.CreatedAt
				if sr.Alias == "" {
					sr.Alias = r.Alias
				}
			}
		}
	} else {
		id, err := newSummaryRunID(ctx, st, runID, sr.Model)
		if err != nil {
			return res, err
		}
		sr.SummaryRunID = id
	}
	if sr.CreatedAt.IsZero() {
		sr.CreatedAt = time.Now().UTC()
	}
	base := sr
	if err := st.SaveSummaryRun(ctx, sr); err != nil {
		return res, err
	}
	sizes, err := clusterIDs(ctx, st, runID, opts.Prepare.IncludeNoise)
	if err != nil {
		return res, err
	}
	per := DefaultClustersPerJob
	var toInsert []river.InsertManyParams
	var todo []int
	for _, id := range sizes {
		if !done[id] {
			todo = append(todo, id)
		}
	}
	for start := 0; start < len(todo); start += per {
		toInsert = append(toInsert, river.InsertManyParams{Args: SummarizeArgs{RunID: runID, SummaryRunID: sr.SummaryRunID, Alias: sr.Alias,
			Model: sr.Model, PromptHash: sr.PromptHash, ClusterIDs: todo[start:min(start+per, len(todo))], Params: opts.Params}})
	}
	b, err := c.insert(ctx, SummarizeArgs{}.Kind(), toInsert)
	if err != nil {
		return res, err
	}
	if _, err := c.Wait(ctx, b, func(p Progress) { opts.Progress.Report("summarize jobs", int64(p.Completed+p.Failed), int64(p.Total)) }); err != nil {
		return res, err
	}
	outs, err := outputs[SummarizeOutput](ctx, c, b)
	if err != nil {
		return res, err
	}
	var jobs SummarizeOutput
	for _, o := range outs {
		jobs.Summarized += o.Summarized
		jobs.Failed += o.Failed
		jobs.Usage.Calls += o.Usage.Calls
		jobs.Usage.CacheHits += o.Usage.CacheHits
		jobs.Usage.Retries += o.Usage.Retries
		jobs.Usage.InputTokens += o.Usage.InputTokens
		jobs.Usage.OutputTokens += o.Usage.OutputTokens
		jobs.Usage.CostUSD += o.Usage.CostUSD
	}
	// What the jobs left undone (summaries that failed) is asked again here; the
	// pass also counts the summary run's clusters and failures.
	fin := opts
	fin.SummaryRunID, fin.Resume, fin.Alias = sr.SummaryRunID, true, sr.Alias
	local, err := summarize.Run(ctx, st, runID, s, fin)
	if err != nil {
		return local, err
	}
	// Concurrent jobs each saved the record with their own view of the token counts:
	// set them from what every job recorded.
	final := local.SummaryRun
	final.InputTokens = base.InputTokens + jobs.Usage.InputTokens + local.Usage.InputTokens
	final.OutputTokens = base.OutputTokens + jobs.Usage.OutputTokens + local.Usage.OutputTokens
	final.CostUSD = base.CostUSD + jobs.Usage.CostUSD + local.Usage.CostUSD
	final.CreatedAt = base.CreatedAt
	if err := st.SaveSummaryRun(ctx, final); err != nil {
		return local, err
	}
	res = local
	res.SummaryRun = final
	res.Summarized = jobs.Summarized + local.Summarized
	res.Failed = local.SummaryRun.NumFailed
	res.Skipped = len(done)
	res.Usage = jobs.Usage
	res.Usage.Calls += local.Usage.Calls
	res.Usage.InputTokens += local.Usage.InputTokens
	res.Usage.OutputTokens += local.Usage.OutputTokens
	res.Usage.CostUSD += local.Usage.CostUSD
	return res, nil
}

// newSummaryRunID returns a summary run id for model that no summary run has, as
// summarize.Run names them.
func newSummaryRunID(ctx context.Context, st lmsys.Store, runID, model string) (string, error) {
	runs, err := st.SummaryRuns(ctx, runID)
	if err != nil {
		return "", err
	}
	taken := map[string]bool{}
	for _, r := range runs {
		taken[r.SummaryRunID] = true
	}
	global, _ := st.(interface {
		SummaryRunExists(ctx context.Context, id string) (bool, error)
	})
	base := lmsys.NewSummaryRunID(model, time.Now())
	id := base
	for i := 2; ; i++ {
		used := taken[id]
		if !used && global != nil {
			if used, err = global.SummaryRunExists(ctx, id); err != nil {
				return "", err
			}
		}
		if !used {
			return id, nil
		}
		id = fmt.Sprintf("%s-%d", base, i)
	}
}

// clusterIDs returns the run's cluster ids in order, without noise (ids below 0)
// unless asked.
func clusterIDs(ctx context.Context, st lmsys.Store, runID string, noise bool) ([]int, error) {
	sizer, ok := st.(interface {
		ClusterSizes(ctx context.Context, runID string) (map[int]int, error)
	})
	if !ok {
		return nil, fmt.Errorf("%w: distributed summaries need a store that counts cluster sizes", lmsys.ErrInvalidInput)
	}
	sizes, err := sizer.ClusterSizes(ctx, runID)
	if err != nil {
		return nil, err
	}
	ids := make([]int, 0, len(sizes))
	for id := range sizes {
		if id >= 0 || noise {
			ids = append(ids, id)
		}
	}
	sort.Ints(ids)
	return ids, nil
}

// summarizeWorker works SummarizeArgs jobs.
type summarizeWorker struct {
	river.WorkerDefaults[SummarizeArgs]
	w *Worker
}

func (sw *summarizeWorker) Work(ctx context.Context, job *river.Job[SummarizeArgs]) error {
	a := job.Args
	c, err := sw.w.llmClient(a.Model)
	if err != nil {
		return river.JobCancel(err)
	}
	sum, err := summarize.NewLLM(c, summarize.LLMOptions{})
	if err != nil {
		return river.JobCancel(err)
	}
	if sum.PromptHash() != a.PromptHash {
		return river.JobCancel(fmt.Errorf("%w: this worker's summary prompt has hash %s, the summary run's %s (another library version?)",
			lmsys.ErrInvalidInput, sum.PromptHash(), a.PromptHash))
	}
	sw.w.event(job.ID, job.Kind, "start")
	var st lmsys.Store = sw.w.store
	res, err := summarize.Run(ctx, st, a.RunID, sum, summarize.RunOptions{SummaryRunID: a.SummaryRunID, Alias: a.Alias, Resume: true,
		Params: a.Params, Prepare: summarize.PrepareOptions{ClusterIDs: a.ClusterIDs}})
	if err != nil {
		return err
	}
	return river.RecordOutput(ctx, SummarizeOutput{Summarized: res.Summarized, Failed: res.Failed, Skipped: res.Skipped, Usage: res.Usage})
}
