package lmsys_test

import (
	"context"
	"fmt"
	"time"

	"github.com/lmsys-go/lmsys"
)

func ExamplePipeline() {
	p := &lmsys.Pipeline{
		Stages: []lmsys.Stage{
			lmsys.StageFunc{StageName: "cluster", Fn: func(ctx context.Context, s *lmsys.State) error {
				s.RunID = "kmeans-2-20260101-000000"
				s.Note("cluster", "2 clusters")
				return nil
			}},
			lmsys.StageFunc{StageName: "summarize", Fn: func(ctx context.Context, s *lmsys.State) error {
				s.Note("summarize", "titles for run %s", s.RunID)
				return nil
			}},
		},
		OnStage: func(r lmsys.StageReport) {
			if r.Elapsed == 0 {
				fmt.Println("start", r.Stage)
			}
		},
	}
	st, err := p.Run(context.Background(), nil)
	fmt.Println(err, st.Results["summarize"])
	// Output:
	// start cluster
	// start summarize
	// <nil> titles for run kmeans-2-20260101-000000
}

func ExampleSpace_Collection() {
	s := lmsys.Space{Provider: "cohere", Model: "embed-v4.0", Dims: 256}
	fmt.Println(s)
	fmt.Println(s.Collection("queries"))
	// Output:
	// cohere/embed-v4.0@256
	// queries_cohere_embed-v4-0_256
}

func ExampleNewRunID() {
	t := time.Date(2025, 10, 4, 17, 4, 42, 0, time.UTC)
	fmt.Println(lmsys.NewRunID("kmeans", 200, t))
	fmt.Println(lmsys.NewSummaryRunID("openai/gpt-4o-mini", t))
	fmt.Println(lmsys.NewHierarchyRunID("kmeans-200-20251004-170442", t))
	// Output:
	// kmeans-200-20251004-170442
	// summary-gpt-4o-mini-20251004-170442
	// hier-kmeans-200-20251004-170442-20251004-170442
}

func ExampleLabelMatches() {
	// A list facet's label joins its items; a filter value matches one item exactly.
	label := "English" + lmsys.ListSeparator + "French"
	fmt.Println(lmsys.ListItems(label))
	fmt.Println(lmsys.LabelMatches(label, "French", true), lmsys.LabelMatches("Old French", "French", true))
	fmt.Println(lmsys.LabelMatches(label, "French", false)) // a plain facet compares whole labels
	// Output:
	// [English French]
	// true false
	// false
}
