package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/lmsys-go/lmsys"
)

func init() {
	commandRegistrars = append(commandRegistrars, registerList)
}

func registerList(root *cobra.Command, g *globals) {
	var f lmsys.QueryFilter
	cmd := &cobra.Command{
		Use:   "list [--dataset D] [--model M] [--language L] [--contains TEXT] [--limit N] [--offset N]",
		Short: "List loaded queries, filtered and paginated",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.Limit <= 0 {
				return usagef("--limit must be positive, not %d", f.Limit)
			}
			if f.Offset < 0 {
				return usagef("--offset must not be negative")
			}
			db, err := openStore(cmd, g)
			if err != nil {
				return err
			}
			total, err := db.CountQueries(cmd.Context(), f)
			if err != nil {
				return err
			}
			qs, err := db.ListQueries(cmd.Context(), f)
			if err != nil {
				return err
			}
			if g.json {
				if qs == nil {
					qs = []lmsys.Query{}
				}
				return printJSON(cmd.OutOrStdout(), map[string]any{"total": total, "limit": f.Limit, "offset": f.Offset, "queries": qs})
			}
			w := cmd.OutOrStdout()
			if len(qs) == 0 {
				fmt.Fprintf(w, "No queries match (%d in total).\n", total)
				return nil
			}
			tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tMODEL\tLANGUAGE\tQUERY")
			for _, q := range qs {
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", q.ID, q.Model, q.Language, oneLine(q.Text, 90))
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			fmt.Fprintf(w, "\nShowing %d–%d of %d.\n", f.Offset+1, f.Offset+len(qs), total)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.Dataset, "dataset", "", "only queries of this dataset")
	fl.StringVar(&f.Model, "model", "", "only queries answered by this model")
	fl.StringVar(&f.Language, "language", "", "only queries in this language (as stored, e.g. English)")
	fl.StringVar(&f.Contains, "contains", "", "only queries containing this text (case-insensitive)")
	fl.IntVar(&f.Limit, "limit", 20, "how many queries to show")
	fl.IntVar(&f.Offset, "offset", 0, "how many matching queries to skip first")
	root.AddCommand(cmd)
}
