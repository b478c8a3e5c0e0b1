package semantic

import (
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/internal/vec"
)

// items holds one collection's vectors row-major in one slice (row i at
// vecs[i*dims:(i+1)*dims]), beside their ids, metadata and documents. Rows marked
// dead are tombstones (the HNSW graph keeps them until it is rebuilt); the exact
// index never has any.
//
// Once they pass mapMinFloats the vectors live in memory mapped from the OS rather
// than on the Go heap (see mapFloats). That memory is unmapped when vecs moves to a
// larger mapping, and when the items become unreachable; every reader of a row holds
// the items (through its collection, whose lock it holds), so no row outlives them.
type items struct {
	dims  int
	ids   []string
	index map[string]uint32 // live rows only
	vecs  []float32
	meta  []flatMeta
	docs  []string
	dead  []bool
	ndead int
	vmap  *vecMapping // the mapping vecs lives in; nil while vecs is on the heap
}

// mapMinFloats is the vector storage size (1 MB) from which vectors are kept in
// mapped memory instead of the heap: small collections are not worth a system call.
var mapMinFloats = 1 << 18 // a variable so tests can map small collections

// vecMapping owns one mapping; its cleanup (registered with runtime.AddCleanup on
// the items or graph) unmaps it unless it was already released. Growing in place
// (remapSlice) replaces b.
type vecMapping struct {
	b    []byte
	done atomic.Bool
}

func (m *vecMapping) release() {
	if m != nil && m.done.CompareAndSwap(false, true) {
		unmap(m.b)
	}
}

func newItems(dims int) *items {
	return &items{dims: dims, index: map[string]uint32{}}
}

// len returns the number of rows, dead ones included.
func (s *items) len() int { return len(s.ids) }

// live returns the number of live rows.
func (s *items) live() int { return len(s.ids) - s.ndead }

func (s *items) row(i uint32) []float32 {
	d := s.dims
	return s.vecs[int(i)*d : int(i)*d+d : int(i)*d+d]
}

// reserve makes room for n more rows so a batch appends without regrowing. With
// exact set the capacity becomes exactly len+n rows when it must grow (the caller
// knows how many rows are coming); otherwise it at least doubles, so a sequence of
// batches copies each row a bounded number of times.
func (s *items) reserve(n int, exact bool) {
	if n <= 0 {
		return
	}
	rows := len(s.ids) + n
	if rows <= cap(s.ids) && rows*s.dims <= cap(s.vecs) {
		return
	}
	if !exact {
		rows = max(rows, 2*len(s.ids))
	}
	grow := rows - len(s.ids)
	s.ids = slices.Grow(s.ids, grow)
	s.meta = slices.Grow(s.meta, grow)
	s.docs = slices.Grow(s.docs, grow)
	s.dead = slices.Grow(s.dead, grow)
	s.growVecs(rows * s.dims)
}

// growVecs moves the vectors to storage with room for at least c floats (see
// growMapped).
func (s *items) growVecs(c int) {
	var m *vecMapping
	s.vecs, m = growMapped(s.vecs, c, s.vmap)
	if m != s.vmap && m != nil {
		runtime.AddCleanup(s, (*vecMapping).release, m)
	}
	s.vmap = m
}

// growMapped returns v's contents in storage with room for at least c elements,
// and the mapping that storage lives in (nil for the heap): mapped memory from
// mapMinFloats elements on, the heap below it or when mapping fails. A mapping
// grows in place where the OS can (Linux), so a large collection that grows by a
// few rows is not held twice; a mapping v leaves is unmapped at once, as nothing
// else holds rows or links while a collection is written. The caller registers a
// cleanup for a new mapping.
func growMapped[T float32 | uint32](v []T, c int, cur *vecMapping) ([]T, *vecMapping) {
	if c <= cap(v) {
		return v, cur
	}
	if cur != nil {
		if nv, ok := remapSlice(v, cur, c); ok {
			return nv, cur
		}
	}
	if c >= mapMinFloats {
		if nv, m, ok := mapSlice[T](c); ok {
			nv = nv[:len(v)]
			copy(nv, v)
			cur.release()
			return nv, m
		}
	}
	nv := make([]T, len(v), c)
	copy(nv, v)
	cur.release()
	return nv, nil
}

// appendRow adds row r of src (a copy of the same collection being compacted).
func (s *items) appendRow(src *items, r int) {
	n := s.append(src.ids[r], src.row(uint32(r)), nil, src.docs[r])
	s.meta[n] = src.meta[r] // shared: a row's metadata is replaced, never changed in place
}

// append adds a row whose vector is already normalised and returns its number.
func (s *items) append(id string, v []float32, meta map[string]string, doc string) uint32 {
	r := uint32(len(s.ids))
	s.ids = append(s.ids, id)
	if len(s.vecs)+len(v) > cap(s.vecs) {
		s.growVecs(max(len(s.vecs)+len(v), 2*cap(s.vecs)))
	}
	s.vecs = append(s.vecs, v...)
	s.meta = append(s.meta, newFlatMeta(meta))
	s.docs = append(s.docs, doc)
	s.dead = append(s.dead, false)
	s.index[id] = r
	return r
}

// kill marks row r as a tombstone.
func (s *items) kill(r uint32) {
	if s.dead[r] {
		return
	}
	s.dead[r] = true
	s.ndead++
	if cur, ok := s.index[s.ids[r]]; ok && cur == r {
		delete(s.index, s.ids[r])
	}
}

// swapRemove deletes row r by moving the last row into its place (exact index only).
func (s *items) swapRemove(r uint32) {
	last := uint32(len(s.ids) - 1)
	delete(s.index, s.ids[r])
	if r != last {
		s.ids[r] = s.ids[last]
		copy(s.row(r), s.row(last))
		s.meta[r] = s.meta[last]
		s.docs[r] = s.docs[last]
		s.dead[r] = s.dead[last]
		s.index[s.ids[r]] = r
	}
	s.ids = s.ids[:last]
	s.vecs = s.vecs[:int(last)*s.dims]
	s.meta[last] = nil
	s.meta = s.meta[:last]
	s.docs = s.docs[:last]
	s.dead = s.dead[:last]
}

// hits turns ranked rows into Hits with cosine distance 1 − similarity.
func (s *items) hits(rs []scored) []lmsys.Hit {
	out := make([]lmsys.Hit, len(rs))
	for i, r := range rs {
		out[i] = lmsys.Hit{ID: s.ids[r.id], Distance: 1 - r.sim, Metadata: s.meta[r.id].toMap(), Document: s.docs[r.id]}
	}
	return out
}

var heapPool = sync.Pool{New: func() any { return &topK{} }}

// scanOptions tunes brute-force search.
type scanOptions struct {
	workers     int // goroutines for a full scan; 0 means GOMAXPROCS
	parallelMin int // rows below which a scan stays on one goroutine
}

// prepareQuery checks q against the collection and returns it normalised in buf.
func prepareQuery(collection string, dims int, q []float32, k int, buf []float32) ([]float32, error) {
	if k <= 0 {
		return nil, fmt.Errorf("%w: k must be positive, got %d", lmsys.ErrInvalidInput, k)
	}
	if len(q) != dims {
		return nil, fmt.Errorf("%w: collection %q holds %d-dimensional vectors, query has %d", lmsys.ErrSpaceMismatch, collection, dims, len(q))
	}
	buf = append(buf[:0], q...)
	if err := normalizeInto(buf, q, "query"); err != nil {
		return nil, err
	}
	return buf, nil
}

// scan finds the k rows most similar to the normalised q that pass f, best first.
// A small id set is looked up directly instead of scanning every row; a large
// collection is split across workers, each with its own bounded heap.
func (s *items) scan(q []float32, k int, f lmsys.Filter, o scanOptions) []scored {
	h := heapPool.Get().(*topK)
	defer heapPool.Put(h)
	h.reset(k)
	n := s.len()
	if f.IDs != nil {
		if len(f.IDs)*4 <= n {
			s.lookup(q, f, h)
			return append([]scored(nil), h.sorted()...)
		}
		member := make([]bool, n)
		for _, id := range f.IDs {
			if r, ok := s.index[id]; ok {
				member[r] = true
			}
		}
		s.scanRange(q, 0, n, f.Where, member, h)
		return append([]scored(nil), h.sorted()...)
	}
	workers := o.workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	if n < o.parallelMin || workers == 1 {
		s.scanRange(q, 0, n, f.Where, nil, h)
		return append([]scored(nil), h.sorted()...)
	}
	parts := make([]*topK, workers)
	var wg sync.WaitGroup
	chunk := (n + workers - 1) / workers
	chunk = (chunk + 3) &^ 3
	for w := range workers {
		lo, hi := w*chunk, min((w+1)*chunk, n)
		if lo >= hi {
			continue
		}
		p := heapPool.Get().(*topK)
		p.reset(k)
		parts[w] = p
		wg.Go(func() { s.scanRange(q, lo, hi, f.Where, nil, p) })
	}
	wg.Wait()
	for _, p := range parts {
		if p == nil {
			continue
		}
		for _, c := range p.items {
			h.push(c.sim, c.id)
		}
		heapPool.Put(p)
	}
	return append([]scored(nil), h.sorted()...)
}

// lookup scores only the rows named in f.IDs.
func (s *items) lookup(q []float32, f lmsys.Filter, h *topK) {
	var seen map[uint32]struct{}
	if len(f.IDs) > 1 {
		seen = make(map[uint32]struct{}, len(f.IDs))
	}
	for _, id := range f.IDs {
		r, ok := s.index[id]
		if !ok || s.dead[r] {
			continue
		}
		if seen != nil {
			if _, dup := seen[r]; dup {
				continue
			}
			seen[r] = struct{}{}
		}
		if f.Where != nil && !s.meta[r].matches(f.Where) {
			continue
		}
		h.push(vec.Dot(q, s.row(r)), r)
	}
}

// scanRange scores rows lo..hi-1, four at a time. Dead rows, rows outside member
// (when non-nil) and rows failing where are skipped; where is only checked for rows
// good enough to enter the heap. It does not allocate.
func (s *items) scanRange(q []float32, lo, hi int, where map[string]string, member []bool, h *topK) {
	d := s.dims
	var out [4]float32
	consider := func(r int, sim float32) {
		if sim < h.threshold() || s.dead[r] || (member != nil && !member[r]) {
			return
		}
		if where != nil && !s.meta[r].matches(where) {
			return
		}
		h.push(sim, uint32(r))
	}
	r := lo
	for ; r+4 <= hi; r += 4 {
		vec.Dot4(q, s.vecs[r*d:(r+4)*d], d, &out)
		consider(r, out[0])
		consider(r+1, out[1])
		consider(r+2, out[2])
		consider(r+3, out[3])
	}
	for ; r < hi; r++ {
		consider(r, vec.Dot(q, s.row(uint32(r))))
	}
}
