package semantic

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestDotKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 100, 256, 257, 1536} {
		a := make([]float32, n)
		rows := make([]float32, 4*(n+3)+1)
		for i := range a {
			a[i] = rng.Float32()*2 - 1
		}
		for i := range rows {
			rows[i] = rng.Float32()*2 - 1
		}
		want := dotGeneric(a, rows[:n])
		assert.InDelta(t, want, dot(a, rows[:n]), 1e-4, "dot n=%d", n)
		if n == 0 {
			continue
		}
		var got [4]float32
		dot4(a, rows, n+3, &got)
		for r := 0; r < 4; r++ {
			assert.InDelta(t, dotGeneric(a, rows[r*(n+3):r*(n+3)+n]), got[r], 1e-4, "dot4 n=%d row=%d", n, r)
		}
	}
}

func BenchmarkDot256(b *testing.B) {
	x := make([]float32, 256)
	y := make([]float32, 256)
	for i := range x {
		x[i], y[i] = float32(i), float32(256-i)
	}
	var s float32
	for b.Loop() {
		s += dot(x, y)
	}
	_ = s
}

func BenchmarkDot256Generic(b *testing.B) {
	x := make([]float32, 256)
	y := make([]float32, 256)
	for i := range x {
		x[i], y[i] = float32(i), float32(256-i)
	}
	var s float32
	for b.Loop() {
		s += dotGeneric(x, y)
	}
	_ = s
}
