package summarize

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/embed"
	"github.com/lmsys-go/lmsys/llm"
)

// Described is implemented by summarizers that can say what they are; Run records it
// on the summary run. Both Offline and LLM implement it.
type Described interface {
	Model() string
	PromptHash() string
	Params() map[string]any
}

// UsageReporter is implemented by summarizers that spend tokens (LLM).
type UsageReporter interface {
	Usage() llm.Usage
}

// Streamer is implemented by summarizers that can hand over each summary as soon as it
// is ready (LLM); Run then saves progress as it goes, so an interrupted run resumes
// where it stopped.
type Streamer interface {
	SummarizeEach(ctx context.Context, clusters []lmsys.ClusterInput, fn func(i int, s lmsys.Summary)) error
}

// RunOptions configures Run.
type RunOptions struct {
	// SummaryRunID names the summary run; empty means lmsys.NewSummaryRunID(model, now),
	// or with Resume the latest summary run of the run (or the one named by Alias).
	SummaryRunID string
	// Alias is a friendly name for the summary run (e.g. "v1").
	Alias string
	// Model overrides the model name recorded (default: the summarizer's).
	Model string
	// Space is the embedding space used to order samples (zero: the run's).
	Space lmsys.Space
	// Prepare configures sampling and contrast.
	Prepare PrepareOptions
	// ClusterID, when set, summarises only that cluster: into the summary run that
	// SummaryRunID names (redoing it), or with Resume into the latest one (only when it
	// lacks a good summary), else into a new summary run.
	ClusterID *int
	// Resume re-does only the clusters without a successful summary in the summary run.
	Resume bool
	// Params are recorded on the summary run with the summarizer's own.
	Params map[string]any
	// Progress receives "summarize" reports, one per cluster done.
	Progress lmsys.ProgressFunc
	// Now returns the current time (default time.Now).
	Now func() time.Time
}

// Result reports a Run.
type Result struct {
	SummaryRun lmsys.SummaryRun `json:"summary_run"`
	// Summarized counts the clusters summarised by this call, Failed those among them
	// that got an error, Skipped those a resume found already done.
	Summarized int `json:"summarized"`
	Failed     int `json:"failed"`
	Skipped    int `json:"skipped"`
	// Usage is what this call spent (zero for offline).
	Usage llm.Usage `json:"usage"`
}

// Run summarises the clusters of a clustering run with s and records the summary run:
// its id (given or lmsys.NewSummaryRunID), alias, model, prompt hash, parameters, token
// usage and estimated cost. Summaries are saved in batches as they arrive when s is a
// Streamer. With Resume only clusters lacking a successful summary are asked again;
// with ClusterID only that cluster is. Failed clusters are recorded with Summary.Error
// and counted, and do not fail the run.
func Run(ctx context.Context, st lmsys.Store, runID string, s lmsys.Summarizer, opts RunOptions) (Result, error) {
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	var res Result
	if s == nil {
		return res, fmt.Errorf("%w: summarize: nil summarizer", lmsys.ErrInvalidInput)
	}
	run, err := st.GetRun(ctx, runID)
	if err != nil {
		return res, err
	}
	if off, ok := s.(*Offline); ok && off.Embedder == nil {
		space := opts.Space
		if space.IsZero() {
			space = run.Space
		}
		if e := localEmbedder(space); e != nil {
			withEmb := *off
			withEmb.Embedder = e
			s = &withEmb
		}
	}
	model, hash := opts.Model, ""
	params := map[string]any{}
	if d, ok := s.(Described); ok {
		if model == "" {
			model = d.Model()
		}
		hash = d.PromptHash()
		for k, v := range d.Params() {
			params[k] = v
		}
	}
	if model == "" {
		model = "unknown"
	}
	for k, v := range opts.Params {
		params[k] = v
	}
	pp := opts.Prepare
	pp.defaults()
	params["max_queries"] = pp.MaxQueries
	params["contrast_neighbors"] = pp.ContrastNeighbors
	params["contrast_examples"] = pp.ContrastExamples
	params["seed"] = pp.Seed

	// Which summary run, and what it already holds.
	sr := lmsys.SummaryRun{SummaryRunID: opts.SummaryRunID, RunID: runID, Alias: opts.Alias, Model: model, PromptHash: hash, Parameters: params}
	done := map[int]bool{}
	var prior *lmsys.SummaryRun
	if opts.Resume || opts.ClusterID != nil || sr.SummaryRunID != "" {
		ref := sr.SummaryRunID
		if ref == "" && opts.Resume {
			ref = opts.Alias
		}
		if ref != "" || opts.Resume {
			existing, err := st.Summaries(ctx, runID, ref)
			switch {
			case err == nil && len(existing) > 0:
				sr.SummaryRunID = existing[0].SummaryRunID
				if sr.Alias == "" {
					sr.Alias = existing[0].Alias
				}
				for _, e := range existing {
					if e.Error == "" && e.Title != "" {
						done[e.ClusterID] = true
					}
				}
				runs, err := st.SummaryRuns(ctx, runID)
				if err != nil {
					return res, err
				}
				for i := range runs {
					if runs[i].SummaryRunID == sr.SummaryRunID {
						prior = &runs[i]
					}
				}
			case err != nil && !errors.Is(err, lmsys.ErrNotFound):
				return res, err
			case opts.Resume && sr.SummaryRunID == "":
				return res, fmt.Errorf("nothing to resume: %w", err)
			}
		}
	}
	if sr.SummaryRunID == "" {
		// Ids have one-second resolution: two runs within a second get a suffix rather
		// than overwriting each other.
		runs, err := st.SummaryRuns(ctx, runID)
		if err != nil {
			return res, err
		}
		taken := map[string]bool{}
		for _, r := range runs {
			taken[r.SummaryRunID] = true
		}
		// Summary run ids are unique across clustering runs too: a store that can look
		// one up is asked (two analyses in one second summarise two runs).
		global, _ := st.(interface {
			SummaryRunExists(ctx context.Context, id string) (bool, error)
		})
		isTaken := func(id string) (bool, error) {
			if taken[id] || global == nil {
				return taken[id], nil
			}
			return global.SummaryRunExists(ctx, id)
		}
		base := lmsys.NewSummaryRunID(model, now())
		sr.SummaryRunID = base
		for i := 2; ; i++ {
			used, err := isTaken(sr.SummaryRunID)
			if err != nil {
				return res, err
			}
			if !used {
				break
			}
			sr.SummaryRunID = fmt.Sprintf("%s-%d", base, i)
		}
	}
	if prior != nil {
		sr.CreatedAt = prior.CreatedAt
		sr.InputTokens, sr.OutputTokens, sr.CostUSD = prior.InputTokens, prior.OutputTokens, prior.CostUSD
	} else {
		sr.CreatedAt = now().UTC()
	}

	if opts.ClusterID != nil {
		pp.ClusterIDs = []int{*opts.ClusterID}
	}
	inputs, err := Prepare(ctx, st, runID, opts.Space, pp)
	if err != nil {
		return res, err
	}
	todo := inputs[:0:0]
	for _, in := range inputs {
		// A resume never re-asks a done cluster; without Resume a named cluster is redone.
		if opts.Resume && done[in.ClusterID] {
			res.Skipped++
			continue
		}
		todo = append(todo, in)
	}
	if err := st.SaveSummaryRun(ctx, sr); err != nil {
		return res, err
	}

	var before llm.Usage
	ur, hasUsage := s.(UsageReporter)
	if hasUsage {
		before = ur.Usage()
	}
	var mu sync.Mutex
	var pending []lmsys.Summary
	var saveErr error
	total := int64(len(todo))
	var n int64
	finish := func(sum lmsys.Summary) {
		sum.RunID, sum.SummaryRunID, sum.Alias = runID, sr.SummaryRunID, sr.Alias
		if sum.Model == "" {
			sum.Model = model
		}
		if sum.GeneratedAt.IsZero() {
			sum.GeneratedAt = now().UTC()
		}
		res.Summarized++
		if sum.Error != "" {
			res.Failed++
		}
		pending = append(pending, sum)
		n++
		opts.Progress.Report("summarize", n, total)
	}
	flush := func() {
		if len(pending) == 0 || saveErr != nil {
			return
		}
		saveErr = st.SaveSummaries(ctx, pending)
		pending = pending[:0]
	}
	var runErr error
	if str, ok := s.(Streamer); ok {
		runErr = str.SummarizeEach(ctx, todo, func(_ int, sum lmsys.Summary) {
			mu.Lock()
			defer mu.Unlock()
			finish(sum)
			if len(pending) >= 20 {
				flush()
			}
		})
	} else if len(todo) > 0 {
		var out []lmsys.Summary
		out, runErr = s.Summarize(ctx, todo)
		if runErr == nil && len(out) != len(todo) {
			runErr = fmt.Errorf("summarizer returned %d summaries for %d clusters", len(out), len(todo))
		}
		if runErr == nil {
			for i, sum := range out {
				sum.ClusterID = todo[i].ClusterID
				finish(sum)
			}
		}
	}
	// Save what was done even when the run was interrupted, so Resume can finish it.
	saveCtx := ctx
	if ctx.Err() != nil {
		saveCtx = context.WithoutCancel(ctx)
	}
	mu.Lock()
	if len(pending) > 0 && saveErr == nil {
		saveErr = st.SaveSummaries(saveCtx, pending)
		pending = nil
	}
	mu.Unlock()
	if hasUsage {
		u := ur.Usage()
		res.Usage = llm.Usage{
			Calls: u.Calls - before.Calls, CacheHits: u.CacheHits - before.CacheHits, Retries: u.Retries - before.Retries,
			InputTokens: u.InputTokens - before.InputTokens, OutputTokens: u.OutputTokens - before.OutputTokens,
			CostUSD: u.CostUSD - before.CostUSD, Estimated: u.Estimated,
		}
		sr.InputTokens += res.Usage.InputTokens
		sr.OutputTokens += res.Usage.OutputTokens
		sr.CostUSD += res.Usage.CostUSD
	}
	// Count clusters and failures over the whole summary run.
	if all, err := st.Summaries(saveCtx, runID, sr.SummaryRunID); err == nil {
		sr.NumClusters, sr.NumFailed = len(all), 0
		for _, a := range all {
			if a.Error != "" {
				sr.NumFailed++
			}
		}
	} else if !errors.Is(err, lmsys.ErrNotFound) && saveErr == nil {
		saveErr = err
	}
	if err := st.SaveSummaryRun(saveCtx, sr); err != nil && saveErr == nil {
		saveErr = err
	}
	res.SummaryRun = sr
	if runErr != nil {
		return res, fmt.Errorf("summarize run %s (%d of %d clusters saved; finish with --resume): %w", sr.SummaryRunID, res.Summarized, len(todo), runErr)
	}
	if saveErr != nil {
		return res, fmt.Errorf("summarize run %s: save: %w", sr.SummaryRunID, saveErr)
	}
	return res, nil
}

// SortByCluster orders summaries by cluster id.
func SortByCluster(ss []lmsys.Summary) {
	sort.Slice(ss, func(i, j int) bool { return ss[i].ClusterID < ss[j].ClusterID })
}

// localEmbedder opens the embedder of space when it is one of the offline local
// models (so the offline summarizer re-ranks its phrases in the run's own space
// without a network), else returns nil.
func localEmbedder(space lmsys.Space) lmsys.Embedder {
	if space.Provider != "local" {
		return nil
	}
	e, err := embed.Open(space.Name(), embed.WithDims(space.Dims))
	if err != nil || e.Space() != space {
		return nil
	}
	return e
}
