package semantic

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/lmsys-go/lmsys"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// blobs returns n unit-ish vectors of d dimensions around c random centres, the
// shape of make_blobs.py, with ids "v0".."v<n-1>" and metadata cluster=<centre>.
func blobs(n, d, c int, seed uint64) []lmsys.Vector {
	rng := rand.New(rand.NewPCG(seed, 7))
	centres := make([][]float32, c)
	for i := range centres {
		centres[i] = make([]float32, d)
		for j := range centres[i] {
			centres[i][j] = float32(rng.NormFloat64())
		}
	}
	out := make([]lmsys.Vector, n)
	for i := range out {
		ci := rng.IntN(c)
		v := make([]float32, d)
		for j := range v {
			v[j] = centres[ci][j] + 0.9*float32(rng.NormFloat64())
		}
		out[i] = lmsys.Vector{ID: fmt.Sprintf("v%d", i), Values: v,
			Metadata: map[string]string{"cluster": fmt.Sprint(ci), "parity": fmt.Sprint(i % 2)}, Document: fmt.Sprintf("doc %d", i)}
	}
	return out
}

// bruteForce is the reference: cosine distances computed the slow, obvious way.
func bruteForce(items []lmsys.Vector, q []float32, k int, f lmsys.Filter) []string {
	type c struct {
		id string
		d  float64
	}
	var ids map[string]bool
	if f.IDs != nil {
		ids = map[string]bool{}
		for _, id := range f.IDs {
			ids[id] = true
		}
	}
	var all []c
	for _, it := range items {
		if ids != nil && !ids[it.ID] || !matchWhere(it.Metadata, f.Where) {
			continue
		}
		var dotp, na, nb float64
		for i := range q {
			dotp += float64(q[i]) * float64(it.Values[i])
			na += float64(q[i]) * float64(q[i])
			nb += float64(it.Values[i]) * float64(it.Values[i])
		}
		all = append(all, c{it.ID, 1 - dotp/(sqrt(na)*sqrt(nb))})
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].d < all[j].d })
	var out []string
	for i := 0; i < k && i < len(all); i++ {
		out = append(out, all[i].id)
	}
	return out
}

func sqrt(x float64) float64 {
	z := x
	for range 40 {
		if z == 0 {
			return 0
		}
		z = (z + x/z) / 2
	}
	return z
}

func hitIDs(hs []lmsys.Hit) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = h.ID
	}
	return out
}

func overlap(a, b []string) int {
	set := map[string]bool{}
	for _, x := range a {
		set[x] = true
	}
	n := 0
	for _, y := range b {
		if set[y] {
			n++
		}
	}
	return n
}

func TestExactMatchesBruteForce(t *testing.T) {
	ctx := context.Background()
	data := blobs(3001, 37, 10, 1)
	for _, workers := range []int{1, 2, 3} {
		e := NewExact()
		e.Workers, e.ParallelMin = workers, 100
		require.NoError(t, e.Upsert(ctx, "c", data))
		n, err := e.Count(ctx, "c")
		require.NoError(t, err)
		assert.Equal(t, 3001, n)
		idSmall := []string{"v1", "v5", "v9", "v5", "nope", "v2000"}
		idLarge := make([]string, 0, 2000)
		for i := 0; i < 2000; i++ {
			idLarge = append(idLarge, fmt.Sprintf("v%d", i))
		}
		filters := []lmsys.Filter{{}, {IDs: idSmall}, {IDs: idLarge}, {Where: map[string]string{"cluster": "3"}},
			{IDs: idLarge, Where: map[string]string{"parity": "1"}}, {IDs: []string{}}}
		for qi := 0; qi < 5; qi++ {
			q := data[qi*300].Values
			for fi, f := range filters {
				hs, err := e.Search(ctx, "c", q, 10, f)
				require.NoError(t, err)
				want := bruteForce(data, q, 10, f)
				assert.Equal(t, len(want), len(hs), "workers=%d filter %d", workers, fi)
				assert.GreaterOrEqual(t, overlap(want, hitIDs(hs)), len(want)-1, "workers=%d filter %d (float32 ties may swap the last)", workers, fi)
				for i := 1; i < len(hs); i++ {
					assert.LessOrEqual(t, hs[i-1].Distance, hs[i].Distance)
				}
			}
		}
	}
}

func TestExactUpsertDeleteErrors(t *testing.T) {
	ctx := context.Background()
	e := NewExact()
	_, err := e.Search(ctx, "none", []float32{1}, 1, lmsys.Filter{})
	assert.ErrorIs(t, err, lmsys.ErrNotFound)
	_, err = e.Count(ctx, "none")
	assert.ErrorIs(t, err, lmsys.ErrNotFound)
	require.NoError(t, e.Upsert(ctx, "c", []lmsys.Vector{
		{ID: "a", Values: []float32{1, 0}, Metadata: map[string]string{"x": "1"}},
		{ID: "b", Values: []float32{0, 2}},
		{ID: "c", Values: []float32{1, 1}},
	}))
	cases := []struct {
		name  string
		items []lmsys.Vector
		want  error
	}{
		{"dims", []lmsys.Vector{{ID: "d", Values: []float32{1, 2, 3}}}, lmsys.ErrSpaceMismatch},
		{"zero", []lmsys.Vector{{ID: "d", Values: []float32{0, 0}}}, lmsys.ErrInvalidInput},
		{"nan", []lmsys.Vector{{ID: "d", Values: []float32{float32(nan()), 0}}}, lmsys.ErrInvalidInput},
		{"empty id", []lmsys.Vector{{ID: "", Values: []float32{1, 0}}}, lmsys.ErrInvalidInput},
		{"dup", []lmsys.Vector{{ID: "z", Values: []float32{1, 0}}, {ID: "z", Values: []float32{1, 0}}}, lmsys.ErrInvalidInput},
		{"good then bad", []lmsys.Vector{{ID: "y", Values: []float32{1, 0}}, {ID: "w", Values: []float32{0, 0}}}, lmsys.ErrInvalidInput},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.ErrorIs(t, e.Upsert(ctx, "c", tc.items), tc.want)
			n, _ := e.Count(ctx, "c")
			assert.Equal(t, 3, n, "a rejected batch changes nothing")
		})
	}
	assert.ErrorIs(t, e.Upsert(ctx, "", []lmsys.Vector{{ID: "a", Values: []float32{1}}}), lmsys.ErrInvalidInput)
	_, err = e.Search(ctx, "c", []float32{1, 0, 0}, 1, lmsys.Filter{})
	assert.ErrorIs(t, err, lmsys.ErrSpaceMismatch)
	_, err = e.Search(ctx, "c", []float32{1, 0}, 0, lmsys.Filter{})
	assert.ErrorIs(t, err, lmsys.ErrInvalidInput)

	hs, err := e.Search(ctx, "c", []float32{1, 0}, 1, lmsys.Filter{})
	require.NoError(t, err)
	require.Len(t, hs, 1)
	assert.Equal(t, "a", hs[0].ID)
	assert.InDelta(t, 0, hs[0].Distance, 1e-6)
	assert.Equal(t, map[string]string{"x": "1"}, hs[0].Metadata)

	// Upsert replaces by id.
	require.NoError(t, e.Upsert(ctx, "c", []lmsys.Vector{{ID: "a", Values: []float32{-1, 0}, Document: "moved"}}))
	hs, err = e.Search(ctx, "c", []float32{-1, 0}, 3, lmsys.Filter{})
	require.NoError(t, err)
	assert.Equal(t, "a", hs[0].ID)
	assert.Equal(t, "moved", hs[0].Document)
	assert.Nil(t, hs[0].Metadata)
	assert.Equal(t, "c", hs[2].ID)
	assert.InDelta(t, 1.7071068, hs[2].Distance, 1e-6)

	require.NoError(t, e.Delete(ctx, "c", []string{"a", "unknown"}))
	require.NoError(t, e.Delete(ctx, "nocoll", []string{"a"}))
	n, _ := e.Count(ctx, "c")
	assert.Equal(t, 2, n)
	hs, err = e.Search(ctx, "c", []float32{-1, 0}, 5, lmsys.Filter{})
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"b", "c"}, hitIDs(hs))
	hs, err = e.Search(ctx, "c", []float32{-1, 0}, 5, lmsys.Filter{IDs: []string{"a", "c"}})
	require.NoError(t, err)
	assert.Equal(t, []string{"c"}, hitIDs(hs))
}

func nan() float64 { var z float64; return z / z }

func TestExactSearchDoesNotAllocateInScan(t *testing.T) {
	data := blobs(2000, 64, 5, 3)
	e := NewExact()
	e.Workers = 1
	require.NoError(t, e.Upsert(context.Background(), "c", data))
	s := e.coll("c", false).s
	q := s.row(0)
	h := &topK{}
	h.reset(10)
	allocs := testing.AllocsPerRun(20, func() {
		h.reset(10)
		s.scanRange(q, 0, s.len(), map[string]string{"parity": "0"}, nil, h)
	})
	assert.Zero(t, allocs)
}

func recallAt10(t *testing.T, idx lmsys.VectorIndex, data []lmsys.Vector, queries [][]float32, f lmsys.Filter) float64 {
	t.Helper()
	got := 0
	total := 0
	for _, q := range queries {
		hs, err := idx.Search(context.Background(), "c", q, 10, f)
		require.NoError(t, err)
		want := bruteForce(data, q, 10, f)
		got += overlap(want, hitIDs(hs))
		total += len(want)
	}
	return float64(got) / float64(total)
}

func perturbedQueries(data []lmsys.Vector, nq int, seed uint64) [][]float32 {
	rng := rand.New(rand.NewPCG(seed, 3))
	qs := make([][]float32, nq)
	for i := range qs {
		src := data[rng.IntN(len(data))].Values
		q := make([]float32, len(src))
		for j := range q {
			q[j] = src[j] + 0.3*float32(rng.NormFloat64())
		}
		qs[i] = q
	}
	return qs
}

func TestHNSWRecall(t *testing.T) {
	n := 6000
	if testing.Short() {
		n = 1500
	}
	data := blobs(n, 32, 30, 5)
	queries := perturbedQueries(data, 100, 9)
	for _, workers := range []int{1, 2} {
		h := NewHNSW(HNSWOptions{M: 12, EfConstruction: 100, EfSearch: 48, Workers: workers})
		// Two batches: the second inserts into an existing graph.
		require.NoError(t, h.Upsert(context.Background(), "c", data[:n/3]))
		require.NoError(t, h.Upsert(context.Background(), "c", data[n/3:]))
		r := recallAt10(t, h, data, queries, lmsys.Filter{})
		t.Logf("workers=%d recall@10=%.3f", workers, r)
		assert.GreaterOrEqual(t, r, 0.95, "workers=%d", workers)
		rw := recallAt10(t, h, data, queries[:30], lmsys.Filter{Where: map[string]string{"parity": "1"}})
		assert.GreaterOrEqual(t, rw, 0.95, "where filter")
		ids := []string{}
		for i := 0; i < n; i += 3 {
			ids = append(ids, fmt.Sprintf("v%d", i))
		}
		ri := recallAt10(t, h, data, queries[:30], lmsys.Filter{IDs: ids})
		assert.Equal(t, 1.0, ri, "id filter under ExactBelow is exact")
		rs := recallAt10(t, h, data, queries[:30], lmsys.Filter{Where: map[string]string{"cluster": "4"}})
		assert.GreaterOrEqual(t, rs, 0.95, "selective where filter")
	}
}

func TestHNSWDeletesNeverReturned(t *testing.T) {
	ctx := context.Background()
	data := blobs(3000, 16, 10, 11)
	h := NewHNSW(HNSWOptions{M: 8, EfConstruction: 64, RebuildRatio: 0.5, Workers: 1})
	require.NoError(t, h.Upsert(ctx, "c", data))
	deleted := map[string]bool{}
	var del []string
	for i := 0; i < 3000; i += 4 { // 25%: below the rebuild ratio, so tombstones stay
		del = append(del, data[i].ID)
		deleted[data[i].ID] = true
	}
	require.NoError(t, h.Delete(ctx, "c", del))
	assert.Greater(t, h.coll("c", false).g.s.ndead, 0, "tombstones kept below the ratio")
	n, err := h.Count(ctx, "c")
	require.NoError(t, err)
	assert.Equal(t, 3000-len(del), n)
	var live []lmsys.Vector
	for _, it := range data {
		if !deleted[it.ID] {
			live = append(live, it)
		}
	}
	queries := make([][]float32, 0, 60)
	for i := 0; i < 3000; i += 50 {
		queries = append(queries, data[i].Values) // many are deleted items themselves
	}
	for _, q := range queries {
		for _, f := range []lmsys.Filter{{}, {IDs: del[:50]}, {Where: map[string]string{"parity": "0"}}} {
			hs, err := h.Search(ctx, "c", q, 10, f)
			require.NoError(t, err)
			for _, hit := range hs {
				assert.False(t, deleted[hit.ID], "deleted %s returned", hit.ID)
			}
		}
	}
	assert.GreaterOrEqual(t, recallAt10(t, h, live, queries, lmsys.Filter{}), 0.95)

	// Crossing the ratio rebuilds without the tombstones.
	var more []string
	for i := 1; i < 3000; i += 4 {
		more = append(more, data[i].ID)
	}
	require.NoError(t, h.Delete(ctx, "c", more))
	g := h.coll("c", false).g
	assert.Equal(t, 0, g.s.ndead)
	assert.Equal(t, 1500, g.s.len())
	hs, err := h.Search(ctx, "c", data[1].Values, 5, lmsys.Filter{})
	require.NoError(t, err)
	for _, hit := range hs {
		assert.NotEqual(t, "v1", hit.ID)
	}

	// Re-upserting a deleted id brings it back; replacing a vector moves it.
	require.NoError(t, h.Upsert(ctx, "c", []lmsys.Vector{data[1], {ID: "v2", Values: data[1].Values}}))
	hs, err = h.Search(ctx, "c", data[1].Values, 2, lmsys.Filter{})
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"v1", "v2"}, hitIDs(hs))
}

func TestConcurrentSearchesDuringWrites(t *testing.T) {
	ctx := context.Background()
	data := blobs(1200, 16, 5, 8)
	for name, idx := range map[string]lmsys.VectorIndex{
		"exact": NewExact(),
		"hnsw":  NewHNSW(HNSWOptions{M: 8, EfConstruction: 32, RebuildRatio: 0.2}),
	} {
		t.Run(name, func(t *testing.T) {
			require.NoError(t, idx.Upsert(ctx, "c", data[:300]))
			done := make(chan struct{})
			errs := make(chan error, 4)
			for g := range 3 {
				go func() {
					for i := 0; ; i++ {
						select {
						case <-done:
							errs <- nil
							return
						default:
						}
						if _, err := idx.Search(ctx, "c", data[(g*97+i)%len(data)].Values, 5, lmsys.Filter{}); err != nil {
							errs <- err
							return
						}
					}
				}()
			}
			for lo := 300; lo < len(data); lo += 150 {
				require.NoError(t, idx.Upsert(ctx, "c", data[lo:lo+150]))
				require.NoError(t, idx.Delete(ctx, "c", []string{data[lo-300].ID, data[lo-299].ID}))
			}
			close(done)
			for range 3 {
				require.NoError(t, <-errs)
			}
			n, err := idx.Count(ctx, "c")
			require.NoError(t, err)
			assert.Equal(t, len(data)-12, n)
		})
	}
}
