package llm

import (
	"context"

	"github.com/tmc/langchaingo/llms"
)

// ChatReply is one reply of a chat that offers tools: the text the model wrote and the
// tools it asks to call, in its order.
type ChatReply struct {
	Text       string
	ToolCalls  []llms.ToolCall
	StopReason string
}

// Price returns the price the client's cost figures use.
func (c *Client) Price() Price { return c.price }

// Chat sends a whole conversation (system, user, assistant turns with their tool
// calls, and tool results) with the tools the model may call, and returns its reply
// and what the call spent. It retries as Complete does and is never cached: a chat's
// next turn depends on what the tools answered. Token counts a provider does not
// report are estimated from the messages' bytes.
func (c *Client) Chat(ctx context.Context, msgs []llms.MessageContent, tools []llms.Tool) (ChatReply, Usage, error) {
	var u Usage
	var extra []llms.CallOption
	if len(tools) > 0 {
		extra = append(extra, llms.WithTools(tools))
	}
	resp, attempts, err := c.generate(ctx, msgs, extra...)
	u.Retries = int64(max(attempts-1, 0))
	if err != nil {
		c.addUsage(u)
		return ChatReply{}, u, err
	}
	ch := resp.Choices[0]
	in := intOf(ch.GenerationInfo["PromptTokens"]) + intOf(ch.GenerationInfo["InputTokens"])
	out := intOf(ch.GenerationInfo["CompletionTokens"]) + intOf(ch.GenerationInfo["OutputTokens"])
	if in == 0 && out == 0 {
		in, out, u.Estimated = MessageBytes(msgs)/4+1, int64(len(ch.Content))/4+1, true
		for _, tc := range ch.ToolCalls {
			if tc.FunctionCall != nil {
				out += int64(len(tc.FunctionCall.Arguments)) / 4
			}
		}
	}
	u.Calls = 1
	u.InputTokens, u.OutputTokens = in, out
	u.CostUSD = c.price.Cost(in, out)
	c.addUsage(u)
	return ChatReply{Text: ch.Content, ToolCalls: ch.ToolCalls, StopReason: ch.StopReason}, u, nil
}

// MessageBytes returns the bytes of text in msgs (text parts, tool calls' arguments
// and tool results), from which a call's input tokens are estimated.
func MessageBytes(msgs []llms.MessageContent) int64 {
	var n int64
	for _, m := range msgs {
		for _, p := range m.Parts {
			switch p := p.(type) {
			case llms.TextContent:
				n += int64(len(p.Text))
			case llms.ToolCall:
				if p.FunctionCall != nil {
					n += int64(len(p.FunctionCall.Name) + len(p.FunctionCall.Arguments))
				}
			case llms.ToolCallResponse:
				n += int64(len(p.Content))
			}
		}
	}
	return n
}
