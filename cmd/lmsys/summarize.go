package main

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/llm"
	"github.com/lmsys-go/lmsys/summarize"
	"github.com/spf13/cobra"
)

func init() {
	commandRegistrars = append(commandRegistrars, registerSummarize)
}

// summarizeFlags are the flags of the summarize command.
type summarizeFlags struct {
	model, alias, summaryRunID, promptFile, baseURL string
	maxQueries, concurrency, rpm, clusterID         int
	contrastNeighbors, contrastExamples, minSize    int
	resume, noScrub                                 bool
}

func registerSummarize(root *cobra.Command, g *globals) {
	var f summarizeFlags
	cmd := &cobra.Command{
		Use:   "summarize RUN_ID",
		Short: "Name a run's clusters: title, description, keywords (LLM, or offline c-TF-IDF without a key)",
		Long: `Name every cluster of a clustering run and record the result as a summary run.

Without --model the summarizer is ` + llm.DefaultModel + ` when OPENAI_API_KEY is set, and the
offline keyword summarizer (c-TF-IDF, no network) otherwise. Models are provider/model:
openai/… (OPENAI_API_KEY, OPENAI_BASE_URL), anthropic/… (ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL),
groq/… (GROQ_API_KEY, GROQ_BASE_URL), ollama/… (OLLAMA_HOST); --model offline forces the offline one.
Text sent to a model is scrubbed of e-mails, phone and card numbers, IP addresses and keys
unless --no-scrub. Replies are cached in the database, so a re-run costs nothing; --resume
finishes a summary run, asking only for clusters without a good summary.`,
		Example: `  lmsys summarize kmeans-200-20251004-170442
  lmsys summarize kmeans-200-20251004-170442 --model openai/gpt-4o-mini --alias v1 --concurrency 50 --rpm 500
  lmsys summarize kmeans-200-20251004-170442 --model ollama/llama3 --cluster-id 5 --resume`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSummarize(cmd, g, args[0], f)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&f.model, "model", "", "LLM provider/model, or 'offline' (default: "+llm.DefaultModel+" when OPENAI_API_KEY is set, else offline)")
	fs.StringVar(&f.alias, "alias", "", "friendly name of the summary run (e.g. v1)")
	fs.StringVar(&f.summaryRunID, "summary-run-id", "", "summary run id (default summary-<model>-<timestamp>; with --resume, the run to finish)")
	fs.IntVar(&f.maxQueries, "max-queries", 50, "distinct queries shown per cluster (nearest the centroid first)")
	fs.IntVar(&f.concurrency, "concurrency", 10, "LLM requests in flight")
	fs.IntVar(&f.rpm, "rpm", 0, "LLM requests per minute (0: no limit)")
	fs.IntVar(&f.clusterID, "cluster-id", 0, "summarize only this cluster")
	fs.BoolVar(&f.resume, "resume", false, "finish the latest (or the named) summary run: only clusters without a good summary")
	fs.IntVar(&f.contrastNeighbors, "contrast-neighbors", 2, "nearest clusters whose examples the prompt contrasts with (0: none)")
	fs.IntVar(&f.contrastExamples, "contrast-examples", 5, "examples taken from each contrast neighbour")
	fs.IntVar(&f.minSize, "min-cluster-size", 0, "clusters smaller than this are not sent to the LLM (summarised offline)")
	fs.BoolVar(&f.noScrub, "no-scrub", false, "send query text unscrubbed (e-mails, phones, cards, IPs, keys)")
	fs.StringVar(&f.promptFile, "prompt-file", "", `prompt template file defining {{define "user"}}…{{end}} (and optionally "system")`)
	fs.StringVar(&f.baseURL, "base-url", "", "LLM API endpoint (gateways, proxies, local OpenAI-compatible servers)")
	root.AddCommand(cmd)
}

func runSummarize(cmd *cobra.Command, g *globals, runID string, f summarizeFlags) error {
	switch {
	case f.maxQueries < 1:
		return usagef("--max-queries must be at least 1, got %d", f.maxQueries)
	case f.concurrency < 1:
		return usagef("--concurrency must be at least 1, got %d", f.concurrency)
	case f.rpm < 0:
		return usagef("--rpm must not be negative, got %d", f.rpm)
	case f.contrastNeighbors < 0 || f.contrastExamples < 0:
		return usagef("--contrast-neighbors and --contrast-examples must not be negative")
	case f.minSize < 0:
		return usagef("--min-cluster-size must not be negative, got %d", f.minSize)
	}
	if f.promptFile != "" {
		if _, err := os.Stat(f.promptFile); err != nil {
			return usagef("--prompt-file: %v", err)
		}
	}
	model, why := f.model, "--model"
	if model == "" {
		model, why = llm.Default(), "OPENAI_API_KEY is set"
		if model == "" {
			why = "no --model and no OPENAI_API_KEY"
		}
	}
	offline := model == "" || model == "offline" || model == summarize.OfflineModel
	if offline && (f.baseURL != "" || f.promptFile != "") {
		return usagef("--base-url and --prompt-file need an LLM --model (the offline summarizer uses neither)")
	}
	db, err := openStore(cmd, g)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	if _, err := db.GetRun(ctx, runID); err != nil {
		return err
	}
	var s lmsys.Summarizer
	label := "offline c-TF-IDF keywords (" + why + ")"
	if offline {
		s = &summarize.Offline{}
	} else {
		opts := []llm.Option{llm.WithConcurrency(f.concurrency), llm.WithRPM(f.rpm), llm.WithCache(db.LLMCache())}
		if f.baseURL != "" {
			opts = append(opts, llm.WithBaseURL(f.baseURL))
		}
		client, err := llm.Open(model, opts...)
		if err != nil {
			return usageError{err}
		}
		ls, err := summarize.NewLLM(client, summarize.LLMOptions{PromptFile: f.promptFile, MinClusterSize: f.minSize, NoScrub: f.noScrub})
		if err != nil {
			return usageError{err}
		}
		s = ls
		label = client.Model() + " (" + why + ")"
		if !f.noScrub {
			label += ", text scrubbed"
		}
	}
	if g.json {
		fmt.Fprintln(cmd.ErrOrStderr(), "Summarizer:", label)
	} else {
		fmt.Fprintln(cmd.OutOrStdout(), "Summarizer:", label)
	}
	p := newProgress(cmd)
	opts := summarize.RunOptions{
		SummaryRunID: f.summaryRunID,
		Alias:        f.alias,
		Resume:       f.resume,
		Prepare: summarize.PrepareOptions{MaxQueries: f.maxQueries, ContrastNeighbors: f.contrastNeighbors,
			ContrastExamples: f.contrastExamples, Progress: p.Func()},
		Progress: p.Func(),
	}
	if f.contrastNeighbors == 0 {
		opts.Prepare.ContrastNeighbors = -1
	}
	if cmd.Flags().Changed("cluster-id") {
		id := f.clusterID
		opts.ClusterID = &id
	}
	res, err := summarize.Run(ctx, db, runID, s, opts)
	p.finish()
	if err != nil {
		if errors.Is(err, lmsys.ErrInvalidInput) {
			return usageError{err}
		}
		return err
	}
	sums, err := db.Summaries(ctx, runID, res.SummaryRun.SummaryRunID)
	if err != nil {
		return err
	}
	if g.json {
		return printJSON(cmd.OutOrStdout(), map[string]any{
			"run_id": runID, "summarizer": label, "summary_run": res.SummaryRun, "summarized": res.Summarized,
			"failed": res.Failed, "skipped": res.Skipped, "usage": res.Usage, "summaries": sums,
		})
	}
	w := cmd.OutOrStdout()
	sr := res.SummaryRun
	name := sr.SummaryRunID
	if sr.Alias != "" {
		name += " (alias " + sr.Alias + ")"
	}
	fmt.Fprintf(w, "Summary run %s: %d clusters summarised", name, res.Summarized)
	if res.Skipped > 0 {
		fmt.Fprintf(w, ", %d already done", res.Skipped)
	}
	if res.Failed > 0 {
		fmt.Fprintf(w, ", %d FAILED", res.Failed)
	}
	fmt.Fprintln(w)
	if !offline {
		u := res.Usage
		fmt.Fprintf(w, "LLM: %d calls, %d from cache, %d retries; %d input + %d output tokens; estimated cost $%.4f (summary run total $%.4f)\n",
			u.Calls, u.CacheHits, u.Retries, u.InputTokens, u.OutputTokens, u.CostUSD, sr.CostUSD)
	}
	sort.Slice(sums, func(i, j int) bool {
		if sums[i].NumQueries != sums[j].NumQueries {
			return sums[i].NumQueries > sums[j].NumQueries
		}
		return sums[i].ClusterID < sums[j].ClusterID
	})
	tw := tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
	fmt.Fprintln(tw, "\nCLUSTER\tQUERIES\tTITLE")
	shown := 0
	for _, s := range sums {
		if opts.ClusterID != nil && s.ClusterID != *opts.ClusterID {
			continue
		}
		if shown == 25 {
			fmt.Fprintf(tw, "…\t\t(%d more: lmsys list-clusters %s --summary-run-id %s)\n", len(sums)-shown, runID, sr.SummaryRunID)
			break
		}
		title := s.Title
		if s.Error != "" {
			title = "FAILED: " + firstLine(s.Error)
		}
		fmt.Fprintf(tw, "%d\t%d\t%s\n", s.ClusterID, s.NumQueries, title)
		shown++
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if sr.NumFailed > 0 {
		fmt.Fprintf(w, "\n%d clusters failed; finish them with: lmsys summarize %s --summary-run-id %s --resume\n", sr.NumFailed, runID, sr.SummaryRunID)
	}
	return nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return s
}
