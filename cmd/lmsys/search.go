package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"github.com/lmsys-go/lmsys/search"
	"github.com/lmsys-go/lmsys/web"
	"github.com/spf13/cobra"
)

func init() {
	commandRegistrars = append(commandRegistrars, registerSearch)
}

func registerSearch(root *cobra.Command, g *globals) {
	var cf searchFlags
	var co search.ClusterSearchOptions
	var alias, summaryRunID string
	var cMax, qMax int
	sc := &cobra.Command{
		Use:   "search-cluster TEXT --run-id ID [--top-k 20] [--alias A | --summary-run-id S]",
		Short: "Find a run's clusters whose summaries are nearest a text",
		Long: `Find the clusters of a run whose summaries (title, description, keywords) are nearest TEXT in the run's
embedding space. The first search of a run indexes its queries and summaries (a progress bar shows it).
JSON: { text, run_id, results: [{ cluster_id, distance, title, description, num_queries }] }; distance is
the cosine distance 1 − cos.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if co.RunID == "" {
				return usagef("--run-id is required (see 'lmsys runs')")
			}
			if alias != "" && summaryRunID != "" {
				return usagef("give --alias or --summary-run-id, not both")
			}
			if co.TopK <= 0 {
				return usagef("--top-k must be positive, got %d", co.TopK)
			}
			if err := checkQueryChars(cMax, "TEXT", args[0]); err != nil {
				return err
			}
			co.SummaryRef = alias + summaryRunID
			svc, _, _, _, err := openSearch(cmd, g, &cf)
			if err != nil {
				return err
			}
			res, err := svc.SearchClusters(cmd.Context(), args[0], co)
			if err != nil {
				return searchUsage(err)
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), res)
			}
			return printClusterResults(cmd.OutOrStdout(), res)
		},
	}
	sc.Flags().StringVar(&co.RunID, "run-id", "", "clustering run (its embedding space is used)")
	sc.Flags().IntVar(&co.TopK, "top-k", 20, "number of clusters")
	sc.Flags().StringVar(&alias, "alias", "", "summary run alias (default: the latest summary run)")
	sc.Flags().StringVar(&summaryRunID, "summary-run-id", "", "summary run id (default: the latest)")
	sc.Flags().IntVar(&cMax, "max-query-chars", web.DefaultMaxQueryChars, "refuse a TEXT longer than this many characters")
	addIndexFlags(sc, &cf)
	root.AddCommand(sc)

	var qf searchFlags
	var qo search.QuerySearchOptions
	var qAlias, qSummary string
	sq := &cobra.Command{
		Use:   "search TEXT [--run-id ID] [--within-clusters TEXT --top-clusters 5] [--cluster-ids 12,27] [--n-results 50] [--facets cluster,language,model] [--by cluster] [--mode semantic|fulltext|hybrid]",
		Short: "Find queries by meaning (semantic), by words (fulltext) or both (hybrid), within clusters, with facets",
		Long: `Find the queries nearest TEXT in the run's embedding space (--mode semantic, the default), the queries
containing its words (--mode fulltext: SQLite FTS5 / PostgreSQL full-text; works without --run-id), or
both fused by reciprocal rank (--mode hybrid). Cluster membership is always the store's, for the run.
--within-clusters first finds the --top-clusters clusters whose summaries are nearest that text and
searches inside them; --cluster-ids restricts to clusters directly. --facets counts the results by
cluster (with its title), language and model; --by cluster groups them by cluster.
Distances are cosine distances 1 − cos; in fulltext mode 1 − score/best score (0 = best match).
JSON: { text, run_id, applied_clusters: [...], results: [{ query_id, distance, snippet, model, language,
cluster_id }], facets: { clusters: [{ cluster_id, count, meta: { title } }], language: [...], model: [...] } }`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch qo.Mode {
			case search.ModeSemantic, search.ModeFullText, search.ModeHybrid:
			default:
				return usagef("--mode %q is not semantic, fulltext or hybrid", qo.Mode)
			}
			if qo.RunID == "" && qo.Mode != search.ModeFullText {
				return usagef("--run-id is required for --mode %s (the run names the embedding space); --mode fulltext works without one", qo.Mode)
			}
			if qo.RunID == "" && (qo.WithinClusters != "" || len(qo.ClusterIDs) > 0 || qo.By != "") {
				return usagef("--within-clusters, --cluster-ids and --by need --run-id")
			}
			if qo.By != "" && qo.By != "cluster" {
				return usagef("--by %q: only 'cluster' is supported", qo.By)
			}
			if qo.NResults <= 0 || qo.TopClusters <= 0 {
				return usagef("--n-results and --top-clusters must be positive")
			}
			if qAlias != "" && qSummary != "" {
				return usagef("give --alias or --summary-run-id, not both")
			}
			qo.SummaryRef = qAlias + qSummary
			if err := checkQueryChars(qMax, "TEXT", args[0]); err != nil {
				return err
			}
			if err := checkQueryChars(qMax, "--within-clusters", qo.WithinClusters); err != nil {
				return err
			}
			if len(qo.ClusterIDs) == 0 {
				qo.ClusterIDs = nil
			}
			svc, _, _, _, err := openSearch(cmd, g, &qf)
			if err != nil {
				return err
			}
			res, err := svc.SearchQueries(cmd.Context(), args[0], qo)
			if err != nil {
				return searchUsage(err)
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), res)
			}
			return printQueryResults(cmd.OutOrStdout(), res, qo.By == "cluster")
		},
	}
	sq.Flags().StringVar(&qo.RunID, "run-id", "", "clustering run (its embedding space and cluster membership are used)")
	sq.Flags().IntVar(&qo.NResults, "n-results", 50, "number of queries")
	sq.Flags().StringVar(&qo.WithinClusters, "within-clusters", "", "first find the clusters nearest this text, then search inside them")
	sq.Flags().IntVar(&qo.TopClusters, "top-clusters", 5, "number of clusters --within-clusters keeps")
	sq.Flags().IntSliceVar(&qo.ClusterIDs, "cluster-ids", nil, "restrict to these clusters (comma-separated)")
	sq.Flags().StringSliceVar(&qo.Facets, "facets", nil, "count results by: cluster, language, model (comma-separated)")
	sq.Flags().StringVar(&qo.By, "by", "", "group results: cluster")
	sq.Flags().StringVar(&qo.Label, "label", "", "keep hits a classifier gave this label: facet=value (e.g. refusal=refused; for a list facet, an item: languages=fr)")
	sq.Flags().StringVar(&qo.Mode, "mode", search.ModeSemantic, "semantic, fulltext or hybrid")
	sq.Flags().StringVar(&qAlias, "alias", "", "summary run alias for cluster titles and --within-clusters (default: the latest)")
	sq.Flags().StringVar(&qSummary, "summary-run-id", "", "summary run id for cluster titles and --within-clusters (default: the latest)")
	sq.Flags().IntVar(&qMax, "max-query-chars", web.DefaultMaxQueryChars, "refuse a TEXT or --within-clusters longer than this many characters")
	addIndexFlags(sq, &qf)
	root.AddCommand(sq)
}

// checkQueryChars refuses a search text longer than max characters (a usage error):
// embedding and scoring such a text takes seconds and finds nothing a shorter one
// would not.
func checkQueryChars(max int, name, text string) error {
	if max <= 0 {
		return usagef("--max-query-chars must be positive, got %d", max)
	}
	if n := utf8.RuneCountInString(text); n > max {
		return usagef("%s is %d characters long; searches take at most %d (see --max-query-chars)", name, n, max)
	}
	return nil
}

func printClusterResults(w io.Writer, res search.ClusterResults) error {
	fmt.Fprintf(w, "Clusters of %s nearest %q:\n", res.RunID, res.Text)
	if len(res.Results) == 0 {
		fmt.Fprintln(w, "  (none)")
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CLUSTER\tDISTANCE\tSIZE\tTITLE")
	for _, r := range res.Results {
		fmt.Fprintf(tw, "%d\t%.3f\t%d\t%s\n", r.ClusterID, r.Distance, r.NumQueries, r.Title)
	}
	return tw.Flush()
}

func printQueryResults(w io.Writer, res search.QueryResults, byCluster bool) error {
	if len(res.AppliedClusters) > 0 {
		fmt.Fprintln(w, "Within clusters:")
		for _, c := range res.AppliedClusters {
			d := "     -"
			if c.Distance != nil {
				d = fmt.Sprintf("%.3f", *c.Distance)
			}
			fmt.Fprintf(w, "  %5d  %s  %5d  %s\n", c.ClusterID, d, c.NumQueries, c.Title)
		}
	}
	scope := "all queries"
	if res.RunID != "" {
		scope = "run " + res.RunID
	}
	fmt.Fprintf(w, "Queries of %s matching %q: %d\n", scope, res.Text, len(res.Results))
	row := func(tw io.Writer, h search.QueryHit) {
		c := "-"
		if h.ClusterID != nil {
			c = fmt.Sprint(*h.ClusterID)
		}
		fmt.Fprintf(tw, "%d\t%s\t%.3f\t%s\t%s\t%s\n", h.QueryID, c, h.Distance, h.Language, h.Model, searchAbbrev(h.Snippet, 90))
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if byCluster && res.Facets.Clusters != nil {
		for _, fc := range res.Facets.Clusters {
			fmt.Fprintf(tw, "\nCluster %d: %s (%d)\n", fc.ClusterID, fc.Meta.Title, fc.Count)
			for _, h := range res.Results {
				if h.ClusterID != nil && *h.ClusterID == fc.ClusterID {
					row(tw, h)
				}
			}
		}
	} else if len(res.Results) > 0 {
		fmt.Fprintln(tw, "QUERY\tCLUSTER\tDISTANCE\tLANGUAGE\tMODEL\tTEXT")
		for _, h := range res.Results {
			row(tw, h)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if res.Facets.Clusters != nil && !byCluster {
		fmt.Fprintln(w, "\nBy cluster:")
		for _, c := range res.Facets.Clusters {
			fmt.Fprintf(w, "  %5d  %4d  %s\n", c.ClusterID, c.Count, c.Meta.Title)
		}
	}
	if res.Facets.Language != nil {
		fmt.Fprintln(w, "\nBy language:")
		for _, c := range res.Facets.Language {
			fmt.Fprintf(w, "  %4d  %s\n", c.Count, c.Key)
		}
	}
	if res.Facets.Model != nil {
		fmt.Fprintln(w, "\nBy model:")
		for _, c := range res.Facets.Model {
			fmt.Fprintf(w, "  %4d  %s\n", c.Count, c.Key)
		}
	}
	return nil
}

// searchAbbrev cuts s to n runes on one line.
func searchAbbrev(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
