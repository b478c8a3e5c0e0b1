// Command hierarchy builds a Clio-style taxonomy over the demo set's clusters and
// prints it as a tree. Without a key it uses the offline merge; with OPENAI_API_KEY
// set (or -model), the LLM method.
//
//	go run ./examples/hierarchy
//	go run ./examples/hierarchy -levels 3 -k 30 -model openai/gpt-4o-mini
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/local"
)

func main() {
	k := flag.Int("k", 24, "leaf clusters")
	levels := flag.Int("levels", 3, "levels including the leaves")
	model := flag.String("model", "", "LLM provider/model (default: offline unless OPENAI_API_KEY is set)")
	emb := flag.String("embedding-model", "local/use-lite", "embedding model")
	flag.Parse()
	dir, err := os.MkdirTemp("", "lmsys-hierarchy-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer os.RemoveAll(dir)
	if err := run(context.Background(), os.Stdout, dir, *emb, *model, *k, *levels); err != nil {
		fmt.Fprintln(os.Stderr, "hierarchy:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, w io.Writer, dir, emb, model string, k, levels int) error {
	ws, err := local.Open(ctx, local.Config{Dir: dir, EmbeddingModel: emb})
	if err != nil {
		return err
	}
	defer ws.Close()
	st, err := ws.Pipeline(local.Analysis{Source: local.DemoSource(), K: k, TargetLevels: levels, MergeRatio: 0.3, SummaryModel: model}).Run(ctx, nil)
	if err != nil {
		return err
	}
	nodes, err := ws.Store.Hierarchy(ctx, st.HierarchyRunID)
	if err != nil {
		return err
	}
	byID := map[int]lmsys.HierarchyNode{}
	var roots []int
	total := 0
	for _, n := range nodes {
		byID[n.ClusterID] = n
		if n.ParentClusterID == nil {
			roots = append(roots, n.ClusterID)
			total += n.NumQueries
		}
	}
	fmt.Fprintf(w, "%s: %d nodes, %d queries\n", st.HierarchyRunID, len(nodes), total)
	var walk func(id int, depth int)
	walk = func(id, depth int) {
		n := byID[id]
		fmt.Fprintf(w, "%s%s  (%d, %.1f%%)\n", strings.Repeat("  ", depth), n.Title, n.NumQueries, 100*float64(n.NumQueries)/float64(max(total, 1)))
		kids := append([]int(nil), n.ChildrenIDs...)
		sort.Slice(kids, func(i, j int) bool { return byID[kids[i]].NumQueries > byID[kids[j]].NumQueries })
		for _, c := range kids {
			walk(c, depth+1)
		}
	}
	sort.Slice(roots, func(i, j int) bool { return byID[roots[i]].NumQueries > byID[roots[j]].NumQueries })
	for _, r := range roots {
		walk(r, 0)
	}
	return nil
}
