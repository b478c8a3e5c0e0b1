package search_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"testing"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/search"
	"github.com/lmsys-go/lmsys/semantic"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recordingIndex records what reaches the queries collection: each upsert's size,
// a copy of every vector as it was during the call, and the Reserve count. It fails
// the queries upsert numbered failAt (from 1) when failAt > 0.
type recordingIndex struct {
	*semantic.Index
	coll     string
	failAt   int
	calls    int
	sizes    []int
	vecs     map[string][]float32
	reserved int
}

var errUpsert = errors.New("upsert failed")

func (r *recordingIndex) Upsert(ctx context.Context, collection string, its []lmsys.Vector) error {
	if collection == r.coll {
		r.calls++
		if r.calls == r.failAt {
			return errUpsert
		}
		r.sizes = append(r.sizes, len(its))
		for _, it := range its {
			r.vecs[it.ID] = slices.Clone(it.Values)
		}
	}
	return r.Index.Upsert(ctx, collection, its)
}

func (r *recordingIndex) Reserve(ctx context.Context, collection string, n int) error {
	if collection == r.coll {
		r.reserved = n
	}
	return r.Index.Reserve(ctx, collection, n)
}

func TestSyncStreamsVectorsInBatches(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	want := map[string][]float32{}
	require.NoError(t, f.db.ScanQueryVectors(ctx, space, lmsys.QueryFilter{}, 100, func(ids []int64, vecs [][]float32) error {
		for i, id := range ids {
			want["query_"+strconv.FormatInt(id, 10)] = slices.Clone(vecs[i])
		}
		return nil
	}))
	require.Len(t, want, 24)
	cases := []struct {
		name      string
		batch     int
		failAt    int
		wantSizes []int
	}{
		{"one batch", 2000, 0, []int{24}},
		{"batches reuse their buffers", 5, 0, []int{5, 5, 5, 5, 4}},
		{"one per batch", 1, 0, slices.Repeat([]int{1}, 24)},
		{"a failed upsert stops the sync", 5, 2, []int{5}},
		{"a failed last upsert is reported", 5, 5, []int{5, 5, 5, 5}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			idx, err := semantic.OpenIndex(ctx, semantic.IndexOptions{Dir: t.TempDir()})
			require.NoError(t, err)
			rec := &recordingIndex{Index: idx, coll: space.Collection(search.KindQueries), failAt: c.failAt, vecs: map[string][]float32{}}
			svc := search.New(f.db, rec, search.Options{BatchSize: c.batch})
			_, err = svc.Sync(ctx, runID)
			assert.Equal(t, 24, rec.reserved, "the sync announces how many vectors come")
			assert.Equal(t, c.wantSizes, rec.sizes)
			if c.failAt > 0 {
				require.ErrorIs(t, err, errUpsert)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, want, rec.vecs, "every vector arrives intact, none overwritten by a later batch")
			n, err := idx.Count(ctx, rec.coll)
			require.NoError(t, err)
			assert.Equal(t, 24, n)
		})
	}
}
