package semantic

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/lmsys-go/lmsys"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHNSWSaveLoadRoundTrip(t *testing.T) {
	ctx := context.Background()
	size := 2000
	if testing.Short() {
		size = 800 // still several levels and full neighbour lists at M=8
	}
	data := blobs(size, 24, 8, 21)
	h := NewHNSW(HNSWOptions{M: 8, EfConstruction: 64, RebuildRatio: 0.9})
	require.NoError(t, h.Upsert(ctx, "c", data))
	require.NoError(t, h.Delete(ctx, "c", []string{"v3", "v7"}))
	path := filepath.Join(t.TempDir(), "c.vec")
	require.NoError(t, h.SaveCollection(ctx, "c", path))

	h2 := NewHNSW(HNSWOptions{M: 8})
	require.NoError(t, h2.LoadCollection(ctx, "c", path))
	g1, g2 := h.coll("c", false).g, h2.coll("c", false).g
	assert.Equal(t, g1.levels, g2.levels)
	assert.Equal(t, g1.links0, g2.links0)
	assert.Equal(t, g1.entry, g2.entry)
	assert.Equal(t, g1.s.vecs, g2.s.vecs)
	assert.Equal(t, g1.s.dead, g2.s.dead)
	n, err := h2.Count(ctx, "c")
	require.NoError(t, err)
	assert.Equal(t, size-2, n)
	for _, q := range perturbedQueries(data, 20, 4) {
		a, err := h.Search(ctx, "c", q, 10, lmsys.Filter{Where: map[string]string{"parity": "1"}})
		require.NoError(t, err)
		b, err := h2.Search(ctx, "c", q, 10, lmsys.Filter{Where: map[string]string{"parity": "1"}})
		require.NoError(t, err)
		assert.Equal(t, a, b, "same graph, same answers, metadata and documents included")
	}

	// The same file loads into the exact index (tombstones dropped), and an exact
	// file loads into HNSW (graph built on load).
	e := NewExact()
	require.NoError(t, e.LoadCollection(ctx, "c", path))
	n, _ = e.Count(ctx, "c")
	assert.Equal(t, size-2, n)
	epath := filepath.Join(t.TempDir(), "e.vec")
	require.NoError(t, e.SaveCollection(ctx, "c", epath))
	h3 := NewHNSW(HNSWOptions{})
	require.NoError(t, h3.LoadCollection(ctx, "c", epath))
	n, _ = h3.Count(ctx, "c")
	assert.Equal(t, size-2, n)
	hdr, err := readHeader(epath)
	require.NoError(t, err)
	assert.Equal(t, fileHeader{Kind: kindExact, Dims: 24, Rows: uint32(size - 2), Live: uint32(size - 2), Entry: -1}, hdr)

	// Empty collections round-trip and learn their dimension again.
	require.NoError(t, e.Upsert(ctx, "tiny", []lmsys.Vector{{ID: "a", Values: []float32{1, 2}}}))
	require.NoError(t, e.Delete(ctx, "tiny", []string{"a"}))
	tpath := filepath.Join(t.TempDir(), "tiny.vec")
	require.NoError(t, e.SaveCollection(ctx, "tiny", tpath))
	require.NoError(t, h3.LoadCollection(ctx, "tiny", tpath))
	require.NoError(t, h3.Upsert(ctx, "tiny", []lmsys.Vector{{ID: "b", Values: []float32{1, 2, 3}}}))
}

func TestLoadRejectsCorruptFiles(t *testing.T) {
	ctx := context.Background()
	h := NewHNSW(HNSWOptions{M: 4, EfConstruction: 16})
	require.NoError(t, h.Upsert(ctx, "c", blobs(300, 8, 3, 2)))
	dir := t.TempDir()
	good := filepath.Join(dir, "good.vec")
	require.NoError(t, h.SaveCollection(ctx, "c", good))
	raw, err := os.ReadFile(good)
	require.NoError(t, err)

	flip := func(off int) []byte {
		b := bytes.Clone(raw)
		b[off] ^= 0x40
		return b
	}
	cases := map[string][]byte{
		"empty":          {},
		"magic":          flip(0),
		"header dims":    flip(10),
		"vector byte":    flip(headerSize + 100),
		"row section":    flip(headerSize + 300*8*4 + 5),
		"graph section":  flip(len(raw) - 40),
		"checksum":       flip(len(raw) - 1),
		"truncated":      raw[:len(raw)-9],
		"truncated tiny": raw[:20],
		"trailing":       append(bytes.Clone(raw), 0),
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(dir, "bad.vec")
			require.NoError(t, os.WriteFile(p, b, 0o644))
			err := NewHNSW(HNSWOptions{}).LoadCollection(ctx, "c", p)
			require.Error(t, err)
			assert.ErrorIs(t, err, lmsys.ErrInvalidInput)
			assert.Contains(t, err.Error(), p)
			assert.ErrorIs(t, NewExact().LoadCollection(ctx, "c", p), lmsys.ErrInvalidInput)
		})
	}
	err = NewExact().LoadCollection(ctx, "c", filepath.Join(dir, "missing.vec"))
	assert.ErrorIs(t, err, lmsys.ErrNotFound)
}

func FuzzReadCollection(f *testing.F) {
	h := NewHNSW(HNSWOptions{M: 4, EfConstruction: 8})
	require.NoError(f, h.Upsert(context.Background(), "c", blobs(20, 4, 2, 2)))
	var buf bytes.Buffer
	require.NoError(f, writeCollection(&buf, h.coll("c", false).g.s, h.coll("c", false).g))
	f.Add(buf.Bytes())
	f.Add([]byte(fileMagic))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, g, err := readCollection(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		// Whatever loads must be searchable without panicking.
		if g != nil && s.live() > 0 {
			q := make([]float32, s.dims)
			q[0] = 1
			g.search(q, 3, 8, nil)
		}
	})
}

func TestLoadRejectsInconsistentGraph(t *testing.T) {
	// A file with a valid checksum whose graph is wrong (as a buggy writer could make)
	// must still be refused, not panic later in a search.
	ctx := context.Background()
	h := NewHNSW(HNSWOptions{M: 4, EfConstruction: 16})
	require.NoError(t, h.Upsert(ctx, "c", blobs(400, 8, 3, 2)))
	g := h.coll("c", false).g
	var top, flat uint32 = 0, 0
	for v, l := range g.levels {
		if l >= 1 && g.links(uint32(v), 1)[0] > 0 {
			top = uint32(v)
		}
		if l == 0 {
			flat = uint32(v)
		}
	}
	g.links(top, 1)[1] = flat
	var buf bytes.Buffer
	require.NoError(t, writeCollection(&buf, g.s, g))
	_, _, err := readCollection(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "only on layers")
}
