package semantic

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/lmsys-go/lmsys"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestIndexSwitchesKindAndPersists(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	x, err := OpenIndex(ctx, IndexOptions{Dir: dir, HNSWThreshold: 500, HNSW: HNSWOptions{M: 8, EfConstruction: 64, Workers: 1}})
	require.NoError(t, err)
	data := blobs(900, 16, 6, 4)
	require.NoError(t, x.Upsert(ctx, "queries_x", data[:300]))
	require.NoError(t, x.Upsert(ctx, "small", data[:10]))
	info, err := x.Info(ctx)
	require.NoError(t, err)
	require.Len(t, info, 2)
	assert.Equal(t, CollectionInfo{Name: "queries_x", Kind: KindExact, Count: 300, Dims: 16}, info[0])

	require.NoError(t, x.Upsert(ctx, "queries_x", data[300:]))
	info, err = x.Info(ctx)
	require.NoError(t, err)
	assert.Equal(t, KindHNSW, info[0].Kind, "crossing the threshold moves the collection to HNSW")
	assert.Equal(t, 900, info[0].Count)
	require.NoError(t, x.Delete(ctx, "queries_x", []string{"v0", "v1"}))
	want, err := x.Search(ctx, "queries_x", data[5].Values, 10, lmsys.Filter{})
	require.NoError(t, err)
	assert.Equal(t, "v5", want[0].ID)
	require.NoError(t, x.Flush(ctx))
	_, err = os.Stat(filepath.Join(dir, "queries_x.vec"))
	require.NoError(t, err)

	// A new process: collections are listed from files, loaded on first use.
	y, err := OpenIndex(ctx, IndexOptions{Dir: dir, HNSWThreshold: 500})
	require.NoError(t, err)
	info, err = y.Info(ctx)
	require.NoError(t, err)
	require.Len(t, info, 2)
	assert.Equal(t, "queries_x", info[0].Name)
	assert.Equal(t, KindHNSW, info[0].Kind)
	assert.Equal(t, 898, info[0].Count)
	assert.Equal(t, 16, info[0].Dims)
	assert.True(t, info[0].Saved)
	assert.Positive(t, info[0].Bytes)
	got, err := y.Search(ctx, "queries_x", data[5].Values, 10, lmsys.Filter{})
	require.NoError(t, err)
	assert.Equal(t, want, got)
	n, err := y.Count(ctx, "small")
	require.NoError(t, err)
	assert.Equal(t, 10, n)
	_, err = y.Search(ctx, "nope", data[0].Values, 1, lmsys.Filter{})
	assert.ErrorIs(t, err, lmsys.ErrNotFound)

	// Forcing exact reads the HNSW file into the exact index; results stay right.
	z, err := OpenIndex(ctx, IndexOptions{Dir: dir, Kind: KindExact})
	require.NoError(t, err)
	got, err = z.Search(ctx, "queries_x", data[5].Values, 10, lmsys.Filter{})
	require.NoError(t, err)
	assert.Equal(t, bruteForce(data[2:], data[5].Values, 10, lmsys.Filter{}), hitIDs(got))
	require.NoError(t, z.Drop(ctx, "small"))
	_, err = os.Stat(filepath.Join(dir, "small.vec"))
	assert.ErrorIs(t, err, os.ErrNotExist)

	// A corrupt file is a clear error on first use, not a panic or an empty result.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "broken.vec"), []byte("LMSYSVI1garbage"), 0o644))
	w, err := OpenIndex(ctx, IndexOptions{Dir: dir})
	require.NoError(t, err)
	_, err = w.Count(ctx, "broken")
	assert.ErrorIs(t, err, lmsys.ErrInvalidInput)
	_, err = OpenIndex(ctx, IndexOptions{Kind: "faiss"})
	assert.ErrorIs(t, err, lmsys.ErrInvalidInput)
}

func TestIndexForcedHNSWInMemory(t *testing.T) {
	ctx := context.Background()
	x, err := OpenIndex(ctx, IndexOptions{Kind: KindHNSW})
	require.NoError(t, err)
	require.NoError(t, x.Upsert(ctx, "c", blobs(50, 8, 2, 1)))
	info, err := x.Info(ctx)
	require.NoError(t, err)
	assert.Equal(t, KindHNSW, info[0].Kind)
	require.NoError(t, x.Flush(ctx), "no directory: nothing to write")
}
