package main

import (
	"context"
	"flag"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/clustering"
	"github.com/lmsys-go/lmsys/local"
)

func init() {
	subcommands["cluster"] = subcommand{
		summary: "the analyze pipeline's mini-batch cluster stage alone, on a workspace bench pipeline -dir left behind; -matrix-budget -1 streams every pass from the database",
		run:     runClusterBench,
	}
}

func runClusterBench(ctx context.Context, args []string, r *reporter) error {
	fs := flag.NewFlagSet("cluster", flag.ExitOnError)
	dir := fs.String("dir", "", "workspace directory (holds queries.db), e.g. from bench pipeline -dir (required)")
	model := fs.String("embedding-model", "local/lexical", "embedding model whose vectors are clustered")
	k := fs.Int("k", 200, "number of clusters")
	seed := fs.Uint64("seed", 0, "random seed")
	budget := fs.Int64("matrix-budget", 0, "bytes the in-memory half-float copy of the vectors may take: 0 the default share of memory, -1 none (every pass reads the database)")
	compare := fs.String("compare", "", "a run id: report the NMI and ARI of the new run against it")
	labelField := fs.String("label-field", "", "a metadata field holding each query's true label (lmsys eval keeps label): report the run's NMI and ARI against it")
	keep := fs.Bool("keep", false, "keep the run (default: delete it after measuring)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the run to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" {
		return fmt.Errorf("cluster: -dir is required: %w", lmsys.ErrInvalidInput)
	}
	ws, err := local.Open(ctx, local.Config{Dir: *dir, EmbeddingModel: *model})
	if err != nil {
		return err
	}
	defer ws.Close()
	space := ws.Embedder.Space()
	// The spec of local's cluster stage above 200,000 queries.
	mb := &clustering.MiniBatch{K: *k, Seed: *seed, Spherical: true, MatrixBudget: *budget}
	id := fmt.Sprintf("bench-cluster-%d", time.Now().UnixNano())
	spec := clustering.RunSpec{ID: id, Algorithm: "kmeans", K: *k, Space: space, MiniBatch: mb, Description: "bench cluster"}
	stop, err := startCPUProfile(*cpuProfile)
	if err != nil {
		return err
	}
	debug.FreeOSMemory()
	resetPeak()
	t0 := time.Now()
	cpu0 := selfCPUSeconds()
	run, err := clustering.Run(ctx, ws.Store, spec)
	stop()
	if err != nil {
		return err
	}
	wall, cpu := since(t0), selfCPUSeconds()-cpu0
	if !*keep {
		defer func() { _ = ws.Store.DeleteRun(context.WithoutCancel(ctx), id) }()
	}
	r.Row("stage", "cluster", "queries", run.NumQueries, "k", run.NumClusters, "dims", space.Dims, "matrix_budget", *budget,
		"default_budget_mb", float64(clustering.MemoryBudget())/(1<<20), "seconds", wall, "cpu_s", cpu, "peak_rss_mb", PeakRSSMB(), "run", id)
	if *labelField != "" {
		b, err := labelsOf(ctx, ws, id)
		if err != nil {
			return err
		}
		var truth []string
		var pred []int
		err = ws.Store.ScanQueries(ctx, lmsys.QueryFilter{}, 10000, func(qs []lmsys.Query) error {
			for _, q := range qs {
				l, ok := q.Metadata[*labelField]
				c, assigned := b[q.ID]
				if ok && l != nil && assigned {
					truth, pred = append(truth, fmt.Sprint(l)), append(pred, c)
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		sc, err := clustering.Evaluate(truth, pred)
		if err != nil {
			return err
		}
		r.Row("truth", *labelField, "queries", len(truth), "nmi", sc.NMI, "ari", sc.ARI)
	}
	if *compare != "" {
		a, err := labelsOf(ctx, ws, *compare)
		if err != nil {
			return err
		}
		b, err := labelsOf(ctx, ws, id)
		if err != nil {
			return err
		}
		var x, y []int
		for q, l := range a {
			if m, ok := b[q]; ok {
				x, y = append(x, l), append(y, m)
			}
		}
		nmi, err := clustering.NMI(x, y)
		if err != nil {
			return err
		}
		ari, err := clustering.ARI(x, y)
		if err != nil {
			return err
		}
		r.Row("compare", *compare, "queries", len(x), "nmi", nmi, "ari", ari)
	}
	return nil
}

// labelsOf returns the cluster of every query of a run.
func labelsOf(ctx context.Context, st *local.Workspace, run string) (map[int64]int, error) {
	as, err := st.Store.Assignments(ctx, run, nil)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]int, len(as))
	for _, a := range as {
		out[a.QueryID] = a.ClusterID
	}
	return out, nil
}
