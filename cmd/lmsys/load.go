package main

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lmsys-go/lmsys/dataset"
	"github.com/lmsys-go/lmsys/dataset/demo"
)

func init() {
	commandRegistrars = append(commandRegistrars, registerLoad)
}

func registerLoad(root *cobra.Command, g *globals) {
	var (
		source, hfDataset, datasetName, format string
		limit                                  int64
		batch                                  int
		strict, useDemo                        bool
		m                                      dataset.Mapping
	)
	cmd := &cobra.Command{
		Use:   "load [--source FILE | --hf-dataset owner/name | --demo]",
		Short: "Load first user queries from a log file or a Hugging Face dataset (default lmsys/lmsys-chat-1m)",
		Long: `Load streams rows from a local file (Parquet, JSON Lines, JSON array or CSV, each optionally
gzip-compressed) or from a Hugging Face dataset's Parquet files, keeps the first user query of
each row, and stores it. Chat-shaped rows (LMSYS "conversation", OpenAI "messages", ShareGPT
"conversations") are recognised without flags; other layouts name their columns with the
--*-field flags. Loading is idempotent: rows already stored (same dataset and conversation id)
are counted, not duplicated, so an interrupted load can simply be run again.

The Hugging Face hub needs a token for gated datasets such as LMSYS-Chat-1M: accept the terms at
https://huggingface.co/datasets/lmsys/lmsys-chat-1m and set HF_TOKEN (or run huggingface-cli
login). HF_ENDPOINT and HF_HOME are honoured; files are cached under $HF_HOME/lmsys-go.`,
		Example: `  lmsys load --limit 10000
  lmsys load --source my_logs.jsonl --text-field prompt --id-field id --dataset-name support-bot
  lmsys load --demo`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			n := 0
			for _, set := range []bool{source != "", hfDataset != "", useDemo} {
				if set {
					n++
				}
			}
			if n > 1 {
				return usagef("--source, --hf-dataset and --demo exclude each other")
			}
			if limit < 0 {
				return usagef("--limit must be 0 (no limit) or positive, not %d", limit)
			}
			if hfDataset != "" && (strings.Count(hfDataset, "/") != 1 || strings.HasPrefix(hfDataset, "/") || strings.HasSuffix(hfDataset, "/")) {
				return usagef("--hf-dataset %q: want owner/name, e.g. %s", hfDataset, dataset.DefaultHubDataset)
			}
			if batch < 0 {
				return usagef("--batch-size must be positive, not %d", batch)
			}
			if format != "" && format != dataset.FormatParquet && format != dataset.FormatJSONL && format != dataset.FormatJSON &&
				format != dataset.FormatCSV && format != dataset.FormatTSV {
				return usagef("--format %q: want parquet, jsonl, json, csv or tsv", format)
			}
			prog := newProgress(cmd)
			defer prog.finish()
			var src dataset.Source
			switch {
			case useDemo:
				src = &dataset.ReaderSource{Label: "bundled demo set", Format: dataset.FormatJSONL, Reader: bytes.NewReader(demo.JSONL()), Dataset: demo.DatasetName}
			case source != "":
				fs, err := dataset.OpenFile(source, m)
				if err != nil {
					return err
				}
				fs.Format = format
				src = fs
			default:
				hs := dataset.NewHubSource(hfDataset, m)
				hs.Hub.Progress = prog.Func()
				src = hs
			}
			db, err := openStore(cmd, g)
			if err != nil {
				return err
			}
			stats, err := dataset.Load(cmd.Context(), src, db, dataset.LoadOptions{
				DatasetName: datasetName, Limit: limit, Strict: strict, BatchSize: batch, Progress: prog.Func(),
			})
			prog.finish()
			if err != nil {
				if stats.Inserted > 0 {
					fmt.Fprintf(cmd.ErrOrStderr(), "%d new queries were stored before the error; run the same command again to finish.\n", stats.Inserted)
				}
				return err
			}
			if g.json {
				if stats.Skipped == nil {
					stats.Skipped = map[string]int64{}
				}
				return printJSON(cmd.OutOrStdout(), map[string]any{
					"database": db.Where(), "dataset": stats.Dataset, "source": stats.Source, "rows_read": stats.Rows,
					"queries": stats.Queries, "inserted": stats.Inserted, "already_loaded": stats.Existing,
					"skipped": stats.Skipped, "skipped_total": stats.SkippedTotal(), "repaired_text": stats.Repaired,
					"derived_ids": stats.DerivedIDs, "cut_conversations": stats.CutConversations, "seconds": stats.Seconds,
				})
			}
			w := cmd.OutOrStdout()
			rate := 0.0
			if stats.Seconds > 0 {
				rate = float64(stats.Rows) / stats.Seconds
			}
			fmt.Fprintf(w, "Loaded %d new queries into dataset %q from %s (%d rows read in %.1fs, %.0f rows/s).\n",
				stats.Inserted, stats.Dataset, stats.Source, stats.Rows, stats.Seconds, rate)
			if stats.Existing > 0 {
				fmt.Fprintf(w, "%d queries were already loaded and were left as they are.\n", stats.Existing)
			}
			for _, reason := range slices.Sorted(maps.Keys(stats.CutConversations)) {
				fmt.Fprintf(w, "%d conversations were stored shortened (%s); their query text is whole.\n", stats.CutConversations[reason], reason)
			}
			if stats.Repaired > 0 {
				fmt.Fprintf(w, "%d texts had invalid UTF-8 or NUL bytes repaired.\n", stats.Repaired)
			}
			if len(stats.Skipped) > 0 {
				fmt.Fprintf(w, "Skipped %d rows:\n", stats.SkippedTotal())
				reasons := make([]string, 0, len(stats.Skipped))
				for r := range stats.Skipped {
					reasons = append(reasons, r)
				}
				sort.Slice(reasons, func(i, j int) bool { return stats.Skipped[reasons[i]] > stats.Skipped[reasons[j]] })
				for _, r := range reasons {
					fmt.Fprintf(w, "  %-22s %d\n", r+":", stats.Skipped[r])
				}
			}
			fmt.Fprintf(w, "Database: %s\n", db.Where())
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&source, "source", "", "local file to load (.parquet, .jsonl, .json, .csv, .tsv, optionally .gz)")
	f.StringVar(&hfDataset, "hf-dataset", "", "Hugging Face dataset owner/name (default "+dataset.DefaultHubDataset+")")
	f.BoolVar(&useDemo, "demo", false, "load the bundled demo set ("+fmt.Sprint(len(demo.Queries()))+" queries)")
	f.StringVar(&format, "format", "", "file format when the name does not say: parquet, jsonl, json, csv or tsv")
	f.Int64Var(&limit, "limit", 0, "stop after this many usable queries (0: all)")
	f.IntVar(&batch, "batch-size", dataset.DefaultBatchSize, "queries per batch (batches queued behind the database writer are committed together, up to 25,000 queries)")
	f.StringVar(&datasetName, "dataset-name", "", "dataset name to load under (default: the file's or HF dataset's name)")
	f.BoolVar(&strict, "strict", false, "stop at the first bad row, naming its file and line, instead of skipping it")
	f.StringVar(&m.Text, "text-field", "", "field holding the query text (default: text, query, prompt, … or a chat field)")
	f.StringVar(&m.ID, "id-field", "", "field holding the conversation id (default: conversation_id or id; derived when absent)")
	f.StringVar(&m.Model, "model-field", "", "field holding the model name (default: model)")
	f.StringVar(&m.Language, "language-field", "", "field holding the language (default: language or lang)")
	f.StringVar(&m.Timestamp, "timestamp-field", "", "field holding the timestamp: RFC 3339, a date, or Unix seconds/ms (default: timestamp, tstamp, created_at)")
	f.StringVar(&m.Dataset, "dataset-field", "", "field naming each row's dataset (default: none; all rows go to one dataset)")
	root.AddCommand(cmd)
}

// oneLine shortens text to at most n runes on one line, for tables.
func oneLine(text string, n int) string {
	text = strings.Join(strings.Fields(text), " ")
	r := []rune(text)
	if len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return text
}
