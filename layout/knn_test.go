package layout

import (
	"context"
	"math"
	"math/rand/v2"
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
