package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/lmsys-go/lmsys"
	"gorm.io/gorm"
)

// TextHit is one full-text search result; higher Score is better.
type TextHit struct {
	QueryID int64   `json:"query_id"`
	Score   float64 `json:"score"`
}

// ftsTerms turns free text into a safe FTS5 / tsquery term list: the words of text,
// each quoted, so user input never breaks the query syntax.
func ftsTerms(text string) []string {
	words := strings.FieldsFunc(text, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsNumber(r) && r != '_' })
	out := words[:0]
	for _, w := range words {
		if w != "" {
			out = append(out, w)
		}
	}
	return out
}

// SearchText finds queries holding every word of text, each word as a prefix
// ("alarm" also finds "alarms"), restricted by f, best first: SQLite FTS5 prefix
// queries ranked by BM25, PostgreSQL prefix tsqueries ranked by ts_rank. The
// full-text index is built lazily and kept up to date incrementally, so loading
// stays fast and the first search after a load indexes only the new rows.
func (d *DB) SearchText(ctx context.Context, text string, f lmsys.QueryFilter, limit int) ([]TextHit, error) {
	if limit <= 0 {
		limit = 20
	}
	from, args, err := d.textFrom(ctx, text, f)
	if err != nil {
		return nil, err
	}
	score := `-bm25(queries_fts)`
	if d.postgres {
		score = `ts_rank(to_tsvector('simple', q.query_text), to_tsquery('simple', ?))`
		args = append([]any{prefixTSQuery(ftsTerms(text))}, args...)
	}
	rows, err := d.db.WithContext(ctx).Raw(`SELECT q.id, `+score+` AS score`+from+` ORDER BY score DESC, q.id LIMIT ?`, append(args, limit)...).Rows()
	if err != nil {
		return nil, fmt.Errorf("store: full-text search: %w", err)
	}
	defer rows.Close()
	out := []TextHit{}
	for rows.Next() {
		var h TextHit
		if err := rows.Scan(&h.QueryID, &h.Score); err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// CountText counts the queries SearchText finds for text and f, without a limit.
func (d *DB) CountText(ctx context.Context, text string, f lmsys.QueryFilter) (int64, error) {
	from, args, err := d.textFrom(ctx, text, f)
	if err != nil {
		return 0, err
	}
	var n int64
	if err := d.db.WithContext(ctx).Raw(`SELECT COUNT(*)`+from, args...).Row().Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count full-text matches: %w", err)
	}
	return n, nil
}

// textFrom returns the FROM … WHERE clause selecting the queries holding every word
// of text (as prefixes) and f, and its arguments, after bringing the index up to date.
func (d *DB) textFrom(ctx context.Context, text string, f lmsys.QueryFilter) (string, []any, error) {
	terms := ftsTerms(text)
	if len(terms) == 0 {
		return "", nil, fmt.Errorf("%w: full-text search %q has no words", lmsys.ErrInvalidInput, text)
	}
	if err := d.syncFullText(ctx); err != nil {
		return "", nil, err
	}
	f.Limit, f.Offset = 0, 0
	if d.postgres {
		from, args, err := d.filterSQL(ctx, f)
		if err != nil {
			return "", nil, err
		}
		return from + ` AND to_tsvector('simple', q.query_text) @@ to_tsquery('simple', ?)`, append(args, prefixTSQuery(terms)), nil
	}
	quoted := make([]string, len(terms))
	for i, t := range terms {
		quoted[i] = `"` + strings.ReplaceAll(t, `"`, `""`) + `"*`
	}
	from, args, err := d.filterSQLJoin(ctx, f, "JOIN queries_fts ON queries_fts.rowid = q.id")
	if err != nil {
		return "", nil, err
	}
	return from + ` AND queries_fts MATCH ?`, append(args, strings.Join(quoted, " ")), nil
}

// NeedsSubstring reports whether text holds letters of a script written without
// spaces between words (Han, Hiragana, Katakana, Thai, Lao, Khmer, Myanmar). The
// full-text index keeps a run of such letters as one token, so a word inside the run
// ("爬虫" in "写一个爬虫") is not a prefix of any token: SearchSubstring finds those.
func NeedsSubstring(text string) bool {
	for _, r := range text {
		if unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Thai, unicode.Lao, unicode.Khmer, unicode.Myanmar) {
			return true
		}
	}
	return false
}

// SearchSubstring lists the queries selected by f whose text contains text (any case
// for ASCII letters, as SQL LIKE) and that SearchText does not find: limit of them
// (all when limit ≤ 0) from offset, by ascending id, and how many there are. It scans
// the queries f selects, so callers keep it for texts SearchText cannot serve
// (NeedsSubstring).
func (d *DB) SearchSubstring(ctx context.Context, text string, f lmsys.QueryFilter, limit, offset int) ([]int64, int64, error) {
	if strings.TrimSpace(text) == "" {
		return nil, 0, fmt.Errorf("%w: substring search needs a text", lmsys.ErrInvalidInput)
	}
	f.Limit, f.Offset = 0, 0
	from, args, err := d.filterSQL(ctx, f)
	if err != nil {
		return nil, 0, err
	}
	like := "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(text) + "%"
	op := "LIKE"
	if d.postgres {
		op = "ILIKE"
	}
	from += ` AND q.query_text ` + op + ` ? ESCAPE '\'`
	args = append(args, like)
	if terms := ftsTerms(text); len(terms) > 0 {
		if err := d.syncFullText(ctx); err != nil {
			return nil, 0, err
		}
		if d.postgres {
			from += ` AND NOT (to_tsvector('simple', q.query_text) @@ to_tsquery('simple', ?))`
			args = append(args, prefixTSQuery(terms))
		} else {
			quoted := make([]string, len(terms))
			for i, t := range terms {
				quoted[i] = `"` + strings.ReplaceAll(t, `"`, `""`) + `"*`
			}
			from += ` AND q.id NOT IN (SELECT rowid FROM queries_fts WHERE queries_fts MATCH ?)`
			args = append(args, strings.Join(quoted, " "))
		}
	}
	var total int64
	if err := d.db.WithContext(ctx).Raw(`SELECT COUNT(*)`+from, args...).Row().Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("store: count substring matches: %w", err)
	}
	stmt := `SELECT q.id` + from + ` ORDER BY q.id`
	if limit > 0 {
		stmt += fmt.Sprintf(` LIMIT %d OFFSET %d`, limit, max(offset, 0))
	}
	var ids []int64
	if err := d.db.WithContext(ctx).Raw(stmt, args...).Scan(&ids).Error; err != nil {
		return nil, 0, fmt.Errorf("store: substring search: %w", err)
	}
	return ids, total, nil
}

// prefixTSQuery is a PostgreSQL tsquery matching every term as a prefix. Terms hold
// only letters, digits and underscores (ftsTerms), none of them tsquery syntax.
func prefixTSQuery(terms []string) string {
	parts := make([]string, len(terms))
	for i, t := range terms {
		parts[i] = t + ":*"
	}
	return strings.Join(parts, " & ")
}

// syncFullText creates the full-text index when missing and indexes queries added
// since the last sync.
func (d *DB) syncFullText(ctx context.Context) error {
	if d.postgres {
		err := d.db.WithContext(ctx).Exec(`CREATE INDEX IF NOT EXISTS ix_queries_fulltext ON queries USING GIN (to_tsvector('simple', query_text))`).Error
		if err != nil {
			return fmt.Errorf("store: create full-text index: %w", err)
		}
		return nil
	}
	// The common case, an index already up to date, is answered by two reads without a
	// transaction: SQLite write transactions (BEGIN IMMEDIATE) would serialise every
	// concurrent search.
	if tableExists(d.db, false, "fts_state") {
		var last, maxID int64
		if err := d.db.WithContext(ctx).Raw(`SELECT last_id FROM fts_state WHERE name = 'queries'`).Row().Scan(&last); err == nil {
			if err := d.db.WithContext(ctx).Raw(`SELECT COALESCE(MAX(id), 0) FROM queries`).Row().Scan(&maxID); err == nil && maxID <= last {
				return nil
			}
		}
	}
	return d.inTx(ctx, func(tx *gorm.DB) error {
		stmts := []string{
			`CREATE VIRTUAL TABLE IF NOT EXISTS queries_fts USING fts5(query_text, content='', tokenize='unicode61 remove_diacritics 2')`,
			`CREATE TABLE IF NOT EXISTS fts_state (name VARCHAR PRIMARY KEY, last_id INTEGER NOT NULL)`,
			`INSERT INTO fts_state (name, last_id) VALUES ('queries', 0) ON CONFLICT (name) DO NOTHING`,
		}
		for _, s := range stmts {
			if err := tx.Exec(s).Error; err != nil {
				return fmt.Errorf("store: create full-text index (needs -tags sqlite_fts5): %w", err)
			}
		}
		var last, maxID int64
		if err := tx.Raw(`SELECT last_id FROM fts_state WHERE name = 'queries'`).Row().Scan(&last); err != nil {
			return err
		}
		if err := tx.Raw(`SELECT COALESCE(MAX(id), 0) FROM queries`).Row().Scan(&maxID); err != nil {
			return err
		}
		if maxID <= last {
			return nil
		}
		if err := tx.Exec(`INSERT INTO queries_fts (rowid, query_text) SELECT id, query_text FROM queries WHERE id > ? AND id <= ?`, last, maxID).Error; err != nil {
			return fmt.Errorf("store: update full-text index: %w", err)
		}
		return tx.Exec(`UPDATE fts_state SET last_id = ? WHERE name = 'queries'`, maxID).Error
	})
}

// dropFullText removes the SQLite full-text index (it is rebuilt on the next search).
func (d *DB) dropFullText(tx *gorm.DB) error {
	if d.postgres {
		return nil
	}
	if err := tx.Exec(`DROP TABLE IF EXISTS queries_fts`).Error; err != nil {
		return fmt.Errorf("store: drop full-text index: %w", err)
	}
	return tx.Exec(`DROP TABLE IF EXISTS fts_state`).Error
}

// LastQuery returns the id and text hash of the newest query (0 and "" when there are
// none), which tells a copy of the queries kept elsewhere (an in-memory text index)
// whether it is complete and whether the table was replaced since.
func (d *DB) LastQuery(ctx context.Context) (id int64, textHash string, err error) {
	var h *string
	err = d.db.WithContext(ctx).Raw(`SELECT id, text_hash FROM queries ORDER BY id DESC LIMIT 1`).Row().Scan(&id, &h)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, "", nil
	}
	if err != nil {
		return 0, "", fmt.Errorf("store: newest query: %w", err)
	}
	if h != nil {
		textHash = *h
	}
	return id, textHash, nil
}

// QueryTextHash returns the text hash of query id, or "" when there is no such query.
func (d *DB) QueryTextHash(ctx context.Context, id int64) (string, error) {
	var h *string
	err := d.db.WithContext(ctx).Raw(`SELECT text_hash FROM queries WHERE id = ?`, id).Row().Scan(&h)
	if errors.Is(err, sql.ErrNoRows) || err == nil && h == nil {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("store: query %d: %w", id, err)
	}
	return *h, nil
}

// ScanQueryTexts calls fn with the id, text and text hash of every query whose id is
// greater than afterID, in id order, reading batch rows at a time.
func (d *DB) ScanQueryTexts(ctx context.Context, afterID int64, batch int, fn func(id int64, text, textHash string) error) error {
	if batch <= 0 {
		batch = 5000
	}
	for {
		rows, err := d.db.WithContext(ctx).Raw(`SELECT id, query_text, COALESCE(text_hash, '') FROM queries WHERE id > ? ORDER BY id LIMIT ?`, afterID, batch).Rows()
		if err != nil {
			return fmt.Errorf("store: scan query texts: %w", err)
		}
		n := 0
		for rows.Next() {
			var id int64
			var text, h string
			if err := rows.Scan(&id, &text, &h); err != nil {
				rows.Close()
				return fmt.Errorf("store: scan query texts: %w", err)
			}
			if err := fn(id, text, h); err != nil {
				rows.Close()
				return err
			}
			afterID = id
			n++
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return fmt.Errorf("store: scan query texts: %w", err)
		}
		if n < batch {
			return nil
		}
	}
}
