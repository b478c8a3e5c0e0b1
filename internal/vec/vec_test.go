package vec

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func randMat(r *rand.Rand, n, d int) []float32 {
	m := make([]float32, n*d)
	for i := range m {
		m[i] = float32(r.NormFloat64())
	}
	return m
}

func naiveDot(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

func TestScalarKernels(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 3, 4, 7, 64, 131} {
		a, b := randMat(r, 1, n), randMat(r, 1, n)
		assert.InDelta(t, naiveDot(a, b), float64(Dot(a, b)), 1e-4*float64(n+1), "dot n=%d", n)
		assert.InDelta(t, naiveDot(a, a), float64(SqNorm(a)), 1e-4*float64(n+1), "sqnorm n=%d", n)
		var sd float64
		for i := range a {
			sd += float64(a[i]-b[i]) * float64(a[i]-b[i])
		}
		assert.InDelta(t, sd, float64(SqDist(a, b)), 1e-4*float64(n+1), "sqdist n=%d", n)
	}
	a := []float32{3, 4}
	assert.InDelta(t, 5, Normalize(a), 1e-6)
	assert.InDeltaSlice(t, []float32{0.6, 0.8}, a, 1e-6)
	z := []float32{0, 0}
	assert.Equal(t, float32(0), Normalize(z))
	assert.Equal(t, []float32{0, 0}, z)
	y := []float32{1, 1}
	Axpy(2, []float32{1, 2}, y)
	assert.Equal(t, []float32{3, 5}, y)
	m := []float32{3, 4, 0, 2}
	NormalizeRows(m, 2)
	assert.InDeltaSlice(t, []float32{0.6, 0.8, 0, 1}, m, 1e-6)
	norms := make([]float32, 2)
	RowSqNorms(norms, []float32{1, 2, 3, 4}, 2)
	assert.Equal(t, []float32{5, 25}, norms)
}

func TestMatMulT(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	cases := []struct{ m, n, d int }{
		{1, 1, 1}, {3, 5, 7}, {64, 4, 16}, {65, 9, 300}, {130, 33, 513}, {200, 200, 64},
	}
	for _, c := range cases {
		a, b := randMat(r, c.m, c.d), randMat(r, c.n, c.d)
		out := make([]float32, c.m*c.n)
		MatMulT(out, a, c.m, b, c.n, c.d)
		for i := 0; i < c.m; i++ {
			for j := 0; j < c.n; j++ {
				want := naiveDot(a[i*c.d:(i+1)*c.d], b[j*c.d:(j+1)*c.d])
				require.InDelta(t, want, float64(out[i*c.n+j]), 1e-3*math.Sqrt(float64(c.d)), "%+v at %d,%d", c, i, j)
			}
		}
	}
}

func TestDistancesAndNearest(t *testing.T) {
	// With an AVX-512 GEMM kernel in use the products go through GEMM, otherwise
	// through the 4×16 panel kernel: every kernel this CPU has is tried.
	eachGEMMKernel(t, testDistancesAndNearest)
}

// eachGEMMKernel runs fn as a subtest under every GEMM kernel this CPU has, and puts
// the fastest back in use afterwards.
func eachGEMMKernel(t *testing.T, fn func(t *testing.T)) {
	kernels := GEMMKernels()
	defer UseGEMMKernel(kernels[len(kernels)-1])
	for _, kern := range kernels {
		t.Run(kern.Name, func(t *testing.T) {
			UseGEMMKernel(kern)
			fn(t)
		})
	}
}

// TestSelfDistances: the blocks cover each pair j ≥ I0 of every row once, with the
// distances Distances gives, under every GEMM kernel this CPU has.
func TestSelfDistances(t *testing.T) {
	eachGEMMKernel(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(7, 8))
		for _, c := range []struct{ n, d int }{{1, 3}, {smallPanel, 5}, {63, 17}, {64, 8}, {65, 33}, {300, 512}} {
			x := randMat(r, c.n, c.d)
			p := NewPanel(x, c.n, c.d)
			seen := make([]int, c.n*c.n)
			for _, workers := range []int{1, 3} {
				clear(seen)
				err := p.SelfDistances(context.Background(), x, workers, func(bl *Block) error {
					require.Equal(t, bl.I0, bl.J0)
					for i := bl.I0; i < bl.I1; i++ {
						row := bl.Row(i)
						require.Len(t, row, c.n-bl.J0)
						for t2, v := range row {
							j := bl.J0 + t2
							seen[i*c.n+j]++
							want := SqDist(x[i*c.d:(i+1)*c.d], x[j*c.d:(j+1)*c.d])
							if math.Abs(float64(v-want)) > 1e-3*float64(c.d) {
								t.Fatalf("n %d: dist %d,%d: %v want %v", c.n, i, j, v, want)
							}
						}
					}
					return nil
				})
				require.NoError(t, err)
				for i := range c.n {
					for j := range c.n {
						// Row i's block starts at the multiple of mc at or before i.
						want := 0
						if j >= i/mc*mc {
							want = 1
						}
						require.Equal(t, want, seen[i*c.n+j], "n %d pair %d,%d", c.n, i, j)
					}
				}
			}
		}
	})
}

func testDistancesAndNearest(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	// Panels of up to smallPanel rows take the row-by-row path, larger ones the packed
	// kernel; one Panel is reset across both.
	p := &Panel{}
	for _, c := range []struct{ m, n, d int }{{1, 1, 3}, {100, 7, 10}, {257, 50, 33}, {130, smallPanel, 64}, {70, smallPanel + 1, 17}, {65, 3, 17}, {150, 40, 512}, {37, 300, 600}} {
		x, b := randMat(r, c.m, c.d), randMat(r, c.n, c.d)
		p.Reset(b, c.n, c.d)
		seen := make([]int, c.m)
		err := p.Distances(context.Background(), x, c.m, nil, 2, func(bl *Block) error {
			for i := bl.I0; i < bl.I1; i++ {
				seen[i]++
				for j, v := range bl.Row(i) {
					want := SqDist(x[i*c.d:(i+1)*c.d], b[j*c.d:(j+1)*c.d])
					if math.Abs(float64(v-want)) > 1e-3*float64(c.d) {
						t.Fatalf("dist %d,%d: %v want %v", i, j, v, want)
					}
				}
			}
			return nil
		})
		require.NoError(t, err)
		for i, s := range seen {
			require.Equal(t, 1, s, "row %d", i)
		}
		idx := make([]int32, c.m)
		d1 := make([]float32, c.m)
		d2 := make([]float32, c.m)
		require.NoError(t, p.Nearest(context.Background(), x, c.m, nil, idx, d1, d2, 0))
		for i := 0; i < c.m; i++ {
			best, second, bi := math.Inf(1), math.Inf(1), -1
			for j := 0; j < c.n; j++ {
				v := float64(SqDist(x[i*c.d:(i+1)*c.d], b[j*c.d:(j+1)*c.d]))
				if v < best {
					second, best, bi = best, v, j
				} else if v < second {
					second = v
				}
			}
			if c.n == 1 {
				second = best
			}
			assert.Equal(t, int32(bi), idx[i])
			assert.InDelta(t, best, float64(d1[i]), 1e-3*float64(c.d))
			assert.InDelta(t, second, float64(d2[i]), 1e-3*float64(c.d))
		}
	}
}

func TestDistancesStopsOnError(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	x, b := randMat(r, 1000, 8), randMat(r, 4, 8)
	p := NewPanel(b, 4, 8)
	boom := errors.New("boom")
	err := p.Distances(context.Background(), x, 1000, nil, 2, func(*Block) error { return boom })
	require.ErrorIs(t, err, boom)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = p.Distances(ctx, x, 1000, nil, 2, func(*Block) error { return nil })
	require.ErrorIs(t, err, context.Canceled)
}

func BenchmarkDot256(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	x, y := randMat(r, 1, 256), randMat(r, 1, 256)
	var s float32
	for b.Loop() {
		s += Dot(x, y)
	}
	_ = s
}

func TestKernels(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	for _, steps := range []int{1, 2, 3, 17, 256} {
		a, b := randMat(r, steps, mr), randMat(r, steps, nr)
		const ld = 20
		want := make([]float32, mr*ld)
		for i := range want {
			want[i] = float32(i)
		}
		got1 := append([]float32(nil), want...)
		got2 := append([]float32(nil), want...)
		for i := 0; i < mr; i++ {
			for j := 0; j < nr; j++ {
				var s float64
				for p := 0; p < steps; p++ {
					s += float64(a[p*mr+i]) * float64(b[p*nr+j])
				}
				want[i*ld+j] += float32(s)
			}
		}
		kernelGeneric(a, b, got1, ld)
		kernel(a, b, got2, ld)
		assert.InDeltaSlice(t, want, got1, 1e-3*float64(steps), "generic steps=%d", steps)
		assert.InDeltaSlice(t, want, got2, 1e-3*float64(steps), "dispatch steps=%d", steps)
	}
}

func benchKernel(b *testing.B, f func(a, b, c []float32, ldc int)) {
	a, c := make([]float32, mr*kc), make([]float32, nr*kc)
	tile := make([]float32, mr*nr)
	for i := range a {
		a[i] = float32(i % 7)
	}
	for i := range c {
		c[i] = float32(i % 5)
	}
	for b.Loop() {
		f(a, c, tile, nr)
	}
	b.ReportMetric(float64(2*mr*nr*kc)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func BenchmarkKernelGeneric(b *testing.B) { benchKernel(b, kernelGeneric) }
func BenchmarkKernel(b *testing.B)        { benchKernel(b, kernel) }

func benchNearest(b *testing.B, m, n, d, workers int) {
	r := rand.New(rand.NewPCG(1, 1))
	x, c := randMat(r, m, d), randMat(r, n, d)
	p := NewPanel(c, n, d)
	idx := make([]int32, m)
	d1, d2 := make([]float32, m), make([]float32, m)
	b.ResetTimer()
	for b.Loop() {
		_ = p.Nearest(context.Background(), x, m, nil, idx, d1, d2, workers)
	}
	b.ReportMetric(float64(2*m*n*d)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func BenchmarkNearest_4096x200x256_1worker(b *testing.B) { benchNearest(b, 4096, 200, 256, 1) }
func BenchmarkNearest_4096x200x256(b *testing.B)         { benchNearest(b, 4096, 200, 256, 0) }

// The shape of a k-means++ step at k = 200: 2 + ln k candidates against a reservoir.
func BenchmarkNearest_24576x7x512_1worker(b *testing.B) { benchNearest(b, 24576, 7, 512, 1) }

func TestDotRows(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, c := range []struct{ m, d int }{{0, 8}, {1, 3}, {5, 8}, {7, 13}, {9, 64}, {33, 257}} {
		q, m := randMat(r, 1, c.d), randMat(r, c.m, c.d)
		out := make([]float32, c.m)
		DotRows(out, q, m)
		gen := make([]float32, c.m)
		for j := range gen {
			gen[j] = dotGeneric(q, m[j*c.d:(j+1)*c.d])
		}
		for j := range out {
			want := naiveDot(q, m[j*c.d:(j+1)*c.d])
			assert.InDelta(t, want, float64(out[j]), 1e-3*float64(c.d), "%+v row %d", c, j)
			assert.InDelta(t, want, float64(gen[j]), 1e-3*float64(c.d), "%+v row %d", c, j)
		}
	}
}

func BenchmarkDotRows_1000x256(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	q, m := randMat(r, 1, 256), randMat(r, 1000, 256)
	out := make([]float32, 1000)
	for b.Loop() {
		DotRows(out, q, m)
	}
	b.ReportMetric(float64(2*1000*256)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func TestCosineDistance(t *testing.T) {
	for _, tc := range []struct {
		name string
		a, b []float32
		want float64
	}{
		{"same direction", []float32{1, 2, 3}, []float32{2, 4, 6}, 0},
		{"opposite", []float32{1, 0}, []float32{-3, 0}, 2},
		{"orthogonal", []float32{1, 0}, []float32{0, 5}, 1},
		{"45 degrees", []float32{1, 0}, []float32{1, 1}, 1 - 1/math.Sqrt2},
		{"zero vector", []float32{0, 0}, []float32{1, 1}, 1},
	} {
		assert.InDelta(t, tc.want, CosineDistance(tc.a, tc.b), 1e-12, tc.name)
		c, ok := Cosine(tc.a, tc.b)
		assert.Equal(t, tc.name != "zero vector", ok, tc.name)
		if ok {
			assert.InDelta(t, 1-tc.want, c, 1e-12, tc.name)
		}
	}
}

func TestPackPanels(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, c := range []struct{ i0, i1, d, w int }{
		{0, 4, 3, 4}, {0, 7, 5, 4}, {2, 11, 8, 4}, {0, 1, 1, 4}, {0, 20, 6, 16}, {3, 5, 2, 16},
	} {
		m := randMat(r, c.i1, c.d)
		panels := (c.i1 - c.i0 + c.w - 1) / c.w
		got := make([]float32, panels*c.w*c.d)
		for i := range got {
			got[i] = -1 // every value is written, padding with zeros
		}
		pack(got, m, c.i0, c.i1, c.d, c.w)
		for q := 0; q < panels; q++ {
			for p := 0; p < c.d; p++ {
				for rr := 0; rr < c.w; rr++ {
					want := float32(0)
					if i := c.i0 + q*c.w + rr; i < c.i1 {
						want = m[i*c.d+p]
					}
					require.Equal(t, want, got[q*c.d*c.w+p*c.w+rr], "case %+v panel %d col %d row %d", c, q, p, rr)
				}
			}
		}
	}
}
