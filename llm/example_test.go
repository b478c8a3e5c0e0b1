package llm_test

import (
	"context"
	"fmt"

	"github.com/lmsys-go/lmsys/llm"
	"github.com/lmsys-go/lmsys/llm/llmtest"
)

// Example opens a client on an OpenAI-compatible endpoint and asks for JSON.
func Example() {
	srv := llmtest.OpenAI(llmtest.Text("Here you go:\n```json\n{\"title\": \"Sorting lists in Python\",}\n```"))
	defer srv.Close()

	c, err := llm.Open("openai/gpt-4o-mini", llm.WithBaseURL(srv.BaseURL()), llm.WithAPIKey("sk-test"),
		llm.WithConcurrency(8), llm.WithRPM(600), llm.WithCache(llm.NewMemoryCache()))
	if err != nil {
		fmt.Println(err)
		return
	}
	var out struct {
		Title string `json:"title"`
	}
	if _, err := c.CompleteJSON(context.Background(), "Name the topic.", "how do I sort a list", &out, nil); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(out.Title)
	// Output: Sorting lists in Python
}
