package curation_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/curation"
	"github.com/lmsys-go/lmsys/store"
)

// Curate a run by hand: move a query, rename a cluster, read the audit log, and undo.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "curation-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	db, err := store.Open(ctx, store.Config{Path: filepath.Join(dir, "queries.db")})
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	// A tiny run: two clusters of two queries, named by a summary run.
	ds, _ := db.EnsureDataset(ctx, lmsys.Dataset{Name: "demo"})
	texts := []string{"hello there", "how do I sort a list in Python", "good morning", "fix my SQL join"}
	var qs []lmsys.Query
	for i, t := range texts {
		qs = append(qs, lmsys.Query{DatasetID: ds.ID, ConversationID: fmt.Sprint(i), Text: t})
	}
	if _, err := db.InsertQueries(ctx, qs); err != nil {
		log.Fatal(err)
	}
	stored, _ := db.ListQueries(ctx, lmsys.QueryFilter{})
	run := "kmeans-2-20260101-000000"
	_ = db.CreateRun(ctx, lmsys.Run{ID: run, Algorithm: "kmeans", NumClusters: 2, Status: lmsys.RunCompleted})
	_ = db.SaveAssignments(ctx, []lmsys.Assignment{
		{RunID: run, QueryID: stored[0].ID, ClusterID: 0}, {RunID: run, QueryID: stored[1].ID, ClusterID: 0},
		{RunID: run, QueryID: stored[2].ID, ClusterID: 1}, {RunID: run, QueryID: stored[3].ID, ClusterID: 1},
	})
	_ = db.SaveSummaries(ctx, []lmsys.Summary{
		{RunID: run, ClusterID: 0, SummaryRunID: "summary-demo", Title: "Greetings"},
		{RunID: run, ClusterID: 1, SummaryRunID: "summary-demo", Title: "Various topics"},
	})

	cur := curation.New(db, curation.Options{OnChange: func(_ context.Context, runID string, clusters []int) {
		fmt.Println("re-index summaries of clusters", clusters)
	}})
	// Queries 2 and 3 are in the wrong clusters: swap them.
	if _, err := cur.MoveQuery(ctx, run, stored[1].ID, 1, "alice", "a coding question"); err != nil {
		log.Fatal(err)
	}
	move, err := cur.MoveQuery(ctx, run, stored[2].ID, 0, "alice", "a greeting")
	if err != nil {
		log.Fatal(err)
	}
	if _, err := cur.RenameCluster(ctx, run, 1, curation.Rename{Title: "Programming help"}, "alice", ""); err != nil {
		log.Fatal(err)
	}
	bad, _ := cur.SelectBadClusters(ctx, run, curation.BadFilter{GenericTitles: true})
	fmt.Println("generic titles left:", curation.IDs(bad))

	// Undo the second move; it is audited too.
	if _, err := cur.Undo(ctx, run, move.Edit.ID, "bob", "was right before"); err != nil {
		log.Fatal(err)
	}
	edits, _ := cur.Audit(ctx, run, curation.AuditFilter{})
	for _, e := range edits {
		fmt.Printf("%d %s by %s: %q\n", e.ID, e.EditType, e.Editor, e.Reason)
	}
	// Output:
	// re-index summaries of clusters [0 1]
	// re-index summaries of clusters [0 1]
	// re-index summaries of clusters [1]
	// generic titles left: []
	// re-index summaries of clusters [0 1]
	// 1 move_query by alice: "a coding question"
	// 2 move_query by alice: "a greeting"
	// 3 rename by alice: ""
	// 4 undo by bob: "was right before"
}
