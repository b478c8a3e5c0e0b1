package search_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/embed"
	"github.com/lmsys-go/lmsys/search"
	"github.com/lmsys-go/lmsys/semantic"
	"github.com/lmsys-go/lmsys/store"
)

// Example loads six queries as a run of two named clusters, then searches clusters,
// queries within the nearest cluster, and verifies the index.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "search-example-")
	defer os.RemoveAll(dir)
	db, err := store.Open(ctx, store.Config{Path: filepath.Join(dir, "queries.db")})
	if err != nil {
		panic(err)
	}
	defer db.Close()

	// A run in the local/lexical@64 space, with its vectors cached in the store.
	space := lmsys.Space{Provider: "local", Model: "lexical", Dims: 64}
	ds, _ := db.EnsureDataset(ctx, lmsys.Dataset{Name: "demo"})
	texts := []string{"python list sort", "python read file", "python class", "cake recipe", "pasta recipe", "soup recipe"}
	var qs []lmsys.Query
	for i, t := range texts {
		qs = append(qs, lmsys.Query{DatasetID: ds.ID, ConversationID: fmt.Sprint(i), Text: t, Language: "English"})
	}
	db.InsertQueries(ctx, qs)
	e, _ := embed.Open(space.Name(), embed.WithDims(space.Dims))
	embed.Cached(e, db).Embed(ctx, texts, lmsys.PurposeClustering)
	db.CreateRun(ctx, lmsys.Run{ID: "kmeans-2-20260101-000000", Algorithm: "kmeans", NumClusters: 2, Space: space})
	stored, _ := db.ListQueries(ctx, lmsys.QueryFilter{})
	var as []lmsys.Assignment
	for i, q := range stored {
		as = append(as, lmsys.Assignment{RunID: "kmeans-2-20260101-000000", QueryID: q.ID, ClusterID: i / 3})
	}
	db.SaveAssignments(ctx, as)
	db.SaveSummaries(ctx, []lmsys.Summary{
		{RunID: "kmeans-2-20260101-000000", ClusterID: 0, SummaryRunID: "s1", Title: "Python", Description: "Python code", NumQueries: 3},
		{RunID: "kmeans-2-20260101-000000", ClusterID: 1, SummaryRunID: "s1", Title: "Recipes", Description: "Cooking", NumQueries: 3},
	})

	idx, _ := semantic.OpenIndex(ctx, semantic.IndexOptions{Dir: filepath.Join(dir, "index")})
	svc := search.New(db, idx, search.Options{})
	cr, err := svc.SearchClusters(ctx, "recipes for cooking", search.ClusterSearchOptions{RunID: "kmeans-2-20260101-000000", TopK: 1})
	if err != nil {
		panic(err)
	}
	fmt.Println("nearest cluster:", cr.Results[0].Title)

	qr, err := svc.SearchQueries(ctx, "pasta", search.QuerySearchOptions{RunID: "kmeans-2-20260101-000000",
		WithinClusters: "recipes for cooking", TopClusters: 1, NResults: 1, Mode: search.ModeHybrid})
	if err != nil {
		panic(err)
	}
	fmt.Println("nearest query:", qr.Results[0].Snippet, "in cluster", *qr.Results[0].ClusterID)

	rep, _ := svc.Verify(ctx, "kmeans-2-20260101-000000", false)
	fmt.Println("in sync:", rep.InSync)
	// Output:
	// nearest cluster: Recipes
	// nearest query: pasta recipe in cluster 1
	// in sync: true
}
