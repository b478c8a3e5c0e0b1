// Package vec holds allocation-free float32 vector kernels shared by the clustering,
// search and hierarchy packages: dot products, squared norms and distances,
// normalisation, and a register-blocked, cache-tiled A·Bᵀ product written in pure Go
// that turns a block of rows and a set of centres into squared Euclidean distances
// ‖x‖² − 2x·c + ‖c‖² in parallel.
package vec

import "math"

// Dot returns the dot product of a and b, which must have the same length.
func Dot(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		aa := a[i : i+4 : i+4]
		bb := b[i : i+4 : i+4]
		s0 += aa[0] * bb[0]
		s1 += aa[1] * bb[1]
		s2 += aa[2] * bb[2]
		s3 += aa[3] * bb[3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// Cosine returns cos(a, b), accumulated in float64, and false when either is the zero
// vector (the cosine is then undefined). a and b must have the same length.
func Cosine(a, b []float32) (float64, bool) {
	var dot, na, nb float64
	for i := range a {
		x, y := float64(a[i]), float64(b[i])
		dot += x * y
		na += x * x
		nb += y * y
	}
	if na == 0 || nb == 0 {
		return 0, false
	}
	return dot / math.Sqrt(na*nb), true
}

// CosineDistance returns 1 − cos(a, b); 1 when either is the zero vector. a and b must
// have the same length.
func CosineDistance(a, b []float32) float64 {
	c, ok := Cosine(a, b)
	if !ok {
		return 1
	}
	return 1 - c
}

// SqNorm returns the squared Euclidean norm of a.
func SqNorm(a []float32) float32 { return Dot(a, a) }

// SqDist returns the squared Euclidean distance between a and b, which must have the
// same length.
func SqDist(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		aa := a[i : i+4 : i+4]
		bb := b[i : i+4 : i+4]
		d0 := aa[0] - bb[0]
		d1 := aa[1] - bb[1]
		d2 := aa[2] - bb[2]
		d3 := aa[3] - bb[3]
		s0 += d0 * d0
		s1 += d1 * d1
		s2 += d2 * d2
		s3 += d3 * d3
	}
	for ; i < len(a); i++ {
		d := a[i] - b[i]
		s0 += d * d
	}
	return (s0 + s1) + (s2 + s3)
}

// Axpy adds alpha·x to y in place; x and y must have the same length.
func Axpy(alpha float32, x, y []float32) {
	y = y[:len(x)]
	for i, v := range x {
		y[i] += alpha * v
	}
}

// Scale multiplies every element of x by alpha in place.
func Scale(alpha float32, x []float32) {
	for i := range x {
		x[i] *= alpha
	}
}

// Normalize scales a to unit Euclidean length in place and returns its former norm.
// A zero vector is left unchanged and 0 is returned.
func Normalize(a []float32) float32 {
	n := float32(math.Sqrt(float64(SqNorm(a))))
	if n > 0 {
		Scale(1/n, a)
	}
	return n
}

// NormalizeRows normalises each of the len(m)/d rows of the row-major matrix m.
func NormalizeRows(m []float32, d int) {
	for i := 0; i+d <= len(m); i += d {
		Normalize(m[i : i+d])
	}
}

// RowSqNorms writes the squared norm of each row of the row-major matrix m (rows of
// d values) to dst, which must hold len(m)/d values.
func RowSqNorms(dst, m []float32, d int) {
	for i := range dst {
		dst[i] = SqNorm(m[i*d : i*d+d])
	}
}

// dotRowsGeneric is the pure-Go DotRows.
func dotRowsGeneric(out, q, m []float32) {
	d := len(q)
	for j := range out {
		out[j] = Dot(q, m[j*d:(j+1)*d])
	}
}
