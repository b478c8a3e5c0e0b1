package main

import (
	"fmt"
	"time"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/embed"
	"github.com/spf13/cobra"
)

func init() {
	commandRegistrars = append(commandRegistrars, registerEmbed)
}

// embedResult is the stable JSON answer of `lmsys embed --json`.
type embedResult struct {
	Space    string  `json:"embedding_space"`
	Dataset  string  `json:"dataset,omitempty"`
	Embedded int64   `json:"embedded"`
	Cached   int64   `json:"cached"`
	Failed   int64   `json:"failed"`
	Seconds  float64 `json:"seconds"`
	Error    string  `json:"error,omitempty"`
}

func registerEmbed(root *cobra.Command, g *globals) {
	var o embeddingOptions
	var dataset string
	cmd := &cobra.Command{
		Use:   "embed",
		Short: "Embed the queries that have no embedding yet in the chosen space (resumable; cached texts cost nothing)",
		Long: `Embed every query of the database (or of one --dataset) that has no vector yet in the
embedding space of --embedding-model, and store the vectors. Texts already embedded in
that space, and repeated texts, are not embedded again, so the command can be stopped
and re-run at any time. The default model, local/use-lite-i8 (USE-lite with 8-bit dense layers), runs offline.

Remote providers read their usual variables: CO_API_KEY or COHERE_API_KEY (and
CO_API_URL), OPENAI_API_KEY and OPENAI_BASE_URL, OLLAMA_HOST.`,
		Example: `  lmsys embed
  lmsys embed --embedding-model local/hybrid
  lmsys embed --embedding-model cohere/embed-v4.0 --embedding-dim 256 --embed-batch-size 96 --rpm 1000
  lmsys embed --embedding-model openai/text-embedding-3-small --base-url http://localhost:4000/v1
  lmsys embed --embedding-model ollama/nomic-embed-text --dataset support-logs --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.dims < 0 || o.batchSize < 0 || o.concurrency < 0 || o.rpm < 0 {
				return usagef("--embedding-dim, --embed-batch-size, --concurrency and --rpm must not be negative")
			}
			ctx := cmd.Context()
			e, err := o.open()
			if err != nil {
				return err
			}
			db, err := openStore(cmd, g)
			if err != nil {
				return err
			}
			f := lmsys.QueryFilter{Dataset: dataset}
			n, err := db.CountQueries(ctx, f)
			if err != nil {
				return err
			}
			if n == 0 {
				if dataset != "" {
					return fmt.Errorf("%w: dataset %q has no queries (see lmsys status)", lmsys.ErrEmpty, dataset)
				}
				return fmt.Errorf("%w: the database has no queries; load some first (lmsys load)", lmsys.ErrEmpty)
			}
			p := newProgress(cmd)
			start := time.Now()
			st, err := embed.Backfill(ctx, db, e, f, embed.BackfillOptions{BatchSize: backfillBatch(o.batchSize), Progress: p.Func()})
			p.finish()
			res := embedResult{Space: e.Space().String(), Dataset: dataset, Embedded: st.Embedded, Cached: st.Cached,
				Failed: st.Failed, Seconds: time.Since(start).Seconds()}
			if err != nil {
				res.Error = err.Error()
			}
			if g.json {
				if perr := printJSON(cmd.OutOrStdout(), res); perr != nil {
					return perr
				}
			} else {
				fmt.Fprintf(cmd.OutOrStdout(), "%s: %d embedded, %d cached, %d failed in %.1fs\n",
					res.Space, res.Embedded, res.Cached, res.Failed, res.Seconds)
			}
			return err
		},
	}
	fs := cmd.Flags()
	addEmbeddingFlags(fs, &o)
	// The short names of the command line, bound to the same options.
	fs.IntVar(&o.concurrency, "concurrency", 0, "embedding requests in flight (same as --embed-concurrency)")
	fs.Float64Var(&o.rpm, "rpm", 0, "embedding requests per minute (same as --embed-rpm)")
	fs.StringVar(&o.baseURL, "base-url", "", "embedding API endpoint (same as --embed-base-url)")
	fs.StringVar(&dataset, "dataset", "", "embed only this dataset's queries")
	root.AddCommand(cmd)
}

// backfillBatch returns the number of queries read and committed at a time: at least
// 1024 and a multiple of the request batch, so that requests stay full.
func backfillBatch(requestBatch int) int {
	if requestBatch <= 0 {
		return 1024
	}
	n := requestBatch
	for n < 1024 {
		n += requestBatch
	}
	return n
}
