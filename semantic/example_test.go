package semantic_test

import (
	"context"
	"fmt"
	"os"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/semantic"
)

func ExampleExact() {
	ctx := context.Background()
	idx := semantic.NewExact()
	_ = idx.Upsert(ctx, "queries", []lmsys.Vector{
		{ID: "q1", Values: []float32{1, 0, 0}, Metadata: map[string]string{"language": "en"}},
		{ID: "q2", Values: []float32{0.9, 0.1, 0}, Metadata: map[string]string{"language": "de"}},
		{ID: "q3", Values: []float32{0, 1, 0}, Metadata: map[string]string{"language": "en"}},
	})
	hits, _ := idx.Search(ctx, "queries", []float32{1, 0.05, 0}, 2, lmsys.Filter{Where: map[string]string{"language": "en"}})
	for _, h := range hits {
		fmt.Printf("%s %.3f\n", h.ID, h.Distance)
	}
	// Output:
	// q1 0.001
	// q3 0.950
}

func ExampleHNSW() {
	ctx := context.Background()
	idx := semantic.NewHNSW(semantic.HNSWOptions{M: 16, EfConstruction: 200, EfSearch: 64, Workers: 1})
	var items []lmsys.Vector
	for i := range 1000 {
		items = append(items, lmsys.Vector{ID: fmt.Sprint(i), Values: []float32{float32(i % 10), float32(i / 10), 1}})
	}
	_ = idx.Upsert(ctx, "points", items)
	hits, _ := idx.Search(ctx, "points", []float32{3, 42, 1}, 1, lmsys.Filter{})
	fmt.Println(hits[0].ID)
	// Output: 423
}

func ExampleIndex() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "index")
	defer os.RemoveAll(dir)
	idx, _ := semantic.OpenIndex(ctx, semantic.IndexOptions{Dir: dir, HNSWThreshold: 20000})
	_ = idx.Upsert(ctx, "queries_openai_text-embedding-3-small_1536", []lmsys.Vector{{ID: "1", Values: []float32{1, 2}}})
	_ = idx.Flush(ctx)

	again, _ := semantic.OpenIndex(ctx, semantic.IndexOptions{Dir: dir})
	info, _ := again.Info(ctx)
	for _, c := range info {
		fmt.Println(c.Name, c.Kind, c.Count, c.Dims)
	}
	// Output: queries_openai_text-embedding-3-small_1536 exact 1 2
}
