package store

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/lmsys-go/lmsys"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "plain", `quote " and \ backslash`, "tab\tnew\nline\r", "\x01\x1f control", "日本語 😀", "<html>&amp;"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			s = strings.ToValidUTF8(s, "\uFFFD")
		}
		var back string
		require.NoError(t, json.Unmarshal(appendJSONString(nil, s), &back))
		assert.Equal(t, s, back)
	})
}

func TestConversationEncodingRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		ms   []lmsys.Message
		enc  string
	}{
		{"short stays plain", []lmsys.Message{{Role: "user", Content: "hi"}}, encJSON},
		{"long compresses", []lmsys.Message{{Role: "user", Content: strings.Repeat("the same words again ", 100)}}, encJSONS2},
		{"incompressible stays plain", []lmsys.Message{{Role: "user", Content: noise(4000)}}, encJSON},
		{"no messages", nil, encJSON},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			enc, body, _ := encodeConversation(tt.ms)
			assert.Equal(t, tt.enc, enc)
			got, err := decodeConversation(enc, body)
			require.NoError(t, err)
			if len(tt.ms) == 0 {
				assert.Empty(t, got)
				return
			}
			assert.Equal(t, tt.ms, got)
		})
	}
	_, err := decodeConversation(encJSONS2, []byte("not s2"))
	require.ErrorContains(t, err, "corrupt")
	_, err = decodeConversation("gzip", nil)
	require.ErrorContains(t, err, "unknown conversation encoding")
}

// noise returns n bytes of printable text with no repeats to speak of.
func noise(n int) string {
	var b strings.Builder
	x := uint32(2463534242)
	for b.Len() < n {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b.WriteByte(byte(33 + x%90))
	}
	return b.String()
}
