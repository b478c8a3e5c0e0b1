package semantic

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/lmsys-go/lmsys"
)

// Exact is a VectorIndex that compares the query with every stored vector. Vectors
// are normalised on insert and kept contiguously per collection; a search computes
// blocked dot products (four rows per pass over the query) into a bounded heap,
// split across goroutines for large collections. It is exact, so it is the
// reference the HNSW index is measured against, and the right choice below some
// tens of thousands of vectors. It is safe for concurrent use.
type Exact struct {
	// Workers is the number of goroutines one search of a large collection uses
	// (0: GOMAXPROCS).
	Workers int
	// ParallelMin is the collection size from which a search is split across
	// Workers (0: 20,000).
	ParallelMin int

	mu    sync.RWMutex
	colls map[string]*exactColl
}

type exactColl struct {
	mu   sync.RWMutex
	s    *items
	hint int // rows expected by later upserts (see expect)
}

var _ lmsys.VectorIndex = (*Exact)(nil)

// NewExact returns an empty exact index.
func NewExact() *Exact { return &Exact{colls: map[string]*exactColl{}} }

func (e *Exact) coll(name string, create bool) *exactColl {
	e.mu.RLock()
	c := e.colls[name]
	e.mu.RUnlock()
	if c != nil || !create {
		return c
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.colls == nil {
		e.colls = map[string]*exactColl{}
	}
	if c = e.colls[name]; c == nil {
		c = &exactColl{}
		e.colls[name] = c
	}
	return c
}

// expect records that about n rows are coming to the collection in later upserts,
// so its storage grows once to the right size instead of doubling as batches arrive.
func (e *Exact) expect(collection string, n int) {
	c := e.coll(collection, true)
	c.mu.Lock()
	c.hint = n
	c.mu.Unlock()
}

// Upsert adds items to the collection, creating it on first use, and replaces the
// vector, metadata and document of ids already present. All items must have the
// collection's dimension (lmsys.ErrSpaceMismatch otherwise) and finite non-zero
// vectors; a bad item rejects the whole batch and changes nothing.
func (e *Exact) Upsert(ctx context.Context, collection string, its []lmsys.Vector) error {
	if err := checkCollection(collection); err != nil {
		return err
	}
	if len(its) == 0 {
		return nil
	}
	c := e.coll(collection, true)
	c.mu.Lock()
	defer c.mu.Unlock()
	dims := 0
	if c.s != nil {
		dims = c.s.dims
	}
	norm, dims, err := normalizeBatch(collection, its, dims)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if c.s == nil {
		c.s = newItems(dims)
	}
	c.s.reserve(max(len(its), c.hint), c.hint > 0)
	c.hint = max(c.hint-len(its), 0)
	for i, it := range its {
		v := norm[i*dims : (i+1)*dims]
		if r, ok := c.s.index[it.ID]; ok {
			copy(c.s.row(r), v)
			c.s.meta[r] = newFlatMeta(it.Metadata)
			c.s.docs[r] = it.Document
			continue
		}
		c.s.append(it.ID, v, it.Metadata, it.Document)
	}
	return nil
}

// normalizeBatch validates a batch and returns its vectors normalised, row-major.
func normalizeBatch(collection string, its []lmsys.Vector, dims int) ([]float32, int, error) {
	dims, err := validateItems(collection, its, dims)
	if err != nil {
		return nil, 0, err
	}
	norm := make([]float32, len(its)*dims)
	for i, it := range its {
		if err := normalizeInto(norm[i*dims:(i+1)*dims], it.Values, fmt.Sprintf("collection %q item %q", collection, it.ID)); err != nil {
			return nil, 0, err
		}
	}
	return norm, dims, nil
}

// Search returns up to k items of the collection nearest q that pass f, nearest
// first, with cosine distances. An unknown collection is lmsys.ErrNotFound.
func (e *Exact) Search(ctx context.Context, collection string, q []float32, k int, f lmsys.Filter) ([]lmsys.Hit, error) {
	c := e.coll(collection, false)
	if c == nil {
		return nil, fmt.Errorf("%w: collection %q", lmsys.ErrNotFound, collection)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.s == nil {
		return nil, nil
	}
	qb := qbufPool.Get().(*[]float32)
	defer qbufPool.Put(qb)
	qn, err := prepareQuery(collection, c.s.dims, q, k, *qb)
	if err != nil {
		return nil, err
	}
	*qb = qn
	pm := e.ParallelMin
	if pm <= 0 {
		pm = 20000
	}
	return c.s.hits(c.s.scan(qn, k, f, scanOptions{workers: e.Workers, parallelMin: pm})), nil
}

var qbufPool = sync.Pool{New: func() any { return new([]float32) }}

// Delete removes the given ids from the collection; ids it does not hold, and a
// collection that does not exist, are ignored.
func (e *Exact) Delete(ctx context.Context, collection string, ids []string) error {
	c := e.coll(collection, false)
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.s == nil {
		return nil
	}
	for _, id := range ids {
		if r, ok := c.s.index[id]; ok {
			c.s.swapRemove(r)
		}
	}
	return nil
}

// Count returns the number of items in the collection; an unknown collection is
// lmsys.ErrNotFound.
func (e *Exact) Count(ctx context.Context, collection string) (int, error) {
	c := e.coll(collection, false)
	if c == nil {
		return 0, fmt.Errorf("%w: collection %q", lmsys.ErrNotFound, collection)
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.s == nil {
		return 0, nil
	}
	return c.s.live(), nil
}

// Drop removes a whole collection; dropping an unknown collection is not an error.
func (e *Exact) Drop(ctx context.Context, collection string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.colls, collection)
	return nil
}

// Collections lists the collection names in order.
func (e *Exact) Collections() []string {
	e.mu.RLock()
	defer e.mu.RUnlock()
	names := make([]string, 0, len(e.colls))
	for n := range e.colls {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Dims returns the dimension of the collection's vectors (0 while it is empty or unknown).
func (e *Exact) Dims(collection string) int {
	c := e.coll(collection, false)
	if c == nil {
		return 0
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.s == nil {
		return 0
	}
	return c.s.dims
}
