package dataset

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/lmsys-go/lmsys"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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

func TestUnescape(t *testing.T) {
	tests := []struct {
		name, raw, want string
	}{
		{"line breaks and quotes", `"a\nb \"c\" d\\e\/f"`, "a\nb \"c\" d\\e/f"},
		{"every one-letter escape", `"\b\f\n\r\t"`, "\b\f\n\r\t"},
		{"escape first and last", `"\nmiddle\n"`, "\nmiddle\n"},
		{"only an escape", `"\t"`, "\t"},
		{"a \\u escape", `"caf\u00e9 \u20AC"`, "café €"},
		{"a surrogate pair", `"\ud83d\ude00!"`, "😀!"},
		{"a lone high surrogate", `"\ud83d x"`, "\uFFFD x"},
		{"a high surrogate before another escape", `"\ud83d\n"`, "\uFFFD\n"},
		{"a lone low surrogate", `"\ude00"`, "\uFFFD"},
		{"two high surrogates", `"\ud83d\ud83d\ude00"`, "\uFFFD😀"},
		{"a NUL", `"a\u0000b"`, "a\x00b"},
		{"UTF-8 kept", `"日本\n語"`, "日本\n語"},
		{"invalid UTF-8 replaced", "\"\xff\\n\xe6\x97\"", "\uFFFD\n\uFFFD\uFFFD"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeString([]byte(tt.raw))
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			var want string
			require.NoError(t, json.Unmarshal([]byte(tt.raw), &want))
			assert.Equal(t, want, got, "as encoding/json decodes it")
		})
	}
}

func TestDecodeStringRefusesBadEscapes(t *testing.T) {
	for _, body := range []string{`a\`, `\x`, `\u12`, `\u12g4`, `x\uD83D\u12`} {
		t.Run(body, func(t *testing.T) {
			_, err := decodeString([]byte(`"` + body + `"`))
			assert.Error(t, err)
		})
	}
}

// FuzzUnescape checks decodeString against encoding/json on every valid JSON string.
func FuzzUnescape(f *testing.F) {
	for _, s := range []string{`"a\nb"`, `"\ud83d\ude00"`, `"\ud83d"`, "\"\xff\\t\"", `"\u0000\\\/"`, `"plain"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if end, _, err := scanString(raw, 0); len(raw) == 0 || raw[0] != '"' || err != nil || end != len(raw) {
			return
		}
		got, err := decodeString(raw)
		require.NoError(t, err)
		if bytes.IndexByte(raw, '\\') < 0 {
			assert.Equal(t, string(raw[1:len(raw)-1]), got, "copied as it is")
			return
		}
		var want string
		require.NoError(t, json.Unmarshal(raw, &want))
		assert.Equal(t, want, got)
	})
}

// TestASCIIRun puts a backslash or a non-ASCII byte at every position of a 20-byte
// run of ASCII (with the bytes next to them in value around it) and checks asciiRun
// stops exactly there.
func TestASCIIRun(t *testing.T) {
	for _, stop := range []byte{'\\', 0x80, 0xff, 0xc3} {
		for pos := range 20 {
			b := bytes.Repeat([]byte{'['}, 20) // '[' and ']' sit beside '\\'
			for i := range b {
				if i%2 == 1 {
					b[i] = ']'
				}
			}
			b[0], b[19] = 0x7f, 0x00 // the highest ASCII byte, and the lowest
			b[pos] = stop
			assert.Equal(t, pos, asciiRun(b), "stop %#x at %d", stop, pos)
		}
		assert.Equal(t, 20, asciiRun(bytes.Repeat([]byte{'a'}, 20)))
	}
}

func TestRoleOf(t *testing.T) {
	for _, raw := range []string{`"user"`, `"human"`, `"assistant"`, `"gpt"`, `"system"`, `"User"`, `" user "`, `"bot"`,
		`"narrator"`, `"us\u0065r"`, `""`, `null`, `7`, `"tool"`} {
		t.Run(raw, func(t *testing.T) {
			role, _, _ := scalarString([]byte(raw))
			assert.Equal(t, normalRole(role), roleOf([]byte(raw)))
		})
	}
}

// TestBuildTurnsSharesOneBuffer: the messages' texts, decoded into one buffer, come
// out whole and in order, beside contents given otherwise, and the query text is
// the first user message's.
func TestBuildTurnsSharesOneBuffer(t *testing.T) {
	raw := `[{"role":"system","content":"be \"brief\""},7,{"role":"user","content":"first\nline"},` +
		`{"role":"assistant","content":[{"type":"text","text":"part one"},{"type":"text","text":"two"}]},` +
		`{"role":"assistant","content":null},{"role":"user","content":"again"}]`
	turn, msgs, err := chatTurns([]byte(raw))
	require.NoError(t, err)
	assert.Equal(t, []lmsys.Message{{Role: "system", Content: `be "brief"`}, {Role: "user", Content: "first\nline"},
		{Role: "assistant", Content: "part one\ntwo"}, {Role: "assistant", Content: ""}, {Role: "user", Content: "again"}}, msgs)
	assert.Equal(t, userTurn{text: "first\nline", index: 2, users: 2}, turn)
}
