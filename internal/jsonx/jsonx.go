// Package jsonx extracts one JSON value from the free text a language model replies
// with: a ```json fenced block, an object after leading prose, an object followed by
// commentary, and objects with trailing commas before a closing bracket. Package llm
// (CompleteJSON, behind the LLM summarizer and hierarchy merge) and package classify's
// LLM templates parse every model reply through it.
package jsonx

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// ErrNoJSON reports a reply holding no JSON object or array.
var ErrNoJSON = errors.New("no JSON object in reply")

// Extract returns the first valid JSON object or array found in text, with trailing
// commas removed. Fenced code blocks are tried first, then every '{' or '[' in order.
// The error wraps ErrNoJSON, or describes why the best candidate did not parse.
func Extract(text string) ([]byte, error) {
	var firstErr error
	try := func(cand string) []byte {
		out, err := parseCandidate(cand)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			return nil
		}
		return out
	}
	for _, block := range fencedBlocks(text) {
		if out := tryScan(block, try); out != nil {
			return out, nil
		}
	}
	if out := tryScan(text, try); out != nil {
		return out, nil
	}
	if firstErr != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoJSON, firstErr)
	}
	return nil, ErrNoJSON
}

// Unmarshal extracts the first JSON value of text and decodes it into v.
func Unmarshal(text string, v any) error {
	raw, err := Extract(text)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("decode JSON reply: %w", err)
	}
	return nil
}

// tryScan tries every balanced value starting at '{' or '[' in s, in order; at most
// 64 starts are tried so an adversarial reply cannot make it quadratic.
func tryScan(s string, try func(string) []byte) []byte {
	starts := 0
	for i := 0; i < len(s) && starts < 64; i++ {
		if s[i] != '{' && s[i] != '[' {
			continue
		}
		starts++
		end := matchEnd(s, i)
		if end < 0 {
			// Unbalanced: the model was cut off or quoted a brace; try the rest.
			continue
		}
		if out := try(s[i : end+1]); out != nil {
			return out
		}
	}
	return nil
}

// matchEnd returns the index of the bracket closing the one at s[start], skipping
// string literals, or -1 when it is never closed.
func matchEnd(s string, start int) int {
	var stack []byte
	inStr := false
	for i := start; i < len(s); i++ {
		c := s[i]
		if inStr {
			switch c {
			case '\\':
				i++
			case '"':
				inStr = false
			}
			continue
		}
		switch c {
		case '"':
			inStr = true
		case '{':
			stack = append(stack, '}')
		case '[':
			stack = append(stack, ']')
		case '}', ']':
			if len(stack) == 0 || stack[len(stack)-1] != c {
				return -1
			}
			stack = stack[:len(stack)-1]
			if len(stack) == 0 {
				return i
			}
		}
	}
	return -1
}

// parseCandidate validates cand as JSON, first as is, then with trailing commas removed.
func parseCandidate(cand string) ([]byte, error) {
	if json.Valid([]byte(cand)) {
		return []byte(cand), nil
	}
	fixed := RemoveTrailingCommas(cand)
	if json.Valid(fixed) {
		return fixed, nil
	}
	var v any
	err := json.Unmarshal(fixed, &v)
	return nil, err
}

// RemoveTrailingCommas drops every comma that, outside string literals, is followed
// only by white space and a closing '}' or ']'.
func RemoveTrailingCommas(s string) []byte {
	out := make([]byte, 0, len(s))
	inStr := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if inStr {
			out = append(out, c)
			switch c {
			case '\\':
				if i+1 < len(s) {
					i++
					out = append(out, s[i])
				}
			case '"':
				inStr = false
			}
			continue
		}
		if c == '"' {
			inStr = true
		}
		if c == ',' {
			j := i + 1
			for j < len(s) && (s[j] == ' ' || s[j] == '\t' || s[j] == '\n' || s[j] == '\r') {
				j++
			}
			if j < len(s) && (s[j] == '}' || s[j] == ']') {
				continue
			}
		}
		out = append(out, c)
	}
	return out
}

// fencedBlocks returns the bodies of ``` fenced blocks, those labelled json first.
func fencedBlocks(text string) []string {
	var jsonBlocks, other []string
	rest := text
	for {
		i := strings.Index(rest, "```")
		if i < 0 {
			break
		}
		rest = rest[i+3:]
		nl := strings.IndexByte(rest, '\n')
		lang := ""
		if nl >= 0 && !strings.ContainsAny(rest[:nl], "{[") {
			lang = strings.ToLower(strings.TrimSpace(rest[:nl]))
			rest = rest[nl+1:]
		}
		j := strings.Index(rest, "```")
		if j < 0 {
			// An unterminated fence (a cut-off reply): keep its body.
			j = len(rest)
		}
		body := rest[:j]
		if lang == "json" || lang == "jsonc" || lang == "json5" {
			jsonBlocks = append(jsonBlocks, body)
		} else {
			other = append(other, body)
		}
		if j == len(rest) {
			break
		}
		rest = rest[j+3:]
	}
	return append(jsonBlocks, other...)
}
