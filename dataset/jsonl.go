package dataset

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"

	"github.com/lmsys-go/lmsys"
)

// maxLineBytes bounds one JSON Lines row; a longer line is a malformed row.
const maxLineBytes = 256 << 20

// jsonMapper routes the members of a JSON object row to fields by a Mapping.
type jsonMapper struct {
	text, chat, id, model, lang, ts, ds []string
	known                               map[string]bool
}

func newJSONMapper(m Mapping) *jsonMapper {
	jm := &jsonMapper{
		text:  candidates(m.Text, textCandidates),
		id:    candidates(m.ID, idCandidates),
		model: candidates(m.Model, modelCands),
		lang:  candidates(m.Language, langCands),
		ts:    candidates(m.Timestamp, timeCands),
		known: map[string]bool{"openai_moderation": true},
	}
	if m.Text == "" {
		jm.chat = chatCandidates
	}
	if m.Dataset != "" {
		jm.ds = []string{m.Dataset}
	}
	for _, l := range [][]string{jm.text, jm.chat, jm.id, jm.model, jm.lang, jm.ts, jm.ds} {
		for _, k := range l {
			jm.known[k] = true
		}
	}
	return jm
}

func rank(key []byte, cands []string) int {
	for i, c := range cands {
		if string(key) == c {
			return i
		}
	}
	return -1
}

// slot remembers the best-ranked raw value seen for one field.
type slot struct {
	raw  []byte
	rank int
}

func (s *slot) offer(key []byte, val []byte, cands []string) bool {
	r := rank(key, cands)
	if r < 0 {
		return false
	}
	if s.raw == nil || r < s.rank {
		s.raw, s.rank = val, r
	}
	return true
}

// fill decodes one JSON object row into f.
func (jm *jsonMapper) fill(f *fields, obj []byte, pos Position) error {
	var text, chat, id, model, lang, ts, ds, mod slot
	// A chat member that would rank best so far is taken apart as it is validated,
	// into f.spare; if it does become the chat, f.turns and f.spare swap.
	parsed := false
	scanChat := func(data []byte, i, depth int) (int, error) {
		end, turns, err := scanTurns(data, i, depth, f.spare[:0])
		f.spare, parsed = turns, true
		return end, err
	}
	hook := func(key []byte) valueScanner {
		if r := rank(key, jm.chat); r >= 0 && (chat.raw == nil || r < chat.rank) {
			return scanChat
		}
		return nil
	}
	err := scanObjectHook(obj, hook, func(key, val []byte) error {
		hit := text.offer(key, val, jm.text)
		if parsed {
			parsed = false
			chat.offer(key, val, jm.chat) // it ranks best
			f.turns, f.spare = f.spare, f.turns
			f.hasTurns = true
			hit = true
		} else {
			hit = chat.offer(key, val, jm.chat) || hit
		}
		hit = id.offer(key, val, jm.id) || hit
		hit = model.offer(key, val, jm.model) || hit
		hit = lang.offer(key, val, jm.lang) || hit
		hit = ts.offer(key, val, jm.ts) || hit
		hit = ds.offer(key, val, jm.ds) || hit
		if string(key) == "openai_moderation" {
			mod.raw = val
			return nil
		}
		if hit || jm.known[string(key)] {
			return nil
		}
		if v, ok := scalarValue(val); ok {
			if f.extra == nil {
				f.extra = map[string]any{}
			}
			f.extra[decodeKey(key)] = v
		}
		return nil
	})
	if err != nil {
		return rowErr(pos, ReasonMalformed, err)
	}
	if text.raw != nil {
		switch text.raw[0] {
		case '"':
			f.text, _ = decodeString(text.raw)
			f.hasText = true
		case '[':
			f.textIsJSON = text.raw
		case 'n':
			f.hasText = true // null text: an empty query
		default:
			return rowErr(pos, ReasonNotString, fmt.Errorf("field %q holds %.40s", jm.text[text.rank], text.raw))
		}
	}
	if chat.raw != nil && chat.raw[0] == '[' {
		f.chat = chat.raw
	}
	if mod.raw != nil && mod.raw[0] == '[' {
		f.moderation = mod.raw
	}
	f.id, _, _ = scalarString(id.raw)
	f.model, _, _ = scalarString(model.raw)
	f.language, _, _ = scalarString(lang.raw)
	f.dataset, _, _ = scalarString(ds.raw)
	if ts.raw != nil {
		f.timestamp, f.hasTime, _ = scalarString(ts.raw)
	}
	return nil
}

// decodeRow turns one JSON value (an object row, or a bare string that is the text)
// into a Record.
func (jm *jsonMapper) decodeRow(f *fields, row []byte, pos Position) (Record, error) {
	f.reset()
	row = bytes.TrimSpace(row)
	if len(row) > 0 && row[0] == '"' {
		if _, _, err := scanString(row, 0); err != nil {
			return Record{}, rowErr(pos, ReasonMalformed, err)
		}
		s, err := decodeString(row)
		if err != nil {
			return Record{}, rowErr(pos, ReasonMalformed, err)
		}
		return Record{Text: s, Pos: pos}, nil
	}
	if err := jm.fill(f, row, pos); err != nil {
		return Record{}, err
	}
	return finish(f, pos)
}

// jsonlRecords streams the rows of JSON Lines from r. Blank lines are ignored.
func jsonlRecords(ctx context.Context, r io.Reader, file string, m Mapping) iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		jm := newJSONMapper(m)
		br := bufio.NewReaderSize(r, 1<<20)
		var f fields
		var long []byte
		for line := int64(1); ; line++ {
			if line%1024 == 0 && ctx.Err() != nil {
				yield(Record{}, ctx.Err())
				return
			}
			b, err := br.ReadSlice('\n')
			if errors.Is(err, bufio.ErrBufferFull) {
				long = append(long[:0], b...)
				for errors.Is(err, bufio.ErrBufferFull) && len(long) <= maxLineBytes {
					b, err = br.ReadSlice('\n')
					long = append(long, b...)
				}
				if errors.Is(err, bufio.ErrBufferFull) {
					for errors.Is(err, bufio.ErrBufferFull) {
						_, err = br.ReadSlice('\n')
					}
					if !yield(Record{}, rowErr(Position{file, line}, ReasonMalformed, fmt.Errorf("line longer than %d bytes", maxLineBytes))) {
						return
					}
					continue
				}
				b = long
			}
			if err != nil && err != io.EOF {
				yield(Record{}, fmt.Errorf("reading %s line %d: %w", file, line, err))
				return
			}
			if len(bytes.TrimSpace(b)) > 0 {
				rec, rerr := jm.decodeRow(&f, b, Position{file, line})
				if !yield(rec, rerr) {
					return
				}
			}
			if err == io.EOF {
				return
			}
		}
	}
}

// jsonArrayRecords streams the elements of one JSON array from r with a token
// decoder, so the array is never held in memory whole. A syntax error ends the
// stream: the decoder cannot resynchronise.
func jsonArrayRecords(ctx context.Context, r io.Reader, file string, m Mapping) iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		jm := newJSONMapper(m)
		dec := json.NewDecoder(bufio.NewReaderSize(r, 1<<20))
		tok, err := dec.Token()
		if err != nil || tok != json.Delim('[') {
			if err == nil {
				err = fmt.Errorf("starts with %v", tok)
			}
			yield(Record{}, fmt.Errorf("%w: %s is not a JSON array: %v", lmsys.ErrInvalidInput, file, err))
			return
		}
		var f fields
		var raw json.RawMessage
		for n := int64(1); dec.More(); n++ {
			if n%1024 == 0 && ctx.Err() != nil {
				yield(Record{}, ctx.Err())
				return
			}
			raw = raw[:0]
			if err := dec.Decode(&raw); err != nil {
				yield(Record{}, fmt.Errorf("%w: %s element %d: %v", lmsys.ErrInvalidInput, file, n, err))
				return
			}
			rec, rerr := jm.decodeRow(&f, raw, Position{file, n})
			if !yield(rec, rerr) {
				return
			}
		}
		if _, err := dec.Token(); err != nil {
			yield(Record{}, fmt.Errorf("%w: %s: unterminated JSON array: %v", lmsys.ErrInvalidInput, file, err))
		}
	}
}
