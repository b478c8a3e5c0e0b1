package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"
	"time"

	"codeberg.org/sbinet/npyio/npy"
	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/layout"
)

func init() {
	subcommands["map"] = subcommand{
		summary: "2-D maps of a labelled set (package layout): seconds, heap and neighbourhood agreement with the labels",
		run:     runMapBench,
	}
}

func runMapBench(ctx context.Context, args []string, r *reporter) error {
	fs := flag.NewFlagSet("map", flag.ContinueOnError)
	in := fs.String("in", "", "labelled JSONL ({text, label} lines, such as hwu64's normalized.jsonl) (required)")
	model := fs.String("model", "local/use-lite", "embedding model")
	limit := fs.Int("limit", 0, "use at most this many labelled rows (0: all)")
	seed := fs.Uint64("seed", 1, "layout seed")
	neighbours := fs.Int("neighbors", 0, "k of the neighbour graph (0: the package default)")
	minDist := fs.Float64("min-dist", 0, "how tightly neighbours pack (0: the package default)")
	epochs := fs.Int("epochs", 0, "gradient descent epochs (0: the package default)")
	k := fs.Int("k", 10, "map neighbours counted by the agreement")
	negatives := fs.Int("negative-samples", 0, "random pairs pushed apart per attraction (0: the package default)")
	vectorsFile := fs.String("vectors", "", "keep the embeddings in this .npy file: read it when it exists, write it otherwise (tuning runs skip the embedding)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *in == "" {
		return errors.New("-in is required: a labelled JSONL file")
	}
	rows, err := eqRead(*in)
	if err != nil {
		return err
	}
	var texts, labels []string
	for _, row := range rows {
		if row.Label != "" && (*limit == 0 || len(texts) < *limit) {
			texts = append(texts, row.Text)
			labels = append(labels, row.Label)
		}
	}
	e, err := eqEmbedder(*model)
	if err != nil {
		return err
	}
	d := e.Space().Dims
	data, embedS, err := cachedEmbeddings(ctx, *vectorsFile, e, texts)
	if err != nil {
		return err
	}
	vs := make([][]float32, len(texts))
	for i := range vs {
		vs[i] = data[i*d : (i+1)*d]
	}
	stages := map[string]time.Time{}
	var order []string
	opts := layout.Options{Seed: *seed, Neighbors: *neighbours, MinDist: *minDist, Epochs: *epochs, NegativeSamples: *negatives, Progress: func(p lmsys.Progress) {
		if _, ok := stages[p.Stage]; !ok {
			stages[p.Stage] = time.Now()
			order = append(order, p.Stage)
		}
	}}
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	pts, err := layout.Compute(ctx, vs, opts)
	if err != nil {
		return err
	}
	total := time.Since(start).Seconds()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	neighbourS := total
	if len(order) == 2 {
		neighbourS = stages[order[1]].Sub(stages[order[0]]).Seconds()
	}
	r.Row("map", *in, "n", len(pts), "model", *model, "embed_s", fmt.Sprintf("%.2f", embedS), "layout_s", fmt.Sprintf("%.2f", total),
		"neighbours_s", fmt.Sprintf("%.2f", neighbourS), "heap_alloc_mb", fmt.Sprintf("%.0f", float64(after.TotalAlloc-before.TotalAlloc)/(1<<20)),
		"agreement", fmt.Sprintf("%.3f", layout.Agreement(pts, labels, *k)))
	return nil
}

// cachedEmbeddings embeds texts, or reads their embeddings from path when it holds
// len(texts) vectors of e's dimension; a fresh embedding is written to path.
func cachedEmbeddings(ctx context.Context, path string, e lmsys.Embedder, texts []string) ([]float32, float64, error) {
	d := e.Space().Dims
	if path != "" {
		if f, err := os.Open(path); err == nil {
			defer f.Close()
			var data []float32
			if err := npy.Read(f, &data); err != nil {
				return nil, 0, fmt.Errorf("-vectors %s: %w", path, err)
			}
			if len(data) != len(texts)*d {
				return nil, 0, fmt.Errorf("-vectors %s holds %d values, want %d × %d: remove it to embed again", path, len(data), len(texts), d)
			}
			return data, 0, nil
		}
	}
	data, s, err := eqEmbedAll(ctx, e, texts)
	if err != nil || path == "" {
		return data, s, err
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, 0, err
	}
	if err := npy.Write(f, data); err != nil {
		f.Close()
		return nil, 0, err
	}
	return data, s, f.Close()
}
