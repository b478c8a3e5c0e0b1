package semantic

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"

	"github.com/lmsys-go/lmsys"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestItemsReserveAndMappedVectors(t *testing.T) {
	const dims = 256 // mapMinFloats/dims = 1024 rows reach mapped memory
	cases := []struct {
		name      string
		batches   []int
		exact     bool
		wantCap   int // rows of vector capacity at the end (0: at least the rows)
		wantInMap bool
	}{
		{"small stays on the heap", []int{10, 10}, true, 0, false},
		{"exact reservation is exact", []int{3000}, true, 3000, true},
		{"batches double", []int{600, 600, 600}, false, 0, true},
		{"a mapping grows", []int{1100, 1100, 2000}, false, 0, true},
		{"growing past the threshold moves to a mapping", []int{1000, 100}, false, 0, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newItems(dims)
			data := blobs(sum(c.batches), dims, 4, 9)
			next := 0
			var first *vecMapping
			for _, n := range c.batches {
				s.reserve(n, c.exact)
				if first == nil {
					first = s.vmap
				}
				for _, it := range data[next : next+n] {
					v := make([]float32, dims)
					require.NoError(t, normalizeInto(v, it.Values, it.ID))
					s.append(it.ID, v, it.Metadata, "")
				}
				next += n
			}
			require.Equal(t, next, s.len())
			if c.wantCap > 0 {
				assert.Equal(t, c.wantCap*dims, cap(s.vecs))
			}
			assert.GreaterOrEqual(t, cap(s.vecs), next*dims)
			assert.Equal(t, c.wantInMap, s.vmap != nil)
			if first != nil && runtime.GOOS == "linux" {
				assert.Same(t, first, s.vmap, "a mapping grows in place (mremap), never copied beside itself")
			}
			for i, it := range data[:next] {
				v := make([]float32, dims)
				require.NoError(t, normalizeInto(v, it.Values, it.ID))
				require.Equal(t, v, s.row(uint32(i)), "row %d survives every move", i)
			}
		})
	}
}

func sum(xs []int) int {
	n := 0
	for _, x := range xs {
		n += x
	}
	return n
}

func TestIndexReserve(t *testing.T) {
	ctx := context.Background()
	data := blobs(1500, 256, 6, 3)
	cases := []struct {
		name     string
		reserve  int
		wantKind Kind // after the first 100-item upsert
	}{
		{"no reservation starts exact", 0, KindExact},
		{"a small reservation starts exact", 200, KindExact},
		{"a reservation past the threshold starts as HNSW", len(data), KindHNSW},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			x, err := OpenIndex(ctx, IndexOptions{Dir: dir, HNSWThreshold: 1000, HNSW: HNSWOptions{M: 8, EfConstruction: 64}})
			require.NoError(t, err)
			require.NoError(t, x.Reserve(ctx, "q", c.reserve))
			_, err = x.Count(ctx, "q")
			assert.ErrorIs(t, err, lmsys.ErrNotFound, "Reserve creates no collection")
			require.NoError(t, x.Upsert(ctx, "q", data[:100]))
			info, err := x.Info(ctx)
			require.NoError(t, err)
			require.Len(t, info, 1)
			assert.Equal(t, c.wantKind, info[0].Kind)
			for i := 100; i < len(data); i += 350 {
				require.NoError(t, x.Upsert(ctx, "q", data[i:min(i+350, len(data))]))
			}
			info, err = x.Info(ctx)
			require.NoError(t, err)
			assert.Equal(t, KindHNSW, info[0].Kind)
			assert.Equal(t, len(data), info[0].Count)
			hs, err := x.Search(ctx, "q", data[7].Values, 10, lmsys.Filter{})
			require.NoError(t, err)
			assert.Equal(t, bruteForce(data, data[7].Values, 10, lmsys.Filter{})[0], hs[0].ID)

			// The mapped vectors are written and read back intact.
			require.NoError(t, x.Flush(ctx))
			y, err := OpenIndex(ctx, IndexOptions{Dir: dir})
			require.NoError(t, err)
			got, err := y.Search(ctx, "q", data[7].Values, 10, lmsys.Filter{})
			require.NoError(t, err)
			assert.Equal(t, hs, got)
			_, err = filepath.Glob(filepath.Join(dir, "*.vec"))
			require.NoError(t, err)
		})
	}
}

func TestIndexReserveExistingAndDropped(t *testing.T) {
	ctx := context.Background()
	data := blobs(1200, 256, 4, 5) // past mapMinFloats: mapped, so sized exactly
	x, err := OpenIndex(ctx, IndexOptions{Kind: KindHNSW, HNSW: HNSWOptions{M: 8, EfConstruction: 32}})
	require.NoError(t, err)
	require.NoError(t, x.Upsert(ctx, "q", data[:100]))
	require.NoError(t, x.Reserve(ctx, "q", 1100))
	for i := 100; i < len(data); i += 250 {
		require.NoError(t, x.Upsert(ctx, "q", data[i:min(i+250, len(data))]))
	}
	g := x.hnsw.coll("q", false).g
	assert.Equal(t, 1200*256, cap(g.s.vecs), "the reservation sized the vectors exactly")
	// The heap rounds an allocation up to its size class, never by a whole step.
	assert.GreaterOrEqual(t, cap(g.links0), 1200*(g.m0+1))
	assert.Less(t, cap(g.links0), 1200*(g.m0+1)*11/10, "and the layer-0 links with them")
	n, err := x.Count(ctx, "q")
	require.NoError(t, err)
	assert.Equal(t, 1200, n)

	require.NoError(t, x.Reserve(ctx, "gone", 5000))
	require.NoError(t, x.Drop(ctx, "gone"))
	assert.Empty(t, x.hints, "dropping a collection forgets its reservation")
	assert.ErrorIs(t, x.Reserve(ctx, "", 1), lmsys.ErrInvalidInput)
}

// TestMappedStorageBuildsTheSameIndex builds one collection twice on one goroutine,
// with every array on the heap and with vectors and links in mapped memory from the
// first batch on: the saved files must be byte for byte the same, and so must a
// reload's answers.
func TestMappedStorageBuildsTheSameIndex(t *testing.T) {
	ctx := context.Background()
	data := blobs(1200, 32, 5, 21)
	for i := range data {
		data[i].Metadata = map[string]string{"b": strconv.Itoa(i % 3), "a": "x"}
	}
	build := func(minFloats int) []byte {
		old := mapMinFloats
		mapMinFloats = minFloats
		defer func() { mapMinFloats = old }()
		h := NewHNSW(HNSWOptions{M: 8, EfConstruction: 32, Workers: 1})
		for i := 0; i < len(data); i += 300 {
			require.NoError(t, h.Upsert(ctx, "c", data[i:i+300]))
		}
		require.NoError(t, h.Delete(ctx, "c", []string{"v3", "v4"}))
		g := h.coll("c", false).g
		assert.Equal(t, minFloats < 1<<20, g.s.vmap != nil && g.lmap != nil, "storage is mapped exactly when asked")
		p := filepath.Join(t.TempDir(), "c.vec")
		require.NoError(t, h.SaveCollection(ctx, "c", p))
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		l := NewHNSW(HNSWOptions{})
		require.NoError(t, l.LoadCollection(ctx, "c", p))
		hs, err := l.Search(ctx, "c", data[9].Values, 5, lmsys.Filter{Where: map[string]string{"b": "0"}})
		require.NoError(t, err)
		require.NotEmpty(t, hs)
		assert.Equal(t, "v9", hs[0].ID)
		return b
	}
	heap := build(1 << 62)
	mapped := build(64)
	assert.Equal(t, heap, mapped)
}
