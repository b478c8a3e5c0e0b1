package agent_test

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/lmsys-go/lmsys/agent"
	"github.com/lmsys-go/lmsys/llm"
	"github.com/lmsys-go/lmsys/llm/llmtest"
)

// sizes is a one-tool Toolbox: the sizes of a run's clusters.
type sizes struct{}

func (sizes) Tools(context.Context) ([]agent.Tool, error) {
	return []agent.Tool{{Name: "cluster_sizes", Description: "Sizes of the run's clusters.", InputSchema: json.RawMessage(`{"type":"object"}`)}}, nil
}

func (sizes) Call(context.Context, string, json.RawMessage) (string, bool, error) {
	return `{"3": 40, "7": 12}`, false, nil
}

// An exploration against a fake model that checks the sizes, then submits a finding.
func ExampleRun() {
	fake := llmtest.OpenAI(func(r llmtest.Request) llmtest.Reply {
		if r.N == 1 {
			return llmtest.Reply{ToolCalls: []llmtest.ToolCall{{ID: "1", Name: "cluster_sizes", Arguments: `{}`}}}
		}
		return llmtest.Reply{ToolCalls: []llmtest.ToolCall{{ID: "2", Name: agent.SubmitTool, Arguments: `{"findings":[{"title":"Cluster 3 is three times cluster 7",
			"kind":"observation","summary":"Most queries are about one topic.","evidence":"40 against 12","cluster_ids":[3,7],"query_ids":[]}]}`}}}
	})
	defer fake.Close()
	client, err := llm.Open("openai/gpt-4o-mini", llm.WithBaseURL(fake.BaseURL()), llm.WithAPIKey("sk-example"))
	if err != nil {
		panic(err)
	}
	out, err := agent.Run(context.Background(), agent.Options{Client: client, Tools: sizes{}, RunID: "kmeans-2", MaxSteps: 5, MaxCostUSD: 0.5})
	if err != nil {
		panic(err)
	}
	fmt.Println(out.Stopped, out.Steps, "steps")
	for _, f := range out.Findings {
		fmt.Printf("%s: %s %v\n", f.Kind, f.Title, f.ClusterIDs)
	}
	// Output:
	// submitted 2 steps
	// observation: Cluster 3 is three times cluster 7 [3 7]
}
