package web

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/lmsys-go/lmsys/search"
	"github.com/lmsys-go/lmsys/semantic"
	"github.com/lmsys-go/lmsys/store"
)

// BenchmarkRoutes measures single requests against a large workspace made by
// `go run ./examples/bench pipeline -n 100000 -dir DIR`; set LMSYS_WEB_BENCH_DIR=DIR.
func BenchmarkRoutes(b *testing.B) {
	dir := os.Getenv("LMSYS_WEB_BENCH_DIR")
	if dir == "" {
		b.Skip("set LMSYS_WEB_BENCH_DIR to a `bench pipeline -dir` workspace")
	}
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{Path: filepath.Join(dir, "queries.db")})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	runs, err := db.ListRuns(ctx)
	if err != nil || len(runs) == 0 {
		b.Fatal("no run", err)
	}
	run := runs[0].ID
	idx, err := semantic.OpenIndex(ctx, semantic.IndexOptions{Dir: filepath.Join(dir, "index")})
	if err != nil {
		b.Fatal(err)
	}
	h := Handler(Deps{Store: db, Search: search.New(db, idx, search.Options{})}, Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	for name, path := range map[string]string{
		"cluster-page":    fmt.Sprintf("/clusters/%s/%d?page=2", run, 7),
		"cluster-api":     fmt.Sprintf("/api/clustering/runs/%s/clusters/%d?page=2", run, 7),
		"search-fulltext": fmt.Sprintf("/api/search/queries?mode=fulltext&run_id=%s&text=python&n_results=50", run),
	} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
				if rec.Code != 200 {
					b.Fatalf("%s: %d %s", path, rec.Code, rec.Body.String())
				}
			}
		})
	}
}
