package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/lmsys-go/lmsys"
	"github.com/spf13/cobra"
)

func init() {
	commandRegistrars = append(commandRegistrars, registerRuns)
}

func registerRuns(root *cobra.Command, g *globals) {
	var latest bool
	cmd := &cobra.Command{
		Use:   "runs",
		Short: "List clustering runs, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			db, err := openStore(cmd, g)
			if err != nil {
				return err
			}
			runs, err := db.ListRuns(cmd.Context())
			if err != nil {
				return err
			}
			if latest && len(runs) > 1 {
				runs = runs[:1]
			}
			if g.json {
				if latest {
					if len(runs) == 0 {
						return printJSON(cmd.OutOrStdout(), nil)
					}
					return printJSON(cmd.OutOrStdout(), runs[0])
				}
				return printJSON(cmd.OutOrStdout(), runs)
			}
			w := cmd.OutOrStdout()
			if len(runs) == 0 {
				fmt.Fprintln(w, "No clustering runs yet: run `lmsys cluster kmeans --n-clusters 50` after loading queries.")
				return nil
			}
			tw := tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
			fmt.Fprintln(tw, "RUN ID\tALGORITHM\tCLUSTERS\tQUERIES\tSTATUS\tEMBEDDING SPACE\tCREATED\tDESCRIPTION")
			for _, r := range runs {
				fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\t%s\t%s\n", r.ID, r.Algorithm, r.NumClusters, r.NumQueries, r.Status,
					spaceString(r.Space), r.CreatedAt.Local().Format("2006-01-02 15:04"), r.Description)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&latest, "latest", false, "show only the most recent run")
	root.AddCommand(cmd)
}

func spaceString(s lmsys.Space) string {
	if s.IsZero() {
		return "-"
	}
	return s.String()
}
