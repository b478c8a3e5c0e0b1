// Command customembedder shows how to bring your own embedding model: implement
// lmsys.Embedder (two methods) and hand it to the library. Here the "model" is a
// toy bag of character trigrams; replace Embed with a call to your own service.
//
//	go run ./examples/customembedder
package main

import (
	"context"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"os"
	"path/filepath"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/clustering"
	"github.com/lmsys-go/lmsys/dataset"
	"github.com/lmsys-go/lmsys/embed"
	"github.com/lmsys-go/lmsys/local"
	"github.com/lmsys-go/lmsys/store"
)

// trigrams is a complete lmsys.Embedder: a Space that names it, and Embed.
type trigrams struct{ dims int }

func (t trigrams) Space() lmsys.Space {
	return lmsys.Space{Provider: "example", Model: "trigrams", Dims: t.dims}
}

func (t trigrams) Embed(ctx context.Context, texts []string, _ lmsys.Purpose) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i, text := range texts {
		v := make([]float32, t.dims)
		r := []rune(" " + text + " ")
		for j := 0; j+3 <= len(r); j++ {
			h := fnv.New32a()
			h.Write([]byte(string(r[j : j+3])))
			v[h.Sum32()%uint32(t.dims)]++
		}
		var norm float64
		for _, x := range v {
			norm += float64(x) * float64(x)
		}
		for k := range v {
			v[k] /= float32(math.Sqrt(norm) + 1e-9)
		}
		out[i] = v
	}
	return out, ctx.Err()
}

func main() {
	dir, err := os.MkdirTemp("", "lmsys-custom-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer os.RemoveAll(dir)
	if err := run(context.Background(), os.Stdout, dir); err != nil {
		fmt.Fprintln(os.Stderr, "customembedder:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, w io.Writer, dir string) error {
	db, err := store.Open(ctx, store.Config{Path: filepath.Join(dir, "queries.db")})
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := dataset.Load(ctx, local.DemoSource(), db, dataset.LoadOptions{}); err != nil {
		return err
	}
	e := trigrams{dims: 256}
	// Backfill caches every vector in the store under the embedder's space.
	stats, err := embed.Backfill(ctx, db, e, lmsys.QueryFilter{}, embed.BackfillOptions{})
	if err != nil {
		return err
	}
	run, err := clustering.Run(ctx, db, clustering.RunSpec{Algorithm: "kmeans", K: 8, Space: e.Space(),
		Clusterer: &clustering.KMeans{K: 8, Seed: 1, Spherical: true}})
	if err != nil {
		return err
	}
	sizes, err := db.ClusterSizes(ctx, run.ID)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "embedded %d texts in %s; run %s has %d clusters: %v\n", stats.Embedded, e.Space(), run.ID, len(sizes), sizes)
	return nil
}
