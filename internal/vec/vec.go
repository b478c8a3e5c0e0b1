// Package vec owns the float32 vector kernels of the module: dot products (one row
// or four at a time), squared norms and distances, normalisation, the cache-tiled
// A·Bᵀ product that turns a block of points and a set of centres into squared
// Euclidean distances ‖x‖² − 2x·c + ‖c‖² in parallel (clustering, hierarchy), and the
// packed-panel GEMM the embed/uselite encoder's dense layers run through.
//
// Each kernel has a portable Go form and, on amd64, Go assembly (AVX2 with FMA, and
// AVX-512 for the GEMM micro-kernels) chosen once at start-up from the CPU's features
// in kernel_amd64.go. The purego build tag, or any other architecture, keeps the
// portable code. The HNSW and exact indexes of semantic score candidates with Dot and
// Dot4; the tests compare every assembly kernel with the portable one.
package vec

import "math"

// dotGeneric is the portable Dot, unrolled by four.
func dotGeneric(a, b []float32) float32 {
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

// dot4Generic is the portable Dot4.
func dot4Generic(q, rows []float32, stride int, out *[4]float32) {
	n := len(q)
	if n == 0 {
		*out = [4]float32{}
		return
	}
	r0, r1, r2, r3 := rows[:n], rows[stride:stride+n], rows[2*stride:2*stride+n], rows[3*stride:3*stride+n]
	var s0, s1, s2, s3 float32
	for i, x := range q {
		s0 += x * r0[i]
		s1 += x * r1[i]
		s2 += x * r2[i]
		s3 += x * r3[i]
	}
	out[0], out[1], out[2], out[3] = s0, s1, s2, s3
}

// DotRows writes to out[j] the dot product of q with row j of the row-major matrix m
// (rows of len(q) values), for j < len(out).
func DotRows(out, q, m []float32) {
	d := len(q)
	if len(out) == 0 {
		return
	}
	if d == 0 {
		clear(out)
		return
	}
	_ = m[len(out)*d-1]
	j := 0
	var o [4]float32
	for ; j+4 <= len(out); j += 4 {
		Dot4(q, m[j*d:], d, &o)
		out[j], out[j+1], out[j+2], out[j+3] = o[0], o[1], o[2], o[3]
	}
	for ; j < len(out); j++ {
		out[j] = Dot(q, m[j*d:(j+1)*d])
	}
}
