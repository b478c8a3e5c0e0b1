package summarize_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/llm"
	"github.com/lmsys-go/lmsys/llm/llmtest"
	"github.com/lmsys-go/lmsys/summarize"
)

// ExampleLLM names a cluster with a chat model (here a local fake of the OpenAI API);
// the e-mail address in the queries is scrubbed before it is sent.
func ExampleLLM() {
	srv := llmtest.OpenAI(llmtest.Text(`{"title": "Sort lists in Python", "description": "Users asked how to sort Python lists. Unlike their neighbours they asked about ordering, not dictionaries.", "coherence": 5, "mixed": false}`))
	defer srv.Close()
	client, err := llm.Open("openai/gpt-4o-mini", llm.WithBaseURL(srv.BaseURL()), llm.WithAPIKey("sk-test"))
	if err != nil {
		fmt.Println(err)
		return
	}
	s, err := summarize.NewLLM(client, summarize.LLMOptions{MinClusterSize: 2})
	if err != nil {
		fmt.Println(err)
		return
	}
	out, err := s.Summarize(context.Background(), []lmsys.ClusterInput{{
		ClusterID: 7, Size: 120,
		Queries:  []string{"sort a python list", "python sort descending, reply to ann@example.com"},
		Contrast: []string{"merge two python dicts"},
	}})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(out[0].Title, out[0].Coherence)
	fmt.Println("e-mail sent:", strings.Contains(srv.Requests()[0].User, "ann@example.com"))
	// Output:
	// Sort lists in Python 5
	// e-mail sent: false
}
