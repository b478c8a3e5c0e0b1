package clustering

import (
	"context"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/internal/vec"
)

// PCAModel is a fitted principal component projection.
type PCAModel struct {
	// D is the input dimension and Dims the output dimension.
	D, Dims int
	// Mean is the mean input row (D values).
	Mean []float32
	// Components holds Dims unit principal axes of D values each, row-major, by
	// decreasing variance; each axis's largest-magnitude value is positive.
	Components []float32
	// Variance holds the variance of the data along each axis.
	Variance []float64
}

// FitPCA computes the first dims principal components of the n×d row-major matrix
// data from the eigen-decomposition of its covariance, which it accumulates with the
// blocked product over chunks of rows (O(n·d²) time, O(d²) extra memory).
func FitPCA(ctx context.Context, data []float32, n, d, dims int) (*PCAModel, error) {
	if _, err := checkMatrix(data, n, d); err != nil {
		return nil, fmt.Errorf("pca: %w", err)
	}
	if dims < 1 || dims > d {
		return nil, fmt.Errorf("pca: %d output dimensions for %d input dimensions: %w", dims, d, lmsys.ErrInvalidInput)
	}
	if n < 2 {
		return nil, fmt.Errorf("pca: %d rows; at least 2 are needed: %w", n, lmsys.ErrInvalidInput)
	}
	mean64 := make([]float64, d)
	for i := 0; i < n; i++ {
		for j, v := range data[i*d : (i+1)*d] {
			mean64[j] += float64(v)
		}
	}
	mean := make([]float32, d)
	for j := range mean64 {
		mean64[j] /= float64(n)
		mean[j] = float32(mean64[j])
	}
	const chunk = 2048
	cov := make([]float64, d*d)
	t := make([]float32, d*chunk)
	prod := make([]float32, d*d)
	for i0 := 0; i0 < n; i0 += chunk {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("pca: %w", err)
		}
		m := min(chunk, n-i0)
		// t is the centred chunk transposed: d rows of m values.
		for r := 0; r < m; r++ {
			row := data[(i0+r)*d : (i0+r+1)*d]
			for j, v := range row {
				t[j*m+r] = v - mean[j]
			}
		}
		vec.MatMulT(prod, t[:d*m], d, t[:d*m], d, m)
		for j, v := range prod {
			cov[j] += float64(v)
		}
	}
	sym := mat.NewSymDense(d, nil)
	for a := 0; a < d; a++ {
		for b := a; b < d; b++ {
			sym.SetSym(a, b, (cov[a*d+b]+cov[b*d+a])/2/float64(n-1))
		}
	}
	var eig mat.EigenSym
	if !eig.Factorize(sym, true) {
		return nil, fmt.Errorf("pca: the covariance eigen-decomposition did not converge: %w", lmsys.ErrInvalidInput)
	}
	vals := eig.Values(nil)
	var vecs mat.Dense
	eig.VectorsTo(&vecs)
	p := &PCAModel{D: d, Dims: dims, Mean: mean, Components: make([]float32, dims*d), Variance: make([]float64, dims)}
	for c := 0; c < dims; c++ {
		col := d - 1 - c // eigenvalues ascend
		p.Variance[c] = max(vals[col], 0)
		big, sign := 0.0, 1.0
		for j := 0; j < d; j++ {
			if v := vecs.At(j, col); math.Abs(v) > big {
				big = math.Abs(v)
				sign = math.Copysign(1, v)
			}
		}
		for j := 0; j < d; j++ {
			p.Components[c*d+j] = float32(sign * vecs.At(j, col))
		}
	}
	return p, nil
}

// Transform projects the n rows of the row-major matrix data (D columns) onto the
// components and returns the n×Dims result.
func (p *PCAModel) Transform(data []float32, n int) []float32 {
	out := make([]float32, n*p.Dims)
	vec.MatMulT(out, data[:n*p.D], n, p.Components, p.Dims, p.D)
	shift := make([]float32, p.Dims)
	for c := range shift {
		shift[c] = vec.Dot(p.Mean, p.Components[c*p.D:(c+1)*p.D])
	}
	for i := 0; i < n; i++ {
		row := out[i*p.Dims : (i+1)*p.Dims]
		for c := range row {
			row[c] -= shift[c]
		}
	}
	return out
}

// PCA projects the n×d row-major matrix data onto its first dims principal
// components and returns the n×dims result.
func PCA(ctx context.Context, data []float32, n, d, dims int) ([]float32, error) {
	p, err := FitPCA(ctx, data, n, d, dims)
	if err != nil {
		return nil, err
	}
	return p.Transform(data, n), nil
}
