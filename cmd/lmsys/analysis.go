package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/analysis"
	"github.com/lmsys-go/lmsys/dataset"
	"github.com/lmsys-go/lmsys/embed"
	"github.com/spf13/cobra"
)

func init() {
	commandRegistrars = append(commandRegistrars, registerAnalysis)
}

func registerAnalysis(root *cobra.Command, g *globals) {
	var by, summaryRef, facetPlot, facetSort string
	var top int
	var clusterID int
	var minCount int64
	facets := &cobra.Command{
		Use:   "facets RUN_ID",
		Short: "Counts and shares of a run's queries by metadata or labels (language, model, dataset, refusal …, any extra_metadata key), per cluster, with lift",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			db, err := openStore(cmd, g)
			if err != nil {
				return err
			}
			opts := analysis.FacetOptions{Fields: strings.Split(by, ","), Top: top, MinCount: minCount, SummaryRef: summaryRef, Sort: facetSort}
			if cmd.Flags().Changed("cluster-id") {
				opts.ClusterID = &clusterID
			}
			fs, err := analysis.Facets(cmd.Context(), db, args[0], opts)
			if err != nil {
				return err
			}
			if facetPlot != "" {
				if err := plotFacets(facetPlot, args[0], fs); err != nil {
					return err
				}
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), map[string]any{"run_id": args[0], "facets": fs})
			}
			w := cmd.OutOrStdout()
			for _, f := range fs {
				fmt.Fprintf(w, "== %s (%d queries)\nOverall:\n", f.Field, f.Total)
				tw := tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
				for _, v := range f.Overall {
					fmt.Fprintf(tw, "  %s\t%d\t%5.1f%%\n", v.Key, v.Count, 100*v.Share)
				}
				tw.Flush()
				if opts.ClusterID != nil {
					for _, c := range f.Clusters {
						fmt.Fprintf(w, "Cluster %d %s (%d queries):\n", c.ClusterID, c.Title, c.Size)
						tw := tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
						for _, v := range c.Values {
							fmt.Fprintf(tw, "  %s\t%d\t%5.1f%%\n", v.Key, v.Count, 100*v.Share)
						}
						tw.Flush()
					}
				}
				if len(f.OverRepresented) > 0 {
					fmt.Fprintln(w, "Most over-represented (lift = share in cluster / share overall; z counts the evidence):")
					tw := tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
					fmt.Fprintln(tw, "  CLUSTER\tVALUE\tCOUNT/SIZE\tSHARE\tOVERALL\tLIFT\tZ\tTITLE")
					for _, l := range f.OverRepresented {
						fmt.Fprintf(tw, "  %d\t%s\t%d/%d\t%5.1f%%\t%5.1f%%\t%.2f\t%.1f\t%s\n", l.ClusterID, l.Value, l.Count, l.ClusterSize,
							100*l.Share, 100*l.BaseShare, l.Lift, l.Z, snippet(l.Title, 50))
					}
					tw.Flush()
				}
				fmt.Fprintln(w)
			}
			return nil
		},
	}
	facets.Flags().StringVar(&by, "by", "language,model", "comma-separated facets: language, model, dataset, classified facets (refusal, pushback, code …; see lmsys classifications), or extra_metadata keys")
	facets.Flags().StringVar(&facetSort, "sort", "z", "order of the over-represented list: z (strongest evidence), lift (largest ratio) or count")
	facets.Flags().StringVar(&facetPlot, "plot", "", "draw each facet's overall shares as bars to this .png or .svg (FILE-FIELD.png when several)")
	facets.Flags().IntVar(&top, "top", 10, "values and lifts listed per facet")
	facets.Flags().IntVar(&clusterID, "cluster-id", 0, "show one cluster's breakdown")
	facets.Flags().Int64Var(&minCount, "min-count", 5, "smallest count a lift is reported for")
	facets.Flags().StringVar(&summaryRef, "summary-run-id", "", "summary run (id or alias) titles come from")

	var period, field, datasetsFlag, trendPlot, trendLabel string
	var compare []string
	var tTop int
	trends := &cobra.Command{
		Use:   "trends RUN_ID",
		Short: "Each cluster's share per hour/day/week/month; --compare A B lists risers, fallers, new and vanished clusters",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			db, err := openStore(cmd, g)
			if err != nil {
				return err
			}
			opts := analysis.TrendOptions{Period: period, Field: field, SummaryRef: summaryRef, Top: tTop, Label: trendLabel}
			ctx := cmd.Context()
			if datasetsFlag != "" || len(compare) > 0 {
				var cmp analysis.Comparison
				if datasetsFlag != "" {
					parts := strings.Split(datasetsFlag, ",")
					if len(parts) != 2 {
						return usagef("--compare-datasets takes two dataset names: A,B")
					}
					cmp, err = analysis.CompareDatasets(ctx, db, args[0], parts[0], parts[1], opts)
				} else {
					if len(compare) != 2 {
						return usagef("--compare takes two periods, e.g. --compare 2026-09,2026-10")
					}
					cmp, err = analysis.ComparePeriods(ctx, db, args[0], compare[0], compare[1], opts)
				}
				if err != nil {
					return err
				}
				if g.json {
					return printJSON(cmd.OutOrStdout(), cmp)
				}
				w := cmd.OutOrStdout()
				fmt.Fprintf(w, "Run %s: %s %s (%d queries) vs %s (%d queries)\n", cmp.RunID, cmp.By, cmp.A, cmp.TotalA, cmp.B, cmp.TotalB)
				for _, sec := range []struct {
					name string
					cs   []analysis.Change
				}{{"Risers", cmp.Risers}, {"Fallers", cmp.Fallers}, {"New", cmp.New}, {"Vanished", cmp.Vanished}} {
					if len(sec.cs) == 0 {
						continue
					}
					fmt.Fprintf(w, "\n%s\n", sec.name)
					tw := tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
					fmt.Fprintln(tw, "  CLUSTER\tA\tB\tSHARE A\tSHARE B\tZ\tP\tTITLE")
					for _, c := range sec.cs {
						fmt.Fprintf(tw, "  %d\t%d\t%d\t%5.1f%%\t%5.1f%%\t%.1f\t%.2g\t%s\n", c.ClusterID, c.CountA, c.CountB, 100*c.ShareA, 100*c.ShareB, c.Z, c.P, snippet(c.Title, 50))
					}
					tw.Flush()
				}
				return nil
			}
			rep, err := analysis.Trends(ctx, db, args[0], opts)
			if err != nil {
				return err
			}
			if trendPlot != "" {
				if err := plotTrends(trendPlot, rep, tTop); err != nil {
					return err
				}
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), rep)
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "Run %s: share of each cluster per %s (%s)", rep.RunID, rep.Period, rep.Field)
			if rep.Undated > 0 {
				fmt.Fprintf(w, "; %d queries without a time left out", rep.Undated)
			}
			fmt.Fprintln(w)
			tw := tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
			fmt.Fprint(tw, "CLUSTER")
			for _, p := range rep.Periods {
				fmt.Fprintf(tw, "\t%s", p)
			}
			fmt.Fprintln(tw, "\tTITLE")
			fmt.Fprint(tw, "(queries)")
			for _, n := range rep.Totals {
				fmt.Fprintf(tw, "\t%d", n)
			}
			fmt.Fprintln(tw, "\t")
			for _, c := range rep.Clusters {
				fmt.Fprintf(tw, "%d", c.ClusterID)
				for _, p := range c.Periods {
					fmt.Fprintf(tw, "\t%4.1f%%", 100*p.Share)
				}
				fmt.Fprintf(tw, "\t%s\n", snippet(c.Title, 50))
			}
			return tw.Flush()
		},
	}
	trends.Flags().StringVar(&period, "period", "week", "hour, day, week or month")
	trends.Flags().StringVar(&trendPlot, "plot", "", "draw the share over time of the --top largest clusters to this .png or .svg")
	trends.Flags().StringVar(&field, "field", "timestamp", "time field: timestamp, or an extra_metadata key")
	trends.Flags().StringSliceVar(&compare, "compare", nil, "two periods to compare, e.g. 2026-09,2026-10 or 2026-W36,2026-W40")
	trends.Flags().StringVar(&datasetsFlag, "compare-datasets", "", "compare two datasets' queries instead of periods: A,B")
	trends.Flags().IntVar(&tTop, "top", 10, "clusters listed per section of a comparison")
	trends.Flags().StringVar(&summaryRef, "summary-run-id", "", "summary run (id or alias) titles come from")
	trends.Flags().StringVar(&trendLabel, "label", "", "count only queries with this label, facet=value (e.g. refusal=refused; for a list facet, an item: languages=fr)")

	var source, textField, idField, dsName string
	var percentile float64
	assign := &cobra.Command{
		Use:   "assign RUN_ID",
		Short: "Load new queries and assign each to the run's nearest cluster; ones far from every cluster are flagged and grouped as new-cluster candidates",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if source == "" {
				return usagef("--source is required")
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
			e, err := embed.Open(run.Space.Name(), embed.WithDims(run.Space.Dims))
			if err != nil {
				return fmt.Errorf("run %s was embedded with %s: %w", run.ID, run.Space, err)
			}
			src, err := dataset.OpenFile(source, dataset.Mapping{Text: textField, ID: idField})
			if err != nil {
				return usageError{err}
			}
			p := newProgress(cmd)
			ls, err := dataset.Load(ctx, src, db, dataset.LoadOptions{DatasetName: dsName, Progress: p.Func()})
			p.finish()
			if err != nil {
				return err
			}
			res, err := analysis.Assign(ctx, db, run.ID, embed.Cached(e, db), analysis.AssignOptions{
				Filter: lmsys.QueryFilter{Dataset: ls.Dataset}, Percentile: percentile, SummaryRef: summaryRef, Progress: p.Func()})
			p.finish()
			if err != nil {
				return err
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), map[string]any{"load": ls, "assign": res})
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "Loaded %d new queries into dataset %s (%d already there).\n", ls.Inserted, ls.Dataset, ls.Existing)
			fmt.Fprintf(w, "Assigned %d to clusters of %s, %d fit no cluster (cosine distance > %.3f), %d were assigned before.\n",
				res.Assigned, run.ID, res.NotFitting, res.Threshold, res.Skipped)
			tw := tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
			for i, c := range res.Clusters {
				if i == 15 {
					fmt.Fprintf(tw, "  … %d more clusters\n", len(res.Clusters)-15)
					break
				}
				fmt.Fprintf(tw, "  %d\t%d\t%s\n", c.ClusterID, c.Count, snippet(c.Title, 60))
			}
			tw.Flush()
			for i, c := range res.Candidates {
				fmt.Fprintf(w, "New-cluster candidate %d (%d queries):\n", i+1, c.Size)
				for _, ex := range c.Examples {
					fmt.Fprintf(w, "  · %s\n", snippet(ex, 100))
				}
			}
			return nil
		},
	}
	assign.Flags().StringVar(&source, "source", "", "file of new queries (JSONL, JSON, CSV, Parquet, chat-shaped rows)")
	assign.Flags().StringVar(&textField, "text-field", "", "field holding the text")
	assign.Flags().StringVar(&idField, "id-field", "", "field holding the conversation id")
	assign.Flags().StringVar(&dsName, "dataset-name", "", "dataset the new queries load under (default: from the file name)")
	assign.Flags().Float64Var(&percentile, "percentile", 0.95, "in-cluster distance percentile beyond which a query fits no cluster")
	assign.Flags().StringVar(&summaryRef, "summary-run-id", "", "summary run (id or alias) titles come from")
	root.AddCommand(facets, trends, assign)
}
