package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"time"

	"codeberg.org/sbinet/npyio/npy"
	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/internal/vec"
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
	method := fs.String("method", "", "full method: tsne or umap (empty: the package default)")
	perplexity := fs.Float64("perplexity", 0, "t-SNE perplexity (0: the package default)")
	exaggeration := fs.Float64("exaggeration", 0, "t-SNE early exaggeration (0: the package default)")
	learningRate := fs.Float64("learning-rate", 0, "t-SNE learning rate (0: the package default)")
	neighbours := fs.Int("neighbors", 0, "k of the UMAP neighbour graph (0: the package default)")
	minDist := fs.Float64("min-dist", 0, "how tightly neighbours pack (0: the package default)")
	epochs := fs.Int("epochs", 0, "gradient descent epochs, t-SNE's iterations (0: the package default)")
	k := fs.Int("k", 10, "map neighbours counted by the agreement")
	negatives := fs.Int("negative-samples", 0, "random pairs pushed apart per attraction (0: the package default)")
	landmarksAbove := fs.Int("landmarks-above", 0, "lay out landmarks and place the rest above this many points (0: the package default, -1: never)")
	landmarks := fs.Int("landmarks", 0, "landmarks laid out in full (0: the package default)")
	placeK := fs.Int("placement-neighbors", 0, "nearest landmarks that place a point (0: the package default)")
	placeEpochs := fs.Int("placement-epochs", 0, "epochs moving each placed point among its landmarks (0: none)")
	placeEf := fs.Int("placement-ef", 0, "beam width of the landmark search (0: the package default)")
	replicate := fs.Int("replicate", 1, "use each labelled vector this many times, the copies with Gaussian noise (a larger labelled set)")
	noise := fs.Float64("noise", 0.3, "norm of the noise added to the copies of -replicate (the vectors are unit length)")
	sample := fs.Int("sample", 5000, "above 20,000 points, score the agreements on this many points (every point's neighbours among all)")
	vectorsFile := fs.String("vectors", "", "keep the embeddings in this .npy file: read it when it exists, write it otherwise (tuning runs skip the embedding)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the layout (not the embedding or the scoring) to this file")
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
	vs, labels = replicated(vs, labels, *replicate, *noise, *seed)
	stages := map[string]time.Time{}
	var order []string
	opts := layout.Options{Method: *method, Perplexity: *perplexity, Exaggeration: *exaggeration, LearningRate: *learningRate, Seed: *seed, Neighbors: *neighbours, MinDist: *minDist, Epochs: *epochs, NegativeSamples: *negatives,
		LandmarksAbove: *landmarksAbove, Landmarks: *landmarks, PlacementNeighbors: *placeK, PlacementEf: *placeEf, PlacementEpochs: *placeEpochs}
	opts.Progress = func(p lmsys.Progress) {
		if _, ok := stages[p.Stage]; !ok {
			stages[p.Stage] = time.Now()
			order = append(order, p.Stage)
		}
	}
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	cpu0 := selfCPUSeconds()
	stopCPU, err := startCPUProfile(*cpuProfile)
	if err != nil {
		return err
	}
	start := time.Now()
	pts, err := layout.Compute(ctx, vs, opts)
	total := time.Since(start).Seconds()
	stopCPU()
	if err != nil {
		return err
	}
	cpu := selfCPUSeconds() - cpu0
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	// Stage seconds: from a stage's first report to the next stage's, the last to the end.
	stageS := func(name string) string {
		for i, s := range order {
			if s == name {
				end := start.Add(time.Duration(total * float64(time.Second)))
				if i+1 < len(order) {
					end = stages[order[i+1]]
				}
				return fmt.Sprintf("%.2f", end.Sub(stages[s]).Seconds())
			}
		}
		return "0"
	}
	agree, hd, keep := mapScores(ctx, vs, pts, labels, *k, *sample)
	r.Row("map", *in, "n", len(pts), "model", *model, "method", *method, "embed_s", fmt.Sprintf("%.2f", embedS), "layout_s", fmt.Sprintf("%.2f", total), "layout_cpu_s", fmt.Sprintf("%.2f", cpu),
		"neighbours_s", stageS("layout neighbours"), "epochs_s", stageS("layout epochs"), "placement_s", stageS("layout placement"),
		"heap_alloc_mb", fmt.Sprintf("%.0f", float64(after.TotalAlloc-before.TotalAlloc)/(1<<20)),
		"agreement", fmt.Sprintf("%.3f", agree), "space_agreement", fmt.Sprintf("%.3f", hd), "neighbours_kept", fmt.Sprintf("%.3f", keep))
	return nil
}

// replicated returns vs and labels r times over, every copy after the first with
// Gaussian noise of norm about sigma added and then normalised: a larger labelled set
// whose neighbourhoods are the original's.
func replicated(vs [][]float32, labels []string, r int, sigma float64, seed uint64) ([][]float32, []string) {
	if r <= 1 {
		return vs, labels
	}
	rng := rand.New(rand.NewPCG(seed, 0x7265706c))
	d := len(vs[0])
	outV := make([][]float32, 0, len(vs)*r)
	outL := make([]string, 0, len(vs)*r)
	flat := make([]float32, len(vs)*(r-1)*d)
	outV, outL = append(outV, vs...), append(outL, labels...)
	for c := 1; c < r; c++ {
		for i, v := range vs {
			w := flat[:d:d]
			flat = flat[d:]
			norm := 0.0
			for j, x := range v {
				y := float64(x) + sigma/math.Sqrt(float64(d))*rng.NormFloat64()
				w[j] = float32(y)
				norm += y * y
			}
			for j := range w {
				w[j] /= float32(math.Sqrt(norm))
			}
			outV, outL = append(outV, w), append(outL, labels[i])
		}
	}
	return outV, outL
}

// mapScores returns, over every point (up to 20,000) or an evenly spread sample, the
// share of each point's k nearest map neighbours that carry its label, the same share
// among its k nearest neighbours in the vector space, and the share of its k nearest
// vector-space neighbours that are among its k nearest map neighbours.
func mapScores(ctx context.Context, vs [][]float32, pts []layout.Point, labels []string, k, sample int) (agree, space, kept float64) {
	n, d := len(vs), len(vs[0])
	rows := make([]int, 0, n)
	if n <= 20000 || sample >= n {
		for i := range n {
			rows = append(rows, i)
		}
	} else {
		for s := range sample {
			rows = append(rows, s*n/sample)
		}
	}
	type cand struct {
		j int
		d float32
	}
	nearest := func(dist func(j int) float32, self int) []int {
		buf := make([]cand, 0, k+1)
		for j := range n {
			if j == self {
				continue
			}
			x := dist(j)
			if len(buf) == k && x >= buf[k-1].d {
				continue
			}
			at := len(buf)
			if at < k {
				buf = append(buf, cand{})
			} else {
				at = k - 1
			}
			for at > 0 && buf[at-1].d > x {
				buf[at] = buf[at-1]
				at--
			}
			buf[at] = cand{j, x}
		}
		out := make([]int, len(buf))
		for t, c := range buf {
			out[t] = c.j
		}
		return out
	}
	flat := make([]float32, n*d)
	for i, v := range vs {
		copy(flat[i*d:], v)
	}
	panel := vec.NewPanel(flat, n, d)
	qs := make([]float32, len(rows)*d)
	for t, i := range rows {
		copy(qs[t*d:], vs[i])
	}
	spaceNb := make([][]int, len(rows))
	_ = panel.Distances(ctx, qs, len(rows), nil, 0, func(b *vec.Block) error {
		for t := b.I0; t < b.I1; t++ {
			row := b.Row(t)
			spaceNb[t] = nearest(func(j int) float32 { return row[j] }, rows[t])
		}
		return nil
	})
	share := func(nb []int, i int) float64 {
		same := 0
		for _, j := range nb {
			if labels[j] == labels[i] {
				same++
			}
		}
		return float64(same) / float64(max(len(nb), 1))
	}
	for t, i := range rows {
		p := pts[i]
		mapNb := nearest(func(j int) float32 {
			dx, dy := p.X-pts[j].X, p.Y-pts[j].Y
			return dx*dx + dy*dy
		}, i)
		agree += share(mapNb, i)
		space += share(spaceNb[t], i)
		in := map[int]bool{}
		for _, j := range mapNb {
			in[j] = true
		}
		hit := 0
		for _, j := range spaceNb[t] {
			if in[j] {
				hit++
			}
		}
		kept += float64(hit) / float64(max(len(spaceNb[t]), 1))
	}
	m := float64(len(rows))
	return agree / m, space / m, kept / m
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
