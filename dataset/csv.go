package dataset

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"iter"
	"strings"

	"github.com/lmsys-go/lmsys"
)

// csvColumns maps the header of a CSV file to the query fields.
type csvColumns struct {
	text, chat, id, model, lang, ts, ds int
	extra                               []int
	header                              []string
}

func pickColumn(index map[string]int, cands []string) int {
	for _, c := range cands {
		if i, ok := index[c]; ok {
			return i
		}
	}
	return -1
}

func newCSVColumns(header []string, m Mapping) (csvColumns, error) {
	index := map[string]int{}
	for i, h := range header {
		h = strings.TrimSpace(h)
		if _, dup := index[h]; !dup {
			index[h] = i
		}
	}
	c := csvColumns{
		header: header,
		text:   pickColumn(index, candidates(m.Text, textCandidates)),
		chat:   -1,
		id:     pickColumn(index, candidates(m.ID, idCandidates)),
		model:  pickColumn(index, candidates(m.Model, modelCands)),
		lang:   pickColumn(index, candidates(m.Language, langCands)),
		ts:     pickColumn(index, candidates(m.Timestamp, timeCands)),
		ds:     -1,
	}
	if m.Text == "" {
		c.chat = pickColumn(index, chatCandidates)
	} else if rank([]byte(m.Text), chatCandidates) >= 0 {
		c.chat = c.text
	}
	if m.Dataset != "" {
		c.ds = pickColumn(index, []string{m.Dataset})
	}
	for name, want := range map[string]string{"text": m.Text, "id": m.ID, "model": m.Model, "language": m.Language, "timestamp": m.Timestamp, "dataset": m.Dataset} {
		if want != "" && pickColumn(index, []string{want}) < 0 {
			return c, fmt.Errorf("%w: no column %q (the %s field) in header %q", lmsys.ErrInvalidInput, want, name, header)
		}
	}
	if c.text < 0 && c.chat < 0 {
		return c, fmt.Errorf("%w: no text column in header %q: name it with a text field mapping", lmsys.ErrInvalidInput, header)
	}
	used := map[int]bool{c.text: true, c.chat: true, c.id: true, c.model: true, c.lang: true, c.ts: true, c.ds: true}
	for i, h := range header {
		if !used[i] && index[strings.TrimSpace(h)] == i && strings.TrimSpace(h) != "" {
			c.extra = append(c.extra, i)
		}
	}
	return c, nil
}

func cell(rec []string, i int) (string, bool) {
	if i < 0 || i >= len(rec) {
		return "", false
	}
	return rec[i], true
}

// csvRecords streams the rows of a CSV file with a header row from r.
func csvRecords(ctx context.Context, r io.Reader, file string, m Mapping, comma rune) iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		cr := csv.NewReader(r)
		cr.Comma = comma
		cr.FieldsPerRecord = -1
		cr.ReuseRecord = true
		cr.LazyQuotes = comma == '\t' // TSV files rarely quote, and JSON cells hold bare quotes
		header, err := cr.Read()
		if err != nil {
			if err == io.EOF {
				err = errors.New("empty file")
			}
			yield(Record{}, fmt.Errorf("%w: %s: reading the CSV header: %v", lmsys.ErrInvalidInput, file, err))
			return
		}
		header = append([]string(nil), header...)
		if len(header) > 0 {
			header[0] = strings.TrimPrefix(header[0], "\ufeff")
		}
		cols, err := newCSVColumns(header, m)
		if err != nil {
			yield(Record{}, fmt.Errorf("%s: %w", file, err))
			return
		}
		var f fields
		for n := int64(1); ; n++ {
			if n%1024 == 0 && ctx.Err() != nil {
				yield(Record{}, ctx.Err())
				return
			}
			rec, err := cr.Read()
			if err == io.EOF {
				return
			}
			pos := Position{file, 0}
			if err == nil && len(rec) > 0 {
				line, _ := cr.FieldPos(0)
				pos.Line = int64(line)
			}
			if err != nil {
				var pe *csv.ParseError
				if errors.As(err, &pe) {
					pos.Line = int64(pe.Line)
					if !yield(Record{}, rowErr(pos, ReasonMalformed, pe.Err)) {
						return
					}
					continue
				}
				yield(Record{}, fmt.Errorf("reading %s: %w", file, err))
				return
			}
			f.reset()
			if s, ok := cell(rec, cols.text); ok {
				if t := strings.TrimSpace(s); strings.HasPrefix(t, "[") && cols.text == cols.chat {
					f.textIsJSON = []byte(t)
				} else {
					f.text, f.hasText = s, true
				}
			} else if s, ok := cell(rec, cols.chat); ok && strings.HasPrefix(strings.TrimSpace(s), "[") {
				f.chat = []byte(strings.TrimSpace(s))
			}
			f.id, _ = cell(rec, cols.id)
			f.model, _ = cell(rec, cols.model)
			f.language, _ = cell(rec, cols.lang)
			f.dataset, _ = cell(rec, cols.ds)
			if s, ok := cell(rec, cols.ts); ok && strings.TrimSpace(s) != "" {
				f.timestamp, f.hasTime = s, true
			}
			for _, i := range cols.extra {
				if s, ok := cell(rec, i); ok && s != "" {
					if f.extra == nil {
						f.extra = map[string]any{}
					}
					f.extra[cols.header[i]] = s
				}
			}
			out, rerr := finish(&f, pos)
			if !yield(out, rerr) {
				return
			}
		}
	}
}
