package layout

import (
	"cmp"
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// unitBlobs returns n unit vectors of d dimensions around c random centres.
func unitBlobs(n, d, c int, seed uint64) [][]float32 {
	rng := rand.New(rand.NewPCG(seed, 1))
	centres := make([][]float64, c)
	for i := range centres {
		centres[i] = make([]float64, d)
		for j := range centres[i] {
			centres[i][j] = rng.NormFloat64()
		}
	}
	out := make([][]float32, n)
	for i := range out {
		v := make([]float32, d)
		norm := 0.0
		for j := range v {
			x := centres[i%c][j] + 0.6*rng.NormFloat64()
			v[j] = float32(x)
			norm += x * x
		}
		for j := range v {
			v[j] /= float32(math.Sqrt(norm))
		}
		out[i] = v
	}
	return out
}

// TestApproxNeighboursMatchExact: the HNSW neighbour graph used above exactLimit
// points finds most of the exact neighbours, gives every point itself first, and a
// search shared out over goroutines answers as one goroutine does.
func TestApproxNeighboursMatchExact(t *testing.T) {
	ctx := context.Background()
	vs := unitBlobs(3000, 32, 12, 5)
	const k = 10
	exact, err := neighbours(ctx, vs, k, 2, nil)
	require.NoError(t, err)
	one := &knn{n: len(vs), k: k, idx: make([]int32, len(vs)*k), dist: make([]float32, len(vs)*k)}
	require.NoError(t, approxNeighbours(ctx, vs, one, 1, nil))
	for range 3 {
		many := &knn{n: len(vs), k: k, idx: make([]int32, len(vs)*k), dist: make([]float32, len(vs)*k)}
		require.NoError(t, approxNeighbours(ctx, vs, many, 4, nil))
		require.Equal(t, one.idx, many.idx, "searches shared out over goroutines answer as one goroutine does, and the graph is the same each time")
		require.Equal(t, one.dist, many.dist)
	}
	many := one
	found, total := 0, 0
	for i := range vs {
		assert.Equal(t, int32(i), many.idx[i*k], "point %d is its own first neighbour", i)
		want := map[int32]bool{}
		for _, j := range exact.idx[i*k+1 : (i+1)*k] {
			want[j] = true
		}
		for _, j := range many.idx[i*k+1 : (i+1)*k] {
			if want[j] {
				found++
			}
		}
		total += k - 1
	}
	recall := float64(found) / float64(total)
	assert.Greater(t, recall, 0.9, "recall of the exact neighbours: %.3f", recall)

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	require.ErrorIs(t, approxNeighbours(cctx, vs, many, 2, nil), context.Canceled)
}

// TestNearestHeapKeepsTheSortedListsChoice: the heap keeps the k candidates a sorted
// list would keep, in its order, ties broken by the smaller index, for distances
// with many repeats.
func TestNearestHeapKeepsTheSortedListsChoice(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, tc := range []struct{ n, k, levels int }{
		{0, 3, 1}, {5, 0, 3}, {5, 1, 3}, {10, 10, 2}, {10, 13, 4}, {200, 7, 3}, {1000, 91, 50}, {1000, 91, 1000000},
	} {
		ds := make([]float32, tc.n)
		for i := range ds {
			ds[i] = float32(rng.IntN(tc.levels))
		}
		want := make([]int32, tc.n)
		for i := range want {
			want[i] = int32(i)
		}
		slices.SortStableFunc(want, func(a, b int32) int { return cmp.Compare(ds[a], ds[b]) })
		want = want[:min(tc.k, tc.n)]
		h := nearestHeap{k: tc.k}
		for j, d := range ds {
			h.offer(newCandidate(j, d))
		}
		slices.Sort(h.h)
		got := []int32{}
		for _, c := range h.h {
			j, d := c.split()
			got = append(got, j)
			assert.Equal(t, ds[j], d)
		}
		assert.Equal(t, append([]int32{}, want...), got, "n %d k %d levels %d", tc.n, tc.k, tc.levels)
	}
}

// TestExactNeighbours: the exact graph (each pair's distance computed once and
// offered to both ends) has every point first in its own row, then its nearest
// points in order, as a plain sort of all distances gives, and is the same on any
// number of workers.
func TestExactNeighbours(t *testing.T) {
	ctx := context.Background()
	vs := unitBlobs(700, 24, 9, 3)
	const k = 12
	one, err := neighbours(ctx, vs, k, 1, nil)
	require.NoError(t, err)
	for _, w := range []int{2, 3} {
		many, err := neighbours(ctx, vs, k, w, nil)
		require.NoError(t, err)
		require.Equal(t, one.idx, many.idx, "%d workers", w)
		require.Equal(t, one.dist, many.dist, "%d workers", w)
	}
	found := 0
	for i, v := range vs {
		order := make([]int, len(vs))
		d2 := make([]float64, len(vs))
		for j, u := range vs {
			order[j] = j
			for c := range v {
				d2[j] += float64(v[c]-u[c]) * float64(v[c]-u[c])
			}
		}
		slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(d2[a], d2[b]) })
		require.Equal(t, int32(i), one.idx[i*k], "point %d first", i)
		want := map[int32]bool{}
		for _, j := range order[:k] {
			want[int32(j)] = true
		}
		for t2, j := range one.idx[i*k : (i+1)*k] {
			if want[j] {
				found++
			}
			assert.InDelta(t, math.Sqrt(d2[j]), float64(one.dist[i*k+t2]), 2e-3, "point %d neighbour %d", i, j)
		}
	}
	// Float32 products may swap two candidates a rounding apart at the k-th place.
	assert.Greater(t, float64(found)/float64(len(vs)*k), 0.995)
}
