package dataset

import (
	"sort"
	"unicode/utf8"

	"github.com/lmsys-go/lmsys"
	"strconv"
	"strings"
	"time"
)

// fields are the raw pieces of one row, gathered by a format-specific reader before
// finish turns them into a Record.
type fields struct {
	text       string
	hasText    bool
	textIsJSON []byte    // the text field held a JSON array: treat it as a chat
	chat       []byte    // raw JSON array of chat turns
	turns      []rawTurn // chat taken apart, when scanned (hasTurns)
	hasTurns   bool
	spare      []rawTurn // memory for the next chat scanned
	id         string
	model      string
	language   string
	dataset    string
	timestamp  string
	hasTime    bool
	moderation []byte // raw JSON array of LMSYS openai_moderation entries
	extra      map[string]any
}

func (f *fields) reset() {
	*f = fields{turns: f.turns[:0], spare: f.spare[:0]}
}

// finish builds the Record of one row from its fields.
func finish(f *fields, pos Position) (Record, error) {
	r := Record{ID: f.id, Model: f.model, Language: f.language, Dataset: f.dataset, Pos: pos, Metadata: f.extra}
	switch {
	case f.hasText:
		r.Text = f.text
	case f.textIsJSON != nil || f.chat != nil:
		raw := f.chat
		if f.textIsJSON != nil {
			raw = f.textIsJSON
		}
		var turn userTurn
		var msgs []lmsys.Message
		var err error
		if f.textIsJSON == nil && f.hasTurns {
			turn, msgs, err = buildTurns(f.turns)
		} else {
			turn, msgs, err = chatTurns(raw)
		}
		if err != nil {
			return Record{}, rowErr(pos, ReasonMalformed, err)
		}
		if turn.index < 0 {
			return Record{}, rowErr(pos, ReasonNoUserTurn, nil)
		}
		r.Text = turn.text
		r.Conversation, r.ConversationCut = capConversation(msgs)
		if r.Metadata == nil {
			r.Metadata = map[string]any{}
		}
		if _, ok := r.Metadata["turn"]; !ok {
			r.Metadata["turn"] = int64(turn.users)
		}
		if f.moderation != nil {
			flagged, cats := moderationOf(f.moderation, turn.index)
			r.Metadata["moderation_flagged"] = flagged
			if len(cats) > 0 {
				r.Metadata["moderation_categories"] = cats
			}
		}
	default:
		return Record{}, rowErr(pos, ReasonNoText, nil)
	}
	if f.hasTime {
		t, err := parseTime(f.timestamp)
		if err != nil {
			return Record{}, rowErr(pos, ReasonBadTimestamp, err)
		}
		r.Timestamp = &t
	}
	return r, nil
}

type userTurn struct {
	text  string
	index int // position of the first user message in the chat; -1 when none
	users int // number of user messages
}

// isUserRole reports whether a chat role or ShareGPT "from" value is the user's.
func isUserRole(role string) bool {
	return strings.EqualFold(role, "user") || strings.EqualFold(role, "human")
}

// chatTurns reads a chat given as a raw JSON array of {role, content} (LMSYS,
// OpenAI) or {from, value} (ShareGPT) objects: every message, with roles mapped by
// normalRole, and the first user message. A message's role is its last "role",
// "from" or "author" member, its content its "content", else "value", else "text"
// member. OpenAI content given as a list of parts has its text parts joined with
// newlines. Elements that are not objects are skipped.
func chatTurns(raw []byte) (userTurn, []lmsys.Message, error) {
	i := skipWS(raw, 0)
	if i >= len(raw) || raw[i] != '[' {
		return userTurn{index: -1}, nil, synErr(i, "expected '['")
	}
	end, turns, err := scanTurns(raw, i, 0, nil)
	if err != nil {
		return userTurn{index: -1}, nil, err
	}
	if j := skipWS(raw, end); j != len(raw) {
		return userTurn{index: -1}, nil, synErr(j, "data after the array")
	}
	return buildTurns(turns)
}

// buildTurns makes the messages of a chat from the turns scanTurns gathered. The
// contents given as strings are decoded into one buffer, which the messages' texts
// share: one allocation a chat instead of one a message.
func buildTurns(turns []rawTurn) (userTurn, []lmsys.Message, error) {
	t := userTurn{index: -1}
	n, size := 0, 0
	for _, rt := range turns {
		if rt.obj {
			n++
			if len(rt.content) > 0 && rt.content[0] == '"' {
				size += len(rt.content) - 2
			}
		}
	}
	if n == 0 {
		return t, nil, nil
	}
	var all strings.Builder
	all.Grow(size)
	var endsBuf [16]int
	ends := endsBuf[:0] // where each message's text ends in all; -1: in its Content
	msgs := make([]lmsys.Message, 0, n)
	for _, rt := range turns {
		if !rt.obj {
			continue
		}
		m := lmsys.Message{Role: roleOf(rt.role)}
		if len(rt.content) > 0 && rt.content[0] == '"' {
			if err := decodeStringTo(&all, rt.content); err != nil {
				return t, msgs, err
			}
			ends = append(ends, all.Len())
		} else {
			text, err := contentText(rt.content)
			if err != nil {
				return t, msgs, err
			}
			m.Content = text
			ends = append(ends, -1)
		}
		msgs = append(msgs, m)
	}
	text, from := all.String(), 0
	i := 0
	for pos, rt := range turns { // pos is the position in the array, which moderation lists follow
		if !rt.obj {
			continue
		}
		m := &msgs[i]
		if end := ends[i]; end >= 0 {
			m.Content, from = text[from:end], end
		}
		i++
		if m.Role == lmsys.RoleUser {
			t.users++
			if t.index < 0 {
				// The query text is a copy of its own: the other messages' shared
				// buffer can go once the store has encoded them, while the query
				// text waits to be written.
				t.index, t.text = pos, strings.Clone(m.Content)
			}
		}
	}
	return t, msgs, nil
}

// roleOf returns the normalised role (normalRole) of a raw role value; the roles of
// the chat formats, written plainly, cost no string of their own.
func roleOf(raw []byte) string {
	if len(raw) > 2 && raw[0] == '"' {
		switch string(raw[1 : len(raw)-1]) {
		case "user", "human":
			return lmsys.RoleUser
		case "assistant", "gpt":
			return lmsys.RoleAssistant
		case "system":
			return lmsys.RoleSystem
		}
	}
	role, _, _ := scalarString(raw)
	return normalRole(role)
}

// normalRole maps the role names of chat formats onto the lmsys roles: "human"
// (ShareGPT) is the user; "gpt", "bot", "model", "chatgpt" and "ai" are the
// assistant; "function" is a tool. Other roles are kept, lower-cased.
func normalRole(role string) string {
	r := strings.ToLower(strings.TrimSpace(role))
	switch r {
	case "user", "human", "prompter":
		return lmsys.RoleUser
	case "assistant", "gpt", "bot", "model", "chatgpt", "ai":
		return lmsys.RoleAssistant
	case "system":
		return lmsys.RoleSystem
	case "tool", "function", "ipython":
		return lmsys.RoleTool
	}
	return r
}

// Limits on a stored conversation. A chat beyond them keeps its first messages up to
// the limit and records why it was cut (Query.ConversationCut), counted in
// LoadStats.CutConversations; the query text is never cut.
const (
	MaxConversationTurns = 10000
	MaxConversationBytes = 16 << 20
)

// Reasons a conversation is cut, as counted in LoadStats.CutConversations.
const (
	CutTooManyTurns = "more than 10000 turns"
	CutTooLong      = "more than 16 MiB of text"
)

// capConversation applies the conversation limits.
func capConversation(ms []lmsys.Message) ([]lmsys.Message, string) {
	cut := ""
	if len(ms) > MaxConversationTurns {
		ms, cut = ms[:MaxConversationTurns], CutTooManyTurns
	}
	total := 0
	for i, m := range ms {
		total += len(m.Content)
		if total > MaxConversationBytes {
			keep := len(m.Content) - (total - MaxConversationBytes)
			head := m.Content[:keep]
			for len(head) > 0 && !utf8.ValidString(head) {
				head = head[:len(head)-1] // do not split a rune
			}
			ms = append(ms[:i:i], lmsys.Message{Role: m.Role, Content: head})
			return ms, CutTooLong
		}
	}
	return ms, cut
}

// contentText returns a message's text from its raw content: a string, or a list
// of parts whose "text" members are joined with newlines.
func contentText(raw []byte) (string, error) {
	if len(raw) == 0 || raw[0] == 'n' {
		return "", nil
	}
	if raw[0] == '"' {
		return decodeString(raw)
	}
	if raw[0] != '[' {
		return "", errNotString
	}
	var parts []string
	err := scanArray(raw, func(p []byte) error {
		if len(p) > 0 && p[0] == '"' {
			s, err := decodeString(p)
			parts = append(parts, s)
			return err
		}
		if len(p) == 0 || p[0] != '{' {
			return nil
		}
		return scanObject(p, func(k, v []byte) error {
			if string(k) == "text" && len(v) > 0 && v[0] == '"' {
				s, err := decodeString(v)
				parts = append(parts, s)
				return err
			}
			return nil
		})
	})
	return strings.Join(parts, "\n"), err
}

// moderationOf reads entry index of an LMSYS openai_moderation list: whether it is
// flagged and the sorted names of its categories that are true.
func moderationOf(raw []byte, index int) (bool, []string) {
	i := -1
	var flagged bool
	var cats []string
	_ = scanArray(raw, func(elem []byte) error {
		i++
		if i != index || len(elem) == 0 || elem[0] != '{' {
			return nil
		}
		return scanObject(elem, func(k, v []byte) error {
			switch string(k) {
			case "flagged":
				flagged = string(v) == "true"
			case "categories":
				if len(v) > 0 && v[0] == '{' {
					_ = scanObject(v, func(ck, cv []byte) error {
						if string(cv) == "true" {
							cats = append(cats, decodeKey(ck))
						}
						return nil
					})
				}
			}
			return nil
		})
	})
	sort.Strings(cats)
	return flagged, cats
}

var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02",
}

// parseTime reads a timestamp: RFC 3339 (with or without zone, 'T' or space), a
// date, or a Unix time in seconds or, above 10^11, milliseconds (fractions allowed).
// Times without a zone are UTC.
func parseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, strconv.ErrSyntax
	}
	if c := s[0]; c >= '0' && c <= '9' || c == '-' {
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return unixTime(f), nil
		}
	}
	var firstErr error
	for _, l := range timeLayouts {
		t, err := time.Parse(l, s)
		if err == nil {
			return t.UTC(), nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return time.Time{}, firstErr
}

// unixTime converts Unix seconds, or milliseconds when the value is above 10^11.
func unixTime(f float64) time.Time {
	if f > 1e11 || f < -1e11 {
		ms := int64(f)
		return time.UnixMilli(ms).UTC()
	}
	sec := int64(f)
	return time.Unix(sec, int64((f-float64(sec))*1e9)).UTC()
}
