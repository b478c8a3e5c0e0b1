package semantic

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/lmsys-go/lmsys"
)

// benchIndex fills idx with n random unit vectors of d values and returns 64 queries.
func benchIndex(b *testing.B, idx lmsys.VectorIndex, n, d int) [][]float32 {
	rng := rand.New(rand.NewPCG(7, 7))
	unit := func() []float32 {
		v := make([]float32, d)
		var s float64
		for j := range v {
			v[j] = float32(rng.NormFloat64())
			s += float64(v[j]) * float64(v[j])
		}
		for j := range v {
			v[j] /= float32(s)
		}
		return v
	}
	items := make([]lmsys.Vector, n)
	for i := range items {
		items[i] = lmsys.Vector{ID: fmt.Sprint(i), Values: unit()}
	}
	if err := idx.Upsert(context.Background(), "c", items); err != nil {
		b.Fatal(err)
	}
	qs := make([][]float32, 64)
	for i := range qs {
		qs[i] = unit()
	}
	return qs
}

// BenchmarkExactSearch_20kx512 is a brute-force top-10 scan, the four-row dot kernel's
// hot loop.
func BenchmarkExactSearch_20kx512(b *testing.B) {
	idx := NewExact()
	qs := benchIndex(b, idx, 20000, 512)
	i := 0
	for b.Loop() {
		if _, err := idx.Search(context.Background(), "c", qs[i%len(qs)], 10, lmsys.Filter{}); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkHNSWSearch_10kx512 is a graph search, one dot product per visited node.
func BenchmarkHNSWSearch_10kx512(b *testing.B) {
	idx := NewHNSW(HNSWOptions{Seed: 1})
	qs := benchIndex(b, idx, 10000, 512)
	i := 0
	for b.Loop() {
		if _, err := idx.Search(context.Background(), "c", qs[i%len(qs)], 10, lmsys.Filter{}); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
