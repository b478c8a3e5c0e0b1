//go:build !amd64

package vec

// useAVX2 is false off amd64: the pure-Go micro-kernel runs.
const useAVX2 = false

// kernel adds the 4×16 product of two packed panels to the tile at c (row stride
// ldc); see kernelGeneric for the layout.
func kernel(a, b []float32, c []float32, ldc int) { kernelGeneric(a, b, c, ldc) }

// DotRows writes to out[j] the dot product of q with row j of the row-major matrix m
// (rows of len(q) values), for j < len(out).
func DotRows(out, q, m []float32) { dotRowsGeneric(out, q, m) }
