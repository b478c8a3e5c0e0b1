package main

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"time"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/dataset"
	"github.com/lmsys-go/lmsys/distributed"
	"github.com/lmsys-go/lmsys/embed"
	"github.com/lmsys-go/lmsys/internal/plural"
	"github.com/lmsys-go/lmsys/local"
	"github.com/lmsys-go/lmsys/store"
	"github.com/spf13/cobra"
)

func init() {
	commandRegistrars = append(commandRegistrars, registerAnalyze)
}

func registerAnalyze(root *cobra.Command, g *globals) {
	var emb embeddingOptions
	var source, hf, dsName, model string
	var m dataset.Mapping
	var limit int64
	var a local.Analysis
	var dist bool
	var jobSize int
	cmd := &cobra.Command{
		Use:   "analyze",
		Short: "The whole pipeline in one resumable command: load → embed → cluster → summarize → merge → index",
		Long: `analyze loads a source (a file, a Hugging Face dataset, or nothing to analyse what is
stored), embeds every query, clusters them, names the clusters and organises them into a
hierarchy. Each stage is resumable: run the same command again after an interruption and
it continues where it stopped, reusing the run, summary run and hierarchy already done.

With --distributed (PostgreSQL only) the embedding batches and the LLM summary calls are
jobs for 'lmsys worker' processes sharing the database, on any number of machines:
analyze enqueues them, waits with progress, then runs the other stages here.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if source != "" && hf != "" {
				return usagef("give --source or --hf-dataset, not both")
			}
			// local.Analysis reads zero as "the default": a 0 given here is refused, not
			// silently replaced.
			switch {
			case a.K <= 0:
				return usagef("--n-clusters must be positive, got %d", a.K)
			case a.TargetLevels <= 0:
				return usagef("--target-levels must be positive, got %d", a.TargetLevels)
			case !(a.MergeRatio > 0 && a.MergeRatio < 1):
				return usagef("--merge-ratio must be in (0, 1), got %g", a.MergeRatio)
			case jobSize < 0:
				return usagef("--job-size must not be negative, got %d", jobSize)
			}
			ctx := cmd.Context()
			var client *distributed.Client
			if dist {
				url, err := distributedURL(g, "analyze --distributed")
				if err != nil {
					return err
				}
				g.dbURL = url
				if client, err = distributed.Open(ctx, url); err != nil {
					return err
				}
				g.onClose(client.Close)
			}
			cfg := local.Config{DBPath: g.dbPath, DBURL: g.dbURL, EmbeddingModel: emb.model}
			if cfg.DBPath == "" && cfg.DBURL == "" {
				cfg.DBPath = store.DefaultPath()
			}
			if cfg.DBPath != "" {
				cfg.Dir = filepath.Dir(cfg.DBPath)
			}
			if emb.dims > 0 {
				cfg.EmbedOptions = append(cfg.EmbedOptions, embed.WithDims(emb.dims))
			}
			if emb.batchSize > 0 {
				cfg.EmbedOptions = append(cfg.EmbedOptions, embed.WithBatchSize(emb.batchSize))
			}
			p := newProgress(cmd)
			cfg.Progress = p.Func()
			ws, err := local.Open(ctx, cfg)
			if err != nil {
				return err
			}
			g.onCloseErr(ws.Close)
			switch {
			case source != "":
				src, err := dataset.OpenFile(source, m)
				if err != nil {
					return usageError{err}
				}
				a.Source = src
			case hf != "":
				a.Source = dataset.NewHubSource(hf, m)
			}
			a.DatasetName, a.Limit, a.SummaryModel = dsName, limit, model
			w := cmd.ErrOrStderr()
			if client != nil {
				client.OnEnqueue = func(b *distributed.Batch) {
					p.finish()
					if len(b.JobIDs) == 0 {
						fmt.Fprintf(w, "  no %s job needed: the work is done\n", b.Kind)
						return
					}
					fmt.Fprintf(w, "  %d %s jobs for the workers (%d of them queued or done before); waiting\n", len(b.JobIDs), b.Kind, b.Duplicates)
				}
				a.Backfill = func(ctx context.Context, st *store.DB, e lmsys.Embedder, f lmsys.QueryFilter, opts embed.BackfillOptions) (embed.BackfillStats, error) {
					if jobSize > 0 {
						opts.BatchSize = jobSize
					}
					return client.Backfill(ctx, st, e, f, opts)
				}
				a.SummarizeRun = client.SummarizeRun
			}
			pl := ws.Pipeline(a)
			pl.OnStage = func(r lmsys.StageReport) {
				p.finish()
				switch {
				case r.Elapsed == 0:
					fmt.Fprintf(w, "▶ %s\n", r.Stage)
				case r.Err != nil:
					fmt.Fprintf(w, "✗ %s failed after %.1fs: %v\n", r.Stage, r.Elapsed.Seconds(), r.Err)
				default:
					fmt.Fprintf(w, "✓ %s (%.1fs)\n", r.Stage, r.Elapsed.Seconds())
				}
			}
			start := time.Now()
			st, err := pl.Run(ctx, nil)
			if err != nil {
				return fmt.Errorf("%w (run the same command again to resume)", err)
			}
			if run, err := ws.Store.GetRun(ctx, st.RunID); err == nil {
				noteLanguages(ctx, ws.Store, run, cmd.ErrOrStderr())
			}
			return printAnalysis(cmd, g, ws, st, time.Since(start))
		},
	}
	f := cmd.Flags()
	addEmbeddingFlags(f, &emb)
	f.StringVar(&source, "source", "", "log file to load first (JSONL, JSON, CSV, Parquet, optionally .gz; chat-shaped rows detected)")
	f.StringVar(&hf, "hf-dataset", "", "Hugging Face dataset to load first (owner/name, e.g. lmsys/lmsys-chat-1m; HF_TOKEN)")
	f.StringVar(&dsName, "dataset-name", "", "dataset to load into and analyse (default: the source's name; all queries without a source)")
	f.Int64Var(&limit, "limit", 0, "load at most this many rows")
	f.StringVar(&m.Text, "text-field", "", "field holding the query text")
	f.StringVar(&m.ID, "id-field", "", "field holding the conversation id")
	f.StringVar(&m.Model, "model-field", "", "field holding the model name")
	f.StringVar(&m.Language, "language-field", "", "field holding the language")
	f.StringVar(&m.Timestamp, "timestamp-field", "", "field holding the time")
	f.IntVar(&a.K, "n-clusters", 50, "number of clusters (at most a tenth of the queries)")
	f.Uint64Var(&a.Seed, "seed", 42, "random seed")
	f.IntVar(&a.TargetLevels, "target-levels", 3, "hierarchy levels including the leaves")
	f.Float64Var(&a.MergeRatio, "merge-ratio", 0.2, "parents per child at each hierarchy level")
	f.StringVar(&model, "model", "", "LLM for titles and the hierarchy (default openai/gpt-4o-mini when OPENAI_API_KEY is set, else offline)")
	f.BoolVar(&a.Offline, "offline", false, "never call an LLM, even when a key is set")
	f.IntVar(&jobSize, "job-size", 0, "queries per embedding job with --distributed (default 4096 for local embedders, 1024 for remote ones)")
	f.BoolVar(&dist, "distributed", false, "hand the embedding batches and LLM summary calls to 'lmsys worker' processes sharing the PostgreSQL database of --db-url")
	root.AddCommand(cmd)
}

// printAnalysis prints the final summary: top-level categories, where the results
// are, and the commands to explore them.
func printAnalysis(cmd *cobra.Command, g *globals, ws *local.Workspace, st *lmsys.State, took time.Duration) error {
	ctx := cmd.Context()
	var top []lmsys.HierarchyNode
	if st.HierarchyRunID != "" {
		nodes, err := ws.Store.Hierarchy(ctx, st.HierarchyRunID)
		if err != nil {
			return err
		}
		for _, n := range nodes {
			if n.ParentClusterID == nil {
				top = append(top, n)
			}
		}
		sort.Slice(top, func(i, j int) bool { return top[i].NumQueries > top[j].NumQueries })
	}
	if g.json {
		type cat struct {
			ClusterID  int    `json:"cluster_id"`
			Title      string `json:"title"`
			NumQueries int    `json:"num_queries"`
			Children   int    `json:"children"`
		}
		cats := make([]cat, len(top))
		for i, n := range top {
			cats[i] = cat{n.ClusterID, n.Title, n.NumQueries, len(n.ChildrenIDs)}
		}
		return printJSON(cmd.OutOrStdout(), map[string]any{"database": ws.Store.Where(), "dataset": st.Dataset, "run_id": st.RunID,
			"summary_run_id": st.SummaryRunID, "hierarchy_run_id": st.HierarchyRunID, "stages": st.Results,
			"top_level": cats, "seconds": took.Seconds()})
	}
	w := cmd.OutOrStdout()
	fmt.Fprintf(w, "\nAnalysis finished in %.1fs\n", took.Seconds())
	for _, s := range []string{"load", "embed", "cluster", "summarize", "merge", "index"} {
		if r, ok := st.Results[s]; ok {
			fmt.Fprintf(w, "  %-9s %s\n", s, r)
		}
	}
	total := 0
	for _, n := range top {
		total += n.NumQueries
	}
	if len(top) > 0 {
		fmt.Fprintf(w, "\nTop-level categories:\n")
		for _, n := range top {
			fmt.Fprintf(w, "  %6d  %5.1f%%  %s (%s)\n", n.NumQueries, 100*float64(n.NumQueries)/float64(max(total, 1)), n.Title, plural.Count(len(n.ChildrenIDs), "child", "children"))
		}
	}
	fmt.Fprintf(w, "\nResults are in %s. Explore them with:\n", ws.Store.Where())
	fmt.Fprintf(w, "  lmsys list-clusters %s --show-examples 3\n", st.RunID)
	if st.HierarchyRunID != "" {
		fmt.Fprintf(w, "  lmsys show-hierarchy %s\n", st.HierarchyRunID)
	}
	fmt.Fprintf(w, "  lmsys search \"your topic\" --run-id %s\n  lmsys facets %s --by language,model\n", st.RunID, st.RunID)
	fmt.Fprintf(w, "  lmsys report %s --output report.html\n  lmsys serve\n", st.RunID)
	return nil
}
