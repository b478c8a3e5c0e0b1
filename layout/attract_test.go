package layout

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// attractCase is a random row of P over n points: edges columns with repeats and the
// point itself allowed, probabilities of several magnitudes.
func attractCase(rng *rand.Rand, n, edges int) (y []float32, cols []int32, vals []float32) {
	y = make([]float32, 2*n)
	for i := range y {
		y[i] = float32(40 * rng.NormFloat64())
	}
	cols = make([]int32, edges)
	vals = make([]float32, edges)
	for t := range cols {
		cols[t] = int32(rng.IntN(n))
		vals[t] = float32(math.Exp(-12 * rng.Float64()))
	}
	return y, cols, vals
}

func TestAttractRow(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, edges := range []int{0, 1, 2, 7, 15, 16, 17, 31, 32, 33, 90, 181} {
		t.Run(fmt.Sprint(edges, " edges"), func(t *testing.T) {
			y, cols, vals := attractCase(rng, 50, edges)
			xi, yi := y[2*7], y[2*7+1]
			// The plain sum in float64 and edge order, to within float32 rounding.
			var wx, wy, scale float64
			for e, c := range cols {
				dx, dy := float64(xi-y[2*c]), float64(yi-y[2*c+1])
				q := float64(vals[e]) / (1 + dx*dx + dy*dy)
				wx += q * dx
				wy += q * dy
				scale += math.Abs(q) * (math.Abs(dx) + math.Abs(dy))
			}
			gx, gy := attractGo(y, cols, vals, xi, yi)
			assert.InDelta(t, wx, float64(gx), 1e-6*(scale+1e-30))
			assert.InDelta(t, wy, float64(gy), 1e-6*(scale+1e-30))
			// The vector kernel gives the portable kernel's bits, so a map does not depend
			// on the CPU it is laid out on.
			vx, vy := attractVector(y, cols, vals, xi, yi)
			assert.Equal(t, gx, vx, "x")
			assert.Equal(t, gy, vy, "y")
		})
	}
}

// TestAttractVectorKernelInUse: on a CPU with AVX-512 the descent calls the vector
// kernel. (Its bits are attractGo's, so only the function tells them apart.)
func TestAttractVectorKernelInUse(t *testing.T) {
	if !hasAVX512 {
		t.Skip("no AVX-512 on this CPU: attractGo runs")
	}
	require.Equal(t, reflect.ValueOf(attractVector).Pointer(), reflect.ValueOf(attractRow).Pointer())
}

func BenchmarkAttractRow(b *testing.B) {
	rng := rand.New(rand.NewPCG(7, 8))
	y, cols, vals := attractCase(rng, 11000, 130)
	for _, k := range []struct {
		name string
		fn   func([]float32, []int32, []float32, float32, float32) (float32, float32)
	}{{"go", attractGo}, {"vector", attractVector}} {
		b.Run(k.name, func(b *testing.B) {
			var s float32
			for b.Loop() {
				x, _ := k.fn(y, cols, vals, 0.5, -0.5)
				s += x
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(cols)), "ns/edge")
			_ = s
		})
	}
}
