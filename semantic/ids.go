package semantic

import (
	"context"
	"fmt"

	"github.com/lmsys-go/lmsys"
)

// ListItems calls fn with the id and metadata of every live item of the collection,
// in storage order, so a caller can compare the collection with its source of truth
// (package search's Verify does). meta is a map the index refills for the next item
// (nil for none): fn must not modify or keep it, and must not call back into the
// index. An error from fn stops the walk and is returned; an unknown collection is
// lmsys.ErrNotFound.
func (x *Index) ListItems(ctx context.Context, collection string, fn func(id string, meta map[string]string) error) error {
	return x.read(ctx, collection, func(b lmsys.VectorIndex) error {
		switch t := b.(type) {
		case *Exact:
			return t.ListItems(ctx, collection, fn)
		case *HNSW:
			return t.ListItems(ctx, collection, fn)
		}
		return fmt.Errorf("semantic: collection %q has no listable backend", collection)
	})
}

// CollectionDims returns the dimension of the collection's vectors (0 while it is
// empty); an unknown collection is lmsys.ErrNotFound.
func (x *Index) CollectionDims(ctx context.Context, collection string) (int, error) {
	var d int
	err := x.read(ctx, collection, func(b lmsys.VectorIndex) error {
		switch t := b.(type) {
		case *Exact:
			d = t.Dims(collection)
		case *HNSW:
			d = t.Dims(collection)
		}
		return nil
	})
	return d, err
}

// ListItems calls fn with the id and metadata of every item of the collection (see
// Index.ListItems for the rules fn must follow).
func (e *Exact) ListItems(ctx context.Context, collection string, fn func(id string, meta map[string]string) error) error {
	c := e.coll(collection, false)
	if c == nil {
		return fmt.Errorf("%w: collection %q", lmsys.ErrNotFound, collection)
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.s == nil {
		return nil
	}
	return c.s.each(ctx, fn)
}

// ListItems calls fn with the id and metadata of every live item of the collection
// (see Index.ListItems for the rules fn must follow); tombstones are skipped.
func (h *HNSW) ListItems(ctx context.Context, collection string, fn func(id string, meta map[string]string) error) error {
	c := h.coll(collection, false)
	if c == nil {
		return fmt.Errorf("%w: collection %q", lmsys.ErrNotFound, collection)
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.g == nil {
		return nil
	}
	return c.g.s.each(ctx, fn)
}

// each calls fn for every live row, checking ctx every 4096 rows.
func (s *items) each(ctx context.Context, fn func(id string, meta map[string]string) error) error {
	m := map[string]string{}
	for r := range s.ids {
		if r&4095 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if s.dead[r] {
			continue
		}
		var meta map[string]string
		if len(s.meta[r]) > 0 {
			s.meta[r].fill(m)
			meta = m
		}
		if err := fn(s.ids[r], meta); err != nil {
			return err
		}
	}
	return nil
}
