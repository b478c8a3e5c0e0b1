package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"math"
	"os"
	"runtime"
	"time"

	"codeberg.org/sbinet/npyio/npy"

	"github.com/lmsys-go/lmsys/clustering"
	"github.com/lmsys-go/lmsys/internal/vec"
)

func init() {
	subcommands["kmeans"] = subcommand{
		summary: "k-means (Lloyd or mini-batch) on a NumPy .npy float32 matrix: wall seconds, inertia, peak RSS",
		run:     runKMeans,
	}
}

// readNPY reads a 2-D float32 .npy file into one row-major slice.
func readNPY(path string) ([]float32, int, int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, 0, err
	}
	defer f.Close()
	r, err := npy.NewReader(bufio.NewReaderSize(f, 1<<20))
	if err != nil {
		return nil, 0, 0, fmt.Errorf("%s: %w", path, err)
	}
	shape := r.Header.Descr.Shape
	if len(shape) != 2 || shape[0] <= 0 || shape[1] <= 0 {
		return nil, 0, 0, fmt.Errorf("%s: want a 2-D matrix, shape is %v", path, shape)
	}
	if r.Header.Descr.Fortran {
		return nil, 0, 0, fmt.Errorf("%s: Fortran-ordered arrays are not supported", path)
	}
	data := make([]float32, shape[0]*shape[1])
	if err := r.Read(&data); err != nil {
		return nil, 0, 0, fmt.Errorf("%s: %w", path, err)
	}
	return data, shape[0], shape[1], nil
}

// sliceSource streams the rows of an in-memory matrix in chunks, standing in for the
// Store in the mini-batch benchmark.
type sliceSource struct {
	data []float32
	n, d int
}

func (s sliceSource) Scan(ctx context.Context, batch int, fn func(ids []int64, vecs [][]float32) error) error {
	ids := make([]int64, 0, batch)
	vs := make([][]float32, 0, batch)
	for i0 := 0; i0 < s.n; i0 += batch {
		if err := ctx.Err(); err != nil {
			return err
		}
		ids, vs = ids[:0], vs[:0]
		for i := i0; i < min(i0+batch, s.n); i++ {
			ids = append(ids, int64(i))
			vs = append(vs, s.data[i*s.d:(i+1)*s.d])
		}
		if err := fn(ids, vs); err != nil {
			return err
		}
	}
	return nil
}

// inertiaOf sums the squared distance of each row to its nearest centre, the same
// way for every algorithm (and as the peers' script does).
func inertiaOf(ctx context.Context, data []float32, n, d int, cents [][]float32) (float64, error) {
	flat := make([]float32, 0, len(cents)*d)
	for _, c := range cents {
		flat = append(flat, c...)
	}
	p := vec.NewPanel(flat, len(cents), d)
	idx := make([]int32, n)
	d1 := make([]float32, n)
	if err := p.Nearest(ctx, data, n, nil, idx, d1, nil, 0); err != nil {
		return 0, err
	}
	var s float64
	for _, v := range d1 {
		s += float64(v)
	}
	return s, nil
}

func runKMeans(ctx context.Context, args []string, r *reporter) error {
	fs := flag.NewFlagSet("kmeans", flag.ContinueOnError)
	in := fs.String("in", "", "NumPy .npy float32 matrix (rows are vectors)")
	k := fs.Int("k", 200, "number of clusters")
	algo := fs.String("algo", "lloyd", "lloyd or minibatch")
	iter := fs.Int("iter", 0, "max Lloyd iterations (lloyd, default 100) or passes (minibatch, default 2)")
	seed := fs.Uint64("seed", 42, "random seed")
	nInit := fs.Int("n-init", 0, "inits kept by lowest inertia (0: the algorithm's default, 1 for lloyd, 3 for minibatch)")
	sample := fs.Int("sample", -1, "lloyd: iterate on this many sampled rows then label all (0 = all rows; -1 = 256·k like FAISS)")
	refine := fs.Int("refine", 0, "lloyd with -sample: Lloyd iterations over all rows after the sampled ones")
	seedSample := fs.Int("seed-sample", 0, "rows k-means++ seeding looks at (0: the algorithm's default)")
	batch := fs.Int("batch", 8192, "minibatch: mini-batch size")
	chunk := fs.Int("chunk", 65536, "minibatch: rows per streamed chunk")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *in == "" {
		return fmt.Errorf("kmeans: -in X.npy is required")
	}
	data, n, d, err := readNPY(*in)
	if err != nil {
		return err
	}
	runtime.GC()
	matrixMB := float64(len(data)) * 4 / (1 << 20)
	rssBefore := PeakRSSMB()
	var cents [][]float32
	var reported float64
	start := time.Now()
	switch *algo {
	case "lloyd":
		ts := *sample
		if ts < 0 {
			ts = 256 * *k
		}
		km := &clustering.KMeans{K: *k, MaxIter: *iter, NInit: *nInit, Seed: *seed, TrainSample: ts, RefineIters: *refine, SeedSample: *seedSample}
		res, err := km.ClusterMatrix(ctx, data, n, d)
		if err != nil {
			return err
		}
		cents, reported = res.Centroids, res.Inertia
		r.Row("phase", "fit", "iterations", res.Iterations, "converged", res.Converged)
	case "minibatch":
		// The rows are in memory already, as float32: a half-float copy would only add memory.
		mb := &clustering.MiniBatch{K: *k, BatchSize: *batch, ChunkSize: *chunk, Passes: *iter, Seed: *seed, NInit: *nInit, SeedSample: *seedSample,
			MatrixBudget: -1}
		var labelled int
		res, err := mb.Fit(ctx, sliceSource{data, n, d}, func(id int64, label int, conf float32) error {
			labelled++
			return nil
		})
		if err != nil {
			return err
		}
		cents, reported = res.Centroids, res.Inertia
		if labelled != n {
			return fmt.Errorf("minibatch labelled %d of %d rows", labelled, n)
		}
	default:
		return fmt.Errorf("kmeans: unknown -algo %q (lloyd or minibatch)", *algo)
	}
	wall := since(start)
	inertia, err := inertiaOf(ctx, data, n, d, cents)
	if err != nil {
		return err
	}
	if math.Abs(inertia-reported) > 1e-3*inertia {
		r.Row("warning", "reported inertia differs", "reported", reported)
	}
	r.Row("algo", *algo, "n", n, "d", d, "k", *k, "wall_s", wall, "inertia", fmt.Sprintf("%.0f", inertia),
		"peak_rss_mb", PeakRSSMB(), "rss_before_fit_mb", rssBefore, "matrix_mb", matrixMB)
	return nil
}
