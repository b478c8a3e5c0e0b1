package clustering

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/internal/vec"
)

func countLabels(labels []int) (clusters, noise int) {
	seen := map[int]bool{}
	for _, l := range labels {
		if l < 0 {
			noise++
		} else {
			seen[l] = true
		}
	}
	return len(seen), noise
}

func checkResult(t *testing.T, res *HDBSCANResult, n int) {
	t.Helper()
	require.Len(t, res.Labels, n)
	require.Len(t, res.Confidence, n)
	require.Len(t, res.Outlier, n)
	k, _ := countLabels(res.Labels)
	assert.Len(t, res.Centroids, k)
	assert.Len(t, res.Stability, k)
	for i := 0; i < n; i++ {
		assert.True(t, res.Confidence[i] >= 0 && res.Confidence[i] <= 1, "confidence %v", res.Confidence[i])
		assert.True(t, res.Outlier[i] >= 0 && res.Outlier[i] <= 1, "outlier %v", res.Outlier[i])
		if res.Labels[i] < 0 {
			assert.Zero(t, res.Probabilities[i])
		}
	}
	// Every row leaves the condensed tree exactly once.
	seen := make([]int, n)
	for _, e := range res.Tree {
		if e.Child < n {
			seen[e.Child]++
		}
	}
	for i, s := range seen {
		require.Equal(t, 1, s, "row %d", i)
	}
}

func TestHDBSCANTwoMoons(t *testing.T) {
	data, truth := moons(1, 400, 0.05)
	res, err := (&HDBSCAN{MinClusterSize: 15}).ClusterMatrix(context.Background(), data, 400, 2)
	require.NoError(t, err)
	checkResult(t, res, 400)
	k, noise := countLabels(res.Labels)
	assert.Equal(t, 2, k)
	assert.Less(t, noise, 40)
	ari, _ := ARI(truth, res.Labels)
	assert.Greater(t, ari, 0.9)
	// k-means cannot separate the moons; the test tells the two apart.
	km, err := (&KMeans{K: 2, Seed: 1}).ClusterMatrix(context.Background(), data, 400, 2)
	require.NoError(t, err)
	kari, _ := ARI(truth, km.Labels)
	assert.Less(t, kari, 0.7)
}

func TestHDBSCANBlobsOfDifferentDensity(t *testing.T) {
	data, truth := blobs(5, 600, 2, 3, 15, []float64{0.2, 1, 2})
	for _, h := range []HDBSCAN{{MinClusterSize: 20}, {MinClusterSize: 20, MinSamples: 5}, {MinClusterSize: 20, Leaf: true, MinSamples: 10}} {
		res, err := h.ClusterMatrix(context.Background(), data, 600, 2)
		require.NoError(t, err)
		checkResult(t, res, 600)
		// The sparse blob's fringe is noise; the rows clustered are clustered right.
		var tl, pl []int
		for i, l := range res.Labels {
			if l >= 0 {
				tl, pl = append(tl, truth[i]), append(pl, l)
			}
		}
		ari, _ := ARI(tl, pl)
		assert.Greater(t, ari, 0.99, "%+v", h)
		k, noise := countLabels(res.Labels)
		assert.Equal(t, 3, k, "%+v", h)
		assert.Less(t, noise, 90, "%+v", h)
	}
}

func TestHDBSCANPureNoise(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	n, d := 300, 8
	data := make([]float32, n*d)
	for i := range data {
		data[i] = float32(r.Float64())
	}
	res, err := (&HDBSCAN{MinClusterSize: 40}).ClusterMatrix(context.Background(), data, n, d)
	require.NoError(t, err)
	checkResult(t, res, n)
	_, noise := countLabels(res.Labels)
	assert.Greater(t, noise, n*8/10, "uniform data is mostly noise")
}

func TestHDBSCANReassignNoise(t *testing.T) {
	data, truth := moons(2, 300, 0.08)
	h := &HDBSCAN{MinClusterSize: 15, ReassignNoise: true}
	res, err := h.ClusterMatrix(context.Background(), data, 300, 2)
	require.NoError(t, err)
	_, noise := countLabels(res.Labels)
	assert.Zero(t, noise)
	assert.Positive(t, res.Noise, "some rows were noise before reassignment")
	moved := 0
	for i, r := range res.Reassigned {
		if r {
			moved++
			assert.Zero(t, res.Probabilities[i])
			assert.True(t, res.Confidence[i] >= 0 && res.Confidence[i] <= 1)
		}
	}
	assert.Equal(t, res.Noise, moved)
	ari, _ := ARI(truth, res.Labels)
	assert.Greater(t, ari, 0.6)
}

func TestHDBSCANEpsilonMergesClusters(t *testing.T) {
	// Two blobs 3 apart and one far away: epsilon above their separation merges the pair.
	r := rand.New(rand.NewPCG(4, 4))
	var data []float32
	for _, c := range [][2]float64{{0, 0}, {3, 0}, {40, 40}} {
		for i := 0; i < 100; i++ {
			data = append(data, float32(c[0]+r.NormFloat64()*0.3), float32(c[1]+r.NormFloat64()*0.3))
		}
	}
	base, err := (&HDBSCAN{MinClusterSize: 10}).ClusterMatrix(context.Background(), data, 300, 2)
	require.NoError(t, err)
	k0, _ := countLabels(base.Labels)
	assert.Equal(t, 3, k0)
	leaf, err := (&HDBSCAN{MinClusterSize: 10, Leaf: true}).ClusterMatrix(context.Background(), data, 300, 2)
	require.NoError(t, err)
	kl, _ := countLabels(leaf.Labels)
	assert.GreaterOrEqual(t, kl, 3)
	merged, err := (&HDBSCAN{MinClusterSize: 10, ClusterSelectionEpsilon: 5}).ClusterMatrix(context.Background(), data, 300, 2)
	require.NoError(t, err)
	checkResult(t, merged, 300)
	k1, _ := countLabels(merged.Labels)
	assert.Equal(t, 2, k1)
	assert.Equal(t, merged.Labels[0], merged.Labels[150])
	assert.NotEqual(t, merged.Labels[0], merged.Labels[250])
}

func TestHDBSCANAllowSingleCluster(t *testing.T) {
	data, _ := blobs(6, 200, 2, 1, 1, nil)
	res, err := (&HDBSCAN{MinClusterSize: 10, AllowSingleCluster: true}).ClusterMatrix(context.Background(), data, 200, 2)
	require.NoError(t, err)
	checkResult(t, res, 200)
	k, noise := countLabels(res.Labels)
	assert.Equal(t, 1, k)
	assert.Less(t, noise, 200)
}

func TestPrimMSTMatchesKruskal(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 8))
	n, d := 400, 3
	defer func(v int) { primParallelMin = v }(primParallelMin)
	primParallelMin = 64 // exercise the split scan
	x := make([]float32, n*d)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	core, err := coreDistances(context.Background(), x, n, d, 4, 2)
	require.NoError(t, err)
	// Brute-force core distances.
	for i := 0; i < 50; i++ {
		ds := make([]float64, n)
		for j := 0; j < n; j++ {
			ds[j] = math.Sqrt(float64(vec.SqDist(x[i*d:(i+1)*d], x[j*d:(j+1)*d])))
		}
		slices.Sort(ds)
		assert.InDelta(t, ds[3], core[i], 1e-4)
	}
	// Kruskal over all pairs.
	type pair struct {
		a, b int
		w    float64
	}
	var all []pair
	for a := 0; a < n; a++ {
		for b := a + 1; b < n; b++ {
			dist := math.Sqrt(float64(vec.SqDist(x[a*d:(a+1)*d], x[b*d:(b+1)*d])))
			all = append(all, pair{a, b, max(dist, core[a], core[b])})
		}
	}
	slices.SortFunc(all, func(p, q pair) int { return cmpFloat(p.w, q.w) })
	parent := make([]int, n)
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(v int) int {
		if parent[v] != v {
			parent[v] = find(parent[v])
		}
		return parent[v]
	}
	var want float64
	for _, p := range all {
		if ra, rb := find(p.a), find(p.b); ra != rb {
			parent[ra] = rb
			want += p.w
		}
	}
	for _, workers := range []int{1, 2} {
		edges, err := primMST(context.Background(), x, n, d, core, workers, nil)
		require.NoError(t, err)
		require.Len(t, edges, n-1)
		var total float64
		for _, e := range edges {
			total += e.w
		}
		assert.InDelta(t, want, total, 1e-3)
	}
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func TestHDBSCANWithPCA(t *testing.T) {
	// Three blobs in 64 dimensions, clustered after projection to 8.
	data, truth := blobs(9, 450, 64, 3, 3, nil)
	res, err := (&HDBSCAN{MinClusterSize: 20, PCADims: 8}).ClusterMatrix(context.Background(), data, 450, 64)
	require.NoError(t, err)
	checkResult(t, res, 450)
	ari, _ := ARI(truth, res.Labels)
	assert.Greater(t, ari, 0.9)
	assert.Len(t, res.Centroids[0], 64, "centroids are in the input space")
}

func TestHDBSCANDeterministicAndInterface(t *testing.T) {
	data, _ := moons(3, 200, 0.06)
	var c lmsys.Clusterer = &HDBSCAN{MinClusterSize: 10}
	a, err := c.Cluster(context.Background(), toRows(data, 2))
	require.NoError(t, err)
	b, err := (&HDBSCAN{MinClusterSize: 10, Workers: 1}).Cluster(context.Background(), toRows(data, 2))
	require.NoError(t, err)
	assert.Equal(t, a.Labels, b.Labels)
	assert.Equal(t, a.Confidence, b.Confidence)
}

func TestHDBSCANErrorsAndEdgeCases(t *testing.T) {
	ctx := context.Background()
	_, err := (&HDBSCAN{MinClusterSize: 1}).Cluster(ctx, [][]float32{{1}})
	require.ErrorIs(t, err, lmsys.ErrInvalidInput)
	_, err = (&HDBSCAN{ClusterSelectionEpsilon: -1}).Cluster(ctx, [][]float32{{1}})
	require.ErrorIs(t, err, lmsys.ErrInvalidInput)
	_, err = (&HDBSCAN{}).Cluster(ctx, nil)
	require.ErrorIs(t, err, lmsys.ErrEmpty)
	_, err = (&HDBSCAN{}).Cluster(ctx, [][]float32{{1, float32(math.Inf(1))}, {1, 2}})
	require.ErrorIs(t, err, lmsys.ErrInvalidInput)
	// One row, and fewer rows than the minimum cluster size: all noise.
	p, err := (&HDBSCAN{}).Cluster(ctx, [][]float32{{1, 2}})
	require.NoError(t, err)
	assert.Equal(t, []int{-1}, p.Labels)
	p, err = (&HDBSCAN{MinClusterSize: 10}).Cluster(ctx, [][]float32{{1, 2}, {1, 2.1}, {5, 5}})
	require.NoError(t, err)
	assert.Equal(t, []int{-1, -1, -1}, p.Labels)
	// Duplicate rows (zero distances) do not break the tree.
	dup := make([][]float32, 30)
	for i := range dup {
		dup[i] = []float32{float32(i / 15 * 10), 0}
	}
	p, err = (&HDBSCAN{MinClusterSize: 5}).Cluster(ctx, dup)
	require.NoError(t, err)
	assert.Equal(t, p.Labels[0], p.Labels[14])
	assert.NotEqual(t, p.Labels[0], p.Labels[15])
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	data, _ := moons(1, 3000, 0.05)
	_, err = (&HDBSCAN{}).ClusterMatrix(cctx, data, 3000, 2)
	require.ErrorIs(t, err, context.Canceled)
}

func TestPCA(t *testing.T) {
	ctx := context.Background()
	// Rows on a 2-D plane inside 6-D: two components keep all the variance and every
	// pairwise distance.
	r := rand.New(rand.NewPCG(2, 2))
	n, d := 200, 6
	u := []float64{1, 2, 0, -1, 0.5, 0}
	v := []float64{0, 1, 1, 1, -2, 3}
	data := make([]float32, n*d)
	for i := 0; i < n; i++ {
		a, b := r.NormFloat64()*3, r.NormFloat64()
		for j := 0; j < d; j++ {
			data[i*d+j] = float32(a*u[j] + b*v[j] + 5)
		}
	}
	p, err := FitPCA(ctx, data, n, d, 3)
	require.NoError(t, err)
	assert.Greater(t, p.Variance[0], p.Variance[1])
	assert.InDelta(t, 0, p.Variance[2], 1e-3*p.Variance[0])
	for c := 0; c < 3; c++ {
		assert.InDelta(t, 1, math.Sqrt(float64(vec.SqNorm(p.Components[c*d:(c+1)*d]))), 1e-4)
	}
	y := p.Transform(data, n)
	for i := 0; i < 20; i++ {
		for j := i + 1; j < 20; j++ {
			want := vec.SqDist(data[i*d:(i+1)*d], data[j*d:(j+1)*d])
			got := vec.SqDist(y[i*3:(i+1)*3], y[j*3:(j+1)*3])
			require.InDelta(t, float64(want), float64(got), 1e-3*float64(want)+1e-3)
		}
	}
	// Projected data is centred.
	var mean float64
	for i := 0; i < n; i++ {
		mean += float64(y[i*3])
	}
	assert.InDelta(t, 0, mean/float64(n), 1e-3)
	y2, err := PCA(ctx, data, n, d, 3)
	require.NoError(t, err)
	assert.Equal(t, y, y2)
	_, err = FitPCA(ctx, data, n, d, 7)
	require.ErrorIs(t, err, lmsys.ErrInvalidInput)
	_, err = FitPCA(ctx, data[:d], 1, d, 2)
	require.ErrorIs(t, err, lmsys.ErrInvalidInput)
}

func ExampleHDBSCAN() {
	// Two dense groups and one stray point.
	var vectors [][]float32
	for i := 0; i < 10; i++ {
		vectors = append(vectors, []float32{float32(i) * 0.01, 0}, []float32{5 + float32(i)*0.01, 5})
	}
	vectors = append(vectors, []float32{20, -20})
	h := &HDBSCAN{MinClusterSize: 5}
	p, err := h.Cluster(context.Background(), vectors)
	if err != nil {
		panic(err)
	}
	fmt.Println(p.K(), p.Labels[len(p.Labels)-1])
	// Output: 2 -1
}

func BenchmarkHDBSCAN5k(b *testing.B) {
	data, _ := blobs(1, 5000, 256, 50, 1, nil)
	for b.Loop() {
		if _, err := (&HDBSCAN{MinClusterSize: 25, MinSamples: 10}).ClusterMatrix(context.Background(), data, 5000, 256); err != nil {
			b.Fatal(err)
		}
	}
}
