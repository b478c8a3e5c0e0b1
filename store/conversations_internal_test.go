package store

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/s2"
	"github.com/lmsys-go/lmsys"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"
)

func FuzzTurnsRoundTrip(f *testing.F) {
	f.Add("user", "hi", "assistant", "hello", true)
	f.Add("human", "日本語 😀", "narrator", "", false)
	f.Add("user", "bad \xff\x00 bytes", "tool", strings.Repeat("x", 300), true)
	f.Fuzz(func(t *testing.T, r1, c1, r2, c2 string, leaveOut bool) {
		ms := []lmsys.Message{{Role: r1, Content: c1}, {Role: r2, Content: c2}}
		query := ""
		if leaveOut {
			query = cleanText(c1)
		}
		enc, body, n, elided := encodeConversation(ms, query)
		assert.EqualValues(t, len(cleanText(c1))+len(cleanText(c2)), n)
		got, err := decodeConversation(enc, body, elided)
		require.NoError(t, err)
		for i := range ms {
			ms[i] = lmsys.Message{Role: cleanText(ms[i].Role), Content: cleanText(ms[i].Content)}
		}
		assert.Equal(t, ms, got)
		// Any cut of a body is refused, never misread.
		if enc == encTurns {
			for k := range len(body) {
				_, err := decodeConversation(enc, body[:k], elided)
				assert.Error(t, err, "cut at %d", k)
			}
		}
	})
}

func TestConversationEncodingRoundTrip(t *testing.T) {
	long := strings.Repeat("the same words again ", 100)
	tests := []struct {
		name    string
		ms      []lmsys.Message
		query   string
		enc     string
		leftOut bool
	}{
		{"short stays plain", []lmsys.Message{{Role: "user", Content: "hi"}}, "", encTurns, false},
		{"long compresses", []lmsys.Message{{Role: "user", Content: long}}, "", encTurnsS2, false},
		{"incompressible stays plain", []lmsys.Message{{Role: "user", Content: noise(4000)}}, "", encTurns, false},
		{"no messages", nil, "", encTurns, false},
		{"the query text is left out", []lmsys.Message{{Role: "system", Content: "be brief"}, {Role: "user", Content: long},
			{Role: "assistant", Content: "ok"}, {Role: "user", Content: long}}, long, encTurnsS2, true},
		{"only the first user message is left out", []lmsys.Message{{Role: "user", Content: "first"}, {Role: "user", Content: "second"}},
			"second", encTurns, false},
		{"other roles keep their names", []lmsys.Message{{Role: "narrator", Content: "once"}, {Role: "user", Content: "q"}}, "q", encTurns, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			enc, body, n, elided := encodeConversation(tt.ms, tt.query)
			assert.Equal(t, tt.enc, enc)
			total := 0
			for _, m := range tt.ms {
				total += len(m.Content)
			}
			assert.EqualValues(t, total, n)
			if tt.leftOut {
				assert.Equal(t, tt.query, elided)
				plain := body
				if enc == encTurnsS2 {
					var err error
					plain, err = s2.Decode(nil, body)
					require.NoError(t, err)
				}
				full := appendTurns(nil, tt.ms, -1, new(int64))
				assert.Equal(t, len(full)-len(tt.query)-len(binary.AppendUvarint(nil, uint64(len(tt.query)))), len(plain),
					"the query text is not stored twice")
			} else {
				assert.Empty(t, elided)
			}
			got, err := decodeConversation(enc, body, elided)
			require.NoError(t, err)
			if len(tt.ms) == 0 {
				assert.Empty(t, got)
				return
			}
			assert.Equal(t, tt.ms, got)
			if tt.leftOut {
				// Spelt out, the body holds every message itself.
				c, err := spellOut(preparedConversation{encoding: enc, body: body, query: elided})
				require.NoError(t, err)
				assert.Empty(t, c.query)
				got, err := decodeConversation(c.encoding, c.body, "")
				require.NoError(t, err)
				assert.Equal(t, tt.ms, got)
			}
		})
	}
	_, err := decodeConversation(encJSONS2, []byte("not s2"), "")
	require.ErrorContains(t, err, "corrupt")
	_, err = decodeConversation(encTurns, []byte{2, 0, roleUser, 5, 'a'}, "")
	require.ErrorContains(t, err, "corrupt")
	_, err = decodeConversation(encTurns, []byte{1, 0, 9, 0}, "")
	require.ErrorContains(t, err, "corrupt", "an unknown role code")
	_, err = decodeConversation(encTurns, []byte{1, 0, roleUser, 0, 0}, "")
	require.ErrorContains(t, err, "corrupt", "bytes after the last message")
	_, err = decodeConversation("gzip", nil, "")
	require.ErrorContains(t, err, "unknown conversation encoding")
}

// Bodies written as JSON, before the turns encoding, still read.
func TestJSONBodiesRead(t *testing.T) {
	ms := []lmsys.Message{{Role: "user", Content: "a \"quoted\" question\n"}, {Role: "assistant", Content: strings.Repeat("an answer ", 80)}}
	plain, err := json.Marshal(ms)
	require.NoError(t, err)
	for _, tc := range []struct {
		enc  string
		body []byte
	}{{encJSON, plain}, {encJSONS2, s2.Encode(nil, plain)}} {
		got, err := decodeConversation(tc.enc, tc.body, "ignored")
		require.NoError(t, err, tc.enc)
		assert.Equal(t, ms, got, tc.enc)
	}
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

// A database whose conversations were written as JSON, before the turns encoding,
// reads them as before beside new ones.
func TestJSONBodiesInTheStore(t *testing.T) {
	ctx := context.Background()
	d, ds := openWithDataset(t, "old")
	oldChat := []lmsys.Message{{Role: "user", Content: "old question"}, {Role: "assistant", Content: strings.Repeat("old answer ", 80)}}
	newChat := []lmsys.Message{{Role: "user", Content: "new question"}, {Role: "assistant", Content: "new answer"}}
	_, err := d.InsertQueries(ctx, []lmsys.Query{
		{DatasetID: ds.ID, ConversationID: "old", Text: "old question"},
		{DatasetID: ds.ID, ConversationID: "new", Text: "new question", Conversation: newChat},
	})
	require.NoError(t, err)
	qs, err := d.ListQueries(ctx, lmsys.QueryFilter{})
	require.NoError(t, err)
	require.Len(t, qs, 2)
	plain, err := json.Marshal(oldChat)
	require.NoError(t, err)
	require.NoError(t, d.db.Exec(`INSERT INTO conversations (query_id, turns, encoding, body, text_bytes) VALUES (?, 2, ?, ?, 0)`,
		qs[0].ID, encJSONS2, s2.Encode(nil, plain)).Error)
	got, err := d.GetConversation(ctx, qs[0].ID)
	require.NoError(t, err)
	assert.Equal(t, oldChat, got.Messages)
	got, err = d.GetConversation(ctx, qs[1].ID)
	require.NoError(t, err)
	assert.Equal(t, newChat, got.Messages)
}

// TestConversationsFindTheirQueries loads chats in batches of several chunks, with
// rows without a conversation, a batch of one row and batches that meet queries
// already stored, and reads every conversation back: each belongs to its own query,
// whether the ids were read off the inserts or looked up.
func TestConversationsFindTheirQueries(t *testing.T) {
	chat := func(id string) []lmsys.Message {
		return []lmsys.Message{{Role: "user", Content: "question " + id}, {Role: "assistant", Content: "answer " + id}}
	}
	batch := func(ds int64, from, to int, every int) []lmsys.Query {
		var qs []lmsys.Query
		for i := from; i < to; i++ {
			id := fmt.Sprintf("c%05d", i)
			q := lmsys.Query{DatasetID: ds, ConversationID: id, Text: "question " + id}
			if i%every != 0 {
				q.Conversation = chat(id)
			}
			qs = append(qs, q)
		}
		return qs
	}
	tests := []struct {
		name    string
		batches [][2]int // [from, to) rows of each batch, in one transaction
		again   [][2]int // then these, in a second one
	}{
		{"three chunks and a batch of one", [][2]int{{0, 1201}, {1201, 1202}}, nil},
		{"a chunk of one row", [][2]int{{0, 501}}, nil},
		{"a re-run that meets stored queries", [][2]int{{0, 700}}, [][2]int{{600, 1300}}},
		{"a re-run of the same rows", [][2]int{{0, 700}}, [][2]int{{0, 700}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			d, ds := openWithDataset(t, "chats")
			for _, group := range [][][2]int{tt.batches, tt.again} {
				var ps []lmsys.PreparedQueries
				for _, b := range group {
					ps = append(ps, d.PrepareQueries(batch(ds.ID, b[0], b[1], 7), nil))
				}
				_, err := d.InsertPrepared(ctx, ps...)
				require.NoError(t, err)
			}
			qs, err := d.ListQueries(ctx, lmsys.QueryFilter{})
			require.NoError(t, err)
			require.NotEmpty(t, qs)
			for _, q := range qs {
				var i int
				_, err := fmt.Sscanf(q.ConversationID, "c%05d", &i)
				require.NoError(t, err)
				got, err := d.GetConversation(ctx, q.ID)
				if i%7 == 0 {
					assert.ErrorIs(t, err, lmsys.ErrNotFound, q.ConversationID)
					continue
				}
				require.NoError(t, err, q.ConversationID)
				assert.Equal(t, chat(q.ConversationID), got.Messages, q.ConversationID)
			}
		})
	}
}

// TestChunkIDsChecksBothEnds: ids read off a chunk's last rowid are taken only when
// the rows at both ends of the range are the chunk's first and last queries.
func TestChunkIDsChecksBothEnds(t *testing.T) {
	ctx := context.Background()
	d, ds := openWithDataset(t, "chats")
	var qs []lmsys.Query
	for i := range 4 {
		qs = append(qs, lmsys.Query{DatasetID: ds.ID, ConversationID: fmt.Sprint("k", i), Text: "t"})
	}
	_, err := d.InsertQueries(ctx, qs)
	require.NoError(t, err)
	stored, err := d.ListQueries(ctx, lmsys.QueryFilter{})
	require.NoError(t, err)
	require.Len(t, stored, 4)
	last := stored[3].ID
	p := &PreparedQueries{n: 4, ids: make([]int64, 4)}
	for _, q := range qs {
		p.keys = append(p.keys, convKey{ds.ID, q.ConversationID})
	}
	tests := []struct {
		name           string
		from, rows     int
		affected, last int64
		ok             bool
	}{
		{"the whole range", 0, 4, 4, last, true},
		{"the last rows", 2, 2, 2, last, true},
		{"one row", 1, 1, 1, last - 2, true},
		{"a range off by one", 0, 4, 4, last - 1, false},
		{"the ends of other rows", 1, 2, 2, last, false},
		{"rows skipped", 0, 4, 3, last, false},
		{"no rows", 0, 1, 1, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.NoError(t, d.inTx(ctx, func(tx *gorm.DB) error {
				ex := d.newChunkExec(tx, "", "", 1, 1)
				defer ex.close()
				clear(p.ids)
				ok, err := ex.chunkIDs(ctx, p, tt.from, tt.rows, tt.affected, tt.last)
				require.NoError(t, err)
				assert.Equal(t, tt.ok, ok)
				if ok {
					for i := range tt.rows {
						assert.Equal(t, stored[tt.from+i].ID, p.ids[tt.from+i])
					}
				}
				return nil
			}))
		})
	}
}

// openWithDataset opens a new SQLite store in a temporary directory (closed when
// the test ends) with one dataset of that name.
func openWithDataset(t *testing.T, name string) (*DB, lmsys.Dataset) {
	t.Helper()
	ctx := context.Background()
	d, err := Open(ctx, Config{Path: filepath.Join(t.TempDir(), "q.db")})
	require.NoError(t, err)
	t.Cleanup(func() { d.Close() })
	ds, err := d.EnsureDataset(ctx, lmsys.Dataset{Name: name, Source: "test"})
	require.NoError(t, err)
	return d, ds
}
