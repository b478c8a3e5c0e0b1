package report_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/report"
	"github.com/lmsys-go/lmsys/store"
)

// exampleStore returns a store holding one small clustering run with titles, as
// `lmsys analyze` would leave it (without a hierarchy, labels or a map).
func exampleStore(ctx context.Context, dir string) (*store.DB, error) {
	db, err := store.Open(ctx, store.Config{Path: filepath.Join(dir, "queries.db")})
	if err != nil {
		return nil, err
	}
	ds, err := db.EnsureDataset(ctx, lmsys.Dataset{Name: "support"})
	if err != nil {
		return nil, err
	}
	texts := []string{"reset my password", "password reset link expired", "cannot log in", "refund for order 1234", "how do I get a refund"}
	var qs []lmsys.Query
	for i, text := range texts {
		ts := time.Date(2026, 5, 4+7*(i%2), 10, 0, 0, 0, time.UTC)
		qs = append(qs, lmsys.Query{DatasetID: ds.ID, ConversationID: fmt.Sprint(i), Text: text, Language: "English", Model: "gpt-4o", Timestamp: &ts})
	}
	if _, err := db.InsertQueries(ctx, qs); err != nil {
		return nil, err
	}
	if err := db.CreateRun(ctx, lmsys.Run{ID: "kmeans-2-demo", Algorithm: "kmeans", NumClusters: 2, Status: lmsys.RunCompleted,
		CreatedAt: time.Date(2026, 5, 20, 0, 0, 0, 0, time.UTC)}); err != nil {
		return nil, err
	}
	var as []lmsys.Assignment
	for i := range texts {
		as = append(as, lmsys.Assignment{RunID: "kmeans-2-demo", QueryID: int64(i + 1), ClusterID: i / 3})
	}
	if err := db.SaveAssignments(ctx, as); err != nil {
		return nil, err
	}
	return db, db.SaveSummaries(ctx, []lmsys.Summary{
		{RunID: "kmeans-2-demo", ClusterID: 0, SummaryRunID: "names", Title: "Log-in trouble", Model: "offline"},
		{RunID: "kmeans-2-demo", ClusterID: 1, SummaryRunID: "names", Title: "Refunds", Model: "offline"},
	})
}

func ExampleBuild() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "report-example")
	defer os.RemoveAll(dir)
	db, err := exampleStore(ctx, dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()

	rep, err := report.Build(ctx, db, "kmeans-2-demo", report.Options{
		NoFigures: true,
		// A program investigating the run adds what it found, citing its evidence.
		Findings: []report.Finding{{Title: "Log-in trouble leads", Text: "Three in five queries cannot log in.", ClusterIDs: []int{0},
			Commands: []string{"lmsys inspect kmeans-2-demo 0"}}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, n := range rep.Headline {
		fmt.Printf("%s: %s (%s)\n", n.Label, n.Text, n.Command)
	}
	fmt.Println("Sections:", strings.Join(rep.Sections(), ", "))
	for _, n := range rep.Notes {
		fmt.Printf("Absent %s: %s\n", n.Section, n.Command)
	}

	var md strings.Builder
	if err := rep.Markdown(&md, report.MarkdownOptions{}); err != nil {
		fmt.Println(err)
		return
	}
	for _, line := range strings.Split(md.String(), "\n") {
		if strings.HasPrefix(line, "| 0 ") || strings.HasPrefix(line, "### 1.") {
			fmt.Println(line)
		}
	}
	// Output:
	// Queries: 5 (lmsys list-clusters kmeans-2-demo)
	// Clusters: 2 (lmsys list-clusters kmeans-2-demo)
	// Assigned to a cluster: 100.0% (5 of 5) (lmsys list-clusters kmeans-2-demo)
	// Languages: 1 (most: English, 100.0%) (lmsys facets kmeans-2-demo --by language)
	// Models: 1 (most: gpt-4o, 100.0%) (lmsys facets kmeans-2-demo --by model)
	// Dates: 2026-05-04 to 2026-05-11 (5 dated queries) (lmsys trends kmeans-2-demo --period day)
	// Sections: findings, headline, clusters, trends, mixes
	// Absent taxonomy: lmsys merge-clusters kmeans-2-demo
	// Absent hot_spots: lmsys classify --builtin refusal --run-id kmeans-2-demo
	// Absent hot_spots: lmsys classify --builtin pushback --run-id kmeans-2-demo
	// Absent map: lmsys map kmeans-2-demo
	// ### 1. Log-in trouble leads
	// | 0 | 3 | 60.0% | Log-in trouble | reset my password · password reset link expired · cannot log in |
	// | 0 | 2 | 1 | 66.7% | 50.0% | -0.4 | 0.71 | Log-in trouble |
}

func ExampleReport_HTML() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "report-example")
	defer os.RemoveAll(dir)
	db, err := exampleStore(ctx, dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()
	rep, err := report.Build(ctx, db, "kmeans-2-demo", report.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	f, err := os.Create(filepath.Join(dir, "report.html"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer f.Close()
	if err := rep.HTML(f); err != nil {
		fmt.Println(err)
		return
	}
	for _, fig := range rep.Figures() {
		fmt.Println(fig.Name, "-", fig.Title)
	}
	// Output:
	// clusters - The 2 largest clusters
	// trends - Share of the largest clusters per day
	// language - Queries by language
	// model - Queries by model
}
