//go:build !amd64 || purego

package vec

// useAVX2 is false off amd64 and with the purego tag: the portable kernels run.
const useAVX2 = false

// kernel adds the 4×16 product of two packed panels to the tile at c (row stride
// ldc); see kernelGeneric for the layout.
func kernel(a, b []float32, c []float32, ldc int) { kernelGeneric(a, b, c, ldc) }

// Dot returns the dot product of a and b; b must hold at least len(a) values.
func Dot(a, b []float32) float32 { return dotGeneric(a, b) }

// Dot4 writes to out[r] the dot product of q with the len(q) values starting at
// rows[r·stride], for r < 4.
func Dot4(q, rows []float32, stride int, out *[4]float32) { dot4Generic(q, rows, stride, out) }
