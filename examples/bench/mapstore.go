package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/store"
)

func init() {
	subcommands["mapstore"] = subcommand{
		summary: "a store of N queries for lmsys map at scale: a run's vectors copied with noise, each copy in its original's cluster",
		run:     runMapStore,
	}
}

// runMapStore writes a new SQLite store whose one run holds -n queries: the vectors of
// the run -run in -from, each used over and over, every copy after the first with
// Gaussian noise of norm -noise and normalised, assigned to its original's cluster.
// Building a million USE-lite embeddings takes hours here; this takes a minute, and
// keeps the run's real cluster structure.
func runMapStore(ctx context.Context, args []string, r *reporter) error {
	fs := flag.NewFlagSet("mapstore", flag.ContinueOnError)
	from := fs.String("from", "", "the SQLite store to copy from (required)")
	runID := fs.String("run", "", "the run whose vectors and clusters are copied (required)")
	out := fs.String("out", "", "the new SQLite store (required; must not exist)")
	n := fs.Int("n", 1000000, "queries in the new store")
	noise := fs.Float64("noise", 1.5, "norm of the noise added to each copy (the vectors are unit length)")
	seed := fs.Uint64("seed", 1, "noise seed")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *from == "" || *runID == "" || *out == "" {
		return errors.New("-from, -run and -out are required")
	}
	start := time.Now()
	src, err := store.Open(ctx, store.Config{Path: *from})
	if err != nil {
		return err
	}
	defer src.Close()
	run, err := src.GetRun(ctx, *runID)
	if err != nil {
		return err
	}
	as, err := src.Assignments(ctx, *runID, nil)
	if err != nil {
		return err
	}
	cluster := make(map[int64]int, len(as))
	for _, a := range as {
		cluster[a.QueryID] = a.ClusterID
	}
	var vs [][]float32
	var cs []int
	err = src.ScanQueryVectors(ctx, run.Space, lmsys.QueryFilter{RunID: *runID}, 5000, func(ids []int64, batch [][]float32) error {
		for i, v := range batch {
			vs = append(vs, append([]float32(nil), v...))
			cs = append(cs, cluster[ids[i]])
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(vs) == 0 {
		return fmt.Errorf("run %s has no vectors in %s", *runID, *from)
	}
	dst, err := store.Open(ctx, store.Config{Path: *out})
	if err != nil {
		return err
	}
	defer dst.Close()
	ds, err := dst.EnsureDataset(ctx, lmsys.Dataset{Name: "mapstore", Source: *from})
	if err != nil {
		return err
	}
	newRun := lmsys.Run{ID: fmt.Sprintf("kmeans-%d-20260101-000000", run.NumClusters), Algorithm: "kmeans", NumClusters: run.NumClusters, Space: run.Space,
		Description: fmt.Sprintf("%d copies of %s's vectors with noise %.2f", *n, *runID, *noise)}
	if err := dst.CreateRun(ctx, newRun); err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(*seed, 0x6d6170))
	d := run.Space.Dims
	const batch = 10000
	for lo := 0; lo < *n; lo += batch {
		hi := min(lo+batch, *n)
		qs := make([]lmsys.Query, 0, hi-lo)
		emb := make(map[string][]float32, hi-lo)
		for i := lo; i < hi; i++ {
			text := fmt.Sprintf("mapstore query %d", i)
			qs = append(qs, lmsys.Query{DatasetID: ds.ID, ConversationID: fmt.Sprint(i), Text: text})
			v := vs[i%len(vs)]
			if i >= len(vs) {
				w := make([]float32, d)
				norm := 0.0
				for j, x := range v {
					y := float64(x) + *noise/math.Sqrt(float64(d))*rng.NormFloat64()
					w[j] = float32(y)
					norm += y * y
				}
				for j := range w {
					w[j] /= float32(math.Sqrt(norm))
				}
				v = w
			}
			emb[lmsys.TextHash(text)] = v
		}
		if _, err := dst.InsertQueries(ctx, qs); err != nil {
			return err
		}
		if err := dst.PutEmbeddings(ctx, run.Space, emb); err != nil {
			return err
		}
	}
	// Queries are numbered as inserted; each copy joins its original's cluster.
	var after int64
	for {
		page, err := dst.ListQueries(ctx, lmsys.QueryFilter{AfterID: after, Limit: 50000})
		if err != nil {
			return err
		}
		if len(page) == 0 {
			break
		}
		as := make([]lmsys.Assignment, len(page))
		for t, q := range page {
			var i int
			if _, err := fmt.Sscan(q.ConversationID, &i); err != nil {
				return err
			}
			as[t] = lmsys.Assignment{RunID: newRun.ID, QueryID: q.ID, ClusterID: cs[i%len(vs)]}
		}
		if err := dst.SaveAssignments(ctx, as); err != nil {
			return err
		}
		after = page[len(page)-1].ID
	}
	if err := dst.FinishRun(ctx, newRun.ID, "completed", "", *n); err != nil {
		return err
	}
	r.Row("mapstore", *out, "run", newRun.ID, "n", *n, "from", *runID, "noise", *noise, "seconds", fmt.Sprintf("%.1f", time.Since(start).Seconds()))
	return nil
}
