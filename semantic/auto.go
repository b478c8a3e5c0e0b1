package semantic

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/lmsys-go/lmsys"
)

// Kind names the index a collection uses.
type Kind string

// The kinds of index. KindAuto lets Index choose by collection size.
const (
	KindAuto  Kind = "auto"
	KindExact Kind = "exact"
	KindHNSW  Kind = "hnsw"
)

// ParseKind parses "auto", "exact" or "hnsw" ("" means auto).
func ParseKind(s string) (Kind, error) {
	switch Kind(strings.ToLower(s)) {
	case "", KindAuto:
		return KindAuto, nil
	case KindExact:
		return KindExact, nil
	case KindHNSW:
		return KindHNSW, nil
	}
	return "", fmt.Errorf("%w: index kind %q is not auto, exact or hnsw", lmsys.ErrInvalidInput, s)
}

// IndexOptions configures an Index.
type IndexOptions struct {
	// Dir holds one file per collection (<collection>.vec, see the package
	// documentation for the format). Empty keeps everything in memory.
	Dir string
	// Kind forces every collection to one index; KindAuto (the default) uses the
	// exact index below HNSWThreshold live vectors and HNSW from there on.
	Kind Kind
	// HNSWThreshold is the collection size at which KindAuto switches to HNSW (20,000).
	HNSWThreshold int
	// HNSW configures the graphs.
	HNSW HNSWOptions
}

// CollectionInfo describes one collection of an Index.
type CollectionInfo struct {
	Name  string `json:"name"`
	Kind  Kind   `json:"kind"`
	Count int    `json:"count"`
	Dims  int    `json:"dimension"`
	// Bytes is the size of the collection's file, 0 when it has not been saved.
	Bytes int64 `json:"bytes"`
	// Saved is false when the collection has changes not yet written by Flush.
	Saved bool `json:"saved"`
}

// Index is the VectorIndex the CLI uses: one collection per name, each held by the
// exact index while small and moved to HNSW once it reaches HNSWThreshold vectors
// (or forced to one kind), persisted as one file per collection in Dir and loaded
// lazily, so a later run reuses the index without rebuilding it. Changes reach the
// disk on Flush. It is safe for concurrent use.
type Index struct {
	opts  IndexOptions
	exact *Exact
	hnsw  *HNSW
	mu    sync.RWMutex
	colls map[string]*autoColl
	hints map[string]int // Reserve's counts for collections that do not exist yet
}

type autoColl struct {
	kind   Kind // KindExact or KindHNSW once loaded or created
	loaded bool
	dirty  bool
}

var _ lmsys.VectorIndex = (*Index)(nil)

// OpenIndex opens (creating it if needed) the index directory opts.Dir and lists
// its collections; their files are read on first use.
func OpenIndex(ctx context.Context, opts IndexOptions) (*Index, error) {
	kind, err := ParseKind(string(opts.Kind))
	if err != nil {
		return nil, err
	}
	opts.Kind = kind
	if opts.HNSWThreshold <= 0 {
		opts.HNSWThreshold = 20000
	}
	x := &Index{opts: opts, exact: NewExact(), hnsw: NewHNSW(opts.HNSW), colls: map[string]*autoColl{}, hints: map[string]int{}}
	if opts.Dir == "" {
		return x, nil
	}
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("opening index directory: %w", err)
	}
	ents, err := os.ReadDir(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("opening index directory: %w", err)
	}
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), ".vec")
		if !ok || e.IsDir() || strings.HasPrefix(e.Name(), ".") || checkCollection(name) != nil {
			continue
		}
		x.colls[name] = &autoColl{}
	}
	return x, nil
}

func (x *Index) path(name string) string { return filepath.Join(x.opts.Dir, name+".vec") }

// ensure loads a listed collection's file; it runs with x.mu held for writing.
func (x *Index) ensure(ctx context.Context, name string) (*autoColl, error) {
	c := x.colls[name]
	if c == nil || c.loaded {
		return c, nil
	}
	h, err := readHeader(x.path(name))
	if err != nil {
		return nil, err
	}
	if h.Kind == kindHNSW && x.opts.Kind != KindExact {
		err, c.kind = x.hnsw.LoadCollection(ctx, name, x.path(name)), KindHNSW
	} else {
		err, c.kind = x.exact.LoadCollection(ctx, name, x.path(name)), KindExact
	}
	if err != nil {
		return nil, err
	}
	c.loaded = true
	return c, x.settle(ctx, name, c)
}

// settle moves a collection to the kind the options call for.
func (x *Index) settle(ctx context.Context, name string, c *autoColl) error {
	want := x.opts.Kind
	if want == KindAuto {
		want = c.kind
		if c.kind == KindExact {
			n, err := x.exact.Count(ctx, name)
			if err == nil && n >= x.opts.HNSWThreshold {
				want = KindHNSW
			}
		}
	}
	if want == c.kind {
		return nil
	}
	if want == KindHNSW {
		ec := x.exact.coll(name, false)
		ec.mu.Lock()
		s, hint := ec.s, ec.hint
		ec.s = nil
		ec.mu.Unlock()
		hc := x.hnsw.coll(name, true)
		hc.mu.Lock()
		hc.hint = hint
		if s != nil {
			hc.g = newGraph(s, x.hnsw.opts.M, x.hnsw.opts.EfConstruction, x.hnsw.opts.Seed)
			hc.g.insertPending(x.hnsw.opts.Workers)
		}
		hc.mu.Unlock()
		x.exact.Drop(ctx, name)
	} else {
		var s *items
		if hc := x.hnsw.coll(name, false); hc != nil {
			hc.mu.Lock()
			if hc.g != nil {
				s = compacted(hc.g.s)
			}
			hc.mu.Unlock()
		}
		ec := x.exact.coll(name, true)
		ec.mu.Lock()
		ec.s = s
		ec.mu.Unlock()
		x.hnsw.Drop(ctx, name)
	}
	c.kind, c.dirty = want, true
	return nil
}

func (x *Index) backend(c *autoColl) lmsys.VectorIndex {
	if c.kind == KindHNSW {
		return x.hnsw
	}
	return x.exact
}

// Upsert adds or replaces items in the collection, creating it on first use, and
// moves it to HNSW when it reaches the threshold.
func (x *Index) Upsert(ctx context.Context, collection string, items []lmsys.Vector) error {
	if err := checkCollection(collection); err != nil {
		return err
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	c, err := x.ensure(ctx, collection)
	if err != nil {
		return err
	}
	if c == nil {
		c = &autoColl{kind: KindExact, loaded: true}
		hint, reserved := x.hints[collection]
		delete(x.hints, collection)
		if x.opts.Kind == KindHNSW || x.opts.Kind == KindAuto && max(len(items), hint) >= x.opts.HNSWThreshold {
			c.kind = KindHNSW
		}
		x.colls[collection] = c
		if reserved {
			x.expect(c, collection, hint)
		}
	}
	if err := x.backend(c).Upsert(ctx, collection, items); err != nil {
		return err
	}
	c.dirty = true
	return x.settle(ctx, collection, c)
}

// Reserve tells the index that about n items are about to be upserted into the
// collection (search.Service calls it before writing a run's vectors), so the
// collection's storage is sized once: its vectors and graph grow to the room they
// need instead of in steps with the old and new arrays both alive, and a new
// collection that will reach HNSWThreshold starts as HNSW instead of being filled
// exact and converted. It changes no contents; a collection that does not exist yet
// is not created until its first Upsert.
func (x *Index) Reserve(ctx context.Context, collection string, n int) error {
	if err := checkCollection(collection); err != nil {
		return err
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	c, err := x.ensure(ctx, collection)
	if err != nil {
		return err
	}
	if c == nil {
		if n > 0 {
			x.hints[collection] = n
		}
		return nil
	}
	x.expect(c, collection, n)
	return nil
}

// expect passes a Reserve count to the collection's backend.
func (x *Index) expect(c *autoColl, collection string, n int) {
	if c.kind == KindHNSW {
		x.hnsw.expect(collection, n)
	} else {
		x.exact.expect(collection, n)
	}
}

// read runs f on the collection's backend with the index read-locked, loading the
// collection first if needed. An unknown collection is lmsys.ErrNotFound.
func (x *Index) read(ctx context.Context, collection string, f func(lmsys.VectorIndex) error) error {
	x.mu.RLock()
	c := x.colls[collection]
	if c != nil && c.loaded {
		defer x.mu.RUnlock()
		return f(x.backend(c))
	}
	x.mu.RUnlock()
	if c == nil {
		return fmt.Errorf("%w: collection %q", lmsys.ErrNotFound, collection)
	}
	x.mu.Lock()
	_, err := x.ensure(ctx, collection)
	x.mu.Unlock()
	if err != nil {
		return err
	}
	return x.read(ctx, collection, f)
}

// Search returns up to k items nearest q that pass f, nearest first.
func (x *Index) Search(ctx context.Context, collection string, q []float32, k int, f lmsys.Filter) ([]lmsys.Hit, error) {
	var hs []lmsys.Hit
	err := x.read(ctx, collection, func(b lmsys.VectorIndex) (err error) {
		hs, err = b.Search(ctx, collection, q, k, f)
		return err
	})
	return hs, err
}

// Count returns the number of items in the collection.
func (x *Index) Count(ctx context.Context, collection string) (int, error) {
	var n int
	err := x.read(ctx, collection, func(b lmsys.VectorIndex) (err error) {
		n, err = b.Count(ctx, collection)
		return err
	})
	return n, err
}

// Delete removes ids from the collection; unknown ids and collections are ignored.
func (x *Index) Delete(ctx context.Context, collection string, ids []string) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	c, err := x.ensure(ctx, collection)
	if err != nil || c == nil {
		return err
	}
	c.dirty = true
	return x.backend(c).Delete(ctx, collection, ids)
}

// Drop removes a collection and its file.
func (x *Index) Drop(ctx context.Context, collection string) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	delete(x.hints, collection)
	if _, ok := x.colls[collection]; !ok {
		return nil
	}
	delete(x.colls, collection)
	x.exact.Drop(ctx, collection)
	x.hnsw.Drop(ctx, collection)
	if x.opts.Dir != "" {
		if err := os.Remove(x.path(collection)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("dropping collection %q: %w", collection, err)
		}
	}
	return nil
}

// Flush writes every changed collection to its file (atomically, one at a time).
// Without a Dir it does nothing.
func (x *Index) Flush(ctx context.Context) error {
	if x.opts.Dir == "" {
		return nil
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	for name, c := range x.colls {
		if !c.loaded || !c.dirty {
			continue
		}
		var err error
		if c.kind == KindHNSW {
			err = x.hnsw.SaveCollection(ctx, name, x.path(name))
		} else {
			err = x.exact.SaveCollection(ctx, name, x.path(name))
		}
		if err != nil {
			return err
		}
		c.dirty = false
	}
	return nil
}

// Info lists the collections in name order with kind, count and dimension. It reads
// only the header of a collection not loaded yet.
func (x *Index) Info(ctx context.Context) ([]CollectionInfo, error) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	out := make([]CollectionInfo, 0, len(x.colls))
	for name, c := range x.colls {
		ci := CollectionInfo{Name: name, Kind: c.kind, Saved: !c.dirty}
		if x.opts.Dir != "" {
			if st, err := os.Stat(x.path(name)); err == nil {
				ci.Bytes = st.Size()
			} else {
				ci.Saved = false
			}
		}
		if c.loaded {
			n, err := x.backend(c).Count(ctx, name)
			if err != nil {
				return nil, err
			}
			ci.Count = n
			if c.kind == KindHNSW {
				ci.Dims = x.hnsw.Dims(name)
			} else {
				ci.Dims = x.exact.Dims(name)
			}
		} else {
			h, err := readHeader(x.path(name))
			if err != nil {
				return nil, err
			}
			ci.Count, ci.Dims, ci.Kind = int(h.Live), int(h.Dims), KindExact
			if h.Kind == kindHNSW {
				ci.Kind = KindHNSW
			}
		}
		out = append(out, ci)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
