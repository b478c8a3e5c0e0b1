package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/lmsys-go/lmsys"
	"github.com/spf13/cobra"
)

func init() {
	commandRegistrars = append(commandRegistrars, registerStatus)
}

func registerStatus(root *cobra.Command, g *globals) {
	status := &cobra.Command{
		Use:   "status",
		Short: "Show what the database holds: queries per dataset, language and model; runs; embeddings",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			db, err := openStore(cmd, g)
			if err != nil {
				return err
			}
			st, err := db.Status(cmd.Context())
			if err != nil {
				return err
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), map[string]any{
					"database": db.Where(), "total_queries": st.TotalQueries, "datasets": st.Datasets, "languages": st.Languages,
					"models": st.Models, "clustering_runs": st.Runs, "embeddings": st.Embeddings,
				})
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "Database: %s\nQueries:  %d\nRuns:     %d\n", db.Where(), st.TotalQueries, st.Runs)
			for _, sec := range []struct {
				name string
				cs   []lmsys.Count
			}{{"Datasets", st.Datasets}, {"Languages (top 15)", st.Languages}, {"Models (top 15)", st.Models}, {"Embeddings", st.Embeddings}} {
				if len(sec.cs) == 0 {
					continue
				}
				fmt.Fprintf(w, "\n%s\n", sec.name)
				printCounts(w, sec.cs, 15, st.TotalQueries)
			}
			return nil
		},
	}
	clear := &cobra.Command{
		Use:   "clear",
		Short: "Delete every row of the database (the schema stays); needs --yes",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			yes, _ := cmd.Flags().GetBool("yes")
			if !yes {
				return usagef("clear deletes every query, run, summary and edit: pass --yes to confirm")
			}
			db, err := openStore(cmd, g)
			if err != nil {
				return err
			}
			st, err := db.Status(cmd.Context())
			if err != nil {
				return err
			}
			if err := db.Clear(cmd.Context()); err != nil {
				return err
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), map[string]any{"cleared": true, "database": db.Where(), "queries_deleted": st.TotalQueries, "runs_deleted": st.Runs})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Cleared %s: %d queries and %d runs deleted.\n", db.Where(), st.TotalQueries, st.Runs)
			return nil
		},
	}
	clear.Flags().Bool("yes", false, "confirm deleting everything")
	root.AddCommand(status, clear)
}

// printCounts prints up to limit counts as an aligned table with shares of total.
func printCounts(w interface{ Write([]byte) (int, error) }, cs []lmsys.Count, limit int, total int64) {
	tw := tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
	for i, c := range cs {
		if limit > 0 && i == limit {
			fmt.Fprintf(tw, "  … %d more\t\t\n", len(cs)-limit)
			break
		}
		share := ""
		if total > 0 {
			share = fmt.Sprintf("%5.1f%%", 100*float64(c.Count)/float64(total))
		}
		fmt.Fprintf(tw, "  %s\t%d\t%s\n", strings.ReplaceAll(c.Key, "\n", " "), c.Count, share)
	}
	tw.Flush()
}
