package jsonx

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestExtract(t *testing.T) {
	tests := []struct {
		name, in, want string
		err            bool
	}{
		{"plain", `{"a":1}`, `{"a":1}`, false},
		{"fenced json", "Here you go:\n```json\n{\"title\": \"x\"}\n```\nThanks", `{"title": "x"}`, false},
		{"fenced no label", "```\n{\"a\": [1,2]}\n```", `{"a": [1,2]}`, false},
		{"json block preferred", "```python\nprint({'a': 1})\n```\n```json\n{\"b\":2}\n```", `{"b":2}`, false},
		{"leading prose", `Sure! The answer is {"title": "Cooking {pasta}", "n": 2} hope it helps`, `{"title": "Cooking {pasta}", "n": 2}`, false},
		{"trailing commas", "{\"a\": [1, 2,], \"b\": {\"c\": 3,},}", `{"a": [1, 2], "b": {"c": 3}}`, false},
		{"comma in string kept", `{"a": "x,}"}`, `{"a": "x,}"}`, false},
		{"escaped quote", `{"a": "say \"hi\" {"}`, `{"a": "say \"hi\" {"}`, false},
		{"array", `result: [{"a":1},{"a":2}]`, `[{"a":1},{"a":2}]`, false},
		{"skips invalid first", `{not json} then {"ok": true}`, `{"ok": true}`, false},
		{"unterminated fence", "```json\n{\"a\": 1}", `{"a": 1}`, false},
		{"none", "I cannot help with that.", "", true},
		{"cut off", `{"title": "abc`, "", true},
		{"empty", "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Extract(tt.in)
			if tt.err {
				require.Error(t, err)
				assert.True(t, errors.Is(err, ErrNoJSON))
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, string(got))
		})
	}
}

func TestUnmarshal(t *testing.T) {
	var v struct {
		Title string `json:"title"`
		N     int    `json:"n"`
	}
	require.NoError(t, Unmarshal("ok ```json\n{\"title\":\"t\",\"n\":3,}\n```", &v))
	assert.Equal(t, "t", v.Title)
	assert.Equal(t, 3, v.N)
	err := Unmarshal(`{"title": 5}`, &v)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "decode JSON reply")
}

func FuzzExtract(f *testing.F) {
	for _, s := range []string{`{"a":1}`, "```json\n{\"a\":[1,],}\n```", `x {"a": "}"} y`, `[[[`, `{"a":"\`, "```"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, err := Extract(s)
		if err != nil {
			if !errors.Is(err, ErrNoJSON) {
				t.Fatalf("error %v does not wrap ErrNoJSON", err)
			}
			return
		}
		if !json.Valid(out) {
			t.Fatalf("Extract(%q) returned invalid JSON %q", s, out)
		}
	})
}
