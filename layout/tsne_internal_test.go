package layout

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// clustered returns n points in 2-D around 12 centres spread over a square of the
// given side, as a t-SNE map looks part way through.
func clustered(n int, side float64, seed uint64) []float64 {
	rng := rand.New(rand.NewPCG(seed, 3))
	cs := make([]float64, 24)
	for i := range cs {
		cs[i] = (rng.Float64() - 0.5) * side
	}
	y := make([]float64, 2*n)
	for i := range n {
		c := i % 12
		y[2*i] = cs[2*c] + rng.NormFloat64()*side/30
		y[2*i+1] = cs[2*c+1] + rng.NormFloat64()*side/30
	}
	return y
}

// relErr is ‖a/za − b/zb‖ / ‖b/zb‖.
func relErr(a []float64, za float64, b []float64, zb float64) float64 {
	num, den := 0.0, 0.0
	for i := range a {
		d := a[i]/za - b[i]/zb
		num += d * d
		den += b[i] / zb * b[i] / zb
	}
	return math.Sqrt(num / den)
}

// TestFFTRepulsionMatchesExact compares the interpolated repulsion with the sum over
// every pair, from a map far smaller than a node spacing to one of many boxes; a
// finer grid must come closer. The errors at the default spacing are those of tight
// clusters, where the near field dominates (measured: 3 % at side 5, 15–20 % at 40
// and 120; 0.3 % at spacing 0.2); a wrong sign or factor would be off by 100 % or more.
func TestFFTRepulsionMatchesExact(t *testing.T) {
	cases := []struct {
		side, spacing, maxErr, maxZ float64
	}{
		{1e-3, nodeSpacing, 1e-9, 1e-9},
		{5, nodeSpacing, 0.06, 0.01},
		{40, nodeSpacing, 0.3, 0.02},
		{40, 0.2, 0.006, 3e-4},
		{120, nodeSpacing, 0.3, 0.05},
	}
	for _, tc := range cases {
		y := clustered(600, tc.side, 1)
		want := make([]float64, len(y))
		zw := exactRepulsion(y, want, make([]float64, len(y)/2), 1)
		for _, workers := range []int{1, 2} {
			r := newFFTRepulsion(600, workers, 3, tc.spacing)
			got := make([]float64, len(y))
			zg := r.gradient(y, got)
			assert.InDelta(t, 1, zg/zw, tc.maxZ, "Z, side %g spacing %g", tc.side, tc.spacing)
			assert.Less(t, relErr(got, zg, want, zw), tc.maxErr, "side %g spacing %g", tc.side, tc.spacing)
			again := make([]float64, len(y))
			assert.Equal(t, zg, r.gradient(y, again))
			assert.Equal(t, got, again, "a second call, the kernel's transform kept")
		}
	}
}

// TestFFTRepulsionIsTheSameOnAnyWorkers: the forces are byte-equal for any number of
// goroutines.
func TestFFTRepulsionIsTheSameOnAnyWorkers(t *testing.T) {
	y := clustered(2000, 60, 2)
	one := make([]float64, len(y))
	z1 := newFFTRepulsion(2000, 1, 3, nodeSpacing).gradient(y, one)
	for _, w := range []int{2, 3, 8} {
		many := make([]float64, len(y))
		zm := newFFTRepulsion(2000, w, 3, nodeSpacing).gradient(y, many)
		require.Equal(t, z1, zm, "%d workers", w)
		require.Equal(t, one, many, "%d workers", w)
	}
}

// TestConditionalHitsThePerplexity: each row's probabilities sum to one and have
// the entropy asked for.
func TestConditionalHitsThePerplexity(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 5))
	for _, perp := range []float64{2, 10, 30} {
		d2 := make([]float64, 90)
		for i := range d2 {
			d2[i] = 0.5 + rng.Float64()
		}
		w := make([]float64, len(d2))
		conditional(d2, math.Log(perp), w)
		sum, h := 0.0, 0.0
		for _, p := range w {
			sum += p
			if p > 0 {
				h -= p * math.Log(p)
			}
		}
		assert.InDelta(t, 1, sum, 1e-9)
		assert.InDelta(t, perp, math.Exp(h), perp*1e-3, "perplexity %g", perp)
	}
}

func BenchmarkFFTRepulsion(b *testing.B) {
	for _, side := range []float64{40, 100} {
		b.Run(fmtSide(side), func(b *testing.B) {
			y := clustered(11106, side, 1)
			r := newFFTRepulsion(11106, 2, 3, nodeSpacing)
			rep := make([]float64, len(y))
			r.gradient(y, rep)
			for b.Loop() {
				r.gradient(y, rep)
			}
		})
	}
}

func fmtSide(s float64) string {
	return "side" + string(rune('0'+int(s)/100)) + string(rune('0'+int(s)/10%10)) + string(rune('0'+int(s)%10))
}

// BenchmarkSmallRepulsion compares the exact sum with the grid near exactRepulsionLimit.
func BenchmarkSmallRepulsion(b *testing.B) {
	for _, n := range []int{250, 1000, 2000} {
		y := clustered(n, 40, 1)
		rep := make([]float64, len(y))
		b.Run(fmt.Sprintf("exact-%d", n), func(b *testing.B) {
			zs := make([]float64, n)
			for b.Loop() {
				exactRepulsion(y, rep, zs, 2)
			}
		})
		b.Run(fmt.Sprintf("grid-%d", n), func(b *testing.B) {
			r := newFFTRepulsion(n, 2, 3, nodeSpacing)
			for b.Loop() {
				r.gradient(y, rep)
			}
		})
	}
}

// TestGridTransform checks the 2-D transform against the plain sum
// X(u, v) = Σ x(a, b)·exp(−2πi(ua + vb)/L), and that inverse undoes it (times L²) on
// the rows it computes, for several sides and worker counts.
func TestGridTransform(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, tc := range []struct{ L, boxes, workers int }{{32, 5, 1}, {32, 5, 3}, {64, 10, 2}} {
		r := newFFTRepulsion(1, tc.workers, 3, nodeSpacing)
		r.resize(tc.L, tc.boxes)
		L, rows := tc.L, r.nodes
		x := make([]complex128, L*L)
		for a := range rows {
			for b := range L {
				x[a*L+b] = complex(rng.NormFloat64(), rng.NormFloat64())
			}
		}
		orig := append([]complex128(nil), x...)
		r.forward(x, rows)
		for _, uv := range [][2]int{{0, 0}, {1, 0}, {0, 1}, {3, 7}, {L - 1, L / 2}, {L / 2, L - 3}} {
			var want complex128
			for a := range L {
				for b := range L {
					s, c := math.Sincos(-2 * math.Pi * float64(uv[0]*a+uv[1]*b) / float64(L))
					want += orig[a*L+b] * complex(c, s)
				}
			}
			got := x[uv[0]*L+uv[1]]
			assert.InDelta(t, real(want), real(got), 1e-9*float64(L*L), "L %d (%d, %d)", L, uv[0], uv[1])
			assert.InDelta(t, imag(want), imag(got), 1e-9*float64(L*L), "L %d (%d, %d)", L, uv[0], uv[1])
		}
		r.inverse(x)
		for a := range rows {
			for b := range L {
				d := x[a*L+b]/complex(float64(L*L), 0) - orig[a*L+b]
				require.Less(t, math.Hypot(real(d), imag(d)), 1e-12, "L %d (%d, %d)", L, a, b)
			}
		}
	}
}

// TestButterflies: the vector butterflies give the portable loop's bits, for band
// widths with and without a tail.
func TestButterflies(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for _, n := range []int{0, 1, 3, 4, 5, 8, 64, 67} {
		top, bot := make([]complex128, n), make([]complex128, n)
		for c := range top {
			top[c] = complex(rng.NormFloat64(), rng.NormFloat64())
			bot[c] = complex(1e3*rng.NormFloat64(), 1e-3*rng.NormFloat64())
		}
		w := complex(math.Cos(0.7), -math.Sin(0.7))
		wantT, wantB := slices.Clone(top), slices.Clone(bot)
		butterfliesGo(wantT, wantB, w)
		butterflies(top, bot, w)
		require.Equal(t, wantT, top, "n %d", n)
		require.Equal(t, wantB, bot, "n %d", n)
	}
}
