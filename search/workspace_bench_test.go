package search_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/lmsys-go/lmsys/search"
	"github.com/lmsys-go/lmsys/semantic"
	"github.com/lmsys-go/lmsys/store"
)

// BenchmarkSearchQueriesWorkspace measures SearchQueries end to end on a workspace the
// caller names with LMSYS_BENCH_WORKSPACE (a directory with queries.db and index/, as
// `go run ./examples/bench pipeline -n 100000 -dir DIR -embedding-model local/use-lite`
// makes). It searches the newest run of that workspace; the benchmark may refresh the
// run's vector index, so point it at a copy.
func BenchmarkSearchQueriesWorkspace(b *testing.B) {
	dir := os.Getenv("LMSYS_BENCH_WORKSPACE")
	if dir == "" {
		b.Skip("set LMSYS_BENCH_WORKSPACE to a workspace directory (queries.db and index/) to run this benchmark")
	}
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{Path: filepath.Join(dir, "queries.db")})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	idx, err := semantic.OpenIndex(ctx, semantic.IndexOptions{Dir: filepath.Join(dir, "index")})
	if err != nil {
		b.Fatal(err)
	}
	runs, err := db.ListRuns(ctx)
	if err != nil || len(runs) == 0 {
		b.Fatalf("no clustering run in %s: %v", dir, err)
	}
	run := runs[0].ID
	svc := search.New(db, idx, search.Options{})
	cases := []struct {
		name string
		text string
		o    search.QuerySearchOptions
	}{
		{"semantic", "how do I sort a list in python", search.QuerySearchOptions{Facets: []string{"cluster", "language"}}},
		{"semantic-clusters", "how do I sort a list in python", search.QuerySearchOptions{ClusterIDs: []int{0, 1, 2, 3, 4, 5, 6, 7}, Facets: []string{"cluster"}}},
		{"within-clusters", "sort a list", search.QuerySearchOptions{WithinClusters: "python programming", TopClusters: 5, Facets: []string{"cluster"}}},
		{"hybrid", "python list sort", search.QuerySearchOptions{Mode: search.ModeHybrid, Facets: []string{"cluster", "language", "model"}}},
		{"fulltext", "python", search.QuerySearchOptions{Mode: search.ModeFullText, Facets: []string{"cluster"}}},
	}
	for _, c := range cases {
		c.o.RunID = run
		c.o.NResults = 50
		if _, err := svc.SearchQueries(ctx, c.text, c.o); err != nil { // builds or loads the index once
			b.Fatalf("%s: %v", c.name, err)
		}
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := svc.SearchQueries(ctx, c.text, c.o); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
