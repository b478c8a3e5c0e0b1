package clustering

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmsys-go/lmsys"
)

// halfTol is the largest error of rounding x to a half float (normal range).
func halfTol(x float32) float64 { return math.Abs(float64(x))/2048 + 1e-7 }

func TestHalfMatrixScanYieldsRowsInOrder(t *testing.T) {
	tests := []struct {
		name            string
		n, d, block, bt int
	}{
		{"one block", 10, 3, 64, 4},
		{"batches span no block", 100, 5, 16, 7},
		{"batch larger than the matrix", 9, 2, 4, 1000},
		{"default batch", 30, 8, 0, 0},
		{"one row", 1, 1, 1, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(tc.n), 5))
			hm := NewHalfMatrix(tc.d, tc.block)
			want := make([][]float32, tc.n)
			for i := range want {
				want[i] = make([]float32, tc.d)
				for j := range want[i] {
					want[i][j] = float32(r.NormFloat64() * 3)
				}
				require.NoError(t, hm.Append(int64(1000+3*i), want[i]))
			}
			assert.Equal(t, tc.n, hm.Len())
			assert.Equal(t, tc.d, hm.Dims())
			i := 0
			require.NoError(t, hm.Scan(context.Background(), tc.bt, func(ids []int64, vecs [][]float32) error {
				require.Len(t, vecs, len(ids))
				if tc.bt > 0 {
					require.LessOrEqual(t, len(ids), tc.bt)
				}
				for j, id := range ids {
					require.Equal(t, int64(1000+3*i), id)
					require.Len(t, vecs[j], tc.d)
					for p, x := range want[i] {
						require.InDelta(t, x, vecs[j][p], halfTol(x), "row %d dim %d", i, p)
					}
					i++
				}
				return nil
			}))
			assert.Equal(t, tc.n, i)
			row := make([]float32, tc.d)
			assert.Equal(t, int64(1000+3*(tc.n-1)), hm.Row(tc.n-1, row))
			assert.InDelta(t, want[tc.n-1][0], row[0], halfTol(want[tc.n-1][0]))
		})
	}
}

func TestHalfMatrixAppendRejects(t *testing.T) {
	tests := []struct {
		name string
		v    []float32
	}{
		{"wrong dimension", []float32{1}},
		{"NaN", []float32{float32(math.NaN()), 0}},
		{"infinite", []float32{0, float32(math.Inf(-1))}},
		{"beyond the half range", []float32{70000, 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hm := NewHalfMatrix(2, 4)
			require.NoError(t, hm.Append(1, []float32{65504, -1}))
			err := hm.Append(2, tc.v)
			require.ErrorIs(t, err, lmsys.ErrInvalidInput)
			assert.Contains(t, err.Error(), "id 2")
			assert.Equal(t, 1, hm.Len(), "nothing added")
		})
	}
}

func TestHalfMatrixRelease(t *testing.T) {
	hm := NewHalfMatrix(3, 2)
	for i := 0; i < 5; i++ {
		require.NoError(t, hm.Append(int64(i), []float32{1, 2, 3}))
	}
	hm.Release()
	assert.Zero(t, hm.Len())
	require.NoError(t, hm.Scan(context.Background(), 2, func([]int64, [][]float32) error {
		t.Fatal("a released matrix yields no rows")
		return nil
	}))
	require.NoError(t, hm.Append(9, []float32{4, 5, 6}), "a released matrix can be filled again")
	row := make([]float32, 3)
	assert.Equal(t, int64(9), hm.Row(0, row))
	assert.Equal(t, []float32{4, 5, 6}, row)
	hm.Release()
	hm.Release() // twice is harmless
}

func TestHalfMatrixScanStops(t *testing.T) {
	hm := NewHalfMatrix(2, 4)
	for i := 0; i < 10; i++ {
		require.NoError(t, hm.Append(int64(i), []float32{float32(i), 1}))
	}
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	err := hm.Scan(ctx, 2, func([]int64, [][]float32) error {
		calls++
		cancel()
		return nil
	})
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 1, calls)
}

// countingSource is a Source over a matrix that counts its scans.
type countingSource struct {
	data  []float32
	d     int
	scans int
}

func (s *countingSource) Scan(ctx context.Context, batch int, fn func(ids []int64, vecs [][]float32) error) error {
	s.scans++
	return SourceFunc(func(ctx context.Context, batch int, fn func([]int64, [][]float32) error) error {
		n := len(s.data) / s.d
		for i0 := 0; i0 < n; i0 += batch {
			i1 := min(i0+batch, n)
			ids := make([]int64, 0, i1-i0)
			for i := i0; i < i1; i++ {
				ids = append(ids, int64(i))
			}
			if err := fn(ids, toRows(s.data[i0*s.d:i1*s.d], s.d)); err != nil {
				return err
			}
		}
		return nil
	}).Scan(ctx, batch, fn)
}

func TestMiniBatchMatrixBudget(t *testing.T) {
	data, truth := blobs(11, 3000, 16, 6, 8, nil)
	big := make([]float32, len(data))
	copy(big, data)
	big[5] = 1e6 // beyond the half range
	const passes = 2
	tests := []struct {
		name      string
		data      []float32
		budget    int64
		spherical bool
		scans     int
		inMemory  bool
	}{
		{"default budget: one read", data, 0, false, 1, true},
		{"ample budget", data, 1 << 30, true, 1, true},
		{"budget just fits", data, HalfMatrixBytes(3000, 16), false, 1, true},
		{"a byte short: streams", data, HalfMatrixBytes(3000, 16) - 1, false, passes + 2, false},
		{"tiny budget: streams", data, 1, false, passes + 2, false},
		{"disabled", data, -1, true, passes + 2, false},
		{"value beyond the half range: streams", big, 0, false, passes + 2, false},
		{"beyond the half range but spherical: one read", big, 0, true, 1, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := &countingSource{data: tc.data, d: 16}
			mb := &MiniBatch{K: 6, BatchSize: 256, ChunkSize: 700, Passes: passes, Seed: 3, MatrixBudget: tc.budget, Spherical: tc.spherical}
			labels := make([]int, 0, 3000)
			res, err := mb.Fit(context.Background(), src, func(id int64, l int, _ float32) error {
				require.Equal(t, int64(len(labels)), id, "rows are labelled in the Source's order")
				labels = append(labels, l)
				return nil
			})
			require.NoError(t, err)
			assert.Equal(t, tc.scans, src.scans)
			assert.Equal(t, tc.inMemory, res.MatrixBytes > 0)
			assert.Equal(t, 3000, res.N)
			if &tc.data[0] == &big[0] && !tc.spherical {
				return // the far row takes a cluster of its own
			}
			ari, err := ARI(truth, labels)
			require.NoError(t, err)
			assert.Greater(t, ari, 0.99, "the planted blobs are found")
		})
	}
}

func TestMiniBatchOverHalfMatrixSource(t *testing.T) {
	data, truth := blobs(12, 1200, 8, 4, 8, nil)
	hm := NewHalfMatrix(8, 500)
	for i, v := range toRows(data, 8) {
		require.NoError(t, hm.Append(int64(i), v))
	}
	labels := make([]int, 1200)
	res, err := (&MiniBatch{K: 4, BatchSize: 128, ChunkSize: 300, Seed: 1}).Fit(context.Background(), hm, func(id int64, l int, _ float32) error {
		labels[id] = l
		return nil
	})
	require.NoError(t, err)
	assert.Zero(t, res.MatrixBytes, "a HalfMatrix source is not copied again")
	ari, err := ARI(truth, labels)
	require.NoError(t, err)
	assert.Greater(t, ari, 0.99)
}
