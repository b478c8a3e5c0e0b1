package clustering

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmsys-go/lmsys"
)

// fakeEmbeddings implements the one EmbeddingStore method StoreSource calls.
type fakeEmbeddings struct {
	lmsys.EmbeddingStore
	space lmsys.Space
	f     lmsys.QueryFilter
	batch int
}

func (s *fakeEmbeddings) ScanQueryVectors(ctx context.Context, space lmsys.Space, f lmsys.QueryFilter, batch int, fn func([]int64, [][]float32) error) error {
	s.space, s.f, s.batch = space, f, batch
	return fn([]int64{1, 2, 3, 4}, [][]float32{{0, 0}, {0, 0.1}, {5, 5}, {5, 5.1}})
}

func TestStoreSourceFeedsMiniBatch(t *testing.T) {
	st := &fakeEmbeddings{}
	space := lmsys.Space{Provider: "local", Model: "m", Dims: 2}
	src := StoreSource(st, space, lmsys.QueryFilter{Dataset: "d"})
	got := map[int64]int{}
	res, err := (&MiniBatch{K: 2, ChunkSize: 100, Seed: 1}).Fit(context.Background(), src, func(id int64, l int, _ float32) error {
		got[id] = l
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, space, st.space)
	assert.Equal(t, "d", st.f.Dataset)
	assert.Equal(t, 100, st.batch)
	assert.Equal(t, got[1], got[2])
	assert.Equal(t, got[3], got[4])
	assert.NotEqual(t, got[1], got[3])
	assert.Equal(t, []int{2, 2}, res.Sizes)
}

func TestRankOutliers(t *testing.T) {
	p := lmsys.Partition{Labels: []int{0, -1, 1, 0}, Outlier: []float32{0.1, 0.2, 0.9, 0.5}}
	assert.Equal(t, []int{1, 2, 3, 0}, RankOutliers(p, 0))
	assert.Equal(t, []int{1, 2}, RankOutliers(p, 2))
	q := lmsys.Partition{Labels: []int{0, 0, 1}, Confidence: []float32{0.9, 0.1, 0.5}}
	assert.Equal(t, []int{1, 2, 0}, RankOutliers(q, 5))
}

func TestScanAhead(t *testing.T) {
	rows := func(n int) *countingSource {
		data := make([]float32, 2*n)
		for i := range data {
			data[i] = float32(i)
		}
		return &countingSource{data: data, d: 2}
	}
	boom := errors.New("boom")
	tests := []struct {
		name    string
		n       int
		failAt  int // fn fails on this call (0: never)
		want    error
		calls   int
		rowsOut int
	}{
		{"all rows in order", 25, 0, nil, 7, 25},
		{"no rows", 0, 0, nil, 0, 0},
		{"fn fails", 25, 3, boom, 3, 12},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := rows(tc.n)
			calls, seen := 0, 0
			err := scanAhead(context.Background(), src, 4, func(ids []int64, vecs [][]float32) error {
				calls++
				for j, id := range ids {
					require.Equal(t, int64(seen), id)
					require.Equal(t, []float32{float32(2 * seen), float32(2*seen + 1)}, vecs[j])
					seen++
				}
				if calls == tc.failAt {
					return boom
				}
				return nil
			})
			require.ErrorIs(t, err, tc.want)
			if tc.want == nil {
				require.NoError(t, err)
			}
			assert.Equal(t, tc.calls, calls)
			assert.Equal(t, tc.rowsOut, seen)
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := scanAhead(ctx, rows(10), 4, func([]int64, [][]float32) error { return nil })
	assert.ErrorIs(t, err, context.Canceled, "a cancelled context stops the scan")
}
