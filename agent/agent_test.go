package agent_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/agent"
	"github.com/lmsys-go/lmsys/llm"
	"github.com/lmsys-go/lmsys/llm/llmtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// toolbox is a Toolbox over a fixed run: list_clusters answers two clusters (one
// query holding an e-mail address), inspect_cluster wants an integer cluster_id.
type toolbox struct {
	calls []string
}

func (*toolbox) Tools(context.Context) ([]agent.Tool, error) {
	return []agent.Tool{
		{Name: "list_clusters", Description: "List the clusters of a run.", InputSchema: json.RawMessage(`{"type":"object","properties":{"run_id":{"type":"string"}}}`)},
		{Name: "inspect_cluster", Description: "One cluster and its queries.", InputSchema: json.RawMessage(`{"type":"object","properties":{"cluster_id":{"type":"integer"}},"required":["cluster_id"]}`)},
	}, nil
}

func (b *toolbox) Call(_ context.Context, name string, args json.RawMessage) (string, bool, error) {
	b.calls = append(b.calls, name)
	switch name {
	case "list_clusters":
		return `{"items":[{"cluster_id":3,"title":"Password resets","num_queries":40,"examples":["mail me at jane.doe@example.com"]},{"cluster_id":7,"title":"SQL help","num_queries":12}]}`, false, nil
	case "inspect_cluster":
		var in struct {
			ClusterID int `json:"cluster_id"`
		}
		if err := json.Unmarshal(args, &in); err != nil {
			return "cluster_id must be an integer: " + err.Error(), true, nil
		}
		return fmt.Sprintf(`{"cluster_id":%d,"queries":[{"id":101,"query_text":"reset my password"}]}`, in.ClusterID), false, nil
	}
	return "", false, errors.New("no such tool")
}

// verify accepts clusters 3 and 7 and queries 101 and 102.
func verify(_ context.Context, f agent.Finding) error {
	for _, c := range f.ClusterIDs {
		if c != 3 && c != 7 {
			return fmt.Errorf("cluster %d is not in the run", c)
		}
	}
	for _, q := range f.QueryIDs {
		if q != 101 && q != 102 {
			return fmt.Errorf("query %d does not exist", q)
		}
	}
	return nil
}

func submit(clusters string) string {
	return `{"findings":[{"title":"Password resets dominate","kind":"product_opportunity","summary":"Offer a self-service reset link.","evidence":"40 of 52 queries","cluster_ids":` + clusters + `,"query_ids":[101]}]}`
}

func client(t *testing.T, srv *llmtest.Server, opts ...llm.Option) *llm.Client {
	t.Helper()
	c, err := llm.Open("openai/gpt-4o-mini", append([]llm.Option{llm.WithBaseURL(srv.BaseURL()), llm.WithAPIKey("sk-test"),
		llm.WithBackoff(time.Millisecond, 2*time.Millisecond), llm.WithRetries(2)}, opts...)...)
	require.NoError(t, err)
	return c
}

// TestRunScripted plays a whole exploration: two tool calls (one refused for its
// input), a submission citing a cluster that is not in the run (sent back with the
// reason), then an accepted one.
func TestRunScripted(t *testing.T) {
	srv := llmtest.OpenAI(func(r llmtest.Request) llmtest.Reply {
		switch r.N {
		case 1:
			return llmtest.Reply{Text: "Hypothesis: account problems are common.", ToolCalls: []llmtest.ToolCall{
				{ID: "c1", Name: "list_clusters", Arguments: `{"run_id":"run-1"}`},
				{ID: "c2", Name: "inspect_cluster", Arguments: `{"cluster_id":"three"}`},
			}, InputTokens: 900, OutputTokens: 40}
		case 2:
			return llmtest.Reply{ToolCalls: []llmtest.ToolCall{{ID: "c3", Name: agent.SubmitTool, Arguments: submit("[3, 99]")}}, InputTokens: 1200, OutputTokens: 80}
		}
		return llmtest.Reply{ToolCalls: []llmtest.ToolCall{{ID: "c4", Name: agent.SubmitTool, Arguments: submit("[3]")}}, InputTokens: 1400, OutputTokens: 80}
	})
	defer srv.Close()
	tb := &toolbox{}
	var tr bytes.Buffer
	out, err := agent.Run(context.Background(), agent.Options{Client: client(t, srv), Tools: tb, RunID: "run-1", Goal: "account problems",
		MaxCostUSD: 1, Verify: verify, Transcript: &tr})
	require.NoError(t, err)
	assert.Equal(t, agent.StopSubmitted, out.Stopped)
	assert.Equal(t, 3, out.Steps)
	assert.Equal(t, 4, out.ToolCalls)
	assert.Equal(t, 2, out.ToolErrors, "the refused input and the refused submission")
	require.Len(t, out.Findings, 1)
	assert.Equal(t, []int{3}, out.Findings[0].ClusterIDs)
	assert.EqualValues(t, 3, out.Usage.Calls)
	assert.EqualValues(t, 3500, out.Usage.InputTokens)
	assert.Equal(t, []string{"list_clusters", "inspect_cluster"}, tb.calls)

	reqs := srv.Requests()
	require.Len(t, reqs, 3)
	assert.Equal(t, []string{"list_clusters", "inspect_cluster", agent.SubmitTool}, reqs[0].Tools)
	assert.Contains(t, reqs[0].User, "run-1")
	assert.Contains(t, reqs[0].User, "account problems")
	require.Len(t, reqs[1].ToolResults, 2)
	assert.Equal(t, "c1", reqs[1].ToolResults[0].ID)
	assert.NotContains(t, reqs[1].ToolResults[0].Content, "jane.doe@example.com", "tool results are scrubbed")
	assert.Contains(t, reqs[1].ToolResults[0].Content, "[EMAIL]")
	assert.Contains(t, reqs[1].ToolResults[1].Content, "cluster_id must be an integer")
	require.Len(t, reqs[2].ToolResults, 3)
	assert.Contains(t, reqs[2].ToolResults[2].Content, "cluster 99 is not in the run")

	var lines []map[string]any
	sc := bufio.NewScanner(&tr)
	for sc.Scan() {
		var m map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &m))
		lines = append(lines, m)
	}
	require.Len(t, lines, 7, "3 model calls and 4 tool calls")
	assert.Equal(t, "model", lines[0]["kind"])
	assert.Equal(t, "Hypothesis: account problems are common.", lines[0]["text"])
	assert.Equal(t, "tool", lines[1]["kind"])
	assert.Equal(t, map[string]any{"run_id": "run-1"}, lines[1]["arguments"])
	assert.Equal(t, true, lines[2]["is_error"])
	assert.Equal(t, "accepted", lines[6]["result"])
}

// TestRunStepCap: a model that never submits is offered only the submit tool on its
// last step, and a call of another tool there is refused without reaching the toolbox.
func TestRunStepCap(t *testing.T) {
	srv := llmtest.OpenAI(func(r llmtest.Request) llmtest.Reply {
		return llmtest.Reply{ToolCalls: []llmtest.ToolCall{{ID: fmt.Sprint("c", r.N), Name: "list_clusters", Arguments: `{}`}}}
	})
	defer srv.Close()
	tb := &toolbox{}
	out, err := agent.Run(context.Background(), agent.Options{Client: client(t, srv), Tools: tb, RunID: "run-1", MaxSteps: 3, MaxCostUSD: 1})
	require.NoError(t, err)
	assert.Equal(t, agent.StopMaxSteps, out.Stopped)
	assert.Equal(t, 3, out.Steps)
	assert.Empty(t, out.Findings)
	assert.Len(t, tb.calls, 2, "the last step's call was refused")
	reqs := srv.Requests()
	require.Len(t, reqs, 3)
	assert.Equal(t, []string{agent.SubmitTool}, reqs[2].Tools)
	assert.Contains(t, reqs[2].User, "last step")
}

// TestRunCostCap: no call is made whose estimated cost would pass the cap.
func TestRunCostCap(t *testing.T) {
	srv := llmtest.OpenAI(func(r llmtest.Request) llmtest.Reply {
		return llmtest.Reply{ToolCalls: []llmtest.ToolCall{{ID: "c", Name: "list_clusters", Arguments: `{}`}}, InputTokens: 1000, OutputTokens: 100}
	})
	defer srv.Close()
	// $1 per thousand tokens: the first call costs $1.10 and the next is estimated at about $1.
	c := client(t, srv, llm.WithPrice(llm.Price{InputPerM: 1000, OutputPerM: 1000}))
	out, err := agent.Run(context.Background(), agent.Options{Client: c, Tools: &toolbox{}, RunID: "run-1", MaxCostUSD: 2})
	require.NoError(t, err)
	assert.Equal(t, agent.StopMaxCost, out.Stopped)
	assert.Equal(t, 1, srv.Calls())
	assert.LessOrEqual(t, out.Usage.CostUSD, 2.0)

	out, err = agent.Run(context.Background(), agent.Options{Client: c, Tools: &toolbox{}, RunID: "run-1", MaxCostUSD: 0.01})
	require.NoError(t, err)
	assert.Equal(t, agent.StopMaxCost, out.Stopped)
	assert.Zero(t, out.Steps)
	assert.Equal(t, 1, srv.Calls(), "a cap below one call's estimate makes no call")
}

// TestRunProviderFails: a provider that keeps answering 500 ends the loop with an
// error wrapping lmsys.ErrProvider, and the key never appears in it.
func TestRunProviderFails(t *testing.T) {
	srv := llmtest.OpenAI(func(llmtest.Request) llmtest.Reply { return llmtest.Reply{Status: http.StatusInternalServerError} })
	defer srv.Close()
	out, err := agent.Run(context.Background(), agent.Options{Client: client(t, srv), Tools: &toolbox{}, RunID: "run-1", MaxCostUSD: 1})
	require.ErrorIs(t, err, lmsys.ErrProvider)
	assert.NotContains(t, err.Error(), "sk-test")
	assert.Zero(t, out.Steps)
	assert.Equal(t, 3, srv.Calls(), "two retries")
}

func TestRunRefusesBadOptions(t *testing.T) {
	srv := llmtest.OpenAI(llmtest.Text("x"))
	defer srv.Close()
	c := client(t, srv)
	for _, tc := range []struct {
		name string
		opts agent.Options
		want string
	}{
		{"no client", agent.Options{Tools: &toolbox{}, RunID: "r", MaxCostUSD: 1}, "model client"},
		{"no run", agent.Options{Client: c, Tools: &toolbox{}, MaxCostUSD: 1}, "run id"},
		{"no cost cap", agent.Options{Client: c, Tools: &toolbox{}, RunID: "r"}, "cost cap"},
		{"negative steps", agent.Options{Client: c, Tools: &toolbox{}, RunID: "r", MaxCostUSD: 1, MaxSteps: -1}, "max steps"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := agent.Run(context.Background(), tc.opts)
			require.ErrorIs(t, err, lmsys.ErrInvalidInput)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	assert.Zero(t, srv.Calls())
}

// TestRunClipsResults: a tool result longer than MaxResultBytes reaches the model cut,
// with a note of what was left out.
func TestRunClipsResults(t *testing.T) {
	srv := llmtest.OpenAI(func(r llmtest.Request) llmtest.Reply {
		if r.N == 1 {
			return llmtest.Reply{ToolCalls: []llmtest.ToolCall{{ID: "c1", Name: "list_clusters", Arguments: `{}`}}}
		}
		return llmtest.Reply{ToolCalls: []llmtest.ToolCall{{ID: "c2", Name: agent.SubmitTool, Arguments: submit("[3]")}}}
	})
	defer srv.Close()
	out, err := agent.Run(context.Background(), agent.Options{Client: client(t, srv), Tools: &toolbox{}, RunID: "run-1", MaxCostUSD: 1, MaxResultBytes: 40})
	require.NoError(t, err)
	assert.Equal(t, agent.StopSubmitted, out.Stopped)
	got := srv.Requests()[1].ToolResults[0].Content
	assert.True(t, strings.HasPrefix(got, `{"items":[{"cluster_id":3,"title":"Pas`), got)
	assert.Contains(t, got, "more bytes clipped")
}
