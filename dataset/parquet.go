package dataset

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"iter"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"

	"github.com/lmsys-go/lmsys"
)

// Parquet files are read column by column: only the leaf columns a Mapping needs are
// decoded, row group by row group, and each row is assembled from its repetition and
// definition levels. This reads parquet-go's own layout (repeated groups) and the
// layout pyarrow writes (every field optional, lists as LIST groups holding a repeated
// "list" group with one "element", maps as MAP groups of "key_value") alike, because
// list and map wrapper names are dropped from the logical path a leaf is matched by:
// conversation.list.element.content and conversation.content are both
// "conversation.content".

// pqLeaf describes one leaf column.
type pqLeaf struct {
	index   int
	logical []string
	name    string // strings.Join(logical, ".")
	maxRep  int
	maxDef  int
	repDefs []int // definition level at which each repeated ancestor holds an element
	typ     parquet.Type
}

func groupKind(c *parquet.Column) string {
	lt := c.Type().LogicalType()
	if lt == nil {
		return ""
	}
	switch lt.Value.(type) {
	case *format.ListType:
		return "list"
	case *format.MapType:
		return "map"
	}
	return ""
}

func walkParquet(c *parquet.Column, logical []string, def int, repDefs []int, skipName bool, out *[]pqLeaf) {
	if !c.Required() {
		def++
	}
	if c.Repeated() {
		repDefs = append(append([]int(nil), repDefs...), def)
	}
	if !skipName {
		logical = append(append([]string(nil), logical...), c.Name())
	}
	if c.Leaf() {
		*out = append(*out, pqLeaf{
			index: c.Index(), logical: logical, name: strings.Join(logical, "."),
			maxRep: c.MaxRepetitionLevel(), maxDef: c.MaxDefinitionLevel(), repDefs: repDefs, typ: c.Type(),
		})
		return
	}
	kind := groupKind(c)
	for _, child := range c.Columns() {
		switch {
		case kind == "list" && child.Repeated():
			// LIST → repeated "list" → single "element" (or legacy "item"); a
			// repeated group with several fields is a legacy two-level list of structs.
			kids := child.Columns()
			if len(kids) == 1 && !child.Leaf() && (kids[0].Name() == "element" || kids[0].Name() == "item" || kids[0].Name() == "array_element") {
				d, rd := def+1, append(append([]int(nil), repDefs...), def+1)
				walkParquet(kids[0], logical, d, rd, true, out)
				continue
			}
			walkParquet(child, logical, def, repDefs, true, out)
		case kind == "map" && child.Repeated():
			walkParquet(child, logical, def, repDefs, true, out)
		default:
			walkParquet(child, logical, def, repDefs, false, out)
		}
	}
}

// pqCursor reads the values of one leaf column of one row group, a row at a time.
type pqCursor struct {
	pages parquet.Pages
	vr    parquet.ValueReader
	buf   []parquet.Value
	i, n  int
	row   []parquet.Value
	done  bool
}

func newCursor(cc parquet.ColumnChunk) *pqCursor {
	return &pqCursor{pages: cc.Pages(), buf: make([]parquet.Value, 512)}
}

func (c *pqCursor) fill() error {
	for {
		if c.vr == nil {
			p, err := c.pages.ReadPage()
			if err != nil {
				if err == io.EOF {
					c.done = true
				}
				return err
			}
			c.vr = p.Values()
		}
		n, err := c.vr.ReadValues(c.buf)
		c.i, c.n = 0, n
		if err == io.EOF {
			c.vr = nil
		} else if err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
	}
}

// next returns the values of the next row; the slice is reused by the next call.
func (c *pqCursor) next() ([]parquet.Value, error) {
	c.row = c.row[:0]
	for {
		if c.i == c.n {
			if c.done {
				break
			}
			if err := c.fill(); err != nil {
				if err == io.EOF {
					break
				}
				return nil, err
			}
		}
		v := c.buf[c.i]
		if v.RepetitionLevel() == 0 && len(c.row) > 0 {
			break
		}
		c.row = append(c.row, v)
		c.i++
	}
	if len(c.row) == 0 {
		return nil, errors.New("column ended before the row group")
	}
	return c.row, nil
}

func (c *pqCursor) close() { _ = c.pages.Close() }

// pqPlan says which leaves feed which fields.
type pqPlan struct {
	text, id, model, lang, ts, ds *pqLeaf
	content, role                 *pqLeaf // chat: first user turn
	modFlagged                    *pqLeaf
	modCats                       []*pqLeaf // struct of booleans, one leaf per category
	modKey, modVal                *pqLeaf   // or a map of category → boolean
	extras                        []*pqLeaf
	leaves                        []*pqLeaf // every leaf read, in a fixed order
}

func findScalar(byName map[string]*pqLeaf, cands []string) *pqLeaf {
	for _, c := range cands {
		if l, ok := byName[c]; ok && l.maxRep == 0 {
			return l
		}
	}
	return nil
}

func planParquet(leaves []pqLeaf, m Mapping, file string) (*pqPlan, error) {
	byName := map[string]*pqLeaf{}
	for i := range leaves {
		byName[leaves[i].name] = &leaves[i]
	}
	p := &pqPlan{
		text:  findScalar(byName, candidates(m.Text, textCandidates)),
		id:    findScalar(byName, candidates(m.ID, idCandidates)),
		model: findScalar(byName, candidates(m.Model, modelCands)),
		lang:  findScalar(byName, candidates(m.Language, langCands)),
		ts:    findScalar(byName, candidates(m.Timestamp, timeCands)),
	}
	if m.Dataset != "" {
		p.ds = findScalar(byName, []string{m.Dataset})
	}
	for name, want := range map[string]string{"id": m.ID, "model": m.Model, "language": m.Language, "timestamp": m.Timestamp, "dataset": m.Dataset} {
		if want != "" && findScalar(byName, []string{want}) == nil {
			return nil, fmt.Errorf("%w: %s has no scalar column %q (the %s field)", lmsys.ErrInvalidInput, file, want, name)
		}
	}
	if p.text == nil {
		chats := chatCandidates
		if m.Text != "" {
			chats = []string{m.Text}
		}
	chat:
		for _, c := range chats {
			for _, cn := range []string{"content", "value", "text"} {
				content := byName[c+"."+cn]
				if content == nil || content.maxRep != 1 {
					continue
				}
				for _, rn := range []string{"role", "from", "author"} {
					if role := byName[c+"."+rn]; role != nil && role.maxRep == 1 {
						p.content, p.role = content, role
						break chat
					}
				}
			}
		}
		if p.content == nil {
			names := make([]string, len(leaves))
			for i, l := range leaves {
				names[i] = l.name
			}
			return nil, fmt.Errorf("%w: %s has no text column and no chat column (conversation/messages/conversations with content and role); columns: %s; name the text column with a text field mapping",
				lmsys.ErrInvalidInput, file, strings.Join(names, ", "))
		}
		if l := byName["openai_moderation.flagged"]; l != nil && l.maxRep == 1 {
			p.modFlagged = l
		}
		k, v := byName["openai_moderation.categories.key"], byName["openai_moderation.categories.value"]
		if k != nil && v != nil && k.maxRep == 2 && v.maxRep == 2 {
			p.modKey, p.modVal = k, v
		} else {
			for i := range leaves {
				l := &leaves[i]
				if len(l.logical) == 3 && l.logical[0] == "openai_moderation" && l.logical[1] == "categories" && l.maxRep == 1 {
					p.modCats = append(p.modCats, l)
				}
			}
		}
	}
	used := map[*pqLeaf]bool{}
	for _, l := range []*pqLeaf{p.text, p.id, p.model, p.lang, p.ts, p.ds, p.content, p.role, p.modFlagged, p.modKey, p.modVal} {
		if l != nil {
			used[l] = true
		}
	}
	for _, l := range p.modCats {
		used[l] = true
	}
	for i := range leaves {
		l := &leaves[i]
		if !used[l] && l.maxRep == 0 && len(l.logical) == 1 {
			p.extras = append(p.extras, l)
			used[l] = true
		}
	}
	for i := range leaves {
		if used[&leaves[i]] {
			p.leaves = append(p.leaves, &leaves[i])
		}
	}
	return p, nil
}

// pqScalar returns the single value of a non-repeated leaf's row, or false when null.
func pqScalar(vals []parquet.Value, l *pqLeaf) (parquet.Value, bool) {
	if len(vals) == 0 || vals[0].DefinitionLevel() < l.maxDef || vals[0].IsNull() {
		return parquet.Value{}, false
	}
	return vals[0], true
}

func pqString(v parquet.Value) string {
	switch v.Kind() {
	case parquet.ByteArray, parquet.FixedLenByteArray:
		return string(v.ByteArray())
	case parquet.Boolean:
		return strconv.FormatBool(v.Boolean())
	case parquet.Int32:
		return strconv.FormatInt(int64(v.Int32()), 10)
	case parquet.Int64:
		return strconv.FormatInt(v.Int64(), 10)
	case parquet.Float:
		return strconv.FormatFloat(float64(v.Float()), 'g', -1, 32)
	case parquet.Double:
		return strconv.FormatFloat(v.Double(), 'g', -1, 64)
	}
	return v.String()
}

func pqAny(v parquet.Value) any {
	switch v.Kind() {
	case parquet.Boolean:
		return v.Boolean()
	case parquet.Int32:
		return int64(v.Int32())
	case parquet.Int64:
		return v.Int64()
	case parquet.Float:
		return float64(v.Float())
	case parquet.Double:
		return v.Double()
	}
	return pqString(v)
}

// pqTime converts a timestamp column's value: TIMESTAMP and DATE logical types,
// INT96, integers as Unix seconds or milliseconds, or strings.
func pqTime(v parquet.Value, l *pqLeaf) (time.Time, error) {
	if lt := l.typ.LogicalType(); lt != nil {
		switch t := lt.Value.(type) {
		case *format.TimestampType:
			unit := time.Millisecond
			if t.Unit.Value != nil {
				unit = t.Unit.Value.Duration()
			}
			n := v.Int64()
			if unit == time.Nanosecond {
				return time.Unix(0, n).UTC(), nil
			}
			per := int64(time.Second / unit)
			return time.Unix(n/per, (n%per)*int64(unit)).UTC(), nil
		case *format.DateType:
			return time.Unix(int64(v.Int32())*86400, 0).UTC(), nil
		}
	}
	switch v.Kind() {
	case parquet.Int96:
		x := v.Int96() // nanoseconds of the day in the low 64 bits, Julian day in the high 32
		nanos := int64(uint64(x[1])<<32 | uint64(x[0]))
		return time.Unix((int64(x[2])-2440588)*86400, nanos).UTC(), nil
	case parquet.Int32:
		return unixTime(float64(v.Int32())), nil
	case parquet.Int64:
		return unixTime(float64(v.Int64())), nil
	case parquet.Float, parquet.Double:
		f := v.Double()
		if v.Kind() == parquet.Float {
			f = float64(v.Float())
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return time.Time{}, errors.New("not a finite number")
		}
		return unixTime(f), nil
	}
	return parseTime(pqString(v))
}

// pqElements appends the values of the elements of a row's top-level list.
func pqElements(vals []parquet.Value, l *pqLeaf, out []parquet.Value) []parquet.Value {
	for _, v := range vals {
		if len(l.repDefs) == 0 || v.DefinitionLevel() < l.repDefs[0] || v.RepetitionLevel() > 1 {
			continue
		}
		out = append(out, v)
	}
	return out
}

func pqPresent(v parquet.Value, l *pqLeaf) bool {
	return v.DefinitionLevel() == l.maxDef && !v.IsNull()
}

// openParquet opens a Parquet file after checking its framing: the magic bytes at
// both ends and a footer length that fits in the file, so a corrupt file fails fast
// instead of asking for gigabytes.
func openParquet(r io.ReaderAt, size int64) (*parquet.File, error) {
	var head, tail [8]byte
	if size < 12 {
		return nil, fmt.Errorf("%d bytes is too short for Parquet", size)
	}
	if _, err := r.ReadAt(head[:4], 0); err != nil {
		return nil, err
	}
	if _, err := r.ReadAt(tail[:], size-8); err != nil {
		return nil, err
	}
	if string(head[:4]) != "PAR1" || string(tail[4:]) != "PAR1" {
		return nil, errors.New("missing PAR1 magic bytes")
	}
	if n := int64(binary.LittleEndian.Uint32(tail[:4])); n > size-12 {
		return nil, fmt.Errorf("footer length %d does not fit in %d bytes", n, size)
	}
	return parquet.OpenFile(r, size, parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true), parquet.ReadBufferSize(1<<20))
}

// parquetRecords streams the rows of a Parquet file.
func parquetRecords(ctx context.Context, r io.ReaderAt, size int64, file string, m Mapping) iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		pf, err := openParquet(r, size)
		if err != nil {
			yield(Record{}, fmt.Errorf("%w: %s is not a readable Parquet file: %v", lmsys.ErrInvalidInput, file, err))
			return
		}
		var leaves []pqLeaf
		for _, c := range pf.Root().Columns() {
			walkParquet(c, nil, 0, nil, false, &leaves)
		}
		plan, err := planParquet(leaves, m, file)
		if err != nil {
			yield(Record{}, err)
			return
		}
		rowNum := int64(0)
		rows := make([][]parquet.Value, len(leaves))
		var contents, roles, flags []parquet.Value
		for gi, rg := range pf.RowGroups() {
			chunks := rg.ColumnChunks()
			cursors := make([]*pqCursor, len(leaves))
			for _, l := range plan.leaves {
				cursors[l.index] = newCursor(chunks[l.index])
			}
			closeAll := func() {
				for _, c := range cursors {
					if c != nil {
						c.close()
					}
				}
			}
			n := rg.NumRows()
			for ri := int64(0); ri < n; ri++ {
				rowNum++
				if rowNum%1024 == 0 && ctx.Err() != nil {
					closeAll()
					yield(Record{}, ctx.Err())
					return
				}
				for _, l := range plan.leaves {
					vals, err := cursors[l.index].next()
					if err != nil {
						closeAll()
						yield(Record{}, fmt.Errorf("%w: %s row group %d column %s: %v", lmsys.ErrInvalidInput, file, gi, l.name, err))
						return
					}
					rows[l.index] = vals
				}
				pos := Position{file, rowNum}
				rec, rerr := plan.record(rows, pos, &contents, &roles, &flags)
				if !yield(rec, rerr) {
					closeAll()
					return
				}
			}
			closeAll()
		}
	}
}

func (p *pqPlan) record(rows [][]parquet.Value, pos Position, contents, roles, flags *[]parquet.Value) (Record, error) {
	rec := Record{Pos: pos}
	str := func(l *pqLeaf) string {
		if l == nil {
			return ""
		}
		if v, ok := pqScalar(rows[l.index], l); ok {
			return pqString(v)
		}
		return ""
	}
	rec.ID, rec.Model, rec.Language, rec.Dataset = str(p.id), str(p.model), str(p.lang), str(p.ds)
	for _, l := range p.extras {
		if v, ok := pqScalar(rows[l.index], l); ok {
			if rec.Metadata == nil {
				rec.Metadata = map[string]any{}
			}
			rec.Metadata[l.name] = pqAny(v)
		}
	}
	if p.ts != nil {
		if v, ok := pqScalar(rows[p.ts.index], p.ts); ok {
			t, err := pqTime(v, p.ts)
			if err != nil {
				return Record{}, rowErr(pos, ReasonBadTimestamp, err)
			}
			rec.Timestamp = &t
		}
	}
	if p.text != nil {
		if v, ok := pqScalar(rows[p.text.index], p.text); ok {
			if k := v.Kind(); k != parquet.ByteArray && k != parquet.FixedLenByteArray {
				return Record{}, rowErr(pos, ReasonNotString, fmt.Errorf("column %s is %s", p.text.name, k))
			}
			rec.Text = string(v.ByteArray())
		}
		return rec, nil
	}
	*contents = pqElements(rows[p.content.index], p.content, (*contents)[:0])
	*roles = pqElements(rows[p.role.index], p.role, (*roles)[:0])
	if len(*contents) != len(*roles) {
		return Record{}, rowErr(pos, ReasonMalformed, fmt.Errorf("%d contents but %d roles", len(*contents), len(*roles)))
	}
	first, users := -1, 0
	for i, r := range *roles {
		if pqPresent(r, p.role) && isUserRole(string(r.ByteArray())) {
			users++
			if first < 0 {
				first = i
			}
		}
	}
	if first < 0 {
		return Record{}, rowErr(pos, ReasonNoUserTurn, nil)
	}
	if c := (*contents)[first]; pqPresent(c, p.content) {
		rec.Text = pqString(c)
	}
	msgs := make([]lmsys.Message, len(*roles))
	for i, r := range *roles {
		var role, content string
		if pqPresent(r, p.role) {
			role = string(r.ByteArray())
		}
		if c := (*contents)[i]; pqPresent(c, p.content) {
			content = pqString(c)
		}
		msgs[i] = lmsys.Message{Role: normalRole(role), Content: content}
	}
	rec.Conversation, rec.ConversationCut = capConversation(msgs)
	if rec.Metadata == nil {
		rec.Metadata = map[string]any{}
	}
	if _, ok := rec.Metadata["turn"]; !ok {
		rec.Metadata["turn"] = int64(users)
	}
	if p.modFlagged != nil {
		*flags = pqElements(rows[p.modFlagged.index], p.modFlagged, (*flags)[:0])
		if first < len(*flags) {
			f := (*flags)[first]
			rec.Metadata["moderation_flagged"] = pqPresent(f, p.modFlagged) && f.Boolean()
		}
	}
	var cats []string
	for _, l := range p.modCats {
		*flags = pqElements(rows[l.index], l, (*flags)[:0])
		if first < len(*flags) && pqPresent((*flags)[first], l) && (*flags)[first].Kind() == parquet.Boolean && (*flags)[first].Boolean() {
			cats = append(cats, l.logical[2])
		}
	}
	if p.modKey != nil {
		keys, vals := rows[p.modKey.index], rows[p.modVal.index]
		elem := -1
		for i := 0; i < len(keys) && i < len(vals); i++ {
			k, v := keys[i], vals[i]
			if k.RepetitionLevel() <= 1 && k.DefinitionLevel() >= p.modKey.repDefs[0] {
				elem++
			}
			if elem != first || k.DefinitionLevel() < p.modKey.repDefs[1] || !pqPresent(v, p.modVal) {
				continue
			}
			if v.Kind() == parquet.Boolean && v.Boolean() {
				cats = append(cats, pqString(k))
			}
		}
	}
	if len(cats) > 0 {
		sort.Strings(cats)
		rec.Metadata["moderation_categories"] = cats
	}
	return rec, nil
}
