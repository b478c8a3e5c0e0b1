package dataset

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestPlainRun puts each special byte (and bytes that are not special but sit next to
// the tested ranges) at every position of a 24-byte run and checks plainRun stops at
// the word holding the first special byte, never later and never earlier.
func TestPlainRun(t *testing.T) {
	cases := []struct {
		name    string
		b       byte
		special bool
	}{
		{"quote", '"', true},
		{"backslash", '\\', true},
		{"NUL", 0x00, true},
		{"newline", '\n', true},
		{"unit separator", 0x1f, true},
		{"space", 0x20, false},
		{"bang", '!', false},
		{"hash", '#', false},
		{"left bracket", '[', false},
		{"right bracket", ']', false},
		{"DEL", 0x7f, false},
		{"UTF-8 lead byte", 0xe2, false},
		{"UTF-8 continuation", 0x80, false},
		{"0xa0", 0xa0, false},
		{"0xdc", 0xdc, false},
		{"0xff", 0xff, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for pos := 0; pos < 24; pos++ {
				b := bytes.Repeat([]byte{'a'}, 24)
				b[pos] = tc.b
				want := 24
				if tc.special {
					want = pos / 8 * 8
				}
				assert.Equal(t, want, plainRun(b), "at %d", pos)
				// A short tail is left to the byte loop.
				assert.Equal(t, min(want, 16), plainRun(b[:23]), "at %d, 23 bytes", pos)
			}
		})
	}
	assert.Equal(t, 0, plainRun(nil))
	assert.Equal(t, 0, plainRun([]byte("short")))
}
