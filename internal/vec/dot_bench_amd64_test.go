//go:build !purego

package vec

import (
	"math/rand/v2"
	"testing"
	"unsafe"
)

// BenchmarkDotRows512 measures one 512-float dot product of a query with a row of a
// 100,000-row matrix (200 MB, beyond the caches) picked at random, as an HNSW search
// reads its neighbours, and with one of 16 rows that stay in cache, for each loop the
// CPU can run.
func BenchmarkDotRows512(b *testing.B) {
	const n, d = 100000, 512
	rng := rand.New(rand.NewPCG(1, 2))
	m := uniform(rng, n*d)
	q := m[:d]
	pick := make([]int, 1<<16)
	for i := range pick {
		pick[i] = rng.IntN(n)
	}
	kernels := []struct {
		name string
		ok   bool
		f    func(a, b *float32, n int) float32
	}{{"avx2", useAVX2, dotAVX2}, {"avx512", useAVX512, dotAVX512}}
	for _, k := range kernels {
		if !k.ok {
			continue
		}
		b.Run(k.name+"/memory", func(b *testing.B) {
			var s float32
			for i := 0; i < b.N; i++ {
				s += k.f(unsafe.SliceData(q), &m[pick[i&(len(pick)-1)]*d], d)
			}
			_ = s
		})
		b.Run(k.name+"/cache", func(b *testing.B) {
			var s float32
			for i := 0; i < b.N; i++ {
				s += k.f(unsafe.SliceData(q), &m[(i&15)*d], d)
			}
			_ = s
		})
	}
}
