// Command quickstart runs the whole analysis offline on the bundled demo set: it
// loads a few hundred hand-written chat queries, embeds them with USE-lite (weights
// inside the module), clusters them, names the clusters with the offline summarizer,
// organises them into a hierarchy and runs a search. No key, no network.
//
//	go run ./examples/quickstart               # in a temporary directory
//	go run ./examples/quickstart -dir ./demo   # keep the database to explore with the CLI
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/local"
)

func main() {
	dir := flag.String("dir", "", "directory for the database (default: a temporary one, removed at the end)")
	k := flag.Int("k", 20, "number of clusters")
	model := flag.String("embedding-model", "local/use-lite", "embedding model")
	query := flag.String("search", "help me write a python script", "text to search for")
	flag.Parse()
	if err := run(context.Background(), os.Stdout, *dir, *model, *query, *k); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, w io.Writer, dir, model, query string, k int) error {
	if dir == "" {
		tmp, err := os.MkdirTemp("", "lmsys-quickstart-")
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

	p := ws.Pipeline(local.Analysis{Source: local.DemoSource(), K: k, Offline: true, TargetLevels: 2, MergeRatio: 0.25})
	p.OnStage = func(r lmsys.StageReport) {
		if r.Elapsed > 0 && r.Err == nil {
			fmt.Fprintf(w, "  %-9s done in %5.2fs\n", r.Stage, r.Elapsed.Seconds())
		}
	}
	fmt.Fprintf(w, "Analysing the bundled demo set in %s\n", dir)
	start := time.Now()
	st, err := p.Run(ctx, nil)
	if err != nil {
		return err
	}
	for _, stage := range []string{"load", "embed", "cluster", "summarize", "merge"} {
		fmt.Fprintf(w, "  %-9s %s\n", stage, st.Results[stage])
	}
	fmt.Fprintf(w, "Whole pipeline: %.1fs\n\n", time.Since(start).Seconds())

	status, err := ws.Store.Status(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Loaded %d queries in %d languages from %d models.\n\n", status.TotalQueries, len(status.Languages), len(status.Models))

	if err := printHierarchy(ctx, w, ws, st.HierarchyRunID); err != nil {
		return err
	}
	return printSearch(ctx, w, ws, st.RunID, query)
}

// printHierarchy prints the top two levels of the hierarchy with query counts.
func printHierarchy(ctx context.Context, w io.Writer, ws *local.Workspace, id string) error {
	nodes, err := ws.Store.Hierarchy(ctx, id)
	if err != nil {
		return err
	}
	byID := map[int]lmsys.HierarchyNode{}
	var top []lmsys.HierarchyNode
	total := 0
	for _, n := range nodes {
		byID[n.ClusterID] = n
		if n.ParentClusterID == nil {
			top = append(top, n)
			total += n.NumQueries
		}
	}
	sort.Slice(top, func(i, j int) bool { return top[i].NumQueries > top[j].NumQueries })
	fmt.Fprintf(w, "Hierarchy %s:\n", id)
	for _, t := range top {
		fmt.Fprintf(w, "%-60s %4d queries (%4.1f%%)\n", t.Title, t.NumQueries, 100*float64(t.NumQueries)/float64(max(total, 1)))
		kids := make([]lmsys.HierarchyNode, 0, len(t.ChildrenIDs))
		for _, c := range t.ChildrenIDs {
			kids = append(kids, byID[c])
		}
		sort.Slice(kids, func(i, j int) bool { return kids[i].NumQueries > kids[j].NumQueries })
		for i, c := range kids {
			branch := "├──"
			if i == len(kids)-1 {
				branch = "└──"
			}
			fmt.Fprintf(w, "  %s %-54s %4d\n", branch, c.Title, c.NumQueries)
		}
	}
	fmt.Fprintln(w)
	return nil
}

// printSearch finds the stored queries nearest query in the run's embedding space.
func printSearch(ctx context.Context, w io.Writer, ws *local.Workspace, runID, query string) error {
	run, err := ws.Store.GetRun(ctx, runID)
	if err != nil {
		return err
	}
	qv, err := ws.Embedder.Embed(ctx, []string{query}, lmsys.PurposeQuery)
	if err != nil {
		return err
	}
	type hit struct {
		id  int64
		sim float32
	}
	var hits []hit
	err = ws.Store.ScanQueryVectors(ctx, run.Space, lmsys.QueryFilter{RunID: runID}, 1000, func(ids []int64, vecs [][]float32) error {
		for i, v := range vecs {
			var s float32
			for j := range v {
				s += v[j] * qv[0][j]
			}
			hits = append(hits, hit{ids[i], s})
		}
		return nil
	})
	if err != nil {
		return err
	}
	sort.Slice(hits, func(i, j int) bool { return hits[i].sim > hits[j].sim })
	fmt.Fprintf(w, "Queries nearest %q:\n", query)
	for _, h := range hits[:min(5, len(hits))] {
		q, err := ws.Store.GetQuery(ctx, h.id)
		if err != nil {
			return err
		}
		text := strings.Join(strings.Fields(q.Text), " ")
		if len(text) > 90 {
			text = text[:90] + "…"
		}
		fmt.Fprintf(w, "  %.3f  %s\n", h.sim, text)
	}
	return nil
}
