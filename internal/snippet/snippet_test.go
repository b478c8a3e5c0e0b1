package snippet

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// reference is the definition Of implements without splitting the text
// (invalid bytes become U+FFFD).
func reference(s string, n int) string {
	s = string([]rune(strings.Join(strings.Fields(s), " ")))
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func TestOf(t *testing.T) {
	for _, tc := range []struct {
		s string
		n int
	}{
		{"", 5}, {"   ", 5}, {"hello", 5}, {"hello!", 5}, {"  hello   world  ", 11}, {"hello   world", 7},
		{"hello world", 6}, {"hello world", 5}, {"a b c d e f", 3}, {"héllo wörld ünïcode", 9}, {"x", 1}, {"xy", 1},
		{"tab\tand\nnewline", 8}, {"\xff", 6}, {" \xc200", 2}, {strings.Repeat("long text ", 500), 200}, {"日本語のテキスト です", 4},
	} {
		assert.Equal(t, reference(tc.s, tc.n), Of(tc.s, tc.n), "%q, %d", tc.s, tc.n)
	}
}

func FuzzOf(f *testing.F) {
	f.Add("hello   world", 6)
	f.Add("  a\u00a0b ", 2)
	f.Fuzz(func(t *testing.T, s string, n int) {
		if n < 1 || n > 300 {
			return
		}
		if got, want := Of(s, n), reference(s, n); got != want {
			t.Fatalf("Of(%q, %d) = %q, want %q", s, n, got, want)
		}
	})
}
