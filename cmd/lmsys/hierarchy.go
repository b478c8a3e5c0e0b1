package main

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/embed"
	"github.com/lmsys-go/lmsys/hierarchy"
	"github.com/lmsys-go/lmsys/internal/plural"
	"github.com/lmsys-go/lmsys/llm"
	"github.com/spf13/cobra"
)

func init() {
	commandRegistrars = append(commandRegistrars, registerHierarchy)
}

type mergeFlags struct {
	targetLevels, topClusters, neighborhood, concurrency, rpm int
	mergeRatio, textWeight                                    float64
	model, summaryRun, embeddingModel, linkage, baseURL       string
	offline, noScrub                                          bool
	seed                                                      int64
}

func registerHierarchy(root *cobra.Command, g *globals) {
	f := &mergeFlags{}
	merge := &cobra.Command{
		Use:   "merge-clusters RUN_ID",
		Short: "Organise a run's clusters into a multi-level hierarchy (Clio method with an LLM, or offline)",
		Long: `Merge the clusters of a run into parent categories, level by level, following Anthropic's Clio:
neighbourhoods of similar clusters, parent categories proposed by the LLM, deduplicated, every cluster
assigned to one parent (or to an explicit "Unassigned" parent), parents renamed from their children.

The LLM method runs when --model is given or OPENAI_API_KEY is set (` + llm.DefaultModel + `); otherwise, or
with --offline, the offline merge groups clusters by centroid and keyword similarity and names parents by
c-TF-IDF. Level sizes follow --merge-ratio (200 → 40 → 8 with 0.2), or Clio's geometric ratio when
--top-clusters is given. Cluster titles come from the latest summary run unless --summary-run-id names
one (id or alias); the offline merge also works on runs never summarised.`,
		Example: `  lmsys merge-clusters kmeans-200-20251004-170442 --target-levels 3 --merge-ratio 0.2
  lmsys merge-clusters kmeans-200-20251004-170442 --model openai/gpt-4o-mini --neighborhood-size 40 --concurrency 50
  lmsys merge-clusters kmeans-200-20251004-170442 --offline --top-clusters 10`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runMerge(cmd, g, f, args[0]) },
	}
	fs := merge.Flags()
	fs.IntVar(&f.targetLevels, "target-levels", hierarchy.DefaultTargetLevels, "levels including the leaf clusters (2 = one merge)")
	fs.Float64Var(&f.mergeRatio, "merge-ratio", hierarchy.DefaultMergeRatio, "parents per child at each level, in (0, 1)")
	fs.IntVar(&f.topClusters, "top-clusters", 0, "number of top-level parents (geometric level sizes; overrides --merge-ratio)")
	fs.StringVar(&f.model, "model", "", "LLM provider/model (default: "+llm.DefaultModel+" when OPENAI_API_KEY is set, else offline)")
	fs.BoolVar(&f.offline, "offline", false, "merge without an LLM")
	fs.StringVar(&f.baseURL, "base-url", "", "LLM endpoint instead of the provider's default (OpenAI-compatible gateways, tests)")
	fs.IntVar(&f.neighborhood, "neighborhood-size", hierarchy.DefaultNeighborhoodSize, "average clusters per LLM neighbourhood")
	fs.IntVar(&f.concurrency, "concurrency", hierarchy.DefaultConcurrency, "LLM requests in flight")
	fs.IntVar(&f.rpm, "rpm", 0, "LLM requests per minute (0: no limit)")
	fs.StringVar(&f.summaryRun, "summary-run-id", "", "summary run id or alias whose titles to use (default: latest)")
	fs.StringVar(&f.embeddingModel, "embedding-model", "", "provider/model embedding cluster titles (default: the run's embedding space)")
	fs.StringVar(&f.linkage, "linkage", hierarchy.LinkageWard, "offline merge linkage: ward or average")
	fs.Float64Var(&f.textWeight, "text-weight", 0, "offline merge weight of keyword text against centroids, in [0, 1] (0: default)")
	fs.Int64Var(&f.seed, "seed", 0, "seed of the k-means neighbourhoods and shuffles")
	fs.BoolVar(&f.noScrub, "no-scrub", false, "send cluster text to the LLM without masking personal data")

	var depth int
	show := &cobra.Command{
		Use:   "show-hierarchy HIERARCHY_RUN_ID",
		Short: "Show a hierarchy as a tree with query counts and shares (--json: every node)",
		Example: `  lmsys show-hierarchy hier-kmeans-200-20251004-170442-20251005-101010 --depth 2
  lmsys show-hierarchy hier-kmeans-200-20251004-170442-20251005-101010 --json | jq '.nodes[] | select(.level == 2)'`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if depth < 0 {
				return usagef("--depth must not be negative, got %d", depth)
			}
			db, err := openStore(cmd, g)
			if err != nil {
				return err
			}
			nodes, err := db.Hierarchy(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if len(nodes) == 0 {
				return fmt.Errorf("hierarchy %q: %w (see 'lmsys merge-clusters')", args[0], lmsys.ErrNotFound)
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), hierarchyJSON(nodes))
			}
			printTree(cmd.OutOrStdout(), nodes, depth)
			return nil
		},
	}
	show.Flags().IntVar(&depth, "depth", 0, "levels to expand below the top (0: all)")
	root.AddCommand(merge, show)
}

func runMerge(cmd *cobra.Command, g *globals, f *mergeFlags, runID string) error {
	switch {
	case f.targetLevels < 2 || f.targetLevels > 10:
		return usagef("--target-levels must be between 2 and 10, got %d", f.targetLevels)
	case f.topClusters < 0:
		return usagef("--top-clusters must not be negative, got %d", f.topClusters)
	case f.topClusters == 0 && (f.mergeRatio <= 0 || f.mergeRatio >= 1):
		return usagef("--merge-ratio must be in (0, 1), got %g", f.mergeRatio)
	case f.neighborhood < 2:
		return usagef("--neighborhood-size must be at least 2, got %d", f.neighborhood)
	case f.concurrency < 1:
		return usagef("--concurrency must be positive, got %d", f.concurrency)
	case f.rpm < 0:
		return usagef("--rpm must not be negative, got %d", f.rpm)
	case f.textWeight < 0 || f.textWeight > 1:
		return usagef("--text-weight must be in [0, 1], got %g", f.textWeight)
	case f.linkage != hierarchy.LinkageWard && f.linkage != hierarchy.LinkageAverage:
		return usagef("--linkage must be ward or average, got %q", f.linkage)
	case f.offline && f.model != "" && f.model != "offline":
		return usagef("--offline and --model %s contradict each other", f.model)
	case f.offline && f.baseURL != "":
		return usagef("--base-url needs the LLM method, not --offline")
	}
	model, why := f.model, "--model"
	if f.offline {
		model, why = "", "--offline"
	} else if model == "" {
		model, why = llm.Default(), "OPENAI_API_KEY is set"
		if model == "" {
			why = "no --model and no OPENAI_API_KEY"
		}
	}
	if model == "offline" {
		model = ""
	}
	db, err := openStore(cmd, g)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	run, err := db.GetRun(ctx, runID)
	if err != nil {
		return err
	}
	tw := f.textWeight
	if cmd.Flags().Changed("text-weight") && tw == 0 {
		tw = -1 // centroids only
	}
	opts := hierarchy.Options{
		TargetLevels: f.targetLevels, MergeRatio: f.mergeRatio, TopClusters: f.topClusters,
		SummaryRun: f.summaryRun, NeighborhoodSize: f.neighborhood, Concurrency: f.concurrency,
		Linkage: f.linkage, TextWeight: tw, Seed: f.seed, NoScrub: f.noScrub,
	}
	label := "offline merge (" + why + ")"
	if model != "" || f.embeddingModel != "" {
		em := f.embeddingModel
		var eopts []embed.Option
		if em == "" {
			em = run.Space.Name()
			eopts = append(eopts, embed.WithDims(run.Space.Dims))
		}
		e, err := embed.Open(em, eopts...)
		if err != nil {
			return fmt.Errorf("embedding model for cluster titles: %w", err)
		}
		opts.Embedder = e
	}
	if model != "" {
		lopts := []llm.Option{llm.WithConcurrency(f.concurrency), llm.WithRPM(f.rpm), llm.WithCache(db.LLMCache())}
		if f.baseURL != "" {
			lopts = append(lopts, llm.WithBaseURL(f.baseURL))
		}
		client, err := llm.Open(model, lopts...)
		if err != nil {
			return usageError{err}
		}
		opts.LLM, opts.Model = client, client.Model()
		label = "Clio method with " + client.Model() + " (" + why + "), titles embedded with " + opts.Embedder.Space().String()
	}
	info := cmd.OutOrStdout()
	if g.json {
		info = cmd.ErrOrStderr()
	}
	fmt.Fprintln(info, "Method:", label)
	p := newProgress(cmd)
	opts.Progress = p.Func()
	res, err := hierarchy.Run(ctx, db, runID, opts)
	p.finish()
	if err != nil {
		return err
	}
	if g.json {
		return printJSON(cmd.OutOrStdout(), res.Report)
	}
	printReport(cmd.OutOrStdout(), res.Report)
	return nil
}

func printReport(w io.Writer, r hierarchy.Report) {
	sizes := []string{fmt.Sprint(r.Leaves)}
	for _, l := range r.Levels {
		sizes = append(sizes, fmt.Sprint(l.Nodes))
	}
	fmt.Fprintf(w, "Hierarchy %s: %s clusters over %d queries (%s", r.HierarchyRunID, strings.Join(sizes, " → "), r.NumQueries, r.Method)
	if r.Model != "" {
		fmt.Fprintf(w, ", %s, %d LLM calls", r.Model, r.LLMCalls)
	}
	fmt.Fprintf(w, ", %.1fs)\n", r.Seconds)
	for _, l := range r.Levels {
		fmt.Fprintf(w, "  level %d: %d parents (planned %d), %.1f children on average, at most %d", l.Level, l.Nodes, l.Planned, l.MeanChildren, l.MaxChildren)
		if l.Unassigned > 0 {
			fmt.Fprintf(w, ", %d unassigned", l.Unassigned)
		}
		if len(l.LLMCalls) > 0 {
			fmt.Fprintf(w, ", calls: propose %d, dedupe %d, assign %d, rename %d", l.LLMCalls["propose"], l.LLMCalls["dedupe"], l.LLMCalls["assign"], l.LLMCalls["rename"])
		}
		fmt.Fprintln(w)
		if len(l.Oversized) > 0 {
			fmt.Fprintf(w, "    warning: %d parents have more than twice the average number of children: %v\n", len(l.Oversized), l.Oversized)
		}
		for _, f := range l.Failures {
			fmt.Fprintf(w, "    note: %s\n", f)
		}
	}
	fmt.Fprintf(w, "Show it with: lmsys show-hierarchy %s\n", r.HierarchyRunID)
}

// hierarchyJSON is the stable JSON of show-hierarchy --json.
func hierarchyJSON(nodes []lmsys.HierarchyNode) map[string]any {
	top, total := 0, 0
	for _, n := range nodes {
		top = max(top, n.Level)
	}
	for _, n := range nodes {
		if n.Level == top {
			total += n.NumQueries
		}
	}
	sorted := append([]lmsys.HierarchyNode(nil), nodes...)
	sort.SliceStable(sorted, func(a, b int) bool {
		if sorted[a].Level != sorted[b].Level {
			return sorted[a].Level > sorted[b].Level
		}
		return sorted[a].ClusterID < sorted[b].ClusterID
	})
	return map[string]any{
		"hierarchy_run_id": nodes[0].HierarchyRunID,
		"run_id":           nodes[0].RunID,
		"levels":           top + 1,
		"total_queries":    total,
		"valid":            hierarchy.Validate(nodes) == nil,
		"nodes":            sorted,
	}
}

// printTree prints the top-level nodes and their descendants down to depth levels
// below the top (0: all), largest first, with counts and shares of all queries.
func printTree(w io.Writer, nodes []lmsys.HierarchyNode, depth int) {
	byID := map[int]lmsys.HierarchyNode{}
	top, total := 0, 0
	for _, n := range nodes {
		byID[n.ClusterID] = n
		top = max(top, n.Level)
	}
	var roots []lmsys.HierarchyNode
	for _, n := range nodes {
		if n.Level == top {
			roots = append(roots, n)
			total += n.NumQueries
		}
	}
	bySize := func(ns []lmsys.HierarchyNode) {
		sort.SliceStable(ns, func(a, b int) bool {
			if ns[a].NumQueries != ns[b].NumQueries {
				return ns[a].NumQueries > ns[b].NumQueries
			}
			return ns[a].ClusterID < ns[b].ClusterID
		})
	}
	bySize(roots)
	fmt.Fprintf(w, "%s (run %s): %d levels, %d queries\n", nodes[0].HierarchyRunID, nodes[0].RunID, top+1, total)
	share := func(n int) float64 {
		if total == 0 {
			return 0
		}
		return 100 * float64(n) / float64(total)
	}
	var walk func(n lmsys.HierarchyNode, prefix string, last bool, d int)
	walk = func(n lmsys.HierarchyNode, prefix string, last bool, d int) {
		branch, next := "├── ", prefix+"│   "
		if last {
			branch, next = "└── ", prefix+"    "
		}
		if d == 0 {
			branch, next = "", ""
		}
		title := n.Title
		if title == "" {
			title = fmt.Sprintf("cluster %d", n.ClusterID)
		}
		extra := ""
		if len(n.ChildrenIDs) > 0 {
			extra = ", " + plural.Count(len(n.ChildrenIDs), "child", "children")
		}
		fmt.Fprintf(w, "%s%s%s [%d] (%d queries, %.1f%%%s)\n", prefix, branch, title, n.ClusterID, n.NumQueries, share(n.NumQueries), extra)
		if depth > 0 && d >= depth {
			return
		}
		var kids []lmsys.HierarchyNode
		for _, c := range n.ChildrenIDs {
			if k, ok := byID[c]; ok {
				kids = append(kids, k)
			}
		}
		bySize(kids)
		for i, k := range kids {
			walk(k, next, i == len(kids)-1, d+1)
		}
	}
	for _, r := range roots {
		walk(r, "", true, 0)
	}
}
