package dataset

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmsys-go/lmsys"
)

// The LMSYS-Chat-1M schema in parquet-go's own layout: required fields, lists as
// repeated groups, moderation categories as a map.
type pgMsg struct {
	Content string `parquet:"content"`
	Role    string `parquet:"role"`
}

type pgMod struct {
	Categories     map[string]bool    `parquet:"categories"`
	CategoryScores map[string]float64 `parquet:"category_scores"`
	Flagged        bool               `parquet:"flagged"`
}

type pgRow struct {
	ConversationID   string  `parquet:"conversation_id"`
	Model            string  `parquet:"model"`
	Conversation     []pgMsg `parquet:"conversation"`
	Turn             int64   `parquet:"turn"`
	Language         string  `parquet:"language"`
	OpenAIModeration []pgMod `parquet:"openai_moderation"`
	Redacted         bool    `parquet:"redacted"`
}

// The same schema as pyarrow writes it (what the hub serves): every field optional,
// lists as LIST → repeated "list" → optional "element", categories as a struct.
type paMsg struct {
	Content *string `parquet:"content,optional"`
	Role    *string `parquet:"role,optional"`
}

type paCats struct {
	Harassment *bool `parquet:"harassment,optional"`
	Sexual     *bool `parquet:"sexual,optional"`
	Violence   *bool `parquet:"violence,optional"`
}

type paScores struct {
	Harassment *float64 `parquet:"harassment,optional"`
	Sexual     *float64 `parquet:"sexual,optional"`
	Violence   *float64 `parquet:"violence,optional"`
}

type paMod struct {
	Categories     *paCats   `parquet:"categories,optional"`
	CategoryScores *paScores `parquet:"category_scores,optional"`
	Flagged        *bool     `parquet:"flagged,optional"`
}

type paRow struct {
	ConversationID   *string  `parquet:"conversation_id,optional"`
	Model            *string  `parquet:"model,optional"`
	Conversation     []*paMsg `parquet:"conversation,optional,list"`
	Turn             *int64   `parquet:"turn,optional"`
	Language         *string  `parquet:"language,optional"`
	OpenAIModeration []*paMod `parquet:"openai_moderation,optional,list"`
	Redacted         *bool    `parquet:"redacted,optional"`
}

// pyarrowSchema is the LMSYS schema built with parquet-go's schema API in pyarrow's layout.
func pyarrowSchema() *parquet.Schema {
	str := func() parquet.Node { return parquet.Optional(parquet.String()) }
	boolean := func() parquet.Node { return parquet.Optional(parquet.Leaf(parquet.BooleanType)) }
	double := func() parquet.Node { return parquet.Optional(parquet.Leaf(parquet.DoubleType)) }
	msg := parquet.Optional(parquet.Group{"content": str(), "role": str()})
	mod := parquet.Optional(parquet.Group{
		"categories":      parquet.Optional(parquet.Group{"harassment": boolean(), "sexual": boolean(), "violence": boolean()}),
		"category_scores": parquet.Optional(parquet.Group{"harassment": double(), "sexual": double(), "violence": double()}),
		"flagged":         boolean(),
	})
	return parquet.NewSchema("schema", parquet.Group{
		"conversation_id":   str(),
		"model":             str(),
		"conversation":      parquet.Optional(parquet.List(msg)),
		"turn":              parquet.Optional(parquet.Int(64)),
		"language":          str(),
		"openai_moderation": parquet.Optional(parquet.List(mod)),
		"redacted":          boolean(),
	})
}

// lmsysConv describes test conversation i: every 7th has no user turn, every 5th
// is flagged for violence, every 3rd starts with a system message.
type lmsysConv struct {
	id, model, lang string
	roles, contents []string
	flagged         bool
	turn            int64
}

func lmsysConvs(n, from int) []lmsysConv {
	out := make([]lmsysConv, n)
	for k := range out {
		i := from + k
		c := lmsysConv{id: fmt.Sprintf("conv-%05d", i), model: []string{"vicuna-13b", "gpt-4", "koala-13b"}[i%3],
			lang: []string{"English", "Spanish"}[i%2], flagged: i%5 == 0, turn: 1 + int64(i%2)}
		if i%3 == 0 {
			c.roles, c.contents = append(c.roles, "system"), append(c.contents, "You are helpful.")
		}
		if i%7 != 6 {
			c.roles, c.contents = append(c.roles, "user"), append(c.contents, fmt.Sprintf("question number %d?", i))
		}
		c.roles, c.contents = append(c.roles, "assistant"), append(c.contents, "an answer")
		out[k] = c
	}
	return out
}

func writeLMSYSParquet(t testing.TB, pyarrow bool, convs []lmsysConv, rowsPerGroup int) []byte {
	t.Helper()
	var buf bytes.Buffer
	opts := []parquet.WriterOption{parquet.Compression(&parquet.Snappy), parquet.MaxRowsPerRowGroup(int64(rowsPerGroup)), parquet.PageBufferSize(2048)}
	if pyarrow {
		w := parquet.NewGenericWriter[paRow](&buf, append(opts, pyarrowSchema())...)
		for _, c := range convs {
			r := paRow{ConversationID: &c.id, Model: &c.model, Language: &c.lang, Turn: &c.turn, Redacted: new(c.turn == 2)}
			for i := range c.roles {
				r.Conversation = append(r.Conversation, &paMsg{Content: &c.contents[i], Role: &c.roles[i]})
				f := c.flagged && c.roles[i] == "user"
				r.OpenAIModeration = append(r.OpenAIModeration, &paMod{Flagged: &f, Categories: &paCats{Violence: &f, Sexual: new(false)}, CategoryScores: &paScores{Violence: new(0.5)}})
			}
			_, err := w.Write([]paRow{r})
			require.NoError(t, err)
		}
		require.NoError(t, w.Close())
	} else {
		w := parquet.NewGenericWriter[pgRow](&buf, opts...)
		for _, c := range convs {
			r := pgRow{ConversationID: c.id, Model: c.model, Language: c.lang, Turn: c.turn, Redacted: c.turn == 2}
			for i := range c.roles {
				r.Conversation = append(r.Conversation, pgMsg{Content: c.contents[i], Role: c.roles[i]})
				f := c.flagged && c.roles[i] == "user"
				r.OpenAIModeration = append(r.OpenAIModeration, pgMod{Flagged: f, Categories: map[string]bool{"violence": f, "harassment": false}})
			}
			_, err := w.Write([]pgRow{r})
			require.NoError(t, err)
		}
		require.NoError(t, w.Close())
	}
	return buf.Bytes()
}

// checkLMSYSRecords verifies records read from lmsysConvs(n, from).
func checkLMSYSRecords(t *testing.T, recs []Record, rowErrs []*RowError, n, from int) {
	t.Helper()
	var got int
	for _, c := range lmsysConvs(n, from) {
		hasUser := false
		for _, r := range c.roles {
			hasUser = hasUser || r == "user"
		}
		if !hasUser {
			continue
		}
		require.Less(t, got, len(recs))
		r := recs[got]
		got++
		i := 0
		_, _ = fmt.Sscanf(c.id, "conv-%d", &i)
		assert.Equal(t, c.id, r.ID)
		assert.Equal(t, fmt.Sprintf("question number %d?", i), r.Text)
		assert.Equal(t, c.model, r.Model)
		assert.Equal(t, c.lang, r.Language)
		assert.Equal(t, c.turn, r.Metadata["turn"])
		assert.Equal(t, c.turn == 2, r.Metadata["redacted"])
		require.Len(t, r.Conversation, len(c.roles), "every turn is kept")
		for j := range c.roles {
			assert.Equal(t, lmsys.Message{Role: c.roles[j], Content: c.contents[j]}, r.Conversation[j])
		}
		assert.Equal(t, c.flagged, r.Metadata["moderation_flagged"], c.id)
		if c.flagged {
			assert.Equal(t, []string{"violence"}, r.Metadata["moderation_categories"])
		} else {
			assert.Nil(t, r.Metadata["moderation_categories"])
		}
	}
	assert.Len(t, recs, got)
	for _, e := range rowErrs {
		assert.Equal(t, ReasonNoUserTurn, e.Reason)
	}
	assert.Equal(t, n-got, len(rowErrs))
}

func TestParquetLMSYSLayouts(t *testing.T) {
	for _, pyarrow := range []bool{false, true} {
		t.Run(fmt.Sprintf("pyarrow=%v", pyarrow), func(t *testing.T) {
			data := writeLMSYSParquet(t, pyarrow, lmsysConvs(230, 0), 50)
			p := writeFile(t, "train-00000-of-00001.parquet", data)
			src, err := OpenFile(p, Mapping{})
			require.NoError(t, err)
			recs, rowErrs, err := collect(t, src)
			require.NoError(t, err)
			checkLMSYSRecords(t, recs, rowErrs, 230, 0)
			total, err := src.Total(context.Background())
			require.NoError(t, err)
			assert.Equal(t, int64(230), total)
			// conversation 223 is the last without a user turn: row 224, in the fifth row group.
			assert.Equal(t, Position{p, 224}, rowErrs[len(rowErrs)-1].Pos, "rows are numbered across row groups")
		})
	}
}

type flatRow struct {
	ID    int64     `parquet:"id"`
	Body  string    `parquet:"body,optional"`
	When  time.Time `parquet:"when,timestamp(millisecond)"`
	Day   int32     `parquet:"day,date"`
	Score float64   `parquet:"score"`
}

func TestParquetFlatMapping(t *testing.T) {
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[flatRow](&buf, parquet.MaxRowsPerRowGroup(3))
	ts := time.Date(2026, 2, 1, 12, 30, 0, 0, time.UTC)
	rows := []flatRow{{1, "first", ts, 20485, 0.5}, {2, "", ts, 20485, 1}, {3, "third", ts.Add(time.Hour), 20486, 2}, {4, "fourth", ts, 20485, 3}}
	_, err := w.Write(rows)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	p := writeFile(t, "flat.parquet.data", buf.Bytes())

	src, _ := OpenFile(p, Mapping{Text: "body", Timestamp: "when"})
	recs, rowErrs, err := collect(t, src)
	require.NoError(t, err)
	require.Empty(t, rowErrs)
	require.Len(t, recs, 4)
	assert.Equal(t, "1", recs[0].ID)
	assert.Equal(t, "first", recs[0].Text)
	assert.True(t, ts.Equal(*recs[0].Timestamp), recs[0].Timestamp)
	assert.Equal(t, map[string]any{"day": int64(20485), "score": 0.5}, recs[0].Metadata)
	assert.Equal(t, "", recs[1].Text)
	assert.Equal(t, "fourth", recs[3].Text)

	src, _ = OpenFile(p, Mapping{Text: "body", Timestamp: "day"})
	recs, _, err = collect(t, src)
	require.NoError(t, err)
	assert.Equal(t, time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), *recs[0].Timestamp)

	src, _ = OpenFile(p, Mapping{Text: "score"})
	_, rowErrs, err = collect(t, src)
	require.NoError(t, err)
	require.Len(t, rowErrs, 4)
	assert.Equal(t, ReasonNotString, rowErrs[0].Reason)

	for _, m := range []Mapping{{}, {Text: "body", Model: "nope"}} {
		src, _ = OpenFile(p, m)
		_, _, err = collect(t, src)
		require.ErrorIs(t, err, lmsys.ErrInvalidInput)
	}
	src, _ = OpenFile(p, Mapping{})
	_, _, err = collect(t, src)
	assert.ErrorContains(t, err, "columns: id, body, when, day, score")
}

// countingReaderAt counts the bytes read through it.
type countingReaderAt struct {
	r io.ReaderAt
	n atomic.Int64
}

func (c *countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	c.n.Add(int64(n))
	return n, err
}

func TestParquetStreamsOnlyWhatItNeeds(t *testing.T) {
	data := writeLMSYSParquet(t, true, lmsysConvs(4000, 0), 500)
	cr := &countingReaderAt{r: bytes.NewReader(data)}
	n := 0
	for _, err := range parquetRecords(context.Background(), cr, int64(len(data)), "big.parquet", Mapping{}) {
		if err != nil {
			continue
		}
		if n++; n == 50 {
			break
		}
	}
	assert.Equal(t, 50, n)
	assert.Less(t, cr.n.Load(), int64(len(data)/3), "stopping early must not read the whole file (read %d of %d bytes)", cr.n.Load(), len(data))
}

func TestParquetGarbage(t *testing.T) {
	for _, data := range [][]byte{[]byte("PAR1 this is not parquet PAR1"), []byte("PAR1")} {
		p := writeFile(t, "bad.parquet", data)
		src, _ := OpenFile(p, Mapping{})
		_, _, err := collect(t, src)
		require.ErrorIs(t, err, lmsys.ErrInvalidInput)
	}
}
