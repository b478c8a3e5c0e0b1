package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lmsys-go/lmsys/search"
	"github.com/lmsys-go/lmsys/semantic"
	"github.com/lmsys-go/lmsys/store"
	"github.com/lmsys-go/lmsys/web"
)

func init() {
	subcommands["web"] = subcommand{
		summary: "the web handler under concurrent clients on loopback (after `pipeline -dir DIR`): requests/s, p50, p99, errors per route",
		run:     runWebBench,
	}
}

// webTerms are the full-text search texts the clients cycle through.
var webTerms = []string{"python", "email", "write a poem", "explain", "recipe", "function", "translate", "story", "help me", "plan", "code error", "summarize"}

func runWebBench(ctx context.Context, args []string, r *reporter) error {
	fs := flag.NewFlagSet("web", flag.ContinueOnError)
	dir := fs.String("dir", "", "workspace of `bench pipeline -dir DIR` (queries.db and index/) (required)")
	clients := fs.Int("clients", 50, "concurrent clients")
	duration := fs.Duration("duration", 10*time.Second, "load time per scenario")
	runID := fs.String("run-id", "", "run to query (default: the newest)")
	indexKind := fs.String("index-kind", "auto", "vector index of collections built or reloaded: auto, exact or hnsw")
	scenarios := fs.String("scenarios", "search-fulltext,cluster-page,cluster-api", "comma-separated: search-fulltext, search-hybrid, search-semantic, cluster-page, cluster-api, clusters-list, runs")
	textIndex := fs.Bool("text-index", true, "answer full-text searches from the in-memory BM25 index (as lmsys serve); false: SQLite FTS5")
	warmClusters := fs.Bool("warm-clusters", false, "before the cluster-page and cluster-api scenarios, open each cluster's first page once, so the server's label counts of every cluster are cached and the timing is the steady state (warmup_s then includes that pass)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run (server and clients) to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" {
		return errors.New("-dir is required (run `bench pipeline -n 100000 -dir DIR` first)")
	}
	db, err := store.Open(ctx, store.Config{Path: filepath.Join(*dir, "queries.db")})
	if err != nil {
		return err
	}
	defer db.Close()
	if *runID == "" {
		runs, err := db.ListRuns(ctx)
		if err != nil {
			return err
		}
		if len(runs) == 0 {
			return fmt.Errorf("no clustering run in %s", *dir)
		}
		*runID = runs[0].ID
	}
	sizes, err := db.ClusterSizes(ctx, *runID)
	if err != nil {
		return err
	}
	type cl struct{ id, pages int }
	var cls []cl
	total := 0
	for id, n := range sizes {
		cls = append(cls, cl{id, (n + web.PageSize - 1) / web.PageSize})
		total += n
	}
	slices.SortFunc(cls, func(a, b cl) int { return a.id - b.id })
	kind, err := semantic.ParseKind(*indexKind)
	if err != nil {
		return err
	}
	idx, err := semantic.OpenIndex(ctx, semantic.IndexOptions{Dir: filepath.Join(*dir, "index"), Kind: kind})
	if err != nil {
		return err
	}
	svc := search.New(db, idx, search.Options{TextIndex: *textIndex})
	if *textIndex {
		start := time.Now()
		if err := svc.WarmTextIndex(ctx); err != nil {
			return err
		}
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		r.Row("text_index_build_s", since(start), "heap_mb_after", float64(ms.HeapAlloc)/(1<<20))
	}
	h := web.Handler(web.Deps{Store: db, Search: svc}, web.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := web.NewServer(ln.Addr().String(), h)
	go srv.Serve(ln)
	defer srv.Close()
	base := "http://" + ln.Addr().String()
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConns: *clients * 2, MaxIdleConnsPerHost: *clients * 2}}
	fmt.Printf("# run %s: %d clusters, %d queries; %d clients, %s per scenario\n", *runID, len(cls), total, *clients, *duration)

	urlFor := func(scenario string, rng *rand.Rand) string {
		term := url.QueryEscape(webTerms[rng.IntN(len(webTerms))])
		c := cls[rng.IntN(len(cls))]
		page := 1 + rng.IntN(max(c.pages, 1))
		switch scenario {
		case "search-fulltext":
			return fmt.Sprintf("%s/api/search/queries?mode=fulltext&run_id=%s&text=%s&n_results=50", base, *runID, term)
		case "search-hybrid":
			return fmt.Sprintf("%s/api/search/queries?mode=hybrid&run_id=%s&text=%s&n_results=50", base, *runID, term)
		case "search-semantic":
			return fmt.Sprintf("%s/api/search/queries?mode=semantic&run_id=%s&text=%s&n_results=50", base, *runID, term)
		case "cluster-page":
			return fmt.Sprintf("%s/clusters/%s/%d?page=%d", base, *runID, c.id, page)
		case "cluster-api":
			return fmt.Sprintf("%s/api/clustering/runs/%s/clusters/%d?page=%d", base, *runID, c.id, page)
		case "clusters-list":
			return fmt.Sprintf("%s/api/clustering/runs/%s/clusters", base, *runID)
		case "runs":
			return base + "/"
		}
		return ""
	}
	fetch := func(u string) error {
		resp, err := client.Get(u)
		if err != nil {
			return err
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err == nil && resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("HTTP %d", resp.StatusCode)
		}
		return err
	}
	stopCPU, err := startCPUProfile(*cpuProfile)
	if err != nil {
		return err
	}
	defer stopCPU()
	for _, sc := range strings.Split(*scenarios, ",") {
		sc = strings.TrimSpace(sc)
		if urlFor(sc, rand.New(rand.NewPCG(1, 1))) == "" {
			return fmt.Errorf("unknown scenario %q", sc)
		}
		// Warm up: the first semantic search of a run indexes it (minutes at 100k).
		warm := time.Now()
		resp, err := (&http.Client{Timeout: 30 * time.Minute}).Get(urlFor(sc, rand.New(rand.NewPCG(0, 0))))
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				err = fmt.Errorf("HTTP %d", resp.StatusCode)
			}
		}
		if err != nil {
			return fmt.Errorf("%s warm-up: %w", sc, err)
		}
		if *warmClusters && (sc == "cluster-page" || sc == "cluster-api") {
			for _, c := range cls {
				u := fmt.Sprintf("%s/clusters/%s/%d", base, *runID, c.id)
				if sc == "cluster-api" {
					u = fmt.Sprintf("%s/api/clustering/runs/%s/clusters/%d", base, *runID, c.id)
				}
				if err := fetch(u); err != nil {
					return fmt.Errorf("%s warm-up of cluster %d: %w", sc, c.id, err)
				}
			}
		}
		warmSec := since(warm)
		var (
			mu        sync.Mutex
			lat       []time.Duration
			errs      int
			firstErr  error
			wg        sync.WaitGroup
			deadline  = time.Now().Add(*duration)
			startLoad = time.Now()
		)
		for c := 0; c < *clients; c++ {
			wg.Add(1)
			go func(c int) {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(c), 99))
				var mine []time.Duration
				var myErrs int
				var myFirst error
				for time.Now().Before(deadline) && ctx.Err() == nil {
					t0 := time.Now()
					if err := fetch(urlFor(sc, rng)); err != nil {
						myErrs++
						if myFirst == nil {
							myFirst = err
						}
						continue
					}
					mine = append(mine, time.Since(t0))
				}
				mu.Lock()
				lat = append(lat, mine...)
				errs += myErrs
				if firstErr == nil {
					firstErr = myFirst
				}
				mu.Unlock()
			}(c)
		}
		wg.Wait()
		elapsed := since(startLoad)
		slices.Sort(lat)
		pct := func(p float64) float64 {
			if len(lat) == 0 {
				return 0
			}
			return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
		}
		r.Row("scenario", sc, "clients", *clients, "requests", len(lat)+errs, "rps", float64(len(lat))/elapsed,
			"p50_ms", pct(0.50), "p90_ms", pct(0.90), "p99_ms", pct(0.99), "max_ms", pct(1), "errors", errs, "warmup_s", warmSec)
		if firstErr != nil {
			fmt.Printf("# %s first error: %v\n", sc, firstErr)
		}
	}
	return nil
}
