package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/klauspost/compress/s2"
	"github.com/lmsys-go/lmsys"
	"gorm.io/gorm"
)

// Encodings of conversations.body.
const (
	encJSON   = "json"    // the messages as a JSON array
	encJSONS2 = "json+s2" // the same, S2-compressed (github.com/klauspost/compress/s2)
)

// compressFrom is the body size from which compression is tried: below it the
// frame header and the CPU cost outweigh what it saves. A compressed body is kept
// only when it is at most compressKeep of the plain one.
const (
	compressFrom = 512
	compressKeep = 0.9
)

// S2 (a faster, Snappy-compatible format) compresses real multi-turn chats about
// 1.45× at close to 300 MB/s a core on this machine. Zstandard's fastest level
// reaches 1.9× at a twelfth of that speed, which made loading chats five times
// slower than loading their first messages; DEFLATE was slower still.
// preparedConversation is one query's conversation encoded for the conversations
// table, keyed by the query's (dataset, conversation id) since its id is not known
// until the query row exists.
type preparedConversation struct {
	datasetID      int64
	conversationID string
	turns          int
	encoding       string
	body           []byte
	textBytes      int64
	truncated      any
}

// encodeConversation turns messages into a stored body: JSON, compressed when that
// pays. Text is cleaned as query text is (valid UTF-8, no NUL).
func encodeConversation(ms []lmsys.Message) (enc string, body []byte, textBytes int64) {
	size := 2
	for _, m := range ms {
		size += len(m.Role) + len(m.Content) + 32
	}
	plain := make([]byte, 0, size)
	plain = append(plain, '[')
	for i, m := range ms {
		if i > 0 {
			plain = append(plain, ',')
		}
		content := cleanText(m.Content)
		textBytes += int64(len(content))
		plain = append(plain, `{"role":`...)
		plain = appendJSONString(plain, cleanText(m.Role))
		plain = append(plain, `,"content":`...)
		plain = appendJSONString(plain, content)
		plain = append(plain, '}')
	}
	plain = append(plain, ']')
	if len(plain) < compressFrom {
		return encJSON, plain, textBytes
	}
	packed := s2.Encode(nil, plain)
	if float64(len(packed)) > compressKeep*float64(len(plain)) {
		return encJSON, plain, textBytes
	}
	return encJSONS2, packed, textBytes
}

// appendJSONString appends s, valid UTF-8, as a JSON string: quotes, backslashes
// and control characters escaped, everything else as is. It is what json.Marshal
// writes for a []lmsys.Message without the reflection, which cost a chat load a
// tenth of its time.
func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		start = i + 1
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// decodeConversation reads a stored body back into messages.
func decodeConversation(enc string, body []byte) ([]lmsys.Message, error) {
	plain := body
	switch enc {
	case encJSON:
	case encJSONS2:
		var err error
		if plain, err = s2.Decode(nil, body); err != nil {
			return nil, fmt.Errorf("conversation body (%s) is corrupt: %w", enc, err)
		}
	default:
		return nil, fmt.Errorf("unknown conversation encoding %q", enc)
	}
	var ms []lmsys.Message
	if err := json.Unmarshal(plain, &ms); err != nil {
		return nil, fmt.Errorf("conversation body (%s) is corrupt: %w", enc, err)
	}
	return ms, nil
}

// prepareConversations encodes the conversations of qs, skipping queries without one.
func prepareConversations(qs []lmsys.Query, dst []preparedConversation) []preparedConversation {
	for i := range qs {
		q := &qs[i]
		if len(q.Conversation) == 0 {
			continue
		}
		enc, body, n := encodeConversation(q.Conversation)
		dst = append(dst, preparedConversation{datasetID: q.DatasetID, conversationID: cleanText(q.ConversationID),
			turns: len(q.Conversation), encoding: enc, body: body, textBytes: n, truncated: nullString(cleanText(q.ConversationCut))})
	}
	return dst
}

// insertConversations writes prepared conversations inside the transaction that
// inserted their queries: it looks up the queries' ids a chunk at a time, then
// inserts the rows in bulk. A query that already has a conversation keeps it, so a
// re-run of a load writes nothing twice.
func (d *DB) insertConversations(ctx context.Context, tx *gorm.DB, cs []preparedConversation) error {
	prefix, suffix := d.insertIgnoring(`conversations (query_id, turns, encoding, body, text_bytes, truncated)`, `query_id`)
	ids := make([]int64, 0, insertChunk)
	for start := 0; start < len(cs); start += insertChunk {
		part := cs[start:min(start+insertChunk, len(cs))]
		byKey := make(map[convKey]int64, len(part))
		for from := 0; from < len(part); {
			// One lookup per run of rows of the same dataset (almost always the whole chunk).
			to := from + 1
			for to < len(part) && part[to].datasetID == part[from].datasetID {
				to++
			}
			names := make([]string, 0, to-from)
			for _, c := range part[from:to] {
				names = append(names, c.conversationID)
			}
			rows, err := tx.WithContext(ctx).Raw(`SELECT id, conversation_id FROM queries WHERE dataset_id = ? AND conversation_id IN ?`, part[from].datasetID, names).Rows()
			if err != nil {
				return fmt.Errorf("look up conversations' queries: %w", err)
			}
			for rows.Next() {
				var id int64
				var name string
				if err := rows.Scan(&id, &name); err != nil {
					rows.Close()
					return fmt.Errorf("look up conversations' queries: %w", err)
				}
				byKey[convKey{part[from].datasetID, name}] = id
			}
			err = rows.Err()
			rows.Close()
			if err != nil {
				return fmt.Errorf("look up conversations' queries: %w", err)
			}
			from = to
		}
		ids = ids[:0]
		for _, c := range part {
			ids = append(ids, byKey[convKey{c.datasetID, c.conversationID}])
		}
		_, err := d.bulkExec(ctx, tx, prefix, suffix, 6, insertChunk, len(part), func(i int, dst []any) []any {
			c := &part[i]
			return append(dst, ids[i], c.turns, c.encoding, c.body, c.textBytes, c.truncated)
		})
		if err != nil {
			return fmt.Errorf("insert conversations: %w", err)
		}
	}
	return nil
}

type convKey struct {
	datasetID int64
	name      string
}

// GetConversation returns the stored conversation of one query. A query without one
// (a plain-text row) is an error wrapping lmsys.ErrNotFound.
func (d *DB) GetConversation(ctx context.Context, queryID int64) (lmsys.Conversation, error) {
	cs, err := d.conversations(ctx, []int64{queryID})
	if err != nil {
		return lmsys.Conversation{}, err
	}
	c, ok := cs[queryID]
	if !ok {
		if _, err := d.GetQuery(ctx, queryID); err != nil {
			return lmsys.Conversation{}, err
		}
		return lmsys.Conversation{}, fmt.Errorf("%w: query %d has no stored conversation (a plain-text row)", lmsys.ErrNotFound, queryID)
	}
	return c, nil
}

// conversations reads the stored conversations of ids.
func (d *DB) conversations(ctx context.Context, ids []int64) (map[int64]lmsys.Conversation, error) {
	out := make(map[int64]lmsys.Conversation, len(ids))
	for start := 0; start < len(ids); start += 900 {
		part := ids[start:min(start+900, len(ids))]
		rows, err := d.db.WithContext(ctx).Raw(`SELECT query_id, encoding, body, COALESCE(truncated, '') FROM conversations WHERE query_id IN ?`, part).Rows()
		if err != nil {
			return nil, fmt.Errorf("store: read conversations: %w", err)
		}
		for rows.Next() {
			var id int64
			var enc, cut string
			var body []byte
			if err := rows.Scan(&id, &enc, &body, &cut); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: read conversations: %w", err)
			}
			ms, err := decodeConversation(enc, body)
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: query %d: %w", id, err)
			}
			out[id] = lmsys.Conversation{QueryID: id, Messages: ms, Truncated: cut}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("store: read conversations: %w", err)
		}
	}
	return out, nil
}

// ScanConversations streams the queries selected by f with their conversations, in
// id order. A query without a stored conversation comes as one user message holding
// its text, so classifiers see every row.
func (d *DB) ScanConversations(ctx context.Context, f lmsys.QueryFilter, batch int, fn func([]lmsys.Conversation) error) error {
	if batch <= 0 {
		batch = 1000
	}
	var out []lmsys.Conversation
	return d.ScanQueries(ctx, f, batch, func(qs []lmsys.Query) error {
		ids := make([]int64, len(qs))
		for i, q := range qs {
			ids[i] = q.ID
		}
		cs, err := d.conversations(ctx, ids)
		if err != nil {
			return err
		}
		out = out[:0]
		for _, q := range qs {
			c, ok := cs[q.ID]
			if !ok {
				c = lmsys.Conversation{QueryID: q.ID, Messages: []lmsys.Message{{Role: lmsys.RoleUser, Content: q.Text}}}
			}
			out = append(out, c)
		}
		return fn(out)
	})
}

// ConversationStats counts the stored conversations, their turns and text, and the
// ones cut on loading by reason.
type ConversationStats struct {
	Conversations int64            `json:"conversations"`
	Turns         int64            `json:"turns"`
	TextBytes     int64            `json:"text_bytes"`
	StoredBytes   int64            `json:"stored_bytes"`
	Truncated     map[string]int64 `json:"truncated,omitempty"`
}

// ConversationStats summarises the conversations table.
func (d *DB) ConversationStats(ctx context.Context) (ConversationStats, error) {
	var s ConversationStats
	row := d.db.WithContext(ctx).Raw(`SELECT COUNT(*), COALESCE(SUM(turns), 0), COALESCE(SUM(text_bytes), 0), COALESCE(SUM(LENGTH(body)), 0) FROM conversations`).Row()
	if err := row.Scan(&s.Conversations, &s.Turns, &s.TextBytes, &s.StoredBytes); err != nil {
		return s, fmt.Errorf("store: conversation stats: %w", err)
	}
	rows, err := d.db.WithContext(ctx).Raw(`SELECT truncated, COUNT(*) FROM conversations WHERE truncated IS NOT NULL GROUP BY truncated`).Rows()
	if err != nil {
		return s, fmt.Errorf("store: conversation stats: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		var n int64
		if err := rows.Scan(&k, &n); err != nil {
			return s, fmt.Errorf("store: conversation stats: %w", err)
		}
		if s.Truncated == nil {
			s.Truncated = map[string]int64{}
		}
		s.Truncated[k] = n
	}
	return s, rows.Err()
}
