package clustering

import (
	"fmt"
	"math"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/internal/vec"
)

// flatten copies vectors into one contiguous row-major matrix, checking that they
// are non-empty, of one dimension and finite.
func flatten(vectors [][]float32) ([]float32, int, int, error) {
	n := len(vectors)
	if n == 0 {
		return nil, 0, 0, fmt.Errorf("clustering: no vectors: %w", lmsys.ErrEmpty)
	}
	d := len(vectors[0])
	if d == 0 {
		return nil, 0, 0, fmt.Errorf("clustering: vector 0 has no dimensions: %w", lmsys.ErrInvalidInput)
	}
	data := make([]float32, n*d)
	for i, v := range vectors {
		if len(v) != d {
			return nil, 0, 0, fmt.Errorf("clustering: vector %d has %d dimensions, vector 0 has %d: %w", i, len(v), d, lmsys.ErrInvalidInput)
		}
		copy(data[i*d:], v)
	}
	return data, n, d, nil
}

// checkMatrix validates the shape of a row-major n×d matrix and that its values are
// finite; it returns the squared row norms.
func checkMatrix(data []float32, n, d int) ([]float32, error) {
	if n <= 0 {
		return nil, fmt.Errorf("clustering: no vectors: %w", lmsys.ErrEmpty)
	}
	if d <= 0 {
		return nil, fmt.Errorf("clustering: dimension %d is not positive: %w", d, lmsys.ErrInvalidInput)
	}
	if len(data) < n*d {
		return nil, fmt.Errorf("clustering: matrix holds %d values, %d×%d needs %d: %w", len(data), n, d, n*d, lmsys.ErrInvalidInput)
	}
	norms := make([]float32, n)
	for i := range norms {
		s := vec.SqNorm(data[i*d : i*d+d])
		if math.IsNaN(float64(s)) || math.IsInf(float64(s), 0) {
			return nil, fmt.Errorf("clustering: vector %d holds a NaN or infinite value: %w", i, lmsys.ErrInvalidInput)
		}
		norms[i] = s
	}
	return norms, nil
}

// rows turns the row-major k×d matrix c into k slices (sharing its memory).
func rows(c []float32, k, d int) [][]float32 {
	out := make([][]float32, k)
	for i := range out {
		out[i] = c[i*d : i*d+d : i*d+d]
	}
	return out
}
