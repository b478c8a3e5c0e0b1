//go:build !amd64

package semantic

// dot returns the inner product of a and b, which have the same length.
func dot(a, b []float32) float32 { return dotGeneric(a, b) }

// dot4 computes the inner products of q with four rows stride apart.
func dot4(q, rows []float32, stride int, out *[4]float32) { dot4Generic(q, rows, stride, out) }
