package embed

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/lmsys-go/lmsys"
)

// CachedEmbedder is an Embedder that keeps its vectors in an EmbeddingStore. Make one
// with Cached.
type CachedEmbedder struct {
	e      lmsys.Embedder
	s      lmsys.EmbeddingStore
	hits   atomic.Int64
	misses atomic.Int64
}

// Cached returns an Embedder that looks texts up in s by (e.Space(), lmsys.TextHash)
// before embedding: only texts not stored are embedded, each distinct text of a call
// once, and the new vectors are stored. Vectors are cached for PurposeClustering (what
// stored queries are embedded for); other purposes go straight to e, since some
// providers embed search queries and documents differently.
func Cached(e lmsys.Embedder, s lmsys.EmbeddingStore) *CachedEmbedder {
	return &CachedEmbedder{e: e, s: s}
}

// Space returns the wrapped embedder's space.
func (c *CachedEmbedder) Space() lmsys.Space { return c.e.Space() }

// Unwrap returns the wrapped embedder.
func (c *CachedEmbedder) Unwrap() lmsys.Embedder { return c.e }

// Stats returns how many texts were served from the store (hits, duplicates within a
// call included) and how many were embedded (misses) so far.
func (c *CachedEmbedder) Stats() (hits, misses int64) { return c.hits.Load(), c.misses.Load() }

// Embed returns one vector per text, from the store when it has one.
func (c *CachedEmbedder) Embed(ctx context.Context, texts []string, p lmsys.Purpose) ([][]float32, error) {
	if p != lmsys.PurposeClustering {
		return c.e.Embed(ctx, texts, p)
	}
	space := c.e.Space()
	hashes := make([]string, len(texts))
	first := make(map[string]int, len(texts)) // hash → index of its first text
	var unique []string
	for i, t := range texts {
		h := lmsys.TextHash(t)
		hashes[i] = h
		if _, ok := first[h]; !ok {
			first[h] = i
			unique = append(unique, h)
		}
	}
	have, err := c.s.GetEmbeddings(ctx, space, unique)
	if err != nil {
		return nil, fmt.Errorf("embed: cache lookup in %s: %w", space, err)
	}
	var missTexts, missHashes []string
	for _, h := range unique {
		if _, ok := have[h]; !ok {
			missTexts = append(missTexts, texts[first[h]])
			missHashes = append(missHashes, h)
		}
	}
	if len(missTexts) > 0 {
		vecs, err := c.e.Embed(ctx, missTexts, p)
		if err != nil {
			return nil, err
		}
		if err := checkVectors(space, vecs, len(missTexts)); err != nil {
			return nil, err
		}
		fresh := make(map[string][]float32, len(vecs))
		for i, v := range vecs {
			fresh[missHashes[i]] = v
			have[missHashes[i]] = v
		}
		if err := c.s.PutEmbeddings(ctx, space, fresh); err != nil {
			return nil, fmt.Errorf("embed: cache store in %s: %w", space, err)
		}
	}
	out := make([][]float32, len(texts))
	for i, h := range hashes {
		v := have[h]
		if first[h] != i {
			v = append([]float32(nil), v...) // callers may modify their vectors
		}
		out[i] = v
	}
	c.misses.Add(int64(len(missTexts)))
	c.hits.Add(int64(len(texts) - len(missTexts)))
	return out, nil
}

// checkVectors verifies that an embedder kept its promise of n vectors of its space's
// dimension; anything else would store vectors of one space under another.
func checkVectors(space lmsys.Space, vecs [][]float32, n int) error {
	if len(vecs) != n {
		return fmt.Errorf("%w: %s returned %d vectors for %d texts", lmsys.ErrProvider, space, len(vecs), n)
	}
	for i, v := range vecs {
		if len(v) != space.Dims {
			return fmt.Errorf("%w: %s returned a vector of %d dims for text %d", lmsys.ErrSpaceMismatch, space, len(v), i)
		}
	}
	return nil
}
