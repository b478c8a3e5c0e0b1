package semantic

import (
	"fmt"
	"math"
	"strings"

	"github.com/lmsys-go/lmsys"
)

// checkCollection rejects empty collection names and names that cannot be a file name.
func checkCollection(name string) error {
	if name == "" {
		return fmt.Errorf("%w: empty collection name", lmsys.ErrInvalidInput)
	}
	if len(name) > 200 || strings.ContainsAny(name, "/\\\x00") || name == "." || name == ".." {
		return fmt.Errorf("%w: collection name %q must be at most 200 characters without '/', '\\' or NUL", lmsys.ErrInvalidInput, name)
	}
	return nil
}

// normalizeInto writes v scaled to unit length into dst (len(dst) == len(v)). It
// rejects empty, zero, NaN and infinite vectors; what names the offending item.
func normalizeInto(dst, v []float32, what string) error {
	if len(v) == 0 {
		return fmt.Errorf("%w: %s has an empty vector", lmsys.ErrInvalidInput, what)
	}
	var s float64
	for i, x := range v {
		f := float64(x)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Errorf("%w: %s has a non-finite value at position %d", lmsys.ErrInvalidInput, what, i)
		}
		s += f * f
	}
	if s == 0 {
		return fmt.Errorf("%w: %s is the zero vector, which has no direction", lmsys.ErrInvalidInput, what)
	}
	inv := float32(1 / math.Sqrt(s))
	for i, x := range v {
		dst[i] = x * inv
	}
	return nil
}

// validateItems checks a batch for Upsert: non-empty unique ids, one dimension
// (equal to dims when dims > 0), finite non-zero vectors. It returns the batch's dimension.
func validateItems(collection string, items []lmsys.Vector, dims int) (int, error) {
	seen := make(map[string]struct{}, len(items))
	for i, it := range items {
		if it.ID == "" {
			return 0, fmt.Errorf("%w: collection %q item %d has an empty id", lmsys.ErrInvalidInput, collection, i)
		}
		if _, dup := seen[it.ID]; dup {
			return 0, fmt.Errorf("%w: collection %q: id %q appears twice in one upsert", lmsys.ErrInvalidInput, collection, it.ID)
		}
		seen[it.ID] = struct{}{}
		if dims == 0 {
			dims = len(it.Values)
		}
		if len(it.Values) != dims {
			return 0, fmt.Errorf("%w: collection %q holds %d-dimensional vectors, item %q has %d", lmsys.ErrSpaceMismatch, collection, dims, it.ID, len(it.Values))
		}
	}
	return dims, nil
}

// matchWhere reports whether meta has every key of where with an equal value.
func matchWhere(meta, where map[string]string) bool {
	for k, v := range where {
		got, ok := meta[k]
		if !ok || got != v {
			return false
		}
	}
	return true
}

// cloneMeta returns a copy of m (nil for an empty map) so callers never share the index's maps.
func cloneMeta(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// scored is one candidate: a row (or node) and its similarity to the query.
type scored struct {
	sim float32
	id  uint32
}

// topK keeps the k most similar candidates seen in a min-heap on sim: the root is
// the worst kept candidate, so a new one only costs a comparison unless it enters.
type topK struct {
	k     int
	items []scored
}

func (h *topK) reset(k int) {
	h.k = k
	h.items = h.items[:0]
}

// threshold returns the similarity a candidate must beat to enter (−Inf while not full).
func (h *topK) threshold() float32 {
	if len(h.items) < h.k {
		return float32(math.Inf(-1))
	}
	return h.items[0].sim
}

func (h *topK) push(sim float32, id uint32) {
	if len(h.items) < h.k {
		h.items = append(h.items, scored{sim, id})
		// sift up
		i := len(h.items) - 1
		for i > 0 {
			p := (i - 1) / 2
			if !less(h.items[i], h.items[p]) {
				break
			}
			h.items[i], h.items[p] = h.items[p], h.items[i]
			i = p
		}
		return
	}
	if !less(h.items[0], scored{sim, id}) {
		return
	}
	h.items[0] = scored{sim, id}
	h.down(0)
}

// less orders candidates worst first: lower similarity, then higher id, so ties break
// deterministically towards lower ids.
func less(a, b scored) bool {
	if a.sim != b.sim {
		return a.sim < b.sim
	}
	return a.id > b.id
}

func (h *topK) down(i int) {
	n := len(h.items)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && less(h.items[r], h.items[l]) {
			m = r
		}
		if !less(h.items[m], h.items[i]) {
			return
		}
		h.items[i], h.items[m] = h.items[m], h.items[i]
		i = m
	}
}

// sorted empties the heap into its own backing array, best first, and returns it.
func (h *topK) sorted() []scored {
	n := len(h.items)
	for end := n - 1; end > 0; end-- {
		h.items[0], h.items[end] = h.items[end], h.items[0]
		h.items = h.items[:end]
		h.down(0)
	}
	out := h.items[:n]
	h.items = h.items[:0]
	return out
}
