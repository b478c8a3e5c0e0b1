package dataset

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmsys-go/lmsys"
)

// collect reads every record of src; row errors are returned beside the records.
func collect(t *testing.T, src Source) ([]Record, []*RowError, error) {
	t.Helper()
	var recs []Record
	var rowErrs []*RowError
	for r, err := range src.Records(context.Background()) {
		if err != nil {
			var re *RowError
			if errors.As(err, &re) {
				rowErrs = append(rowErrs, re)
				continue
			}
			return recs, rowErrs, err
		}
		recs = append(recs, r)
	}
	return recs, rowErrs, nil
}

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, data, 0o644))
	return p
}

func gz(t *testing.T, data []byte) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	_, err := w.Write(data)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return b.Bytes()
}

func TestJSONLRows(t *testing.T) {
	ts := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		line    string
		mapping Mapping
		want    Record
		reason  string
	}{
		{name: "flat", line: `{"id":"a1","text":"hello there","model":"gpt-4","language":"English","timestamp":"2026-01-05T10:00:00Z","label":"greet","n":3}`,
			want: Record{ID: "a1", Text: "hello there", Model: "gpt-4", Language: "English", Timestamp: &ts, Metadata: map[string]any{"label": "greet", "n": int64(3)}}},
		{name: "lmsys conversation", line: `{"conversation_id":"c1","model":"vicuna-13b","conversation":[{"content":"Why is the sky blue?","role":"user"},{"content":"Rayleigh scattering.","role":"assistant"},{"content":"thanks","role":"user"}],"turn":2,"language":"English","openai_moderation":[{"categories":{"harassment":false,"violence":true,"sexual":true},"category_scores":{"violence":0.9},"flagged":true},{"categories":{},"flagged":false},{"flagged":false}],"redacted":false}`,
			want: Record{ID: "c1", Text: "Why is the sky blue?", Model: "vicuna-13b", Language: "English",
				Metadata:     map[string]any{"turn": int64(2), "redacted": false, "moderation_flagged": true, "moderation_categories": []string{"sexual", "violence"}},
				Conversation: []lmsys.Message{{Role: "user", Content: "Why is the sky blue?"}, {Role: "assistant", Content: "Rayleigh scattering."}, {Role: "user", Content: "thanks"}}}},
		{name: "openai messages with parts", line: `{"messages":[{"role":"system","content":"be nice"},{"role":"user","content":[{"type":"text","text":"part one"},{"type":"image_url","image_url":{"url":"x"}},{"type":"text","text":"part two"}]}]}`,
			want: Record{Text: "part one\npart two", Metadata: map[string]any{"turn": int64(1)},
				Conversation: []lmsys.Message{{Role: "system", Content: "be nice"}, {Role: "user", Content: "part one\npart two"}}}},
		{name: "sharegpt", line: `{"id":"sg1","conversations":[{"from":"system","value":"sys"},{"from":"human","value":"Write a haiku"},{"from":"gpt","value":"..."}]}`,
			want: Record{ID: "sg1", Text: "Write a haiku", Metadata: map[string]any{"turn": int64(1)},
				Conversation: []lmsys.Message{{Role: "system", Content: "sys"}, {Role: "user", Content: "Write a haiku"}, {Role: "assistant", Content: "..."}}}},
		{name: "bare string", line: `"just a prompt \u00e9"`, want: Record{Text: "just a prompt é"}},
		{name: "mapping", line: `{"prompt_id":7,"prompt":"q?","llm":"m","lang_code":"de","when":1767607200}`,
			mapping: Mapping{Text: "prompt", ID: "prompt_id", Model: "llm", Language: "lang_code", Timestamp: "when"},
			want:    Record{ID: "7", Text: "q?", Model: "m", Language: "de", Timestamp: &ts}},
		{name: "unix millis", line: `{"text":"t","timestamp":1767607200000}`, want: Record{Text: "t", Timestamp: &ts}},
		{name: "escapes", line: `{"text":"line1\nline2 \"q\" \ud83d\ude00"}`, want: Record{Text: "line1\nline2 \"q\" 😀"}},
		{name: "null text", line: `{"text":null,"id":"x"}`, want: Record{ID: "x"}},
		{name: "no user turn", line: `{"conversation":[{"role":"assistant","content":"hi"}]}`, reason: ReasonNoUserTurn},
		{name: "no text", line: `{"id":"x","foo":"bar"}`, reason: ReasonNoText},
		{name: "text not string", line: `{"text":{"a":1}}`, reason: ReasonNotString},
		{name: "malformed", line: `{"text":"unterminated}`, reason: ReasonMalformed},
		{name: "trailing garbage", line: `{"text":"a"} x`, reason: ReasonMalformed},
		{name: "bad timestamp", line: `{"text":"a","timestamp":"yesterday"}`, reason: ReasonBadTimestamp},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := &ReaderSource{Label: "rows.jsonl", Reader: strings.NewReader("\n" + tc.line + "\n"), Mapping: tc.mapping}
			recs, rowErrs, err := collect(t, src)
			require.NoError(t, err)
			if tc.reason != "" {
				require.Len(t, rowErrs, 1)
				assert.Equal(t, tc.reason, rowErrs[0].Reason)
				assert.Equal(t, Position{"rows.jsonl", 2}, rowErrs[0].Pos)
				assert.ErrorIs(t, rowErrs[0], lmsys.ErrInvalidInput)
				assert.Contains(t, rowErrs[0].Error(), "rows.jsonl:2")
				return
			}
			require.Empty(t, rowErrs)
			require.Len(t, recs, 1)
			tc.want.Pos = Position{"rows.jsonl", 2}
			assert.Equal(t, tc.want, recs[0])
		})
	}
}

func TestJSONLContinuesAfterBadRows(t *testing.T) {
	data := "{\"text\":\"one\"}\nnot json\n{\"text\":\"two\"}\r\n{\"text\":\"" + strings.Repeat("x", 3<<20) + "\"}\n{\"text\":\"last\"}"
	recs, rowErrs, err := collect(t, &ReaderSource{Label: "f", Reader: strings.NewReader(data)})
	require.NoError(t, err)
	require.Len(t, recs, 4)
	assert.Equal(t, "one", recs[0].Text)
	assert.Equal(t, "two", recs[1].Text)
	assert.Len(t, recs[2].Text, 3<<20, "enormous texts are kept whole")
	assert.Equal(t, "last", recs[3].Text)
	assert.Equal(t, int64(5), recs[3].Pos.Line)
	require.Len(t, rowErrs, 1)
	assert.Equal(t, int64(2), rowErrs[0].Pos.Line)
}

func TestJSONArray(t *testing.T) {
	data := ` [ {"text":"a","id":"1"}, "bare", {"conversation":[{"role":"user","content":"c"}]}, {"nope":1} ] `
	p := writeFile(t, "rows.json", []byte(data))
	src, err := OpenFile(p, Mapping{})
	require.NoError(t, err)
	assert.Equal(t, "rows", src.DatasetName())
	recs, rowErrs, err := collect(t, src)
	require.NoError(t, err)
	require.Len(t, recs, 3)
	assert.Equal(t, []string{"a", "bare", "c"}, []string{recs[0].Text, recs[1].Text, recs[2].Text})
	require.Len(t, rowErrs, 1)
	assert.Equal(t, int64(4), rowErrs[0].Pos.Line)

	_, _, err = collect(t, &ReaderSource{Label: "bad.json", Format: FormatJSON, Reader: strings.NewReader(`[{"text":"a"}, {"text":`)})
	require.Error(t, err)
	assert.ErrorIs(t, err, lmsys.ErrInvalidInput)
	assert.Contains(t, err.Error(), "bad.json element 2")
	_, _, err = collect(t, &ReaderSource{Label: "obj.json", Format: FormatJSON, Reader: strings.NewReader(`{"text":"a"}`)})
	assert.ErrorIs(t, err, lmsys.ErrInvalidInput)
}

func TestCSV(t *testing.T) {
	data := "\ufeffid,prompt,model,created,label\n" +
		"1,hello,gpt-4,2026-01-05,a\n" +
		"2,\"multi\nline, with comma\",claude-1,2026-01-05 10:00:00,b\n" +
		"3,\"bad \"quote\",x,,c\n" +
		"4,,x,,d\n" +
		"5,short\n"
	p := writeFile(t, "logs.csv", []byte(data))
	src, err := OpenFile(p, Mapping{Text: "prompt", Timestamp: "created"})
	require.NoError(t, err)
	recs, rowErrs, err := collect(t, src)
	require.NoError(t, err)
	require.Len(t, recs, 4)
	d := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	assert.Equal(t, Record{ID: "1", Text: "hello", Model: "gpt-4", Timestamp: &d, Metadata: map[string]any{"label": "a"}, Pos: Position{p, 2}}, recs[0])
	assert.Equal(t, "multi\nline, with comma", recs[1].Text)
	assert.Equal(t, int64(3), recs[1].Pos.Line)
	assert.Equal(t, "", recs[2].Text, "empty cells are left for Load to skip")
	assert.Equal(t, "short", recs[3].Text)
	require.Len(t, rowErrs, 1)
	assert.Equal(t, ReasonMalformed, rowErrs[0].Reason)
	assert.Equal(t, int64(5), rowErrs[0].Pos.Line)

	_, _, err = collect(t, &ReaderSource{Label: "x.csv", Format: FormatCSV, Reader: strings.NewReader("a,b\n1,2\n"), Mapping: Mapping{Text: "body"}})
	require.ErrorIs(t, err, lmsys.ErrInvalidInput)
	assert.Contains(t, err.Error(), `no column "body"`)
	_, _, err = collect(t, &ReaderSource{Label: "x.csv", Format: FormatCSV, Reader: strings.NewReader("a,b\n1,2\n")})
	assert.ErrorContains(t, err, "no text column")

	recs, _, err = collect(t, &ReaderSource{Label: "c.tsv", Format: FormatTSV, Reader: strings.NewReader("conversation\tmodel\n" +
		`[{"role":"user","content":"from a chat column"}]` + "\tm\n")})
	require.NoError(t, err)
	require.Len(t, recs, 1)
	assert.Equal(t, "from a chat column", recs[0].Text)
}

func TestGzipDetectedByMagic(t *testing.T) {
	plain := []byte("{\"text\":\"zipped\"}\n")
	for _, name := range []string{"a.jsonl.gz", "a.jsonl", "a.data"} {
		p := writeFile(t, name, gz(t, plain))
		src, err := OpenFile(p, Mapping{})
		require.NoError(t, err)
		recs, _, err := collect(t, src)
		require.NoError(t, err, name)
		require.Len(t, recs, 1, name)
		assert.Equal(t, "zipped", recs[0].Text)
		assert.Equal(t, "a", src.DatasetName())
	}
	p := writeFile(t, "b.csv.gz", gz(t, []byte("text\nfrom csv\n")))
	src, _ := OpenFile(p, Mapping{})
	recs, _, err := collect(t, src)
	require.NoError(t, err)
	require.Len(t, recs, 1)
	assert.Equal(t, "from csv", recs[0].Text)

	p = writeFile(t, "broken.jsonl.gz", []byte{0x1f, 0x8b, 1, 2, 3})
	src, _ = OpenFile(p, Mapping{})
	_, _, err = collect(t, src)
	assert.ErrorIs(t, err, lmsys.ErrInvalidInput)

	_, err = OpenFile(filepath.Join(t.TempDir(), "missing.jsonl"), Mapping{})
	assert.ErrorIs(t, err, lmsys.ErrInvalidInput)
}

func TestParseTime(t *testing.T) {
	want := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	for _, s := range []string{"2026-01-05T10:00:00Z", "2026-01-05T11:00:00+01:00", "2026-01-05 10:00:00", "2026-01-05T10:00:00", "1767607200", "1767607200000", "1767607200.0"} {
		got, err := parseTime(s)
		require.NoError(t, err, s)
		assert.True(t, want.Equal(got), "%s → %v", s, got)
	}
	got, err := parseTime("2026-01-05")
	require.NoError(t, err)
	assert.Equal(t, time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC), got)
	for _, s := range []string{"", "soon", "2026-13-45"} {
		_, err := parseTime(s)
		assert.Error(t, err, s)
	}
}
