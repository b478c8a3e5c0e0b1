package store

import (
	"bytes"
	"compress/flate"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sync"

	"github.com/lmsys-go/lmsys"
	"gorm.io/gorm"
)

// Encodings of conversations.body.
const (
	encJSON        = "json"         // the messages as a JSON array
	encJSONDeflate = "json+deflate" // the same, DEFLATE-compressed (RFC 1951)
)

// compressFrom is the body size from which compression is tried: below it the
// DEFLATE header and the CPU cost outweigh what it saves. A compressed body is kept
// only when it is at most compressKeep of the plain one.
const (
	compressFrom = 512
	compressKeep = 0.9
)

var flateWriters = sync.Pool{New: func() any {
	w, _ := flate.NewWriter(nil, flate.BestSpeed)
	return w
}}

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
	clean := make([]lmsys.Message, len(ms))
	for i, m := range ms {
		clean[i] = lmsys.Message{Role: cleanText(m.Role), Content: cleanText(m.Content)}
		textBytes += int64(len(clean[i].Content))
	}
	plain, _ := json.Marshal(clean) // strings only: cannot fail
	if len(plain) < compressFrom {
		return encJSON, plain, textBytes
	}
	var buf bytes.Buffer
	buf.Grow(len(plain) / 3)
	w := flateWriters.Get().(*flate.Writer)
	w.Reset(&buf)
	_, _ = w.Write(plain) // writes to a bytes.Buffer do not fail
	_ = w.Close()
	flateWriters.Put(w)
	if float64(buf.Len()) > compressKeep*float64(len(plain)) {
		return encJSON, plain, textBytes
	}
	return encJSONDeflate, buf.Bytes(), textBytes
}

// decodeConversation reads a stored body back into messages.
func decodeConversation(enc string, body []byte) ([]lmsys.Message, error) {
	var r io.Reader
	switch enc {
	case encJSON:
		r = bytes.NewReader(body)
	case encJSONDeflate:
		fr := flate.NewReader(bytes.NewReader(body))
		defer fr.Close()
		r = fr
	default:
		return nil, fmt.Errorf("unknown conversation encoding %q", enc)
	}
	var ms []lmsys.Message
	if err := json.NewDecoder(r).Decode(&ms); err != nil {
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
// inserted their queries. A query that already has a conversation keeps it, so a
// re-run of a load writes nothing twice.
func (d *DB) insertConversations(ctx context.Context, tx *gorm.DB, cs []preparedConversation) error {
	if len(cs) == 0 {
		return nil
	}
	prefix, suffix := d.insertIgnoring(`conversations (query_id, turns, encoding, body, text_bytes, truncated)`, `query_id`)
	ph := "?, ?, ?, ?, ?"
	where := "dataset_id = ? AND conversation_id = ?"
	if d.postgres {
		ph, where = "$1, $2, $3, $4, $5", "dataset_id = $6 AND conversation_id = $7"
	}
	stmt := prefix + ` SELECT id, ` + ph + ` FROM queries WHERE ` + where + ` ` + suffix
	// As in chunkExec.exec: statements run uncancellable, cancellation is checked
	// between rows.
	ectx := context.WithoutCancel(ctx)
	st, err := tx.Statement.ConnPool.PrepareContext(ectx, stmt)
	if err != nil {
		return fmt.Errorf("prepare conversation insert: %w", err)
	}
	defer st.Close()
	for i := range cs {
		c := &cs[i]
		if err := ctx.Err(); err != nil {
			return err
		}
		if _, err := st.ExecContext(ectx, c.turns, c.encoding, c.body, c.textBytes, c.truncated, c.datasetID, c.conversationID); err != nil {
			return fmt.Errorf("insert conversation %q: %w", c.conversationID, err)
		}
	}
	return nil
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
