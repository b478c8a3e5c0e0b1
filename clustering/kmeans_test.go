package clustering

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/internal/vec"
)

func TestKMeansRecoversBlobs(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		km   KMeans
	}{
		{"lloyd", KMeans{K: 5, Seed: 1}},
		{"ninit", KMeans{K: 5, Seed: 2, NInit: 3}},
		{"sampled", KMeans{K: 5, Seed: 3, TrainSample: 300}},
		{"sampled-refined", KMeans{K: 5, Seed: 3, TrainSample: 300, RefineIters: 2}},
		{"spherical", KMeans{K: 5, Seed: 4, Spherical: true}},
		{"one-worker", KMeans{K: 5, Seed: 5, Workers: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data, truth := blobs(11, 1000, 16, 5, 8, nil)
			res, err := tc.km.ClusterMatrix(ctx, data, 1000, 16)
			require.NoError(t, err)
			ari, err := ARI(truth, res.Labels)
			require.NoError(t, err)
			assert.InDelta(t, 1.0, ari, 1e-9)
			require.Len(t, res.Centroids, 5)
			require.Len(t, res.Confidence, 1000)
			// Inertia is the sum of squared distances to the assigned centre.
			var in float64
			for i, l := range res.Labels {
				x := data[i*16 : (i+1)*16]
				if tc.km.Spherical {
					x = append([]float32(nil), x...)
					vec.Normalize(x)
				}
				in += float64(vec.SqDist(x, res.Centroids[l]))
				assert.True(t, res.Confidence[i] >= 0 && res.Confidence[i] <= 1)
			}
			assert.InDelta(t, in, res.Inertia, 1e-3*in)
			if tc.km.Spherical {
				for _, c := range res.Centroids {
					assert.InDelta(t, 1, math.Sqrt(float64(vec.SqNorm(c))), 1e-5)
				}
			}
		})
	}
}

func TestKMeansDeterministicAndNInit(t *testing.T) {
	ctx := context.Background()
	data, _ := blobs(12, 600, 8, 12, 2, nil)
	a, err := (&KMeans{K: 10, Seed: 9}).ClusterMatrix(ctx, data, 600, 8)
	require.NoError(t, err)
	b, err := (&KMeans{K: 10, Seed: 9, Workers: 1}).ClusterMatrix(ctx, data, 600, 8)
	require.NoError(t, err)
	assert.Equal(t, a.Labels, b.Labels)
	assert.Equal(t, a.Inertia, b.Inertia)
	// NInit=4 tries the first init and three more, and keeps the lowest inertia.
	best, err := (&KMeans{K: 10, Seed: 9, NInit: 4}).ClusterMatrix(ctx, data, 600, 8)
	require.NoError(t, err)
	assert.LessOrEqual(t, best.Inertia, a.Inertia)
	// The input is left untouched.
	again, _ := blobs(12, 600, 8, 12, 2, nil)
	assert.Equal(t, again, data)
}

func TestKMeansClusterInterface(t *testing.T) {
	data, truth := blobs(13, 300, 4, 3, 10, nil)
	var c lmsys.Clusterer = &KMeans{K: 3, Seed: 1}
	p, err := c.Cluster(context.Background(), toRows(data, 4))
	require.NoError(t, err)
	ari, _ := ARI(truth, p.Labels)
	assert.InDelta(t, 1.0, ari, 1e-9)
	assert.Equal(t, 3, p.K())
}

func TestKMeansEmptyClusterRepair(t *testing.T) {
	// Two tight groups; one centre starts far from every row and wins none.
	data := []float32{0, 0, 0.1, 0, 0, 0.1, 10, 10, 10.1, 10, 10, 10.1}
	n, d, k := 6, 2, 3
	norms, err := checkMatrix(data, n, d)
	require.NoError(t, err)
	l := newLloyd(data, norms, n, d, k, 1, false)
	copy(l.cents, []float32{0, 0, 10, 10, 1000, 1000})
	require.NoError(t, l.run(context.Background(), 20, 0, nil))
	counts := make([]int, k)
	for _, c := range l.labels {
		counts[c]++
	}
	for c, v := range counts {
		assert.Positive(t, v, "cluster %d is empty", c)
	}
	assert.Less(t, float64(l.cents[4]), 100.0, "the far centre was moved onto a row")
}

func TestMargin(t *testing.T) {
	assert.Equal(t, float32(1), margin(0, 4))
	assert.Equal(t, float32(0), margin(4, 4))
	assert.InDelta(t, 0.5, margin(1, 4), 1e-6)
	assert.Equal(t, float32(1), margin(0, 0))
}

func TestKMeansErrors(t *testing.T) {
	ctx := context.Background()
	km := &KMeans{K: 3}
	_, err := km.Cluster(ctx, nil)
	require.ErrorIs(t, err, lmsys.ErrEmpty)
	_, err = km.Cluster(ctx, [][]float32{{1, 2}, {1}})
	require.ErrorIs(t, err, lmsys.ErrInvalidInput)
	_, err = km.Cluster(ctx, [][]float32{{1, 2}, {3, 4}})
	require.ErrorIs(t, err, lmsys.ErrInvalidInput, "k > n")
	_, err = km.Cluster(ctx, [][]float32{{1, 2}, {3, float32(math.NaN())}, {4, 5}})
	require.ErrorIs(t, err, lmsys.ErrInvalidInput)
	assert.Contains(t, err.Error(), "vector 1")
	_, err = (&KMeans{K: 0}).Cluster(ctx, [][]float32{{1}})
	require.ErrorIs(t, err, lmsys.ErrInvalidInput)
	_, err = (&KMeans{K: 1, Tol: -1}).Cluster(ctx, [][]float32{{1}})
	require.ErrorIs(t, err, lmsys.ErrInvalidInput)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	data, _ := blobs(1, 2000, 8, 4, 5, nil)
	_, err = (&KMeans{K: 4}).ClusterMatrix(cctx, data, 2000, 8)
	require.ErrorIs(t, err, context.Canceled)
}

// memSource streams an in-memory matrix, reusing its slices between calls as the
// Store does.
type memSource struct {
	data []float32
	d    int
}

func (s memSource) Scan(ctx context.Context, batch int, fn func([]int64, [][]float32) error) error {
	n := len(s.data) / s.d
	ids := make([]int64, 0, batch)
	buf := make([]float32, batch*s.d)
	vs := make([][]float32, 0, batch)
	for i0 := 0; i0 < n; i0 += batch {
		ids, vs = ids[:0], vs[:0]
		for i := i0; i < min(i0+batch, n); i++ {
			row := buf[(i-i0)*s.d : (i-i0+1)*s.d]
			copy(row, s.data[i*s.d:(i+1)*s.d])
			ids = append(ids, int64(i+100))
			vs = append(vs, row)
		}
		if err := fn(ids, vs); err != nil {
			return err
		}
	}
	return nil
}

func TestMiniBatchRecoversBlobs(t *testing.T) {
	ctx := context.Background()
	data, truth := blobs(21, 3000, 16, 6, 8, nil)
	for _, spherical := range []bool{false, true} {
		mb := &MiniBatch{K: 6, BatchSize: 256, ChunkSize: 700, Seed: 5, Spherical: spherical, Reservoir: 500}
		labels := make([]int, 3000)
		conf := make([]float32, 3000)
		var got int
		res, err := mb.Fit(ctx, memSource{data, 16}, func(id int64, l int, c float32) error {
			labels[id-100] = l
			conf[id-100] = c
			got++
			return nil
		})
		require.NoError(t, err)
		assert.Equal(t, 3000, got)
		assert.Equal(t, 3000, res.N)
		assert.Equal(t, 16, res.D)
		ari, _ := ARI(truth, labels)
		assert.InDelta(t, 1.0, ari, 1e-9, "spherical=%v", spherical)
		total := 0
		for _, s := range res.Sizes {
			total += s
		}
		assert.Equal(t, 3000, total)
		assert.Positive(t, res.Inertia)
	}
}

func TestMiniBatchDeterministicAndErrors(t *testing.T) {
	ctx := context.Background()
	data, _ := blobs(22, 1000, 8, 10, 1, nil)
	run := func() ([]int, float64) {
		var labels []int
		res, err := (&MiniBatch{K: 8, BatchSize: 100, ChunkSize: 300, Seed: 3}).Fit(ctx, memSource{data, 8},
			func(_ int64, l int, _ float32) error { labels = append(labels, l); return nil })
		require.NoError(t, err)
		return labels, res.Inertia
	}
	l1, in1 := run()
	l2, in2 := run()
	assert.Equal(t, l1, l2)
	assert.Equal(t, in1, in2)

	boom := fmt.Errorf("sink full")
	_, err := (&MiniBatch{K: 2}).Fit(ctx, memSource{data, 8}, func(int64, int, float32) error { return boom })
	require.ErrorIs(t, err, boom)
	_, err = (&MiniBatch{K: 2}).Fit(ctx, memSource{nil, 8}, nil)
	require.ErrorIs(t, err, lmsys.ErrEmpty)
	_, err = (&MiniBatch{K: 2000}).Fit(ctx, memSource{data, 8}, nil)
	require.ErrorIs(t, err, lmsys.ErrInvalidInput)
	ragged := SourceFunc(func(ctx context.Context, batch int, fn func([]int64, [][]float32) error) error {
		return fn([]int64{1, 2, 3}, [][]float32{{1, 2}, {3, 4}, {5}})
	})
	_, err = (&MiniBatch{K: 1}).Fit(ctx, ragged, nil)
	require.ErrorIs(t, err, lmsys.ErrInvalidInput)
	assert.Contains(t, err.Error(), "id 3")
}

func ExampleKMeans() {
	// Two obvious groups on a line.
	vectors := [][]float32{{0}, {0.1}, {0.2}, {10}, {10.1}, {10.2}}
	km := &KMeans{K: 2, Seed: 1}
	p, err := km.Cluster(context.Background(), vectors)
	if err != nil {
		panic(err)
	}
	fmt.Println(p.Labels[0] == p.Labels[2], p.Labels[0] != p.Labels[3], p.Labels[3] == p.Labels[5])
	// Output: true true true
}

func BenchmarkKMeans20kx64k50(b *testing.B) {
	data, _ := blobs(1, 20000, 64, 50, 1, nil)
	for b.Loop() {
		if _, err := (&KMeans{K: 50, Seed: 1, MaxIter: 20}).ClusterMatrix(context.Background(), data, 20000, 64); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMiniBatch20kx64k50(b *testing.B) {
	data, _ := blobs(1, 20000, 64, 50, 1, nil)
	for b.Loop() {
		if _, err := (&MiniBatch{K: 50, Seed: 1, BatchSize: 2048, ChunkSize: 8192}).Fit(context.Background(), memSource{data, 64}, nil); err != nil {
			b.Fatal(err)
		}
	}
}
