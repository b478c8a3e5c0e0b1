package store

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/klauspost/compress/s2"
	"github.com/lmsys-go/lmsys"
	"gorm.io/gorm"
)

// Encodings of conversations.body. Bodies written before the turns encoding are
// JSON; they are still read.
const (
	encJSON    = "json"     // the messages as a JSON array
	encJSONS2  = "json+s2"  // the same, S2-compressed (github.com/klauspost/compress/s2)
	encTurns   = "turns"    // the messages in the binary layout of appendTurns
	encTurnsS2 = "turns+s2" // the same, S2-compressed
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
	// query is the query text the body leaves out (see appendTurns), or empty when
	// it holds every message's content.
	query string
	// row is the position of the conversation's query in its batch.
	row int
}

// Role codes of the turns encoding; roleOther is followed by the role's name.
const (
	roleOther byte = iota
	roleUser
	roleAssistant
	roleSystem
	roleTool
)

func roleCode(role string) byte {
	switch role {
	case lmsys.RoleUser:
		return roleUser
	case lmsys.RoleAssistant:
		return roleAssistant
	case lmsys.RoleSystem:
		return roleSystem
	case lmsys.RoleTool:
		return roleTool
	}
	return roleOther
}

var roleNames = [...]string{roleUser: lmsys.RoleUser, roleAssistant: lmsys.RoleAssistant, roleSystem: lmsys.RoleSystem, roleTool: lmsys.RoleTool}

// encodeConversation turns messages into a stored body (see appendTurns),
// compressed when that pays. Text is cleaned as query text is (valid UTF-8, no NUL).
// query is the query's stored text: the first user message's content is left out
// of the body when it equals it, since the queries table holds it already, and the
// returned elided is query then, else empty.
func encodeConversation(ms []lmsys.Message, query string) (enc string, body []byte, textBytes int64, elided string) {
	var a bodyArena
	return a.encode(ms, query)
}

// bodyArena holds the bodies of a batch of conversations in a few large buffers
// (slabs of slabSize bytes, or each body its own when slabSize is 0), reused after
// reset, and the plain body being encoded: two allocations a conversation fewer,
// and a compressed body takes no more memory than its size while it waits for the
// writer.
type bodyArena struct {
	slabSize int
	plain    []byte
	slabs    [][]byte
	used     int // slabs[:used] hold bodies; the last of them is being filled
}

func (a *bodyArena) reset() {
	for i := range a.slabs[:a.used] {
		a.slabs[i] = a.slabs[i][:0]
	}
	a.used = 0
}

// room returns an empty slice of at least n bytes of capacity at the end of the
// slab being filled; take(k) then keeps k bytes of it.
func (a *bodyArena) room(n int) []byte {
	if a.used > 0 {
		if s := a.slabs[a.used-1]; cap(s)-len(s) >= n {
			return s[len(s):len(s):cap(s)]
		}
	}
	size := max(a.slabSize, n)
	if a.used == len(a.slabs) {
		a.slabs = append(a.slabs, nil)
	}
	if cap(a.slabs[a.used]) < size {
		a.slabs[a.used] = make([]byte, 0, size)
	}
	a.used++
	return a.slabs[a.used-1][:0]
}

func (a *bodyArena) take(k int) {
	s := &a.slabs[a.used-1]
	*s = (*s)[:len(*s)+k]
}

// encode is encodeConversation writing into a.
func (a *bodyArena) encode(ms []lmsys.Message, query string) (enc string, body []byte, textBytes int64, elided string) {
	skip := -1
	for i, m := range ms {
		if m.Role == lmsys.RoleUser {
			if query != "" && (m.Content == query || cleanText(m.Content) == query) {
				skip, elided = i, query
			}
			break
		}
	}
	a.plain = appendTurns(a.plain[:0], ms, skip, &textBytes)
	textBytes += int64(len(elided))
	plain := a.plain
	if len(plain) >= compressFrom {
		packed := s2.Encode(a.room(s2.MaxEncodedLen(len(plain))), plain)
		if float64(len(packed)) <= compressKeep*float64(len(plain)) {
			a.take(len(packed))
			return encTurnsS2, packed, textBytes, elided
		}
	}
	body = append(a.room(len(plain)), plain...)
	a.take(len(body))
	return encTurns, body, textBytes, elided
}

// appendTurns appends the turns encoding of ms to dst: the number of messages and
// 1 + the index of the message whose content is left out (0: none), as uvarints,
// then for each message its role code (a name other than the lmsys roles follows
// roleOther as a uvarint length and bytes) and, unless left out, its content as a
// uvarint length and bytes. Contents are cleaned (cleanText), and the bytes of
// those written are added to *textBytes. Unlike JSON, nothing is escaped,
// so a body costs a copy of its text to write and to read.
func appendTurns(dst []byte, ms []lmsys.Message, skip int, textBytes *int64) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(ms)))
	dst = binary.AppendUvarint(dst, uint64(skip+1))
	for i, m := range ms {
		c := roleCode(m.Role)
		dst = append(dst, c)
		if c == roleOther {
			r := cleanText(m.Role)
			dst = binary.AppendUvarint(dst, uint64(len(r)))
			dst = append(dst, r...)
		}
		if i == skip {
			continue
		}
		content := cleanText(m.Content)
		*textBytes += int64(len(content))
		dst = binary.AppendUvarint(dst, uint64(len(content)))
		dst = append(dst, content...)
	}
	return dst
}

var errCorruptTurns = errors.New("truncated or overlong turns body")

// readTurns decodes a turns body; query is the content of the message left out.
func readTurns(b []byte, query string) ([]lmsys.Message, error) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)) {
		return nil, errCorruptTurns
	}
	b = b[k:]
	skip, k := binary.Uvarint(b)
	if k <= 0 || skip > n {
		return nil, errCorruptTurns
	}
	b = b[k:]
	// One string holds every content and role name; the messages slice it.
	all := string(b)
	off := 0
	next := func() (string, bool) {
		l, k := binary.Uvarint(b[off:])
		if k <= 0 || l > uint64(len(b)-off-k) {
			return "", false
		}
		off += k
		s := all[off : off+int(l)]
		off += int(l)
		return s, true
	}
	ms := make([]lmsys.Message, n)
	for i := range ms {
		if off >= len(b) {
			return nil, errCorruptTurns
		}
		c := b[off]
		off++
		switch {
		case c == roleOther:
			r, ok := next()
			if !ok {
				return nil, errCorruptTurns
			}
			ms[i].Role = r
		case int(c) < len(roleNames):
			ms[i].Role = roleNames[c]
		default:
			return nil, errCorruptTurns
		}
		if uint64(i+1) == skip {
			ms[i].Content = query
			continue
		}
		s, ok := next()
		if !ok {
			return nil, errCorruptTurns
		}
		ms[i].Content = s
	}
	if off != len(b) {
		return nil, errCorruptTurns
	}
	return ms, nil
}

// decodeConversation reads a stored body back into messages; query is the query's
// text, which a turns body may leave out.
func decodeConversation(enc string, body []byte, query string) ([]lmsys.Message, error) {
	plain := body
	switch enc {
	case encJSON, encTurns:
	case encJSONS2, encTurnsS2:
		var err error
		if plain, err = s2.Decode(nil, body); err != nil {
			return nil, fmt.Errorf("conversation body (%s) is corrupt: %w", enc, err)
		}
	default:
		return nil, fmt.Errorf("unknown conversation encoding %q", enc)
	}
	if enc == encTurns || enc == encTurnsS2 {
		ms, err := readTurns(plain, query)
		if err != nil {
			return nil, fmt.Errorf("conversation body (%s) is corrupt: %w", enc, err)
		}
		return ms, nil
	}
	var ms []lmsys.Message
	if err := json.Unmarshal(plain, &ms); err != nil {
		return nil, fmt.Errorf("conversation body (%s) is corrupt: %w", enc, err)
	}
	return ms, nil
}

// spellOut returns c's body with the left-out query text put back, for a query row
// whose text is not c's (see insertConversations).
func spellOut(c preparedConversation) (preparedConversation, error) {
	ms, err := decodeConversation(c.encoding, c.body, c.query)
	if err != nil {
		return c, err
	}
	var n int64
	c.encoding, c.body, n, c.query = encodeConversation(ms, "")
	c.textBytes = n
	return c, nil
}

// prepareConversations encodes the conversations of qs, skipping queries without one;
// texts and keys hold their texts and (dataset, conversation id) as stored (cleaned).
func prepareConversations(qs []lmsys.Query, texts []string, keys []convKey, a *bodyArena, dst []preparedConversation) []preparedConversation {
	for i := range qs {
		q := &qs[i]
		if len(q.Conversation) == 0 {
			continue
		}
		enc, body, n, query := a.encode(q.Conversation, texts[i])
		dst = append(dst, preparedConversation{datasetID: keys[i].datasetID, conversationID: keys[i].name,
			turns: len(q.Conversation), encoding: enc, body: body, textBytes: n, truncated: nullString(cleanText(q.ConversationCut)),
			query: query, row: i})
	}
	return dst
}

// insertConversations writes prepared conversations inside the transaction that
// inserted their queries, and a query that already has a conversation keeps it, so a
// re-run of a load writes nothing twice.
//
// newIDs, when not nil, holds the id of every query of the conversations' batch by
// its position in the batch (preparedConversation.row), all of them inserted by this
// transaction: each conversation's query row is then its own, whose text the body may
// leave out. Otherwise a query row may be older, or come from an earlier row
// with the same conversation id: the ids are looked up a chunk at a time, with the
// texts, and a body whose left-out text differs is written whole. Queries that have
// a conversation already are not looked up at all.
//
// ex runs the inserts (newConversationExec); one for the whole transaction keeps
// each shape of chunk prepared once, where one per chunk prepared (parsed) every
// statement anew, a tenth of the writer's time in a chat load.
func (d *DB) insertConversations(ctx context.Context, tx *gorm.DB, ex *chunkExec, cs []preparedConversation, newIDs []int64) error {
	type found struct {
		id   int64
		text string
	}
	var keep []preparedConversation
	ids := make([]int64, 0, insertChunk)
	for start := 0; start < len(cs); start += insertChunk {
		part := cs[start:min(start+insertChunk, len(cs))]
		ids = ids[:0]
		if newIDs != nil {
			for _, c := range part {
				ids = append(ids, newIDs[c.row])
			}
		} else {
			byKey := make(map[convKey]found, len(part))
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
				rows, err := tx.WithContext(ctx).Raw(`SELECT q.id, q.conversation_id, q.query_text FROM queries q
					LEFT JOIN conversations c ON c.query_id = q.id
					WHERE q.dataset_id = ? AND q.conversation_id IN ? AND c.query_id IS NULL`, part[from].datasetID, names).Rows()
				if err != nil {
					return fmt.Errorf("look up conversations' queries: %w", err)
				}
				for rows.Next() {
					var f found
					var name string
					if err := rows.Scan(&f.id, &name, &f.text); err != nil {
						rows.Close()
						return fmt.Errorf("look up conversations' queries: %w", err)
					}
					byKey[convKey{part[from].datasetID, name}] = f
				}
				err = rows.Err()
				rows.Close()
				if err != nil {
					return fmt.Errorf("look up conversations' queries: %w", err)
				}
				from = to
			}
			// Only the conversations of queries found: the others have one already.
			keep = keep[:0]
			for _, c := range part {
				f, ok := byKey[convKey{c.datasetID, c.conversationID}]
				if !ok {
					continue
				}
				if c.query != "" && c.query != f.text {
					var err error
					if c, err = spellOut(c); err != nil {
						return fmt.Errorf("insert conversations: %w", err)
					}
				}
				keep = append(keep, c)
				ids = append(ids, f.id)
			}
			part = keep
		}
		if len(part) == 0 {
			continue
		}
		chunk := buildChunk(ex.buf[:0], 0, len(part), conversationCols, func(i int, dst []any) []any {
			c := &part[i]
			return append(dst, ids[i], c.turns, c.encoding, c.body, c.textBytes, c.truncated)
		})
		_, err := ex.exec(ctx, chunk)
		clear(chunk.params) // no bodies kept alive through the buffer
		ex.buf = chunk.params[:0]
		if err != nil {
			return fmt.Errorf("insert conversations: %w", err)
		}
	}
	return nil
}

// conversationCols is the number of columns of a conversations row.
const conversationCols = 6

// newConversationExec returns the chunkExec insertConversations writes with in tx;
// the caller closes it.
func (d *DB) newConversationExec(tx *gorm.DB) *chunkExec {
	prefix, suffix := d.insertIgnoring(`conversations (query_id, turns, encoding, body, text_bytes, truncated)`, `query_id`)
	return d.newChunkExec(tx, prefix, suffix, conversationCols, insertChunk)
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
		rows, err := d.db.WithContext(ctx).Raw(`SELECT c.query_id, c.encoding, c.body, COALESCE(c.truncated, ''),
			CASE WHEN c.encoding IN (?, ?) THEN q.query_text ELSE '' END
			FROM conversations c JOIN queries q ON q.id = c.query_id WHERE c.query_id IN ?`, encTurns, encTurnsS2, part).Rows()
		if err != nil {
			return nil, fmt.Errorf("store: read conversations: %w", err)
		}
		for rows.Next() {
			var id int64
			var enc, cut, query string
			var body []byte
			if err := rows.Scan(&id, &enc, &body, &cut, &query); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: read conversations: %w", err)
			}
			ms, err := decodeConversation(enc, body, query)
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
