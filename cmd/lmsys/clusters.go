package main

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/analysis"
	"github.com/lmsys-go/lmsys/store"
	"github.com/spf13/cobra"
)

func init() {
	commandRegistrars = append(commandRegistrars, registerClusterViews)
}

// summariesByCluster returns the summaries of a run's summary run (ref: id or alias;
// empty: latest), or an empty map and no error when the run has none and ref is empty.
func summariesByCluster(cmd *cobra.Command, db *store.DB, runID, ref string) (string, map[int]lmsys.Summary, error) {
	out := map[int]lmsys.Summary{}
	ss, err := db.Summaries(cmd.Context(), runID, ref)
	if err != nil {
		if errors.Is(err, lmsys.ErrNotFound) && ref == "" {
			return "", out, nil
		}
		return "", nil, err
	}
	id := ""
	for _, s := range ss {
		out[s.ClusterID] = s
		id = s.SummaryRunID
	}
	return id, out, nil
}

func snippet(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

func registerClusterViews(root *cobra.Command, g *globals) {
	var summaryRef, alias string
	var limit, examples int
	list := &cobra.Command{
		Use:   "list-clusters RUN_ID",
		Short: "List a run's clusters with sizes and titles (latest summary run unless --alias / --summary-run-id)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			db, err := openStore(cmd, g)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			run, err := db.GetRun(ctx, args[0])
			if err != nil {
				return err
			}
			ref := summaryRef
			if ref == "" {
				ref = alias
			}
			srID, sums, err := summariesByCluster(cmd, db, run.ID, ref)
			if err != nil {
				return err
			}
			cl, err := analysis.Clusters(ctx, db, run.ID, srID, sums, limit, examples)
			if err != nil {
				return err
			}
			rows, total := cl.Clusters, cl.TotalQueries
			if g.json {
				return printJSON(cmd.OutOrStdout(), cl)
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "Run %s: %d clusters, %d queries", run.ID, cl.NumClusters, total)
			if srID != "" {
				fmt.Fprintf(w, ", titles from %s", srID)
			} else {
				fmt.Fprintf(w, " (no summaries yet: `lmsys summarize %s`)", run.ID)
			}
			fmt.Fprintln(w)
			tw := tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
			fmt.Fprintln(tw, "CLUSTER\tQUERIES\tSHARE\tTITLE")
			for _, r := range rows {
				title := r.Title
				if r.ClusterID < 0 {
					title = "(noise)"
				}
				fmt.Fprintf(tw, "%d\t%d\t%5.1f%%\t%s\n", r.ClusterID, r.NumQueries, 100*r.Share, snippet(title, 80))
				for _, e := range r.Examples {
					fmt.Fprintf(tw, "\t\t\t  · %s\n", snippet(e, 100))
				}
			}
			return tw.Flush()
		},
	}
	list.Flags().StringVar(&summaryRef, "summary-run-id", "", "summary run to show titles from")
	list.Flags().StringVar(&alias, "alias", "", "summary run alias to show titles from")
	list.Flags().IntVar(&limit, "limit", 0, "show at most this many clusters (largest first)")
	list.Flags().IntVar(&examples, "show-examples", 0, "show this many example queries per cluster")

	var showQueries int
	var iSummary, iAlias string
	inspect := &cobra.Command{
		Use:   "inspect RUN_ID CLUSTER_ID",
		Short: "Show one cluster: summary, annotations and queries (most confident first)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			clusterID, err := strconv.Atoi(args[1])
			if err != nil {
				return usagef("cluster id %q is not a number", args[1])
			}
			db, err := openStore(cmd, g)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			run, err := db.GetRun(ctx, args[0])
			if err != nil {
				return err
			}
			as, err := db.Assignments(ctx, run.ID, &clusterID)
			if err != nil {
				return err
			}
			if len(as) == 0 {
				return fmt.Errorf("cluster %d of run %s: %w", clusterID, run.ID, lmsys.ErrNotFound)
			}
			ref := iSummary
			if ref == "" {
				ref = iAlias
			}
			_, sums, err := summariesByCluster(cmd, db, run.ID, ref)
			if err != nil {
				return err
			}
			meta, err := db.ClusterMetadata(ctx, run.ID, clusterID)
			if err != nil {
				return err
			}
			sort.SliceStable(as, func(i, j int) bool { return as[i].Confidence > as[j].Confidence })
			n := min(showQueries, len(as))
			ids := make([]int64, n)
			conf := map[int64]float64{}
			for i := 0; i < n; i++ {
				ids[i] = as[i].QueryID
				conf[as[i].QueryID] = as[i].Confidence
			}
			var qs []lmsys.Query
			if n > 0 {
				if qs, err = db.ListQueries(ctx, lmsys.QueryFilter{IDs: ids}); err != nil {
					return err
				}
				sort.SliceStable(qs, func(i, j int) bool { return conf[qs[i].ID] > conf[qs[j].ID] })
			}
			s, hasSummary := sums[clusterID]
			if g.json {
				type qrow struct {
					QueryID    int64   `json:"query_id"`
					Text       string  `json:"query_text"`
					Model      string  `json:"model,omitempty"`
					Language   string  `json:"language,omitempty"`
					Confidence float64 `json:"confidence_score"`
				}
				rows := make([]qrow, len(qs))
				for i, q := range qs {
					rows[i] = qrow{q.ID, q.Text, q.Model, q.Language, conf[q.ID]}
				}
				out := map[string]any{"run_id": run.ID, "cluster_id": clusterID, "num_queries": len(as), "metadata": meta, "queries": rows}
				if hasSummary {
					out["summary"] = s
				}
				return printJSON(cmd.OutOrStdout(), out)
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "Run %s, cluster %d: %d queries\n", run.ID, clusterID, len(as))
			if hasSummary {
				fmt.Fprintf(w, "Title:       %s\nDescription: %s\n", s.Title, s.Description)
				if len(s.Keywords) > 0 {
					fmt.Fprintf(w, "Keywords:    %s\n", strings.Join(s.Keywords, ", "))
				}
				fmt.Fprintf(w, "Summary run: %s (%s)\n", s.SummaryRunID, s.Model)
			}
			if meta.Coherence != nil || meta.Quality != "" || len(meta.Flags) > 0 || meta.Notes != "" {
				fmt.Fprintf(w, "Annotations: coherence=%v quality=%s flags=%s notes=%s\n", deref(meta.Coherence), meta.Quality, strings.Join(meta.Flags, ","), meta.Notes)
			}
			printQueries(w, qs, conf)
			return nil
		},
	}
	inspect.Flags().IntVar(&showQueries, "show-queries", 10, "number of queries to show")
	inspect.Flags().StringVar(&iSummary, "summary-run-id", "", "summary run to show")
	inspect.Flags().StringVar(&iAlias, "alias", "", "summary run alias to show")

	compare := &cobra.Command{
		Use:   "compare-runs RUN_A RUN_B",
		Short: "Agreement of two runs over the queries both assigned: ARI, NMI, V-measure",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			db, err := openStore(cmd, g)
			if err != nil {
				return err
			}
			ag, err := analysis.CompareRuns(cmd.Context(), db, args[0], args[1])
			if err != nil {
				return err
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), ag)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s vs %s over %d shared queries\nARI %.4f  NMI %.4f  V-measure %.4f  homogeneity %.4f  completeness %.4f\n",
				ag.RunA, ag.RunB, ag.SharedQueries, ag.ARI, ag.NMI, ag.VMeasure, ag.Homogeneity, ag.Completeness)
			return nil
		},
	}
	root.AddCommand(list, inspect, compare)
}

func deref(p *int) any {
	if p == nil {
		return "-"
	}
	return *p
}

// printQueries prints queries as a table with confidences when given.
func printQueries(w io.Writer, qs []lmsys.Query, conf map[int64]float64) {
	tw := tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
	fmt.Fprintln(tw, "QUERY ID\tCONF\tLANGUAGE\tMODEL\tTEXT")
	for _, q := range qs {
		c := "-"
		if v, ok := conf[q.ID]; ok {
			c = fmt.Sprintf("%.2f", v)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", q.ID, c, q.Language, q.Model, snippet(q.Text, 100))
	}
	tw.Flush()
}
