package classify_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/classify"
	"github.com/lmsys-go/lmsys/llm"
	"github.com/lmsys-go/lmsys/llm/llmtest"
	"github.com/lmsys-go/lmsys/store"
)

func ExampleParseTemplate() {
	t, err := classify.ParseTemplate([]byte(`
name: code-placeholders
description: Does the assistant answer with placeholder code?
facets:
  - name: placeholder
    labels:
      placeholder: the code holds "..." or "your code here"
      runnable: the code is complete
      no_code: no code in the reply
  - {name: severity, type: integer, range: 1-5}
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range t.ClassifierFacets() {
		fmt.Println(f.Name, f.Labels)
	}
	_, err = classify.ParseTemplate([]byte("name: broken\nfacets:\n  - {name: severity, type: integer, range: 5-1}\n"))
	fmt.Println(err)
	// Output:
	// placeholder [placeholder runnable no_code]
	// severity []
	// invalid input: facets[0]: range: 5-1 is empty or a single value
}

func ExamplePredict() {
	// A fake of the OpenAI API stands in for the model.
	srv := llmtest.OpenAI(llmtest.Text(`{"placeholder": "placeholder"}`))
	defer srv.Close()
	client, _ := llm.Open("openai/gpt-4o-mini", llm.WithBaseURL(srv.BaseURL()), llm.WithAPIKey("test"))
	t, _ := classify.ParseTemplate([]byte("name: code\nfacets:\n  - {name: placeholder, labels: [placeholder, runnable]}\n"))
	c, _ := classify.NewLLM(client, t, classify.LLMOptions{})
	answers, cost, err := classify.Predict(context.Background(), c, "User: write a sort\nAssistant: def sort(xs): ...  # your code here")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(answers[0].Facet, answers[0].Value, cost.Calls)
	// Output: placeholder placeholder 1
}

func ExampleRun() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "classify-example")
	defer os.RemoveAll(dir)
	db, _ := store.Open(ctx, store.Config{Path: filepath.Join(dir, "queries.db")})
	defer db.Close()
	ds, _ := db.EnsureDataset(ctx, lmsys.Dataset{Name: "demo"})
	_, _ = db.InsertQueries(ctx, []lmsys.Query{
		{DatasetID: ds.ID, ConversationID: "a", Text: "hi", Conversation: []lmsys.Message{{Role: "user", Content: "hi"}, {Role: "assistant", Content: "Hello!"}}},
		{DatasetID: ds.ID, ConversationID: "b", Text: "bye", Conversation: []lmsys.Message{{Role: "user", Content: "bye"}, {Role: "assistant", Content: "Bye!"}}},
	})

	srv := llmtest.OpenAI(llmtest.Text(`{"request": "Greet the assistant.", "task": "other", "languages": ["en"], "concerning": 1, "frustration": 1, "assistant_errors": "none"}`))
	defer srv.Close()
	client, _ := llm.Open("openai/gpt-4o-mini", llm.WithBaseURL(srv.BaseURL()), llm.WithAPIKey("test"), llm.WithCache(db.LLMCache()))
	clio, _ := classify.FacetSet("clio")
	c, _ := classify.NewLLM(client, clio, classify.LLMOptions{})

	plan, _ := classify.Run(ctx, db, c, classify.Options{DryRun: true})
	fmt.Println("planned calls:", plan.Plan.Estimate.Calls, "made:", srv.Calls())
	res, err := classify.Run(ctx, db, c, classify.Options{Concurrency: 4})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.Run.Status, res.Classified, "classified")
	again, _ := classify.Run(ctx, db, c, classify.Options{})
	fmt.Println("re-run:", again.Classified, "classified,", again.Skipped, "skipped")
	ls, _ := db.Labels(ctx, lmsys.LabelFilter{Facet: "task"})
	fmt.Println(len(ls), ls[0].Value)
	// Output:
	// planned calls: 2 made: 0
	// completed 2 classified
	// re-run: 0 classified, 2 skipped
	// 2 other
}
