package mcpserver

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOffsetNext(t *testing.T) {
	root, err := parseNode([]byte(`{"paging":{"offset":30,"limit":10}}`))
	require.NoError(t, err)
	assert.Equal(t, &Next{Offset: 34, Limit: 10}, offsetNext("paging", 30, 10)(root, 4))
	assert.Equal(t, `{"paging":{"offset":30,"limit":10,"next_offset":34}}`, string(root.bytes()), "a list shown by offset says where the next starts")
	root, _ = parseNode([]byte(`{"page":2}`))
	assert.Equal(t, &Next{Offset: 27, Limit: 20}, offsetNext("", 20, 20)(root, 7))
	assert.Equal(t, `{"page":2}`, string(root.bytes()))
}

func TestFitKeepsSmallAnswers(t *testing.T) {
	v := map[string]any{"b": 1, "a": []int{1, 2}}
	got, err := fit(v, 1000, fitSpec{list: "a"})
	require.NoError(t, err)
	want, _ := json.Marshal(v)
	assert.Equal(t, string(want), string(got))
}

func TestFitCutsTheList(t *testing.T) {
	type item struct {
		ID   int    `json:"id"`
		Text string `json:"text"`
	}
	type page struct {
		Items []item `json:"items"`
		Total int    `json:"total"`
	}
	var p page
	for i := 1; i <= 50; i++ {
		p.Items = append(p.Items, item{ID: i, Text: strings.Repeat("w", 100)})
	}
	p.Total = 50
	got, err := fit(p, 2000, fitSpec{list: "items", next: cursorNext("items", 50)})
	require.NoError(t, err)
	assert.LessOrEqual(t, len(got), 2000)
	assert.True(t, strings.HasPrefix(string(got), `{"items":[{"id":1,"text":`), "keys keep their order: %s", got)
	var out struct {
		Items      []item     `json:"items"`
		Total      int        `json:"total"`
		Truncated  bool       `json:"truncated"`
		Truncation Truncation `json:"truncation"`
	}
	require.NoError(t, json.Unmarshal(got, &out))
	assert.True(t, out.Truncated)
	n := len(out.Items)
	assert.Greater(t, n, 5)
	assert.Equal(t, 50, out.Total)
	tr := out.Truncation
	assert.Equal(t, Truncation{MaxBytes: 2000, List: "items", Returned: n, Of: 50, Next: &Next{Cursor: int64(n), Limit: 50},
		Hint: fmt.Sprintf("%d of the page's 50 items fit in 2000 bytes; call again with cursor=%d, limit=50 for the next ones", n, n)}, tr)
}

func TestFitClipsLongStrings(t *testing.T) {
	v := map[string]any{"items": []any{map[string]any{"query_text": strings.Repeat("é", 100000), "id": 7}}, "note": "short"}
	got, err := fit(v, 3000, fitSpec{list: "items"})
	require.NoError(t, err)
	assert.LessOrEqual(t, len(got), 3000)
	var out struct {
		Items []struct {
			Text string `json:"query_text"`
			ID   int    `json:"id"`
		} `json:"items"`
		Note       string     `json:"note"`
		Truncation Truncation `json:"truncation"`
	}
	require.NoError(t, json.Unmarshal(got, &out))
	require.Len(t, out.Items, 1, "one item is kept, clipped")
	assert.Equal(t, 7, out.Items[0].ID)
	assert.True(t, strings.HasSuffix(out.Items[0].Text, "… [clipped from 100000 characters]"), out.Items[0].Text[len(out.Items[0].Text)-60:])
	assert.Equal(t, "short", out.Note)
	assert.Equal(t, 1, out.Truncation.ClippedStrings)
	n := out.Truncation.StringChars
	assert.Equal(t, n+utf8.RuneCountInString("… [clipped from 100000 characters]"), utf8.RuneCountInString(out.Items[0].Text))
	assert.Greater(t, n, 1000, "clipped as little as fits: 3000 bytes hold some 1400 two-byte characters")
	assert.Equal(t, "1 long strings clipped to "+fmt.Sprint(n)+" characters; a smaller limit shows more of each item", out.Truncation.Hint)
	assert.Empty(t, out.Truncation.List, "the page is whole")
}

func TestFitHalvesOtherLists(t *testing.T) {
	type facet struct {
		Field    string `json:"field"`
		Clusters []int  `json:"clusters"`
	}
	v := struct {
		Facets []facet `json:"facets"`
	}{Facets: []facet{{"language", make([]int, 2000)}, {"model", make([]int, 10)}}}
	got, err := fit(v, 1000, fitSpec{hint: "give cluster_id"})
	require.NoError(t, err)
	assert.LessOrEqual(t, len(got), 1000)
	var out struct {
		Facets     []facet    `json:"facets"`
		Truncation Truncation `json:"truncation"`
	}
	require.NoError(t, json.Unmarshal(got, &out))
	require.Len(t, out.Facets, 2, "the small lists stay whole")
	assert.Len(t, out.Facets[1].Clusters, 10)
	require.NotEmpty(t, out.Truncation.Cut)
	c := out.Truncation.Cut[0]
	assert.Equal(t, "facets[0].clusters", c.Path)
	assert.Equal(t, 2000, c.Of)
	assert.Equal(t, len(out.Facets[0].Clusters), c.Kept)
	assert.Contains(t, out.Truncation.Hint, "lists cut: facets[0].clusters to")
	assert.Contains(t, out.Truncation.Hint, "; give cluster_id")
}

func TestFitTooBig(t *testing.T) {
	_, err := fit(map[string]any{"k": strings.Repeat("x", 100)}, 20, fitSpec{hint: "ask less"})
	assert.EqualError(t, err, "the answer does not fit in 20 bytes even cut down; ask less")
	_, err = fit([]int{1, 2, 3}, 3, fitSpec{})
	assert.EqualError(t, err, "result is not a JSON object")
}

// FuzzFit checks that any JSON object is either answered whole, cut to valid JSON
// within the cap, or refused.
func FuzzFit(f *testing.F) {
	for _, s := range []string{`{"items":[1,2,3],"total":3}`, `{"items":[{"id":1,"t":"aaaaaaaaaaaaaaaaaaaaaa"},{"id":2}],"x":[[1,2],[3,4,5]]}`,
		`{"a":"\u00e9\u2028<>&","b":null,"c":[true,false,1.5e300]}`, `{}`, `{"items":[]}`, `{"queries":{"items":[{"id":9}]}}`} {
		f.Add([]byte(s), 40)
	}
	f.Fuzz(func(t *testing.T, b []byte, maxBytes int) {
		if !json.Valid(b) || maxBytes < 1 || maxBytes > 1<<16 {
			t.Skip()
		}
		got, err := fit(json.RawMessage(b), maxBytes, fitSpec{list: "items", next: offsetNext("", 0, 20)})
		if err != nil {
			return
		}
		if !json.Valid(got) {
			t.Fatalf("invalid JSON %q from %q", got, b)
		}
		var whole, cut any
		_ = json.Unmarshal(b, &whole)
		_ = json.Unmarshal(got, &cut)
		if len(got) > maxBytes {
			// Only an answer that fitted as it was is sent over the cap: never.
			t.Fatalf("%d bytes over the cap of %d: %s", len(got), maxBytes, got)
		}
		if m, ok := cut.(map[string]any); ok && m["truncated"] == nil {
			assert.Equal(t, whole, cut, "an answer that is not marked cut is whole")
		}
	})
}

func TestFitPrefersClippingToCutting(t *testing.T) {
	var items []map[string]any
	for i := range 10 {
		items = append(items, map[string]any{"id": i, "query_text": strings.Repeat("long prompt ", 500)})
	}
	got, err := fit(map[string]any{"items": items}, 4000, fitSpec{list: "items", next: offsetNext("", 0, 10)})
	require.NoError(t, err)
	assert.LessOrEqual(t, len(got), 4000)
	var out struct {
		Items      []map[string]any `json:"items"`
		Truncation Truncation       `json:"truncation"`
	}
	require.NoError(t, json.Unmarshal(got, &out))
	assert.Len(t, out.Items, 10, "every item, each clipped")
	assert.Equal(t, 10, out.Truncation.ClippedStrings)
	assert.GreaterOrEqual(t, out.Truncation.StringChars, minClip)
	assert.Nil(t, out.Truncation.Next)

	// Past minClip characters a string, the page loses items instead.
	got, err = fit(map[string]any{"items": items}, 1500, fitSpec{list: "items", next: offsetNext("", 0, 10)})
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(got, &out))
	assert.Less(t, len(out.Items), 10)
	assert.Equal(t, minClip, out.Truncation.StringChars)
	assert.Equal(t, &Next{Offset: len(out.Items), Limit: 10}, out.Truncation.Next)
}
