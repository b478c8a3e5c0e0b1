package llm_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/lmsys-go/lmsys/llm"
	"github.com/lmsys-go/lmsys/llm/llmtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tmc/langchaingo/llms"
)

// TestChatWithTools plays two turns of a tool-calling chat through the real OpenAI and
// Anthropic clients: the model asks for a tool, and the next request carries the
// tool's answer back under the call's id.
func TestChatWithTools(t *testing.T) {
	tools := []llms.Tool{{Type: "function", Function: &llms.FunctionDefinition{Name: "list_runs", Description: "List runs.",
		Parameters: map[string]any{"type": "object", "properties": map[string]any{"limit": map[string]any{"type": "integer"}}}}}}
	for _, start := range []func(llmtest.Handler) *llmtest.Server{llmtest.OpenAI, llmtest.Anthropic} {
		srv := start(func(r llmtest.Request) llmtest.Reply {
			switch r.N {
			case 1:
				return llmtest.Reply{Status: http.StatusTooManyRequests, RetryAfter: "0"}
			case 2:
				return llmtest.Reply{ToolCalls: []llmtest.ToolCall{{ID: "call_1", Name: "list_runs", Arguments: `{"limit":2}`}}, InputTokens: 100, OutputTokens: 10}
			}
			return llmtest.Reply{Text: "two runs", InputTokens: 120, OutputTokens: 3}
		})
		t.Run(srv.Provider, func(t *testing.T) {
			defer srv.Close()
			c := open(t, srv, "m1")
			msgs := []llms.MessageContent{llms.TextParts(llms.ChatMessageTypeSystem, "explore"), llms.TextParts(llms.ChatMessageTypeHuman, "how many runs?")}
			rep, u, err := c.Chat(context.Background(), msgs, tools)
			require.NoError(t, err)
			require.Len(t, rep.ToolCalls, 1)
			call := rep.ToolCalls[0]
			assert.Equal(t, "call_1", call.ID)
			assert.Equal(t, "list_runs", call.FunctionCall.Name)
			assert.JSONEq(t, `{"limit":2}`, call.FunctionCall.Arguments)
			assert.EqualValues(t, 1, u.Calls)
			assert.EqualValues(t, 1, u.Retries, "the 429 was retried")
			assert.EqualValues(t, 100, u.InputTokens)

			msgs = append(msgs, llms.MessageContent{Role: llms.ChatMessageTypeAI, Parts: []llms.ContentPart{call}},
				llms.MessageContent{Role: llms.ChatMessageTypeTool, Parts: []llms.ContentPart{llms.ToolCallResponse{ToolCallID: call.ID, Name: "list_runs", Content: `{"total":2}`}}})
			rep, _, err = c.Chat(context.Background(), msgs, tools)
			require.NoError(t, err)
			assert.Equal(t, "two runs", rep.Text)
			assert.Empty(t, rep.ToolCalls)

			reqs := srv.Requests()
			require.Len(t, reqs, 3)
			assert.Equal(t, []string{"list_runs"}, reqs[1].Tools)
			assert.Equal(t, "explore", reqs[2].System)
			assert.Equal(t, []llmtest.ToolResult{{ID: "call_1", Content: `{"total":2}`}}, reqs[2].ToolResults)
			assert.Equal(t, llm.Usage{Calls: 2, Retries: 1, InputTokens: 220, OutputTokens: 13, CostUSD: c.Price().Cost(220, 13)}, c.Usage())
		})
	}
}

// TestChatEstimatesUnreportedTokens: a provider that reports no usage gets its tokens
// estimated from the bytes sent and received, marked as estimated.
func TestChatEstimatesUnreportedTokens(t *testing.T) {
	srv := llmtest.OpenAI(func(llmtest.Request) llmtest.Reply {
		return llmtest.Reply{Raw: `{"id":"c","object":"chat.completion","created":1,"model":"m1","choices":[{"index":0,"finish_reason":"tool_calls",
			"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"list_runs","arguments":"{\"limit\":20000}"}}]}}]}`}
	})
	defer srv.Close()
	c := open(t, srv, "m1")
	system := "explore " + string(make([]byte, 396))
	_, u, err := c.Chat(context.Background(), []llms.MessageContent{llms.TextParts(llms.ChatMessageTypeSystem, system)}, nil)
	require.NoError(t, err)
	assert.True(t, u.Estimated)
	assert.EqualValues(t, 404/4+1, u.InputTokens, "the message's bytes over 4, plus one")
	assert.EqualValues(t, 1+len(`{"limit":20000}`)/4, u.OutputTokens, "the reply's empty text and the tool call's arguments")
}
