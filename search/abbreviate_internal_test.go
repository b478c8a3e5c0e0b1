package search

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// abbreviateRef is the definition abbreviate implements without splitting the text
// (invalid bytes become U+FFFD).
func abbreviateRef(s string, n int) string {
	s = string([]rune(strings.Join(strings.Fields(s), " ")))
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func TestAbbreviate(t *testing.T) {
	for _, tc := range []struct {
		s string
		n int
	}{
		{"", 5}, {"   ", 5}, {"hello", 5}, {"hello!", 5}, {"  hello   world  ", 11}, {"hello   world", 7},
		{"hello world", 6}, {"hello world", 5}, {"a b c d e f", 3}, {"héllo wörld ünïcode", 9}, {"x", 1}, {"xy", 1},
		{"tab\tand\nnewline", 8}, {"\xff", 6}, {" \xc200", 2}, {strings.Repeat("long text ", 500), 200}, {"日本語のテキスト です", 4},
	} {
		assert.Equal(t, abbreviateRef(tc.s, tc.n), abbreviate(tc.s, tc.n), "%q, %d", tc.s, tc.n)
	}
}

func FuzzAbbreviate(f *testing.F) {
	f.Add("hello   world", 6)
	f.Add("  a\u00a0b ", 2)
	f.Fuzz(func(t *testing.T, s string, n int) {
		if n < 1 || n > 300 {
			return
		}
		if got, want := abbreviate(s, n), abbreviateRef(s, n); got != want {
			t.Fatalf("abbreviate(%q, %d) = %q, want %q", s, n, got, want)
		}
	})
}
