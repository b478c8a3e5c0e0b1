package clustering

import (
	"math"
	"math/rand/v2"
)

// blobs returns n points in d dimensions around c well-separated centres (spread
// scale) and their true labels; std may differ per blob.
func blobs(seed uint64, n, d, c int, spread float64, std []float64) ([]float32, []int) {
	r := rand.New(rand.NewPCG(seed, 99))
	centres := make([]float64, c*d)
	for i := range centres {
		centres[i] = r.NormFloat64() * spread
	}
	data := make([]float32, n*d)
	labels := make([]int, n)
	for i := 0; i < n; i++ {
		l := i % c
		labels[i] = l
		s := 1.0
		if std != nil {
			s = std[l]
		}
		for j := 0; j < d; j++ {
			data[i*d+j] = float32(centres[l*d+j] + r.NormFloat64()*s)
		}
	}
	return data, labels
}

// moons returns scikit-learn-style two interleaving half circles with Gaussian noise.
func moons(seed uint64, n int, noise float64) ([]float32, []int) {
	r := rand.New(rand.NewPCG(seed, 7))
	data := make([]float32, 2*n)
	labels := make([]int, n)
	half := n / 2
	for i := 0; i < n; i++ {
		var x, y float64
		if i < half {
			t := math.Pi * float64(i) / float64(half-1)
			x, y = math.Cos(t), math.Sin(t)
		} else {
			t := math.Pi * float64(i-half) / float64(n-half-1)
			x, y = 1-math.Cos(t), 0.5-math.Sin(t)
			labels[i] = 1
		}
		data[2*i] = float32(x + r.NormFloat64()*noise)
		data[2*i+1] = float32(y + r.NormFloat64()*noise)
	}
	return data, labels
}

// toRows splits a row-major matrix into row slices.
func toRows(data []float32, d int) [][]float32 {
	out := make([][]float32, len(data)/d)
	for i := range out {
		out[i] = data[i*d : (i+1)*d]
	}
	return out
}
