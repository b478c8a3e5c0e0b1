package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lmsys-go/lmsys"
	sqlite3 "github.com/mattn/go-sqlite3"
	"gorm.io/gorm"
)

// insertChunk is the number of rows per multi-row INSERT statement (9 columns each, far
// below SQLite's and PostgreSQL's parameter limits).
const insertChunk = 500

// EnsureDataset returns the dataset named d.Name, creating it when missing.
func (d *DB) EnsureDataset(ctx context.Context, ds lmsys.Dataset) (lmsys.Dataset, error) {
	if strings.TrimSpace(ds.Name) == "" {
		return ds, fmt.Errorf("%w: dataset name is empty", lmsys.ErrInvalidInput)
	}
	var out lmsys.Dataset
	err := d.inTx(ctx, func(tx *gorm.DB) error {
		if err := tx.Exec(`INSERT INTO datasets (name, source, description, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (name) DO NOTHING`,
			ds.Name, ds.Source, ds.Description, time.Now().UTC()).Error; err != nil {
			return err
		}
		return tx.Raw(`SELECT id, name, COALESCE(source, '') AS source, COALESCE(description, '') AS description, created_at FROM datasets WHERE name = ?`, ds.Name).
			Row().Scan(&out.ID, &out.Name, &out.Source, &out.Description, &out.CreatedAt)
	})
	if err != nil {
		return out, fmt.Errorf("store: ensure dataset %q: %w", ds.Name, err)
	}
	return out, nil
}

// Datasets lists the datasets with their query counts.
func (d *DB) Datasets(ctx context.Context) ([]lmsys.Dataset, error) {
	var out []lmsys.Dataset
	rows, err := d.db.WithContext(ctx).Raw(`SELECT id, name, COALESCE(source, ''), COALESCE(description, ''), created_at FROM datasets ORDER BY id`).Rows()
	if err != nil {
		return nil, fmt.Errorf("store: list datasets: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var ds lmsys.Dataset
		if err := rows.Scan(&ds.ID, &ds.Name, &ds.Source, &ds.Description, &ds.CreatedAt); err != nil {
			return nil, err
		}
		out = append(out, ds)
	}
	return out, rows.Err()
}

// cleanText makes text storable everywhere: valid UTF-8, no NUL bytes (PostgreSQL
// rejects both).
func cleanText(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "")
	}
	return s
}

// insertIgnoring returns the prefix and suffix of a bulk INSERT into target ("table
// (columns)") that skips the rows whose key (the columns of a unique index) exists.
// PostgreSQL gets ON CONFLICT (key) DO NOTHING. SQLite gets INSERT OR IGNORE, the
// same for these tables, whose only other unique key is a generated id: under ON
// CONFLICT … DO NOTHING a NOT NULL constraint could still abort a multi-row
// statement halfway, so SQLite first copied every page each statement touched into
// a statement journal, 5% of a bulk load's time.
func (d *DB) insertIgnoring(target, key string) (prefix, suffix string) {
	if d.postgres {
		return "INSERT INTO " + target, "ON CONFLICT (" + key + ") DO NOTHING"
	}
	return "INSERT OR IGNORE INTO " + target, ""
}

// bulkShape describes one chunk of a bulk statement: its row count and the columns
// whose value is the same in every row (shared, bound once) or NULL in every row
// (written as a literal). Bit c of a mask stands for column c.
type bulkShape struct {
	rows           int
	shared, nulled uint32
}

// maxBulkCols bounds the columns of a bulk statement (the shape masks' width).
const maxBulkCols = 32

// fold finds the chunk's shared and NULL columns and rewrites buf in place to the
// parameters shape's statement takes: the first row's values without its NULLs, then
// the remaining rows' own values. The driver binds every parameter with a call into
// SQLite of its own, so a load whose rows share their dataset, creation time and empty
// timestamp binds four parameters fewer per row.
func fold(buf []any, cols int) (bulkShape, []any) {
	rows := len(buf) / cols
	sh := bulkShape{rows: rows}
	if rows < 2 || cols > maxBulkCols {
		return sh, buf
	}
	for c := 0; c < cols; c++ {
		v := buf[c]
		same := true
		for r := 1; r < rows && same; r++ {
			same = sameArg(buf[r*cols+c], v)
		}
		switch {
		case !same:
		case v == nil:
			sh.nulled |= 1 << c
		default:
			sh.shared |= 1 << c
		}
	}
	if sh.shared|sh.nulled == 0 {
		return sh, buf
	}
	// Values only ever move towards the front, so one forward pass compacts in place.
	k := 0
	for r := 0; r < rows; r++ {
		skip := sh.nulled
		if r > 0 {
			skip |= sh.shared
		}
		for c := 0; c < cols; c++ {
			if skip&(1<<c) == 0 {
				buf[k] = buf[r*cols+c]
				k++
			}
		}
	}
	clear(buf[k:])
	return sh, buf[:k]
}

// sameArg reports whether a and b are the same statement argument. Only plain
// comparable values count; anything else (byte slices, say) never matches.
func sameArg(a, b any) bool {
	switch x := a.(type) {
	case nil, string, int64, int, float64, bool:
		return a == b // never panics: a's dynamic type is comparable
	case time.Time:
		y, ok := b.(time.Time)
		return ok && x.Equal(y) && x.Location() == y.Location()
	}
	return false
}

// values returns the VALUES list for shape over cols columns, its parameters in
// fold's order. A shared column's value is bound once, with the first row, and the
// other rows name it again: SQLite by name (:cN; naming it by number, ?N, made
// SQLite's parser quadratic in the parameters), PostgreSQL by number ($N). NULL
// columns are written as NULL.
func values(sh bulkShape, cols int, postgres bool) string {
	var b strings.Builder
	var ord [maxBulkCols]int // the shared columns' parameter numbers
	n := 0
	for r := 0; r < sh.rows; r++ {
		if r > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('(')
		for c := 0; c < cols; c++ {
			if c > 0 {
				b.WriteByte(',')
			}
			bit := uint32(1) << c
			switch {
			case sh.nulled&bit != 0:
				b.WriteString("NULL")
			case sh.shared&bit != 0 && r > 0 && postgres:
				b.WriteByte('$')
				b.WriteString(strconv.Itoa(ord[c]))
			case sh.shared&bit != 0 && !postgres:
				b.WriteString(":c")
				b.WriteString(strconv.Itoa(c))
				if r == 0 {
					n++
				}
			default:
				n++
				if sh.shared&bit != 0 {
					ord[c] = n
				}
				if postgres {
					b.WriteByte('$')
					b.WriteString(strconv.Itoa(n))
				} else {
					b.WriteByte('?')
				}
			}
		}
		b.WriteByte(')')
	}
	return b.String()
}

// buildChunk appends the arguments of rows from to to−1 (args) to buf and folds them
// (see fold).
func buildChunk(buf []any, from, to, cols int, args func(i int, dst []any) []any) preparedChunk {
	for i := from; i < to; i++ {
		buf = args(i, buf)
	}
	sh, params := fold(buf, cols)
	return preparedChunk{shape: sh, params: params}
}

// bulkExec runs "prefix VALUES (...),(...) suffix" over rows in chunks of chunk rows,
// inside the caller's transaction, and returns the total rows affected. Each chunk
// binds the values its rows share only once (see fold); statements for full chunks
// are prepared once per shape.
//
// The chunks are built (args, then fold) in a second goroutine while the previous
// chunk executes, so encoding runs beside the database's own work instead of before
// it; args must therefore only read shared state.
func (d *DB) bulkExec(ctx context.Context, tx *gorm.DB, prefix, suffix string, cols, chunk, n int, args func(i int, dst []any) []any) (int64, error) {
	// Three buffers: one executing, one ready, one being filled.
	free := make(chan []any, 3)
	for range 3 {
		free <- make([]any, 0, cols*min(chunk, n))
	}
	ready := make(chan preparedChunk, 1)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		defer close(ready)
		for start := 0; start < n; start += chunk {
			var buf []any
			select {
			case buf = <-free:
			case <-stop:
				return
			}
			select {
			case ready <- buildChunk(buf[:0], start, min(start+chunk, n), cols, args):
			case <-stop:
				return
			}
		}
	}()
	ex := d.newChunkExec(tx, prefix, suffix, cols, chunk)
	defer ex.close()
	var total int64
	for c := range ready {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		k, err := ex.exec(ctx, c)
		if err != nil {
			return total, err
		}
		total += k
		clear(c.params) // drop references to the rows' strings before the buffer waits for reuse
		free <- c.params[:0]
	}
	return total, nil
}

// chunkExec runs the chunks of one bulk statement inside a transaction, with a
// prepared statement per shape of full chunk.
type chunkExec struct {
	pool           gorm.ConnPool
	postgres       bool
	prefix, suffix string
	cols, chunk    int
	prepared       map[bulkShape]*sql.Stmt
	lookup         *sql.Stmt // chunkIDs' check, once prepared
	counts         *sql.Stmt // execLast's counts, once prepared
	buf            []any     // arguments of the chunk being built, for callers that build them here
}

func (d *DB) newChunkExec(tx *gorm.DB, prefix, suffix string, cols, chunk int) *chunkExec {
	return &chunkExec{pool: tx.Statement.ConnPool, postgres: d.postgres, prefix: prefix, suffix: suffix, cols: cols, chunk: chunk,
		prepared: map[bulkShape]*sql.Stmt{}}
}

func (e *chunkExec) close() {
	for _, st := range e.prepared {
		st.Close()
	}
	for _, st := range []*sql.Stmt{e.lookup, e.counts} {
		if st != nil {
			st.Close()
		}
	}
}

// statement returns the prepared statement of c's shape, preparing it for a full
// chunk; for a last, short chunk, or a load whose rows keep changing shape (eight
// shapes prepared), it returns nil and the SQL to run once.
func (e *chunkExec) statement(ctx context.Context, c preparedChunk) (*sql.Stmt, string, error) {
	if st := e.prepared[c.shape]; st != nil {
		return st, "", nil
	}
	stmt := e.prefix + " VALUES " + values(c.shape, e.cols, e.postgres) + " " + e.suffix
	if c.shape.rows != e.chunk || len(e.prepared) >= 8 {
		return nil, stmt, nil
	}
	st, err := e.pool.PrepareContext(ctx, stmt)
	if err != nil {
		return nil, "", err
	}
	e.prepared[c.shape] = st
	return st, "", nil
}

// exec runs one chunk and returns the rows it affected.
func (e *chunkExec) exec(ctx context.Context, c preparedChunk) (int64, error) {
	if !e.postgres {
		k, _, err := e.execLast(ctx, c)
		return k, err
	}
	// The statements run with a context that cannot be cancelled: given a cancellable
	// one, the driver runs each statement on a goroutine of its own and waits for it,
	// a hand-over per chunk that cost a bulk load a fifth of its time while parsing
	// kept both cores busy. Callers check cancellation between chunks instead (a
	// chunk takes a few milliseconds).
	ectx := context.WithoutCancel(ctx)
	st, once, err := e.statement(ectx, c)
	if err != nil {
		return 0, err
	}
	if st == nil {
		return rowsAffected(e.pool.ExecContext(ectx, once, c.params...))
	}
	return rowsAffected(st.ExecContext(ectx, c.params...))
}

// execLast runs one chunk on SQLite and returns the rows it inserted (changed) and
// the last rowid it inserted (last_insert_rowid).
//
// The chunk runs as a query, which SQLite's driver binds in one call into C, the
// arguments copied there first, where an exec binds each argument with a call of
// its own: 4,500 calls for a chunk of queries, a quarter of the writer's time in a
// chat load. A query's first step runs the whole INSERT; the counts come from a
// second, small query.
func (e *chunkExec) execLast(ctx context.Context, c preparedChunk) (affected, last int64, err error) {
	ectx := context.WithoutCancel(ctx) // see exec
	st, once, err := e.statement(ectx, c)
	if err != nil {
		return 0, 0, err
	}
	var rows *sql.Rows
	if st == nil {
		rows, err = e.pool.QueryContext(ectx, once, c.params...)
	} else {
		rows, err = st.QueryContext(ectx, c.params...)
	}
	if err != nil {
		return 0, 0, err
	}
	for rows.Next() {
	}
	err = rows.Err()
	if cerr := rows.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, 0, err
	}
	if e.counts == nil {
		if e.counts, err = e.pool.PrepareContext(ectx, `SELECT changes(), last_insert_rowid()`); err != nil {
			return 0, 0, err
		}
	}
	err = e.counts.QueryRowContext(ectx).Scan(&affected, &last)
	return affected, last, err
}

// chunkIDs sets the ids of the rows of a SQLite chunk of queries that inserted
// affected of them, the last as rowid last: p.ids[from : from+rows]. SQLite gives each
// row it inserts without an id one more than the table's largest (AUTOINCREMENT: than
// the largest it ever held), so a chunk that inserted every one of its rows holds
// consecutive ids ending at last. That is checked at both ends by looking the ids up.
// It reports false, the ids unknown, when the chunk skipped rows or the check fails.
func (e *chunkExec) chunkIDs(ctx context.Context, p *PreparedQueries, from, rows int, affected, last int64) (bool, error) {
	if affected != int64(rows) || last < int64(rows) {
		return false, nil
	}
	first := last - int64(rows) + 1
	if e.lookup == nil {
		st, err := e.pool.PrepareContext(context.WithoutCancel(ctx), `SELECT id, dataset_id, conversation_id FROM queries WHERE id IN (?, ?)`)
		if err != nil {
			return false, fmt.Errorf("look up inserted queries: %w", err)
		}
		e.lookup = st
	}
	rs, err := e.lookup.QueryContext(context.WithoutCancel(ctx), first, last)
	if err != nil {
		return false, fmt.Errorf("look up inserted queries: %w", err)
	}
	defer rs.Close()
	found := 0
	for rs.Next() {
		var id int64
		var k convKey
		if err := rs.Scan(&id, &k.datasetID, &k.name); err != nil {
			return false, fmt.Errorf("look up inserted queries: %w", err)
		}
		if id == first && k == p.keys[from] || id == last && k == p.keys[from+rows-1] {
			found++
		}
	}
	if err := rs.Err(); err != nil {
		return false, fmt.Errorf("look up inserted queries: %w", err)
	}
	if found != min(rows, 2) {
		return false, nil
	}
	for i := range rows {
		p.ids[from+i] = first + int64(i)
	}
	return true, nil
}

// query runs one chunk of a statement with a RETURNING clause of an id, a dataset
// id and a conversation id, calling fn with each returned row, and returns how many
// rows came back.
func (e *chunkExec) query(ctx context.Context, c preparedChunk, fn func(id, dataset int64, name string)) (int64, error) {
	ectx := context.WithoutCancel(ctx) // see exec
	st, once, err := e.statement(ectx, c)
	if err != nil {
		return 0, err
	}
	var rows *sql.Rows
	if st == nil {
		rows, err = e.pool.QueryContext(ectx, once, c.params...)
	} else {
		rows, err = st.QueryContext(ectx, c.params...)
	}
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var n int64
	for rows.Next() {
		var id, dataset int64
		var name string
		if err := rows.Scan(&id, &dataset, &name); err != nil {
			return n, err
		}
		fn(id, dataset, name)
		n++
	}
	return n, rows.Err()
}

// rowsAffected returns the rows a statement affected (both drivers report them).
func rowsAffected(res sql.Result, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	k, _ := res.RowsAffected()
	return k, nil
}

// insertQueriesCols is the number of columns PrepareQueries encodes per query.
const insertQueriesCols = 9

// queryArgs returns the function that appends the statement arguments of qs[i]:
// text cleaned and hashed, metadata encoded, times formatted. The cleaned text goes
// to texts[i] too, and the query's (dataset, cleaned conversation id) to keys[i],
// when they are not nil. It is for one goroutine at a time.
func (d *DB) queryArgs(qs []lmsys.Query, texts []string, keys []convKey) func(i int, dst []any) []any {
	now := time.Now().UTC()
	created, stamp := d.timeArgs(), d.timeArgs()
	return func(i int, dst []any) []any {
		q := &qs[i]
		text := cleanText(q.Text)
		if texts != nil {
			texts[i] = text
		}
		convID := cleanText(q.ConversationID)
		if keys != nil {
			keys[i] = convKey{q.DatasetID, convID}
		}
		var meta any
		if len(q.Metadata) > 0 {
			meta = cleanText(string(marshalMetadata(q.Metadata)))
		}
		var ts any
		if q.Timestamp != nil {
			ts = stamp(q.Timestamp.UTC())
		}
		at := q.CreatedAt
		if at.IsZero() {
			at = now
		}
		return append(dst, q.DatasetID, convID, nullString(cleanText(q.Model)), text,
			nullString(cleanText(q.Language)), meta, created(at), ts, lmsys.TextHash(text))
	}
}

// marshalMetadata returns json.Marshal(m). A map of a few plain values (a chat row's
// turn count, say) is written directly, without the reflection, sorting by
// interface and escaping that cost a chat load a twentieth of its parsing; anything
// else goes to json.Marshal.
func marshalMetadata(m map[string]any) []byte {
	var keysBuf [8]string
	keys, ok := plainMetadataKeys(m, keysBuf[:0])
	if !ok {
		b, _ := json.Marshal(m)
		return b
	}
	slices.Sort(keys)
	b := make([]byte, 0, 16*len(keys)+2)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, k...)
		b = append(b, '"', ':')
		switch x := m[k].(type) {
		case int64:
			b = strconv.AppendInt(b, x, 10)
		case int:
			b = strconv.AppendInt(b, int64(x), 10)
		case bool:
			b = strconv.AppendBool(b, x)
		case nil:
			b = append(b, "null"...)
		case string:
			b = append(b, '"')
			b = append(b, x...)
			b = append(b, '"')
		}
	}
	return append(b, '}')
}

// plainMetadataKeys appends m's keys to keys and reports whether marshalMetadata can
// write m itself: at most eight members, each key and string value plainJSON, each
// value an int, int64, bool, nil or string.
func plainMetadataKeys(m map[string]any, keys []string) ([]string, bool) {
	if len(m) > 8 {
		return nil, false
	}
	for k, v := range m {
		switch x := v.(type) {
		case int64, int, bool, nil:
		case string:
			if !plainJSON(x) {
				return nil, false
			}
		default:
			return nil, false
		}
		if !plainJSON(k) {
			return nil, false
		}
		keys = append(keys, k)
	}
	return keys, true
}

// plainJSON reports whether s is written as is inside a JSON string by
// json.Marshal: printable ASCII without quotes, backslashes or the characters it
// escapes for HTML (<, >, &).
func plainJSON(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

// InsertQueries inserts the queries whose (dataset, conversation id) is new, in one
// transaction, and returns how many were inserted. Text is stored whole; invalid UTF-8
// is repaired and NUL bytes are dropped. It is PrepareQueries then InsertPrepared.
func (d *DB) InsertQueries(ctx context.Context, qs []lmsys.Query) (int, error) {
	return d.InsertPrepared(ctx, d.PrepareQueries(qs, nil))
}

// PreparedQueries is a batch of queries made ready for InsertPrepared: cleaned,
// hashed, encoded as statement arguments and folded chunk by chunk. A loader
// prepares the next batch on its own goroutine while the store writes the previous
// one, so the writing goroutine only binds and executes (lmsys.QueryPreparer).
type PreparedQueries struct {
	n        int
	postgres bool // the kind of store that prepared it
	chunks   []preparedChunk
	convs    []preparedConversation
	texts    []string // the queries' cleaned texts, while preparing
	// With conversations: each query's (dataset, conversation id) as stored, and, once
	// InsertPrepared inserted it, its id.
	keys   []convKey
	ids    []int64
	bodies bodyArena
}

type preparedChunk struct {
	shape  bulkShape
	params []any
}

// Len returns the number of queries in the batch.
func (p *PreparedQueries) Len() int { return p.n }

// PrepareQueries prepares qs for InsertPrepared, reusing the memory of reuse when it
// is a *PreparedQueries no longer in use. It only reads the store's settings, so any
// goroutine may call it. The result is a *PreparedQueries.
func (d *DB) PrepareQueries(qs []lmsys.Query, reuse lmsys.PreparedQueries) lmsys.PreparedQueries {
	p, _ := reuse.(*PreparedQueries)
	if p == nil {
		p = &PreparedQueries{}
	}
	old := p.chunks
	p.n, p.postgres, p.chunks = len(qs), d.postgres, p.chunks[:0]
	withConvs := false
	for i := range qs {
		if len(qs[i].Conversation) > 0 {
			withConvs = true
			break
		}
	}
	var texts []string
	clear(p.keys)
	p.keys = p.keys[:0]
	if withConvs {
		texts = slices.Grow(p.texts[:0], len(qs))[:len(qs)]
		p.keys = slices.Grow(p.keys, len(qs))[:len(qs)]
	}
	args := d.queryArgs(qs, texts, p.keys)
	for start, c := 0, 0; start < len(qs); start, c = start+insertChunk, c+1 {
		var buf []any
		if c < len(old) {
			buf = old[c].params[:cap(old[c].params)]
			clear(buf)
		} else {
			buf = make([]any, 0, insertQueriesCols*insertChunk)
		}
		p.chunks = append(p.chunks, buildChunk(buf[:0], start, min(start+insertChunk, len(qs)), insertQueriesCols, args))
	}
	for c := len(p.chunks); c < len(old); c++ {
		clear(old[c].params[:cap(old[c].params)]) // unused chunks keep no strings alive
	}
	clear(p.convs)
	p.convs = p.convs[:0]
	if withConvs {
		p.bodies.slabSize = 1 << 20
		p.bodies.reset()
		p.convs = prepareConversations(qs, texts, p.keys, &p.bodies, p.convs)
		clear(texts)
		p.texts = texts[:0]
	}
	return p
}

// InsertPrepared inserts batches prepared by a store.DB of the same kind (SQLite or
// PostgreSQL) as InsertQueries inserts queries: the new (dataset, conversation id)
// pairs, all batches in one transaction. It returns how many were inserted. Batches
// written are emptied (Len 0), so they keep no texts alive while they wait to be
// reused.
func (d *DB) InsertPrepared(ctx context.Context, batches ...lmsys.PreparedQueries) (int, error) {
	ps := make([]*PreparedQueries, 0, len(batches))
	n := 0
	for _, b := range batches {
		p, ok := b.(*PreparedQueries)
		switch {
		case b == nil || ok && (p == nil || p.n == 0):
			continue
		case !ok:
			return 0, fmt.Errorf("%w: queries prepared by %T, not by a store.DB", lmsys.ErrInvalidInput, b)
		case p.postgres != d.postgres:
			return 0, fmt.Errorf("%w: queries prepared for another kind of store", lmsys.ErrInvalidInput)
		}
		ps = append(ps, p)
		n += p.n
	}
	if n == 0 {
		return 0, nil
	}
	var inserted int64
	err := d.inTx(ctx, func(tx *gorm.DB) error {
		prefix, suffix := d.insertIgnoring(`queries (dataset_id, conversation_id, model, query_text, language, extra_metadata, created_at, timestamp, text_hash)`,
			`dataset_id, conversation_id`)
		// The conversations need the new queries' ids: looking them up afterwards cost
		// as much as inserting. PostgreSQL's inserts return them (RETURNING); SQLite's
		// are read off each chunk's last rowid (see chunkIDs), which spares the writer
		// the returned rows, a fifth of its time in a chat load.
		withConvs := false
		for _, p := range ps {
			withConvs = withConvs || len(p.convs) > 0
		}
		var byKey map[convKey]int64
		if withConvs && d.postgres {
			byKey = make(map[convKey]int64, n)
			suffix += " RETURNING id, dataset_id, conversation_id"
		}
		ex := d.newChunkExec(tx, prefix, suffix, insertQueriesCols, insertChunk)
		defer ex.close()
		ids := withConvs // every batch's ids are known so far
		for _, p := range ps {
			if withConvs {
				p.ids = slices.Grow(p.ids[:0], p.n)[:p.n]
			}
			row := 0
			for _, c := range p.chunks {
				if err := ctx.Err(); err != nil {
					return err
				}
				var k int64
				var err error
				switch {
				case byKey != nil:
					k, err = ex.query(ctx, c, func(id, dataset int64, name string) { byKey[convKey{dataset, name}] = id })
				case withConvs:
					var last int64
					if k, last, err = ex.execLast(ctx, c); err == nil && ids {
						ids, err = ex.chunkIDs(ctx, p, row, c.shape.rows, k, last)
					}
				default:
					k, err = ex.exec(ctx, c)
				}
				if err != nil {
					return err
				}
				inserted += k
				row += c.shape.rows
			}
		}
		if inserted != int64(n) {
			ids = false // some queries were there already: look the ids up (insertConversations)
		}
		cex := d.newConversationExec(tx)
		defer cex.close()
		for _, p := range ps {
			newIDs := p.ids
			switch {
			case !ids:
				newIDs = nil
			case byKey != nil:
				for i, key := range p.keys {
					newIDs[i] = byKey[key]
				}
			}
			if err := d.insertConversations(ctx, tx, cex, p.convs, newIDs); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: insert %d queries: %w", n, err)
	}
	for _, p := range ps {
		p.spend()
	}
	return int(inserted), nil
}

// spend empties a batch once it is written: it holds no strings of its queries any
// more while it waits for PrepareQueries to reuse its memory.
func (p *PreparedQueries) spend() {
	for i := range p.chunks {
		clear(p.chunks[i].params)
		p.chunks[i].params = p.chunks[i].params[:0] // for PrepareQueries to reuse
	}
	clear(p.convs)
	p.convs = p.convs[:0]
	clear(p.keys)
	p.keys = p.keys[:0]
	p.n = 0
}

// timeArgs returns a function turning times into statement arguments. For SQLite it
// formats them as the driver would (sqlite3.SQLiteTimestampFormats[0]), remembering
// the last one: the driver formats each time.Time on the writer's thread, while this
// runs where PrepareQueries builds rows, and a batch's rows mostly share one creation time.
// Each call returns a function with its own memory, for one goroutine.
func (d *DB) timeArgs() func(time.Time) any {
	if d.postgres {
		return func(t time.Time) any { return t }
	}
	var last time.Time
	var lastS string
	return func(t time.Time) any {
		if lastS == "" || !t.Equal(last) || t.Location() != last.Location() {
			last, lastS = t, t.Format(sqlite3.SQLiteTimestampFormats[0])
		}
		return lastS
	}
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

const queryColumns = `q.id, q.dataset_id, q.conversation_id, COALESCE(q.model, ''), q.query_text, COALESCE(q.language, ''), q.extra_metadata, q.created_at, q.timestamp`

// columnsOf returns queryColumns for f: with QueryFilter.On the text is the label
// standing for the query.
func columnsOf(f lmsys.QueryFilter) string {
	if f.On == "" {
		return queryColumns
	}
	return strings.Replace(queryColumns, "q.query_text", "lo.label", 1)
}

// scanQuery reads one row of queryColumns.
func scanQuery(rows interface{ Scan(...any) error }, q *lmsys.Query) error {
	var meta sql.NullString
	var created, ts sql.NullTime
	if err := rows.Scan(&q.ID, &q.DatasetID, &q.ConversationID, &q.Model, &q.Text, &q.Language, &meta, &created, &ts); err != nil {
		return err
	}
	q.Metadata = nil
	if meta.Valid && meta.String != "" && meta.String != "null" {
		if err := json.Unmarshal([]byte(meta.String), &q.Metadata); err != nil {
			return fmt.Errorf("query %d: extra_metadata is not JSON: %w", q.ID, err)
		}
	}
	q.CreatedAt = created.Time
	q.Timestamp = nil
	if ts.Valid {
		t := ts.Time
		q.Timestamp = &t
	}
	return nil
}

// orderKey is the column to page f's rows by in id order: the run's query_id when
// f joins a run, else the queries' id. They are equal row by row, but only ordering by
// the column of the index the plan walks (ux_query_clusters_run_query or the queries'
// rowid) lets SQLite stop at LIMIT instead of sorting every remaining row of each page,
// which made a keyset scan of a run O(n²).
func orderKey(f lmsys.QueryFilter) string {
	if f.RunID != "" {
		return "qc.query_id"
	}
	return "q.id"
}

// filterSQL returns the FROM … WHERE … clause (with the alias q for queries) and its
// arguments for f.
func (d *DB) filterSQL(ctx context.Context, f lmsys.QueryFilter) (string, []any, error) {
	return d.filterSQLJoin(ctx, f, "")
}

// filterSQLJoin is filterSQL with an extra JOIN clause (and its arguments, which come
// before the filter's) added after the cluster join.
func (d *DB) filterSQLJoin(ctx context.Context, f lmsys.QueryFilter, join string, joinArgs ...any) (string, []any, error) {
	return d.filterSQLFrom(ctx, f, false, join, joinArgs...)
}

// filterSQLFrom is filterSQLJoin; runScan, for a statement that walks a whole run in
// query id order (keyset pages ordered by orderKey), makes the run's (run, query)
// index drive it: the unary plus keeps SQLite from looking the run's rows up query by
// query, and the keyset bound is on the run's rows. Otherwise stale statistics (a
// store analysed at 170,000 queries and grown to a million) let it walk the queries
// and sort the rest of the run for every page: a million queries took 13 minutes
// to read instead of seconds.
func (d *DB) filterSQLFrom(ctx context.Context, f lmsys.QueryFilter, runScan bool, join string, joinArgs ...any) (string, []any, error) {
	runScan = runScan && f.RunID != "" && len(f.IDs) == 0
	var b strings.Builder
	var args []any
	b.WriteString(" FROM queries q")
	if runScan {
		b.WriteString(" JOIN query_clusters qc ON +qc.query_id = q.id AND qc.run_id = ?")
		args = append(args, f.RunID)
		if f.ClusterID != nil {
			b.WriteString(" AND qc.cluster_id = ?")
			args = append(args, *f.ClusterID)
		}
	} else if f.RunID != "" {
		b.WriteString(" JOIN query_clusters qc ON qc.query_id = q.id AND qc.run_id = ?")
		args = append(args, f.RunID)
		if f.ClusterID != nil {
			b.WriteString(" AND qc.cluster_id = ?")
			args = append(args, *f.ClusterID)
		}
	}
	if f.On != "" {
		// The label text standing for each query (QueryFilter.On) is lo.label, its hash lo.text_hash.
		b.WriteString(" JOIN query_classifications lo ON lo.query_id = q.id AND lo.facet = ? AND lo.label <> ? AND lo.result_key = " + latestKeySQL)
		args = append(args, f.On, lmsys.ErrorLabel, facetLike(f.On))
	}
	if join != "" {
		b.WriteString(" " + join)
		args = append(args, joinArgs...)
	}
	b.WriteString(" WHERE 1=1")
	if f.Label != "" {
		// A malformed spec, or a facet nothing labelled, matches nothing here; callers
		// that take it from users check it first with lmsys.ParseLabel.
		facet, value, err := lmsys.ParseLabel(f.Label)
		cond, cargs := LabelCondition(facet, value)
		if err == nil {
			lcond, largs, err := d.LabelMatch(ctx, facet, value)
			if err != nil && !errors.Is(err, lmsys.ErrNotFound) {
				return "", nil, err
			}
			if err == nil {
				cond, cargs = lcond, largs
			}
		}
		b.WriteString(cond)
		args = append(args, cargs...)
	}
	if f.Dataset != "" {
		b.WriteString(" AND q.dataset_id = (SELECT id FROM datasets WHERE name = ?)")
		args = append(args, f.Dataset)
	}
	if f.Model != "" {
		b.WriteString(" AND q.model = ?")
		args = append(args, f.Model)
	}
	if f.Language != "" {
		b.WriteString(" AND q.language = ?")
		args = append(args, f.Language)
	}
	if f.Contains != "" {
		b.WriteString(` AND LOWER(q.query_text) LIKE ? ESCAPE '\'`)
		esc := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(strings.ToLower(f.Contains))
		args = append(args, "%"+esc+"%")
	}
	if len(f.IDs) > 0 {
		b.WriteString(" AND q.id IN (")
		for i, id := range f.IDs {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('?')
			args = append(args, id)
		}
		b.WriteByte(')')
	}
	if f.AfterID > 0 {
		if runScan {
			b.WriteString(" AND qc.query_id > ?")
		} else {
			b.WriteString(" AND q.id > ?")
		}
		args = append(args, f.AfterID)
	}
	return b.String(), args, nil
}

// GetQuery returns one query by id.
func (d *DB) GetQuery(ctx context.Context, id int64) (lmsys.Query, error) {
	var q lmsys.Query
	row := d.db.WithContext(ctx).Raw(`SELECT `+queryColumns+` FROM queries q WHERE q.id = ?`, id).Row()
	if err := scanQuery(row, &q); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return q, fmt.Errorf("query %d: %w", id, lmsys.ErrNotFound)
		}
		return q, fmt.Errorf("store: get query %d: %w", id, err)
	}
	return q, nil
}

// ListQueries returns the queries f selects, in id order.
func (d *DB) ListQueries(ctx context.Context, f lmsys.QueryFilter) ([]lmsys.Query, error) {
	if membersOnly(f) {
		from, args := d.memberPage(f)
		return d.listQueries(ctx, `SELECT `+queryColumns+from, args, nil)
	}
	from, args, err := d.filterSQL(ctx, f)
	if err != nil {
		return nil, err
	}
	return d.listQueries(ctx, `SELECT `+queryColumns+from+` ORDER BY `+orderKey(f)+d.limitOffset(f), args, nil)
}

// listQueries runs stmt, which selects queryColumns and, when extra is not nil, one
// more column scanned into extra.
func (d *DB) listQueries(ctx context.Context, stmt string, args []any, extra any) ([]lmsys.Query, error) {
	rows, err := d.db.WithContext(ctx).Raw(stmt, args...).Rows()
	if err != nil {
		return nil, fmt.Errorf("store: list queries: %w", err)
	}
	defer rows.Close()
	var sc interface{ Scan(...any) error } = rows
	if extra != nil {
		sc = withExtra{rows, extra}
	}
	out := []lmsys.Query{}
	for rows.Next() {
		var q lmsys.Query
		if err := scanQuery(sc, &q); err != nil {
			return nil, fmt.Errorf("store: list queries: %w", err)
		}
		out = append(out, q)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list queries: %w", err)
	}
	return out, nil
}

// ListQueriesPage returns the page of queries f selects (its Limit, Offset and
// AfterID) and the number of queries f selects without them, in one statement when f
// selects a run's or a cluster's members (a cluster page), else in two.
func (d *DB) ListQueriesPage(ctx context.Context, f lmsys.QueryFilter) ([]lmsys.Query, int64, error) {
	all := f
	all.Limit, all.Offset, all.AfterID = 0, 0, 0
	if !membersOnly(f) {
		total, err := d.CountQueries(ctx, all)
		if err != nil {
			return nil, 0, err
		}
		qs, err := d.ListQueries(ctx, f)
		return qs, total, err
	}
	where, args := memberWhere(all)
	from, pageArgs := d.memberPage(f)
	var total int64
	out, err := d.listQueries(ctx, `SELECT `+queryColumns+`, (SELECT COUNT(*) FROM query_clusters`+where+`)`+from,
		append(args, pageArgs...), &total)
	if err != nil {
		return nil, 0, err
	}
	if len(out) == 0 { // an empty page says nothing about the count
		if total, err = d.CountQueries(ctx, all); err != nil {
			return nil, 0, err
		}
	}
	return out, total, nil
}

// withExtra scans one more column after the ones its caller asks for.
type withExtra struct {
	rows  *sql.Rows
	extra any
}

// Scan implements the scanner scanQuery reads from.
func (w withExtra) Scan(dst ...any) error { return w.rows.Scan(append(dst, w.extra)...) }

// limitOffset returns the LIMIT / OFFSET clause of f.
func (d *DB) limitOffset(f lmsys.QueryFilter) string {
	var b strings.Builder
	if f.Limit > 0 {
		fmt.Fprintf(&b, " LIMIT %d", f.Limit)
	}
	if f.Offset > 0 {
		if f.Limit <= 0 {
			if d.postgres {
				b.WriteString(" LIMIT ALL")
			} else {
				b.WriteString(" LIMIT -1")
			}
		}
		fmt.Fprintf(&b, " OFFSET %d", f.Offset)
	}
	return b.String()
}

// membersOnly reports whether f selects a run's (or one cluster's) members with no
// condition on the queries themselves, which the assignments alone can answer:
// every assignment has its query (a foreign key with ON DELETE CASCADE).
func membersOnly(f lmsys.QueryFilter) bool {
	return f.RunID != "" && f.Dataset == "" && f.Model == "" && f.Language == "" && f.Contains == "" && len(f.IDs) == 0 && f.Label == "" && f.On == ""
}

// memberWhere returns the WHERE clause on query_clusters selecting the members f
// (membersOnly) selects, and its arguments.
func memberWhere(f lmsys.QueryFilter) (string, []any) {
	where := ` WHERE run_id = ?`
	args := []any{f.RunID}
	if f.ClusterID != nil {
		where += ` AND cluster_id = ?`
		args = append(args, *f.ClusterID)
	}
	if f.AfterID > 0 {
		where += ` AND query_id > ?`
		args = append(args, f.AfterID)
	}
	return where, args
}

// memberPage returns the FROM clause (with the alias q for queries, ordered by id)
// of the page of members f (membersOnly) selects, and its arguments. It pages
// through the assignments' index first and reads only the page's queries: joining
// first made SQLite read the row of every query an OFFSET skips.
func (d *DB) memberPage(f lmsys.QueryFilter) (string, []any) {
	where, args := memberWhere(f)
	return ` FROM (SELECT query_id FROM query_clusters` + where + ` ORDER BY query_id` + d.limitOffset(f) +
		`) page JOIN queries q ON q.id = page.query_id ORDER BY q.id`, args
}

// CountQueries counts the queries f selects.
func (d *DB) CountQueries(ctx context.Context, f lmsys.QueryFilter) (int64, error) {
	var stmt string
	var args []any
	if membersOnly(f) {
		// Members of a run or cluster: the assignments' index alone, without a lookup
		// of each query's row.
		var where string
		where, args = memberWhere(f)
		stmt = `SELECT COUNT(*) FROM query_clusters` + where
	} else {
		var from string
		var err error
		if from, args, err = d.filterSQL(ctx, f); err != nil {
			return 0, err
		}
		stmt = `SELECT COUNT(*)` + from
	}
	var n int64
	if err := d.db.WithContext(ctx).Raw(stmt, args...).Row().Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count queries: %w", err)
	}
	return n, nil
}

// QueryRange summarises the queries f selects: how many, and their smallest and largest
// id (zero when there are none). Queries are appended and deleted but never changed in
// place, so a selection that gained or lost rows has another range: a pipeline uses it
// to tell whether a finished clustering run still covers its dataset.
func (d *DB) QueryRange(ctx context.Context, f lmsys.QueryFilter) (n, minID, maxID int64, err error) {
	from, args, err := d.filterSQL(ctx, f)
	if err != nil {
		return 0, 0, 0, err
	}
	row := d.db.WithContext(ctx).Raw(`SELECT COUNT(*), COALESCE(MIN(q.id), 0), COALESCE(MAX(q.id), 0)`+from, args...).Row()
	if err := row.Scan(&n, &minID, &maxID); err != nil {
		return 0, 0, 0, fmt.Errorf("store: range of queries: %w", err)
	}
	return n, minID, maxID, nil
}

// ScanQueries streams the queries f selects in id order, batch at a time, with keyset
// pagination (no transaction is held open while fn runs).
func (d *DB) ScanQueries(ctx context.Context, f lmsys.QueryFilter, batch int, fn func([]lmsys.Query) error) error {
	if batch <= 0 {
		batch = 5000
	}
	limit := f.Limit
	seen := 0
	f.Limit, f.Offset = 0, 0
	buf := make([]lmsys.Query, 0, batch)
	for {
		page := batch
		if limit > 0 && limit-seen < page {
			page = limit - seen
		}
		if page <= 0 {
			return nil
		}
		from, args, err := d.filterSQL(ctx, f)
		if err != nil {
			return err
		}
		rows, err := d.db.WithContext(ctx).Raw(`SELECT `+columnsOf(f)+from+fmt.Sprintf(` ORDER BY %s LIMIT %d`, orderKey(f), page), args...).Rows()
		if err != nil {
			return fmt.Errorf("store: scan queries: %w", err)
		}
		buf = buf[:0]
		for rows.Next() {
			var q lmsys.Query
			if err := scanQuery(rows, &q); err != nil {
				rows.Close()
				return fmt.Errorf("store: scan queries: %w", err)
			}
			buf = append(buf, q)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return fmt.Errorf("store: scan queries: %w", err)
		}
		if len(buf) == 0 {
			return nil
		}
		if err := fn(buf); err != nil {
			return err
		}
		seen += len(buf)
		f.AfterID = buf[len(buf)-1].ID
		if len(buf) < page {
			return nil
		}
	}
}

// countBy returns counts grouped by a SQL expression over queries q, largest first.
func (d *DB) countBy(ctx context.Context, expr string) ([]lmsys.Count, error) {
	rows, err := d.db.WithContext(ctx).Raw(`SELECT ` + expr + ` AS k, COUNT(*) AS n FROM queries q GROUP BY k ORDER BY n DESC, k`).Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []lmsys.Count{}
	for rows.Next() {
		var c lmsys.Count
		if err := rows.Scan(&c.Key, &c.Count); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Status summarises what the store holds.
func (d *DB) Status(ctx context.Context) (lmsys.Status, error) {
	var st lmsys.Status
	var err error
	if err = d.db.WithContext(ctx).Raw(`SELECT COUNT(*) FROM queries`).Row().Scan(&st.TotalQueries); err != nil {
		return st, fmt.Errorf("store: status: %w", err)
	}
	if st.Datasets, err = d.countBy(ctx, `COALESCE((SELECT name FROM datasets ds WHERE ds.id = q.dataset_id), '(none)')`); err != nil {
		return st, fmt.Errorf("store: status: %w", err)
	}
	if st.Languages, err = d.countBy(ctx, `COALESCE(q.language, '(unknown)')`); err != nil {
		return st, fmt.Errorf("store: status: %w", err)
	}
	if st.Models, err = d.countBy(ctx, `COALESCE(q.model, '(unknown)')`); err != nil {
		return st, fmt.Errorf("store: status: %w", err)
	}
	if err = d.db.WithContext(ctx).Raw(`SELECT COUNT(*) FROM clustering_runs`).Row().Scan(&st.Runs); err != nil {
		return st, fmt.Errorf("store: status: %w", err)
	}
	rows, err := d.db.WithContext(ctx).Raw(`SELECT space, COUNT(*) FROM embeddings GROUP BY space ORDER BY space`).Rows()
	if err != nil {
		return st, fmt.Errorf("store: status: %w", err)
	}
	defer rows.Close()
	st.Embeddings = []lmsys.Count{}
	for rows.Next() {
		var c lmsys.Count
		if err := rows.Scan(&c.Key, &c.Count); err != nil {
			return st, err
		}
		st.Embeddings = append(st.Embeddings, c)
	}
	return st, rows.Err()
}

// clearOrder lists the tables Clear empties, children before parents.
var clearOrder = []string{"query_classifications", "classification_runs", "classification_templates", "conversations", "query_layouts", "layout_runs", "query_clusters", "cluster_summaries", "summary_runs", "cluster_hierarchies", "hierarchy_runs", "cluster_centroids",
	"cluster_edits", "cluster_metadata", "orphaned_queries", "clustering_runs", "embeddings", "llm_cache", "queries", "datasets"}

// Clear deletes every row of every table in one transaction; the schema stays.
func (d *DB) Clear(ctx context.Context) error {
	d.runTexts.Clear()
	return d.inTx(ctx, func(tx *gorm.DB) error {
		for _, t := range clearOrder {
			if err := tx.Exec(`DELETE FROM ` + t).Error; err != nil {
				return fmt.Errorf("store: clear %s: %w", t, err)
			}
		}
		return d.dropFullText(tx)
	})
}
