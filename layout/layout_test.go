package layout_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/layout"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// planted returns n unit vectors of dimension d around c random centres, and each
// vector's centre as its label.
func planted(n, d, c int, spread float64, seed uint64) ([][]float32, []string) {
	rng := rand.New(rand.NewPCG(seed, 1))
	centres := make([][]float64, c)
	for i := range centres {
		centres[i] = make([]float64, d)
		for j := range centres[i] {
			centres[i][j] = rng.NormFloat64()
		}
	}
	vs := make([][]float32, n)
	labels := make([]string, n)
	for i := range vs {
		ci := i % c
		v := make([]float32, d)
		norm := 0.0
		for j := range v {
			x := centres[ci][j] + spread*rng.NormFloat64()
			v[j] = float32(x)
			norm += x * x
		}
		for j := range v {
			v[j] /= float32(math.Sqrt(norm))
		}
		vs[i] = v
		labels[i] = fmt.Sprint(ci)
	}
	return vs, labels
}

func TestComputeKeepsPlantedClustersApart(t *testing.T) {
	vs, labels := planted(1200, 32, 6, 0.35, 3)
	for _, method := range []string{layout.MethodTSNE, layout.MethodUMAP} {
		t.Run(method, func(t *testing.T) {
			pts, err := layout.Compute(context.Background(), vs, layout.Options{Method: method, Seed: 7, Epochs: 200})
			require.NoError(t, err)
			require.Len(t, pts, len(vs))
			// A random map would score about 1/6.
			assert.Greater(t, layout.Agreement(pts, labels, 10), 0.95)
			for _, p := range pts {
				assert.False(t, math.IsNaN(float64(p.X)) || math.IsNaN(float64(p.Y)))
			}
		})
	}
}

// TestComputeIsDeterministicForASeed: the same seed gives the same map, byte for
// byte, whatever the number of goroutines (Workers and GOMAXPROCS); another seed
// another map. t-SNE runs both on the grid's repulsion (1,500 points) and on the
// exact one of small maps (300).
func TestComputeIsDeterministicForASeed(t *testing.T) {
	big, _ := planted(1500, 16, 4, 0.4, 5)
	small, _ := planted(300, 16, 4, 0.4, 6)
	for _, tc := range []struct {
		name, method string
		vs           [][]float32
	}{{"tsne", layout.MethodTSNE, big}, {"tsne-small", layout.MethodTSNE, small}, {"umap", layout.MethodUMAP, big}} {
		method, vs := tc.method, tc.vs
		t.Run(tc.name, func(t *testing.T) {
			opts := layout.Options{Method: method, Seed: 11, Epochs: 60, Workers: 1}
			a, err := layout.Compute(context.Background(), vs, opts)
			require.NoError(t, err)
			for _, w := range []int{2, 3} {
				opts.Workers = w
				b, err := layout.Compute(context.Background(), vs, opts)
				require.NoError(t, err)
				require.Equal(t, a, b, "%d workers", w)
			}
			procs := runtime.GOMAXPROCS(1)
			opts.Workers = 0
			one, err := layout.Compute(context.Background(), vs, opts)
			runtime.GOMAXPROCS(4)
			four, err4 := layout.Compute(context.Background(), vs, opts)
			runtime.GOMAXPROCS(procs)
			require.NoError(t, err)
			require.NoError(t, err4)
			assert.Equal(t, a, one, "GOMAXPROCS 1")
			assert.Equal(t, a, four, "GOMAXPROCS 4")
			opts.Seed = 12
			c, err := layout.Compute(context.Background(), vs, opts)
			require.NoError(t, err)
			assert.NotEqual(t, a, c)
		})
	}
}

// TestComputeReportsAndStops: a layout cancelled at the first report of its descent
// stops with the context's error.
func TestComputeReportsAndStops(t *testing.T) {
	vs, _ := planted(300, 8, 3, 0.4, 9)
	for _, method := range []string{layout.MethodTSNE, layout.MethodUMAP} {
		t.Run(method, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var stages []string
			_, err := layout.Compute(ctx, vs, layout.Options{Method: method, Seed: 1, Progress: func(p lmsys.Progress) {
				if len(stages) == 0 || stages[len(stages)-1] != p.Stage {
					stages = append(stages, p.Stage)
				}
				if p.Stage == "layout epochs" {
					cancel() // stop at the first report of the descent
				}
			}})
			require.ErrorIs(t, err, context.Canceled)
			assert.Equal(t, []string{"layout neighbours", "layout epochs"}, stages)
		})
	}
}

func TestComputeRefusesBadInput(t *testing.T) {
	nan := float32(math.NaN())
	cases := []struct {
		name   string
		vs     [][]float32
		method string
		want   string
	}{
		{"too few", [][]float32{{1, 0}, {0, 1}}, "", "at least 3 vectors"},
		{"ragged", [][]float32{{1, 0}, {0, 1}, {1}}, "", "vector 2 has 1 dimensions"},
		{"empty vectors", [][]float32{{}, {}, {}}, "", "vector 0 has 0 dimensions"},
		{"not finite", [][]float32{{1, 0}, {0, nan}, {1, 1}}, "", "vector 1 holds a value that is not finite"},
		{"unknown method", [][]float32{{1, 0}, {0, 1}, {1, 1}}, "pca", `unknown map method "pca"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := layout.Compute(context.Background(), tc.vs, layout.Options{Method: tc.method})
			require.ErrorIs(t, err, lmsys.ErrInvalidInput)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestAgreement(t *testing.T) {
	pts := []layout.Point{{0, 0}, {0, 1}, {10, 0}, {10, 1}}
	assert.Equal(t, 1.0, layout.Agreement(pts, []string{"a", "a", "b", "b"}, 1))
	assert.Equal(t, 0.0, layout.Agreement(pts, []string{"a", "b", "a", "b"}, 1))
	assert.Equal(t, 0.0, layout.Agreement(nil, nil, 5))
}

func ExampleCompute() {
	// Four points in two tight pairs, far apart: each keeps its partner on the map.
	vs := [][]float32{{1, 0, 0}, {0.99, 0.1, 0}, {0, 0, 1}, {0, 0.1, 0.99}, {0.7, 0.7, 0}, {0.69, 0.72, 0}}
	pts, err := layout.Compute(context.Background(), vs, layout.Options{Seed: 1, Neighbors: 2})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(pts), layout.Agreement(pts, []string{"x", "x", "z", "z", "y", "y"}, 1))
	// Output: 6 1
}
