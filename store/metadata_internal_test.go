package store

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// marshalMetadata writes what json.Marshal writes, on its direct path and off it.
func TestMarshalMetadata(t *testing.T) {
	many := map[string]any{}
	for i := range 12 {
		many[fmt.Sprint("k", i)] = int64(i)
	}
	for _, m := range []map[string]any{
		{},
		{"turn": int64(2)},
		{"turn": int64(-7), "redacted": true, "moderation_flagged": false, "source": "arena", "none": nil, "n": 3},
		{"zeta": "last", "alpha": "first", "mid dle": "a b-c_d.e"},
		{"html": "<b>&</b>"},
		{"quote": `say "hi"`},
		{"uni": "日本語"},
		{"ctl": "tab\there"},
		{"f": 1.5, "big": 1e21},
		{"list": []string{"a", "b"}},
		{"k\"ey": int64(1)},
		many,
	} {
		want, err := json.Marshal(m)
		require.NoError(t, err)
		assert.Equal(t, string(want), string(marshalMetadata(m)), "%v", m)
	}
}

func FuzzMarshalMetadata(f *testing.F) {
	f.Add("turn", int64(1), "lang", "English", true)
	f.Add("<", int64(-1), "é", "\x00", false)
	f.Fuzz(func(t *testing.T, k1 string, v1 int64, k2, v2 string, v3 bool) {
		m := map[string]any{k1: v1, k2: v2, k1 + k2: v3}
		want, err := json.Marshal(m)
		require.NoError(t, err)
		assert.Equal(t, string(want), string(marshalMetadata(m)))
	})
}
