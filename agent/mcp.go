package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// MCP returns a Toolbox over an MCP client session (a host's, or the in-process one of
// mcpserver.Connect). With names, only those tools are offered and callable: an agent
// that writes a report has no use for curation or paid classification.
func MCP(cs *mcp.ClientSession, names ...string) Toolbox {
	return &mcpToolbox{cs: cs, names: names}
}

type mcpToolbox struct {
	cs    *mcp.ClientSession
	names []string
}

func (b *mcpToolbox) allowed(name string) bool {
	return len(b.names) == 0 || slices.Contains(b.names, name)
}

// Tools lists the session's tools, in the server's order.
func (b *mcpToolbox) Tools(ctx context.Context) ([]Tool, error) {
	var out []Tool
	for t, err := range b.cs.Tools(ctx, nil) {
		if err != nil {
			return nil, fmt.Errorf("agent: list MCP tools: %w", err)
		}
		if !b.allowed(t.Name) {
			continue
		}
		schema, err := json.Marshal(t.InputSchema)
		if err != nil {
			return nil, fmt.Errorf("agent: MCP tool %s: input schema: %w", t.Name, err)
		}
		out = append(out, Tool{Name: t.Name, Description: t.Description, InputSchema: schema})
	}
	return out, nil
}

// Call calls one tool and returns its text content; a tool error's text comes back
// with isError set.
func (b *mcpToolbox) Call(ctx context.Context, name string, args json.RawMessage) (string, bool, error) {
	if !b.allowed(name) {
		return fmt.Sprintf("%s is not one of the tools offered", name), true, nil
	}
	res, err := b.cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		return "", false, err
	}
	var sb strings.Builder
	for _, c := range res.Content {
		if t, ok := c.(*mcp.TextContent); ok {
			if sb.Len() > 0 {
				sb.WriteByte('\n')
			}
			sb.WriteString(t.Text)
		}
	}
	if sb.Len() == 0 && res.StructuredContent != nil {
		js, err := json.Marshal(res.StructuredContent)
		if err != nil {
			return "", false, fmt.Errorf("agent: MCP tool %s: result: %w", name, err)
		}
		sb.Write(js)
	}
	return sb.String(), res.IsError, nil
}
