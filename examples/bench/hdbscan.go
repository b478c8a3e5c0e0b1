package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/lmsys-go/lmsys/clustering"
	"github.com/lmsys-go/lmsys/internal/vec"
)

func init() {
	subcommands["hdbscan"] = subcommand{
		summary: "HDBSCAN wall time as n grows (5k…40k) on embedding-like unit vectors or the first n rows of a .npy",
		run:     runHDBSCAN,
	}
}

// embeddedLike returns n unit vectors in d dimensions around c random centres (the
// shape of make_blobs.py: centre + 0.9·noise per dimension, then normalised) with
// their centre ids; centre sizes follow a Zipf-like spread as query topics do.
func embeddedLike(seed uint64, n, d, c int) ([]float32, []int) {
	r := rand.New(rand.NewPCG(seed, 7))
	centres := make([]float32, c*d)
	for i := range centres {
		centres[i] = float32(r.NormFloat64())
	}
	weights := make([]float64, c)
	var total float64
	for i := range weights {
		weights[i] = 1 / float64(i+1)
		total += weights[i]
	}
	data := make([]float32, n*d)
	labels := make([]int, n)
	for i := 0; i < n; i++ {
		u := r.Float64() * total
		l := 0
		for ; l < c-1 && u > weights[l]; l++ {
			u -= weights[l]
		}
		labels[i] = l
		row := data[i*d : (i+1)*d]
		for j := range row {
			row[j] = centres[l*d+j] + 0.9*float32(r.NormFloat64())
		}
		vec.Normalize(row)
	}
	return data, labels
}

func runHDBSCAN(ctx context.Context, args []string, r *reporter) error {
	fs := flag.NewFlagSet("hdbscan", flag.ContinueOnError)
	in := fs.String("in", "", "optional .npy float32 matrix; its first n rows are used (default: synthetic embedding-like data)")
	sizes := fs.String("sizes", "5000,10000,20000,40000", "comma-separated row counts")
	d := fs.Int("d", 256, "synthetic data: dimension")
	centres := fs.Int("centres", 50, "synthetic data: number of topics")
	mcs := fs.Int("min-cluster-size", 25, "HDBSCAN min_cluster_size")
	ms := fs.Int("min-samples", 10, "HDBSCAN min_samples")
	pca := fs.Int("pca", 0, "project onto this many principal components first (0: no PCA)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var ns []int
	for _, s := range strings.Split(*sizes, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || v < 2 {
			return fmt.Errorf("hdbscan: bad size %q", s)
		}
		ns = append(ns, v)
	}
	maxN := 0
	for _, v := range ns {
		maxN = max(maxN, v)
	}
	var data []float32
	var truth []int
	dim := *d
	if *in != "" {
		var n int
		var err error
		data, n, dim, err = readNPY(*in)
		if err != nil {
			return err
		}
		if n < maxN {
			return fmt.Errorf("hdbscan: %s has %d rows, fewer than %d", *in, n, maxN)
		}
	} else {
		data, truth = embeddedLike(1, maxN, dim, *centres)
	}
	for _, n := range ns {
		runtime.GC()
		h := &clustering.HDBSCAN{MinClusterSize: *mcs, MinSamples: *ms, PCADims: *pca}
		start := time.Now()
		res, err := h.ClusterMatrix(ctx, data[:n*dim], n, dim)
		if err != nil {
			return err
		}
		wall := since(start)
		k := len(res.Centroids)
		row := []any{"n", n, "d", dim, "pca", *pca, "wall_s", wall, "clusters", k,
			"noise_frac", float64(res.Noise) / float64(n)}
		if truth != nil {
			s, err := clustering.Evaluate(truth[:n], res.Labels)
			if err != nil {
				return err
			}
			row = append(row, "ari", s.ARI, "nmi", s.NMI)
		}
		row = append(row, "peak_rss_mb", PeakRSSMB())
		r.Row(row...)
	}
	return nil
}
