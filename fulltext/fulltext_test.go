package fulltext_test

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/dataset/demo"
	"github.com/lmsys-go/lmsys/fulltext"
	"github.com/lmsys-go/lmsys/internal/testdb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func tokens(text string) []string {
	out := []string{}
	fulltext.Tokenize(text, func(tok []byte) { out = append(out, string(tok)) })
	return out
}

func TestTokenize(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       []string
	}{
		{"ascii", "How do I write a Python_function? 3 ways!", []string{"how", "do", "i", "write", "a", "python", "function", "3", "ways"}},
		{"diacritics", "Crème brûlée, NAÏVE café Ångström ŁÓDŹ", []string{"creme", "brulee", "naive", "cafe", "angstrom", "łodz"}},
		{"combining diacritic", "cafe\u0301 ok", []string{"cafe", "ok"}},
		{"cjk run is one token", "你好世界 hello", []string{"你好世界", "hello"}},
		{"cyrillic lower-cased", "Привет МИР", []string{"привет", "мир"}},
		{"devanagari marks stay in words", "नमस्ते दुनिया", []string{"नमस्ते", "दुनिया"}},
		{"invalid utf-8 separates", "ab\xffcd", []string{"ab", "cd"}},
		{"empty", "", []string{}},
		{"only punctuation", "?!… --", []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, tokens(tc.text))
		})
	}
}

func FuzzTokenize(f *testing.F) {
	for _, s := range []string{"Crème brûlée", "你好 world", "ab\xffcd", "", "x\u0301\u0301y", strings.Repeat("a", 300)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fulltext.Tokenize(s, func(tok []byte) {
			if len(tok) == 0 {
				t.Fatalf("empty token from %q", s)
			}
			if !utf8.Valid(tok) {
				t.Fatalf("invalid UTF-8 token %q from %q", tok, s)
			}
			if strings.ContainsAny(string(tok), " \t\n.,!?") {
				t.Fatalf("separator inside token %q from %q", tok, s)
			}
		})
		// Tokens are stable: tokenising the tokens again gives the same tokens.
		toks := tokens(s)
		assert.Equal(t, toks, tokens(strings.Join(toks, " ")))
	})
}

func TestSearchRanksLikeFTS5(t *testing.T) {
	ctx := context.Background()
	db := testdb.SQLite(t)
	ds, err := db.EnsureDataset(ctx, lmsys.Dataset{Name: "demo", Source: "test"})
	require.NoError(t, err)
	qs := demo.Queries()
	for i := range qs {
		qs[i].DatasetID = ds.ID
	}
	_, err = db.InsertQueries(ctx, qs)
	require.NoError(t, err)
	stored, err := db.ListQueries(ctx, lmsys.QueryFilter{})
	require.NoError(t, err)
	ix := fulltext.New()
	docs := make([]fulltext.Doc, len(stored))
	for i, q := range stored {
		docs[i] = fulltext.Doc{ID: q.ID, Text: q.Text}
	}
	require.Zero(t, ix.Add(docs))
	require.Equal(t, len(stored), ix.Len())

	for _, text := range []string{"python", "write", "how to", "the", "email", "explain code", "recipe", "a", "translate", "sql query"} {
		want, err := db.SearchText(ctx, text, lmsys.QueryFilter{}, 15)
		require.NoError(t, err)
		got := ix.Search(text, 15, nil)
		require.Len(t, got, len(want), "%q", text)
		for i := range want {
			assert.Equal(t, want[i].QueryID, got[i].ID, "%q result %d", text, i)
			assert.InDelta(t, want[i].Score, got[i].Score, 1e-9*math.Max(1, math.Abs(want[i].Score)), "%q result %d", text, i)
		}
	}
	assert.Empty(t, ix.Search("zzzunknownword", 10, nil))
	assert.Empty(t, ix.Search("python zzzunknownword", 10, nil), "every word must match")
	assert.Empty(t, ix.Search("?!", 10, nil))
}

func TestSearchAcceptLimitAndOrder(t *testing.T) {
	ix := fulltext.New()
	var docs []fulltext.Doc
	for i := 1; i <= 100; i++ {
		text := "common"
		if i%3 == 0 {
			text += " fizz"
		}
		text += strings.Repeat(" pad", i%7)
		docs = append(docs, fulltext.Doc{ID: int64(i * 10), Text: text, Fingerprint: fmt.Sprint("h", i)})
	}
	require.Zero(t, ix.Add(docs))
	assert.Equal(t, 3, ix.Add([]fulltext.Doc{{ID: 10, Text: "again"}, {ID: 1000, Text: "again"}, {ID: 999, Text: "older"}}))
	id, fp := ix.Last()
	assert.Equal(t, int64(1000), id)
	assert.Equal(t, "h100", fp)
	assert.Equal(t, 3, ix.Terms())

	all := ix.Search("common", 1000, nil)
	require.Len(t, all, 100)
	for i := 1; i < len(all); i++ {
		ok := all[i-1].Score > all[i].Score || all[i-1].Score == all[i].Score && all[i-1].ID < all[i].ID
		require.True(t, ok, "results %d and %d out of order: %+v %+v", i-1, i, all[i-1], all[i])
	}
	top := ix.Search("common", 5, nil)
	assert.Equal(t, all[:5], top)

	even := ix.Search("COMMON", 7, func(id int64) bool { return id%20 == 0 })
	require.Len(t, even, 7)
	for _, h := range even {
		assert.Zero(t, h.ID%20)
	}
	fizz := ix.Search("fizz common", 100, nil)
	assert.Len(t, fizz, 33)
	assert.Nil(t, ix.Search("common", 0, nil))
}

func BenchmarkSearch(b *testing.B) {
	ix := fulltext.New()
	words := strings.Fields("how do i write a python function that reads a csv file and explains the budget of my landlord in three short steps email story recipe translate")
	docs := make([]fulltext.Doc, 100000)
	for i := range docs {
		var sb strings.Builder
		for j := 0; j < 12; j++ {
			sb.WriteString(words[(i*7+j*j*13+i/(j+1))%len(words)])
			sb.WriteByte(' ')
		}
		docs[i] = fulltext.Doc{ID: int64(i + 1), Text: sb.String()}
	}
	ix.Add(docs)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ix.Search([]string{"python", "email", "write a", "explain", "story"}[i%5], 50, nil)
	}
}

// TestCountAndCachedPrefixes: Count agrees with an unbounded Search for every text,
// with and without accept, and a prefix whose merged postings were cached sees the
// documents added after it was first asked.
func TestCountAndCachedPrefixes(t *testing.T) {
	ix := fulltext.New()
	ix.Add([]fulltext.Doc{{ID: 1, Text: "set an alarm for seven"}, {ID: 2, Text: "alarms and reminders"},
		{ID: 3, Text: "cancel my alarm"}, {ID: 4, Text: "remind me at seven"}, {ID: 5, Text: "an alarmingly long meeting"}})
	even := func(id int64) bool { return id%2 == 0 }
	for _, text := range []string{"alarm", "al", "seven", "remind", "alarm seven", "a", "nothing", "", "an al"} {
		for _, accept := range []func(int64) bool{nil, even} {
			assert.Equal(t, len(ix.Search(text, 1000, accept)), ix.Count(text, accept), "text %q", text)
		}
	}
	assert.Equal(t, 4, ix.Count("alarm", nil), "alarm, alarms, alarm, alarmingly")
	ix.Add([]fulltext.Doc{{ID: 6, Text: "alarm clock"}})
	assert.Equal(t, 5, ix.Count("alarm", nil), "the cached union of alarm* was dropped by Add")
	hits := ix.Search("alarm", 10, nil)
	assert.Len(t, hits, 5)
}
