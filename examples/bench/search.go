package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"codeberg.org/sbinet/npyio/npy"
	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/semantic"
)

func init() {
	subcommands["search"] = subcommand{
		summary: "vector search: exact and HNSW latency, recall@10 and build time (-in X.npy or -n N -d D)",
		run:     runSearch,
	}
}

func runSearch(ctx context.Context, args []string, r *reporter) error {
	fs := flag.NewFlagSet("search", flag.ContinueOnError)
	in := fs.String("in", "", "float32 .npy matrix (rows = vectors); empty generates clustered data")
	n := fs.Int("n", 100000, "vectors to generate when -in is empty")
	d := fs.Int("d", 256, "dimension of generated vectors")
	c := fs.Int("c", 300, "clusters in generated data")
	nq := fs.Int("q", 1000, "queries (data rows plus noise 0.05·N(0,1), as peer_search.py)")
	k := fs.Int("k", 10, "neighbours per query")
	m := fs.Int("m", 16, "HNSW M")
	efc := fs.Int("efc", 200, "HNSW efConstruction")
	efs := fs.Int("efs", 64, "HNSW efSearch")
	workers := fs.Int("workers", 0, "HNSW build goroutines (0: GOMAXPROCS)")
	skipExact := fs.Bool("skip-exact", false, "do not time the exact index (recall then needs it anyway: truth is still computed)")
	efsMore := fs.String("efs-more", "96,128", "comma-separated further efSearch values to measure on the same graph")
	doHNSW := fs.Bool("hnsw", true, "also build and measure HNSW")
	save := fs.String("save", "", "directory to save and reload the HNSW collection in, timing both")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var X []float32
	var rows, dims int
	var err error
	if *in != "" {
		X, rows, dims, err = loadNpy(*in)
		if err != nil {
			return err
		}
	} else {
		rows, dims = *n, *d
		X = clusteredData(rows, dims, *c)
	}
	items := make([]lmsys.Vector, rows)
	for i := range items {
		items[i] = lmsys.Vector{ID: strconv.Itoa(i), Values: X[i*dims : (i+1)*dims : (i+1)*dims]}
	}
	rng := rand.New(rand.NewPCG(1, 1))
	queries := make([][]float32, *nq)
	for i := range queries {
		src := items[rng.IntN(rows)].Values
		q := make([]float32, dims)
		for j := range q {
			q[j] = src[j] + 0.05*float32(rng.NormFloat64())
		}
		queries[i] = q
	}
	src := *in
	if src == "" {
		src = fmt.Sprintf("generated(c=%d)", *c)
	}

	// Exact: its answers are the truth for recall.
	truth, err := runExact(ctx, r, items, queries, *k, !*skipExact, rows, dims, src)
	if err != nil {
		return err
	}

	if !*doHNSW {
		return nil
	}
	heap0 := heapMB()
	h := semantic.NewHNSW(semantic.HNSWOptions{M: *m, EfConstruction: *efc, EfSearch: *efs, Workers: *workers})
	t0, c0 := time.Now(), cpuSeconds()
	if err := upsertAll(ctx, h, items); err != nil {
		return err
	}
	build, buildCPU := since(t0), cpuSeconds()-c0
	hnswMem := heapMB() - heap0 // items (and X) are kept alive below, so their freeing does not hide the index
	w := *workers
	if w == 0 {
		w = runtime.GOMAXPROCS(0)
	}
	for _, extra := range strings.Split(*efsMore, ",") {
		e, err := strconv.Atoi(strings.TrimSpace(extra))
		if extra == "" || err != nil || e == *efs {
			continue
		}
		h.SetEfSearch(e)
		p50, p95, rec, err := measure(ctx, h, queries, truth, *k)
		if err != nil {
			return err
		}
		r.Row("index", "hnsw", "n", rows, "d", dims, "p50", fmt.Sprintf("%.3f ms", p50), "p95", fmt.Sprintf("%.3f ms", p95),
			"recall@10", fmt.Sprintf("%.3f", rec), "params", fmt.Sprintf("M=%d efC=%d efS=%d", *m, *efc, e))
	}
	h.SetEfSearch(*efs)
	p50, p95, rec, err := measure(ctx, h, queries, truth, *k)
	if err != nil {
		return err
	}
	r.Row("index", "hnsw", "n", rows, "d", dims, "data", src, "p50", fmt.Sprintf("%.3f ms", p50), "p95", fmt.Sprintf("%.3f ms", p95),
		"recall@10", fmt.Sprintf("%.3f", rec), "build", fmt.Sprintf("%.2f s", build), "build_cpu", fmt.Sprintf("%.2f s", buildCPU), "mem", fmt.Sprintf("%.0f MB", hnswMem),
		"params", fmt.Sprintf("M=%d efC=%d efS=%d workers=%d", *m, *efc, *efs, w), "peak_rss", fmt.Sprintf("%.0f MB", PeakRSSMB()))
	if *save != "" {
		if err := os.MkdirAll(*save, 0o755); err != nil {
			return err
		}
		path := filepath.Join(*save, "bench.vec")
		t := time.Now()
		if err := h.SaveCollection(ctx, "bench", path); err != nil {
			return err
		}
		saveS := since(t)
		h2 := semantic.NewHNSW(semantic.HNSWOptions{EfSearch: *efs})
		t = time.Now()
		if err := h2.LoadCollection(ctx, "bench", path); err != nil {
			return err
		}
		loadS := since(t)
		st, _ := os.Stat(path)
		p50, _, rec2, err := measure(ctx, h2, queries, truth, *k)
		if err != nil {
			return err
		}
		r.Row("index", "hnsw-reloaded", "save", fmt.Sprintf("%.2f s", saveS), "load", fmt.Sprintf("%.2f s", loadS),
			"file", fmt.Sprintf("%.0f MB", float64(st.Size())/(1<<20)), "p50", fmt.Sprintf("%.3f ms", p50), "recall@10", fmt.Sprintf("%.3f", rec2))
	}
	runtime.KeepAlive(items)
	return nil
}

// runExact times the exact index and returns its answers, the truth for recall.
func runExact(ctx context.Context, r *reporter, items []lmsys.Vector, queries [][]float32, k int, report bool, rows, dims int, src string) ([][]string, error) {
	heap0 := heapMB()
	exact := semantic.NewExact()
	t0, c0 := time.Now(), cpuSeconds()
	if err := upsertAll(ctx, exact, items); err != nil {
		return nil, err
	}
	build, buildCPU := since(t0), cpuSeconds()-c0
	exactMem := heapMB() - heap0
	truth := make([][]string, len(queries))
	lat := make([]float64, len(queries))
	for i, q := range queries {
		t := time.Now()
		hs, err := exact.Search(ctx, "bench", q, k, lmsys.Filter{})
		if err != nil {
			return nil, err
		}
		lat[i] = float64(time.Since(t).Nanoseconds()) / 1e6
		truth[i] = ids(hs)
	}
	if report {
		p50, p95 := percentiles(lat)
		r.Row("index", "exact", "n", rows, "d", dims, "data", src, "p50", fmt.Sprintf("%.2f ms", p50), "p95", fmt.Sprintf("%.2f ms", p95),
			"recall@10", "1.000", "build", fmt.Sprintf("%.2f s", build), "build_cpu", fmt.Sprintf("%.2f s", buildCPU), "mem", fmt.Sprintf("%.0f MB", exactMem))
	}
	return truth, nil
}

func measure(ctx context.Context, idx lmsys.VectorIndex, queries [][]float32, truth [][]string, k int) (p50, p95, recall float64, err error) {
	lat := make([]float64, len(queries))
	hit, total := 0, 0
	for i, q := range queries {
		t := time.Now()
		hs, err := idx.Search(ctx, "bench", q, k, lmsys.Filter{})
		if err != nil {
			return 0, 0, 0, err
		}
		lat[i] = float64(time.Since(t).Nanoseconds()) / 1e6
		want := map[string]bool{}
		for _, id := range truth[i] {
			want[id] = true
		}
		for _, h := range hs {
			if want[h.ID] {
				hit++
			}
		}
		total += len(truth[i])
	}
	p50, p95 = percentiles(lat)
	return p50, p95, float64(hit) / float64(max(total, 1)), nil
}

func upsertAll(ctx context.Context, idx lmsys.VectorIndex, items []lmsys.Vector) error {
	const batch = 50000
	for lo := 0; lo < len(items); lo += batch {
		if err := idx.Upsert(ctx, "bench", items[lo:min(lo+batch, len(items))]); err != nil {
			return err
		}
	}
	return nil
}

func ids(hs []lmsys.Hit) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = h.ID
	}
	return out
}

func percentiles(ms []float64) (p50, p95 float64) {
	s := slices.Clone(ms)
	slices.Sort(s)
	at := func(p float64) float64 { return s[min(len(s)-1, int(p*float64(len(s))))] }
	return at(0.50), at(0.95)
}

// cpuSeconds returns the user plus system CPU time the process has used: on a
// machine shared with other jobs it shows the work done, which wall time does not.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

func heapMB() float64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return float64(ms.HeapAlloc) / (1 << 20)
}

// clusteredData generates n unit vectors around c Gaussian centres, the shape of
// make_blobs.py (noise 0.9 per coordinate).
func clusteredData(n, d, c int) []float32 {
	rng := rand.New(rand.NewPCG(7, 7))
	centres := make([]float32, c*d)
	for i := range centres {
		centres[i] = float32(rng.NormFloat64())
	}
	X := make([]float32, n*d)
	for i := range n {
		ci := rng.IntN(c)
		row := X[i*d : (i+1)*d]
		var ss float64
		for j := range row {
			row[j] = centres[ci*d+j] + 0.9*float32(rng.NormFloat64())
			ss += float64(row[j]) * float64(row[j])
		}
		inv := float32(1 / math.Sqrt(ss))
		for j := range row {
			row[j] *= inv
		}
	}
	return X
}

// loadNpy reads a C-order little-endian float32 2-D .npy matrix.
func loadNpy(path string) ([]float32, int, int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, 0, err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<20)
	rd, err := npy.NewReader(br)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("%s: %w", path, err)
	}
	hd := rd.Header.Descr
	if strings.Trim(hd.Type, "'\"") != "<f4" || hd.Fortran || len(hd.Shape) != 2 {
		return nil, 0, 0, fmt.Errorf("%s: want a C-order <f4 2-D array, got %s fortran=%v shape=%v", path, hd.Type, hd.Fortran, hd.Shape)
	}
	rows, dims := hd.Shape[0], hd.Shape[1]
	X := make([]float32, rows*dims)
	if err := binary.Read(br, binary.LittleEndian, X); err != nil {
		return nil, 0, 0, fmt.Errorf("%s: reading %d×%d floats: %w", path, rows, dims, err)
	}
	return X, rows, dims, nil
}
