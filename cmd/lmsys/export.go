package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lmsys-go/lmsys/dataset"
)

func init() {
	commandRegistrars = append(commandRegistrars, registerExport)
}

func registerExport(root *cobra.Command, g *globals) {
	var opts dataset.ExportOptions
	var output string
	cmd := &cobra.Command{
		Use:   "export --format csv|json|jsonl|parquet --output FILE [--run-id ID]",
		Short: "Export queries (with a run's clusters and titles, and every classifier label) as CSV, JSON, JSON Lines or Parquet",
		Example: `  lmsys export --format csv --output queries.csv
  lmsys export --format parquet --output run.parquet --run-id kmeans-200-20260105-101010`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Format == "" && output != "" && output != "-" {
				opts.Format = strings.TrimPrefix(filepath.Ext(output), ".")
			}
			if !slices.Contains(dataset.ExportFormats, opts.Format) {
				return usagef("--format %q: want one of %s", opts.Format, strings.Join(dataset.ExportFormats, ", "))
			}
			if output == "" {
				return usagef("--output FILE is required (use - for standard output)")
			}
			if output == "-" && opts.Format == dataset.FormatParquet {
				return usagef("Parquet is binary: write it to a file with --output FILE")
			}
			db, err := openStore(cmd, g)
			if err != nil {
				return err
			}
			var w io.Writer = cmd.OutOrStdout()
			var tmp *os.File
			if output != "-" {
				// Write to a temporary file beside the target and rename it at the end, so
				// a failed export leaves no half-written file.
				tmp, err = os.CreateTemp(filepath.Dir(output), "."+filepath.Base(output)+".*.tmp")
				if err != nil {
					return err
				}
				defer os.Remove(tmp.Name())
				defer tmp.Close()
				w = tmp
			}
			n, err := dataset.Export(cmd.Context(), db, w, opts)
			if err != nil {
				return err
			}
			if tmp != nil {
				if err := tmp.Close(); err != nil {
					return err
				}
				if err := os.Rename(tmp.Name(), output); err != nil {
					return err
				}
			}
			if output == "-" {
				return nil
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), map[string]any{"output": output, "format": opts.Format, "rows": n, "run_id": opts.RunID})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Exported %d queries to %s (%s).\n", n, output, opts.Format)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Format, "format", "", "csv, json, jsonl or parquet (default: from the output file's extension)")
	f.StringVarP(&output, "output", "o", "", "file to write, or - for standard output")
	f.StringVar(&opts.RunID, "run-id", "", "export only this run's assigned queries, with cluster ids and titles")
	f.StringVar(&opts.SummaryRef, "summary", "", "summary run id or alias the titles come from (default: the latest)")
	f.StringVar(&opts.Filter.Dataset, "dataset", "", "only queries of this dataset")
	f.StringVar(&opts.Filter.Model, "model", "", "only queries answered by this model")
	f.StringVar(&opts.Filter.Language, "language", "", "only queries in this language")
	f.StringVar(&opts.Filter.Contains, "contains", "", "only queries containing this text")
	f.BoolVar(&opts.Conversations, "conversations", false, "add each query's whole conversation (every turn) as \"conversation\"")
	root.AddCommand(cmd)
}
