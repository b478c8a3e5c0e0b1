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

// TestSelectSmallest: the k smallest candidates come first, for distances with many
// repeats, every k, and candidates in order, reversed and shuffled.
func TestSelectSmallest(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, tc := range []struct{ n, levels int }{{1, 1}, {2, 1}, {5, 3}, {10, 2}, {31, 4}, {200, 3}, {137, 50}, {500, 1000000}} {
		c := make([]candidate, tc.n)
		for j := range c {
			c[j] = newCandidate(j, float32(rng.IntN(tc.levels)))
		}
		sorted := slices.Clone(c)
		slices.Sort(sorted)
		for _, order := range []string{"shuffled", "ascending", "descending"} {
			for k := 0; k <= tc.n; k++ {
				got := slices.Clone(c)
				switch order {
				case "shuffled":
					rng.Shuffle(len(got), func(a, b int) { got[a], got[b] = got[b], got[a] })
				case "ascending":
					copy(got, sorted)
				case "descending":
					copy(got, sorted)
					slices.Reverse(got)
				}
				selectSmallest(got, k)
				front := slices.Clone(got[:k])
				slices.Sort(front)
				require.Equal(t, sorted[:k], front, "n %d levels %d k %d %s", tc.n, tc.levels, k, order)
			}
		}
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

func BenchmarkExactNeighbours(b *testing.B) {
	vs := unitBlobs(8000, 128, 40, 7)
	for b.Loop() {
		if _, err := neighbours(context.Background(), vs, 91, 2, nil); err != nil {
			b.Fatal(err)
		}
	}
}
