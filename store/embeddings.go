package store

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/lmsys-go/lmsys"
	"gorm.io/gorm"
)

// EncodeVector returns v as little-endian float32 bytes, the storage format of vectors.
func EncodeVector(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

// DecodeVector decodes little-endian float32 bytes into dst (grown when too short).
func DecodeVector(b []byte, dst []float32) ([]float32, error) {
	if len(b)%4 != 0 {
		return nil, fmt.Errorf("store: vector blob of %d bytes is not float32s", len(b))
	}
	n := len(b) / 4
	if cap(dst) < n {
		dst = make([]float32, n)
	}
	dst = dst[:n]
	for i := range dst {
		dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return dst, nil
}

// lookupChunk bounds the number of hashes per IN (...) lookup.
const lookupChunk = 500

// GetEmbeddings returns the cached vectors of those hashes that exist in space.
func (d *DB) GetEmbeddings(ctx context.Context, space lmsys.Space, hashes []string) (map[string][]float32, error) {
	out := make(map[string][]float32, len(hashes))
	key := space.String()
	for start := 0; start < len(hashes); start += lookupChunk {
		part := hashes[start:min(start+lookupChunk, len(hashes))]
		rows, err := d.db.WithContext(ctx).Raw(`SELECT text_hash, vector FROM embeddings WHERE space = ? AND text_hash IN ?`, key, part).Rows()
		if err != nil {
			return nil, fmt.Errorf("store: get embeddings: %w", err)
		}
		for rows.Next() {
			var h string
			var blob []byte
			if err := rows.Scan(&h, &blob); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: get embeddings: %w", err)
			}
			v, err := DecodeVector(blob, nil)
			if err != nil {
				rows.Close()
				return nil, err
			}
			if len(v) != space.Dims {
				rows.Close()
				return nil, fmt.Errorf("store: embedding %s in %s has %d dims: %w", h, key, len(v), lmsys.ErrSpaceMismatch)
			}
			out[h] = v
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("store: get embeddings: %w", err)
		}
	}
	return out, nil
}

// PutEmbeddings stores vectors by text hash in space, ignoring hashes already stored.
// Every vector must have space.Dims values.
func (d *DB) PutEmbeddings(ctx context.Context, space lmsys.Space, vectors map[string][]float32) error {
	if len(vectors) == 0 {
		return nil
	}
	type item struct {
		h string
		v []byte
	}
	items := make([]item, 0, len(vectors))
	for h, v := range vectors {
		if len(v) != space.Dims {
			return fmt.Errorf("store: vector for %s has %d dims, space %s has %d: %w", h, len(v), space, space.Dims, lmsys.ErrSpaceMismatch)
		}
		items = append(items, item{h, EncodeVector(v)})
	}
	key := space.String()
	now := time.Now().UTC()
	return d.inTx(ctx, func(tx *gorm.DB) error {
		prefix, suffix := d.insertIgnoring(`embeddings (space, text_hash, vector, created_at)`, `space, text_hash`)
		_, err := d.bulkExec(ctx, tx, prefix, suffix, 4, 250, len(items),
			func(i int, dst []any) []any { return append(dst, key, items[i].h, items[i].v, now) })
		if err != nil {
			return fmt.Errorf("store: put %d embeddings: %w", len(items), err)
		}
		return nil
	})
}

// ScanQueryVectors streams (query id, vector) of the queries f selects that have an
// embedding in space, in id order. ids and vecs are reused between calls of fn.
func (d *DB) ScanQueryVectors(ctx context.Context, space lmsys.Space, f lmsys.QueryFilter, batch int, fn func(ids []int64, vecs [][]float32) error) error {
	if batch <= 0 {
		batch = 10000
	}
	f, err := d.runOn(ctx, f)
	if err != nil {
		return err
	}
	limit := f.Limit
	f.Limit, f.Offset = 0, 0
	seen := 0
	ids := make([]int64, 0, batch)
	flat := make([]float32, batch*space.Dims)
	vecs := make([][]float32, 0, batch)
	key := space.String()
	for {
		page := batch
		if limit > 0 && limit-seen < page {
			page = limit - seen
		}
		if page <= 0 {
			return nil
		}
		from, args, err := d.filterSQLFrom(ctx, f, true, "JOIN embeddings e ON e.space = ? AND e.text_hash = "+hashColumn(f), key)
		if err != nil {
			return err
		}
		rows, err := d.db.WithContext(ctx).Raw(`SELECT q.id, e.vector`+from+fmt.Sprintf(` ORDER BY %s LIMIT %d`, orderKey(f), page), args...).Rows()
		if err != nil {
			return fmt.Errorf("store: scan vectors: %w", err)
		}
		ids, vecs = ids[:0], vecs[:0]
		// RawBytes: the driver's copy of the blob is decoded in place, not copied again.
		var blob sql.RawBytes
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id, &blob); err != nil {
				rows.Close()
				return fmt.Errorf("store: scan vectors: %w", err)
			}
			if len(blob) != 4*space.Dims {
				rows.Close()
				return fmt.Errorf("store: query %d vector has %d bytes, space %s wants %d: %w", id, len(blob), key, 4*space.Dims, lmsys.ErrSpaceMismatch)
			}
			i := len(ids)
			v, _ := DecodeVector(blob, flat[i*space.Dims:(i+1)*space.Dims])
			ids = append(ids, id)
			vecs = append(vecs, v)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return fmt.Errorf("store: scan vectors: %w", err)
		}
		if len(ids) == 0 {
			return nil
		}
		if err := fn(ids, vecs); err != nil {
			return err
		}
		seen += len(ids)
		f.AfterID = ids[len(ids)-1]
		if len(ids) < page {
			return nil
		}
	}
}

// CountMissingEmbeddings counts the queries f selects that have no embedding in space.
func (d *DB) CountMissingEmbeddings(ctx context.Context, space lmsys.Space, f lmsys.QueryFilter) (int64, error) {
	f, err := d.runOn(ctx, f)
	if err != nil {
		return 0, err
	}
	from, args, err := d.filterSQL(ctx, f)
	if err != nil {
		return 0, err
	}
	var n int64
	err = d.db.WithContext(ctx).Raw(`SELECT COUNT(*)`+from+` AND NOT EXISTS (SELECT 1 FROM embeddings e WHERE e.space = ? AND e.text_hash = `+hashColumn(f)+`)`,
		append(args, space.String())...).Row().Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: count missing embeddings: %w", err)
	}
	return n, nil
}

// hashColumn is the text hash a query's embedding is looked up by: its own text's,
// or with QueryFilter.On that of the label standing for it.
func hashColumn(f lmsys.QueryFilter) string {
	if f.On != "" {
		return "lo.text_hash"
	}
	return "q.text_hash"
}

// runOn fills f.On from the run f names, when f reads a run's vectors without
// saying which text: a run clustered on a facet's text (its "on" parameter) is
// searched, laid out and curated on the same vectors. Runs never change their
// text, so the answer is cached.
func (d *DB) runOn(ctx context.Context, f lmsys.QueryFilter) (lmsys.QueryFilter, error) {
	if f.On != "" || f.RunID == "" {
		return f, nil
	}
	if on, ok := d.runTexts.Load(f.RunID); ok {
		f.On = on.(string)
		return f, nil
	}
	r, err := d.GetRun(ctx, f.RunID)
	if errors.Is(err, lmsys.ErrNotFound) {
		return f, nil // no members: the scan finds nothing, as before
	}
	if err != nil {
		return f, err
	}
	on, _ := r.Parameters["on"].(string)
	d.runTexts.Store(f.RunID, on)
	f.On = on
	return f, nil
}
