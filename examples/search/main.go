// Command search shows package search on the bundled demo set: it analyses the demo
// queries offline (load, embed, cluster into 12, name the clusters), then finds the
// clusters nearest a text, and the queries nearest another text inside those clusters,
// semantically and by hybrid full-text + semantic ranking, with facets.
//
//	go run ./examples/search
//	go run ./examples/search -clusters "cooking" -queries "quick dinner recipe"
//
// With -db it instead times the three search modes on an existing database (the
// first search of the run builds its index; it is not timed):
//
//	go run ./examples/bench pipeline -n 100000 -dir W
//	go run ./examples/search -db W/queries.db -bench 200
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/pprof"
	"sort"
	"strings"
	"time"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/local"
	"github.com/lmsys-go/lmsys/search"
	"github.com/lmsys-go/lmsys/semantic"
	"github.com/lmsys-go/lmsys/store"
)

func main() {
	model := flag.String("embedding-model", "local/use-lite", "embedding model of the demo analysis")
	clusters := flag.String("clusters", "programming and code", "text to find clusters for")
	queries := flag.String("queries", "python error", "text to find queries for inside the clusters found")
	db := flag.String("db", "", "time searches on this SQLite database instead of running the demo")
	runID := flag.String("run-id", "", "run to time (default: the latest)")
	n := flag.Int("bench", 200, "searches per mode when timing")
	indexDir := flag.String("index-dir", "", "index directory when timing (default: <dir of the db>/index)")
	indexKind := flag.String("index-kind", "auto", "index kind when timing: auto, exact or hnsw")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the timed searches to this file")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "search:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	ctx := context.Background()
	var err error
	if *db != "" {
		err = bench(ctx, os.Stdout, *db, *runID, *indexDir, *indexKind, *n)
	} else {
		err = run(ctx, os.Stdout, "", *model, *clusters, *queries)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "search:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

// run analyses the demo set in dir (a temporary directory when empty) and searches it.
func run(ctx context.Context, w io.Writer, dir, model, clusterText, queryText string) error {
	if dir == "" {
		tmp, err := os.MkdirTemp("", "lmsys-search-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	ws, err := local.Open(ctx, local.Config{Dir: dir, EmbeddingModel: model})
	if err != nil {
		return err
	}
	defer ws.Close()
	st, err := ws.Pipeline(local.Analysis{Source: local.DemoSource(), K: 12, Offline: true}).Run(ctx, nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Run %s: %s\n\n", st.RunID, st.Results["cluster"])

	// The index is derived data: the first search of the run builds it from the store.
	idx, err := semantic.OpenIndex(ctx, semantic.IndexOptions{Dir: filepath.Join(ws.Dir, "index")})
	if err != nil {
		return err
	}
	svc := search.New(ws.Store, idx, search.Options{})

	cr, err := svc.SearchClusters(ctx, clusterText, search.ClusterSearchOptions{RunID: st.RunID, TopK: 3})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Clusters nearest %q:\n", clusterText)
	for _, c := range cr.Results {
		fmt.Fprintf(w, "  %3d  %.3f  %3d queries  %s\n", c.ClusterID, c.Distance, c.NumQueries, c.Title)
	}

	for _, mode := range []string{search.ModeSemantic, search.ModeHybrid} {
		qr, err := svc.SearchQueries(ctx, queryText, search.QuerySearchOptions{RunID: st.RunID, WithinClusters: clusterText,
			TopClusters: 3, NResults: 5, Facets: []string{"cluster", "language"}, Mode: mode})
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "\nQueries nearest %q in those clusters (%s):\n", queryText, mode)
		for _, h := range qr.Results {
			fmt.Fprintf(w, "  %.3f  [cluster %d]  %s\n", h.Distance, *h.ClusterID, h.Snippet)
		}
		fmt.Fprint(w, "  by cluster:")
		for _, c := range qr.Facets.Clusters {
			fmt.Fprintf(w, " %d×%q", c.Count, c.Meta.Title)
		}
		fmt.Fprintln(w)
	}
	rep, err := svc.Verify(ctx, st.RunID, false)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\nIndex in sync with the store: %v (%d query vectors, %d summaries)\n", rep.InSync,
		rep.Collections[0].IndexCount, rep.Collections[1].IndexCount)
	return nil
}

// bench times n searches per mode on the run of an existing database, with search
// texts made of the first words of random stored queries.
func bench(ctx context.Context, w io.Writer, path, runID, dir, kind string, n int) error {
	k, err := semantic.ParseKind(kind)
	if err != nil {
		return err
	}
	if dir == "" {
		dir = filepath.Join(filepath.Dir(path), "index")
	}
	db, err := store.Open(ctx, store.Config{Path: path})
	if err != nil {
		return err
	}
	defer db.Close()
	if runID == "" {
		runs, err := db.ListRuns(ctx)
		if err != nil || len(runs) == 0 {
			return fmt.Errorf("no runs in %s (%v)", path, err)
		}
		runID = runs[0].ID
	}
	idx, err := semantic.OpenIndex(ctx, semantic.IndexOptions{Dir: dir, Kind: k})
	if err != nil {
		return err
	}
	svc := search.New(db, idx, search.Options{})
	start := time.Now()
	if _, err := svc.Sync(ctx, runID); err != nil {
		return err
	}
	info, err := idx.Info(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "run %s: index loaded, checked and synced in %.1fs:", runID, time.Since(start).Seconds())
	for _, c := range info {
		fmt.Fprintf(w, " %s=%s/%d", c.Name, c.Kind, c.Count)
	}
	fmt.Fprintln(w)
	qs, err := db.ListQueries(ctx, lmsys.QueryFilter{RunID: runID, Limit: 20000})
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(1, 2))
	texts := make([]string, n)
	for i := range texts {
		words := strings.Fields(qs[rng.IntN(len(qs))].Text)
		texts[i] = strings.Join(words[:min(4, len(words))], " ")
	}
	for _, mode := range []string{search.ModeSemantic, search.ModeFullText, search.ModeHybrid} {
		lat := make([]float64, 0, n)
		for _, t := range texts {
			t0 := time.Now()
			_, err := svc.SearchQueries(ctx, t, search.QuerySearchOptions{RunID: runID, NResults: 50, Mode: mode, Facets: []string{"cluster"}})
			if err != nil {
				return fmt.Errorf("%s %q: %w", mode, t, err)
			}
			lat = append(lat, float64(time.Since(t0).Microseconds())/1000)
		}
		sort.Float64s(lat)
		fmt.Fprintf(w, "mode=%s searches=%d p50_ms=%.2f p99_ms=%.2f\n", mode, n, lat[len(lat)/2], lat[min(len(lat)-1, len(lat)*99/100)])
	}
	return nil
}
