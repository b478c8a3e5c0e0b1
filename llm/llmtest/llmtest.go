// Package llmtest runs local fakes of the chat APIs the llm package speaks — OpenAI
// chat completions, Anthropic messages and Ollama chat — speaking their real wire
// formats, so code that calls models through langchaingo can be tested without a
// network. A Handler decides each reply: text, an HTTP error with Retry-After, or a delay.
package llmtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// Request is one chat request as the fake saw it.
type Request struct {
	// N numbers the requests from 1 in arrival order.
	N      int
	Model  string
	System string
	// User holds the user messages joined by newlines.
	User string
	// Header holds the request headers (authorisation included, to check keys).
	Header http.Header
	// Tools names the tools the request offers (OpenAI's tools, Anthropic's tools).
	Tools []string
	// ToolResults holds the tool results the request sends back, in order.
	ToolResults []ToolResult
	// Messages is the number of messages in the request, the system prompt aside.
	Messages int
}

// ToolResult is a tool's answer as a request carries it back to the model.
type ToolResult struct {
	ID      string
	Content string
}

// ToolCall is a call of a tool that a Reply asks for; Arguments is a JSON object.
type ToolCall struct {
	ID, Name, Arguments string
}

// Reply is what the fake answers to one request.
type Reply struct {
	// Status is the HTTP status; 0 means 200.
	Status int
	// RetryAfter, when not empty, is sent as the Retry-After header.
	RetryAfter string
	// Text is the assistant's reply on success.
	Text string
	// Delay is waited before answering (cut short when the client gives up).
	Delay time.Duration
	// InputTokens and OutputTokens are reported as usage; 0 means len/4.
	InputTokens, OutputTokens int
	// Raw, when not empty, is sent as the body instead of the provider's format.
	Raw string
	// ToolCalls, when not empty, are the tool calls of the reply (OpenAI's tool_calls
	// with finish_reason "tool_calls"; Anthropic's tool_use blocks).
	ToolCalls []ToolCall
}

// Handler decides the reply to a request.
type Handler func(Request) Reply

// Text returns a handler that always answers text.
func Text(text string) Handler { return func(Request) Reply { return Reply{Text: text} } }

// Server is a running fake.
type Server struct {
	*httptest.Server
	// Provider is "openai", "anthropic" or "ollama".
	Provider string
	handler  Handler

	mu   sync.Mutex
	seen []Request
}

// OpenAI starts a fake of POST /v1/chat/completions.
func OpenAI(h Handler) *Server { return start("openai", h) }

// Anthropic starts a fake of POST /v1/messages.
func Anthropic(h Handler) *Server { return start("anthropic", h) }

// Ollama starts a fake of POST /api/chat.
func Ollama(h Handler) *Server { return start("ollama", h) }

func start(provider string, h Handler) *Server {
	s := &Server{Provider: provider, handler: h}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// BaseURL returns the URL to pass to llm.WithBaseURL for this fake.
func (s *Server) BaseURL() string {
	if s.Provider == "openai" {
		return s.URL + "/v1"
	}
	return s.URL
}

// Calls returns the number of requests received.
func (s *Server) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.seen)
}

// Requests returns a copy of the requests received.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.seen...)
}

// wireMessage is a chat message as the three APIs send it: content is a string or a
// list of typed parts.
type wireMessage struct {
	Role       string          `json:"role"`
	Content    json.RawMessage `json:"content"`
	ToolCallID string          `json:"tool_call_id"`
}

// toolResults returns the tool results a message carries: an OpenAI tool message, or
// the tool_result blocks of an Anthropic user message.
func (m wireMessage) toolResults() []ToolResult {
	if m.Role == "tool" {
		return []ToolResult{{ID: m.ToolCallID, Content: m.text()}}
	}
	var parts []struct {
		Type      string          `json:"type"`
		ToolUseID string          `json:"tool_use_id"`
		Content   json.RawMessage `json:"content"`
	}
	if json.Unmarshal(m.Content, &parts) != nil {
		return nil
	}
	var out []ToolResult
	for _, p := range parts {
		if p.Type == "tool_result" {
			out = append(out, ToolResult{ID: p.ToolUseID, Content: wireMessage{Content: p.Content}.text()})
		}
	}
	return out
}

func (m wireMessage) text() string {
	var s string
	if json.Unmarshal(m.Content, &s) == nil {
		return s
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if json.Unmarshal(m.Content, &parts) == nil {
		var b strings.Builder
		for _, p := range parts {
			b.WriteString(p.Text)
		}
		return b.String()
	}
	return ""
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	want := map[string]string{"openai": "/v1/chat/completions", "anthropic": "/v1/messages", "ollama": "/api/chat"}[s.Provider]
	if r.Method != http.MethodPost || r.URL.Path != want {
		http.Error(w, fmt.Sprintf(`{"error":{"message":"no route %s %s"}}`, r.Method, r.URL.Path), http.StatusNotFound)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "read body", http.StatusBadRequest)
		return
	}
	var req struct {
		Model    string          `json:"model"`
		System   json.RawMessage `json:"system"`
		Messages []wireMessage   `json:"messages"`
		Tools    []struct {
			Name     string `json:"name"`
			Function struct {
				Name string `json:"name"`
			} `json:"function"`
		} `json:"tools"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		http.Error(w, `{"error":{"message":"bad JSON"}}`, http.StatusBadRequest)
		return
	}
	in := Request{Model: req.Model, Header: r.Header.Clone()}
	if len(req.System) > 0 {
		in.System = wireMessage{Content: req.System}.text()
	}
	for _, t := range req.Tools {
		in.Tools = append(in.Tools, t.Name+t.Function.Name)
	}
	var users []string
	for _, m := range req.Messages {
		in.ToolResults = append(in.ToolResults, m.toolResults()...)
		switch m.Role {
		case "system":
			in.System = m.text()
			continue
		case "user":
			if t := m.text(); t != "" {
				users = append(users, t)
			}
		}
		in.Messages++
	}
	in.User = strings.Join(users, "\n")
	s.mu.Lock()
	in.N = len(s.seen) + 1
	s.seen = append(s.seen, in)
	s.mu.Unlock()

	rep := s.handler(in)
	if rep.Delay > 0 {
		t := time.NewTimer(rep.Delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	if rep.RetryAfter != "" {
		w.Header().Set("Retry-After", rep.RetryAfter)
	}
	status := rep.Status
	if status == 0 {
		status = http.StatusOK
	}
	w.Header().Set("Content-Type", "application/json")
	if rep.Raw != "" {
		w.WriteHeader(status)
		_, _ = io.WriteString(w, rep.Raw)
		return
	}
	inTok, outTok := rep.InputTokens, rep.OutputTokens
	if inTok == 0 {
		inTok = (len(in.System)+len(in.User))/4 + 1
	}
	if outTok == 0 {
		outTok = len(rep.Text)/4 + 1
	}
	var out any
	if status != http.StatusOK {
		msg := fmt.Sprintf("fake %s error %d", s.Provider, status)
		switch s.Provider {
		case "anthropic":
			out = map[string]any{"type": "error", "error": map[string]any{"type": errorType(status), "message": msg}}
		case "ollama":
			out = map[string]any{"error": msg}
		default:
			out = map[string]any{"error": map[string]any{"message": msg, "type": errorType(status), "code": nil}}
		}
	} else {
		switch s.Provider {
		case "anthropic":
			content := []map[string]any{}
			if rep.Text != "" || len(rep.ToolCalls) == 0 {
				content = append(content, map[string]any{"type": "text", "text": rep.Text})
			}
			stop := "end_turn"
			for _, tc := range rep.ToolCalls {
				content = append(content, map[string]any{"type": "tool_use", "id": tc.ID, "name": tc.Name, "input": json.RawMessage(tc.Arguments)})
				stop = "tool_use"
			}
			out = map[string]any{
				"id": fmt.Sprintf("msg_%d", in.N), "type": "message", "role": "assistant", "model": in.Model,
				"content":     content,
				"stop_reason": stop, "stop_sequence": nil,
				"usage": map[string]any{"input_tokens": inTok, "output_tokens": outTok},
			}
		case "ollama":
			out = map[string]any{
				"model": in.Model, "created_at": time.Now().UTC().Format(time.RFC3339Nano),
				"message": map[string]any{"role": "assistant", "content": rep.Text},
				"done":    true, "done_reason": "stop",
				"prompt_eval_count": inTok, "eval_count": outTok,
			}
		default:
			msg := map[string]any{"role": "assistant", "content": rep.Text}
			finish := "stop"
			if len(rep.ToolCalls) > 0 {
				var calls []map[string]any
				for _, tc := range rep.ToolCalls {
					calls = append(calls, map[string]any{"id": tc.ID, "type": "function", "function": map[string]any{"name": tc.Name, "arguments": tc.Arguments}})
				}
				msg["tool_calls"], finish = calls, "tool_calls"
				if rep.Text == "" {
					msg["content"] = nil
				}
			}
			out = map[string]any{
				"id": fmt.Sprintf("chatcmpl-%d", in.N), "object": "chat.completion", "created": time.Now().Unix(), "model": in.Model,
				"choices": []map[string]any{{"index": 0, "message": msg, "finish_reason": finish}},
				"usage":   map[string]any{"prompt_tokens": inTok, "completion_tokens": outTok, "total_tokens": inTok + outTok},
			}
		}
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(out)
}

func errorType(status int) string {
	switch {
	case status == http.StatusTooManyRequests:
		return "rate_limit_error"
	case status >= 500:
		return "api_error"
	default:
		return "invalid_request_error"
	}
}
