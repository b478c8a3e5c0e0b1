package semantic

import "golang.org/x/sys/cpu"

//go:noescape
func dotAVX2(a, b *float32, n int) float32

//go:noescape
func dot4AVX2(q, rows *float32, stride, n int, out *[4]float32)

var useAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// dot returns the inner product of a and b, which have the same length.
func dot(a, b []float32) float32 {
	if len(a) == 0 {
		return 0
	}
	if useAVX2 {
		_ = b[len(a)-1]
		return dotAVX2(&a[0], &b[0], len(a))
	}
	return dotGeneric(a, b)
}

// dot4 computes the inner products of q with the four rows starting at rows[0],
// rows[stride], rows[2*stride] and rows[3*stride], each len(q) long.
func dot4(q, rows []float32, stride int, out *[4]float32) {
	n := len(q)
	_ = rows[3*stride+n-1]
	if useAVX2 && n >= 16 {
		body := n &^ 15
		dot4AVX2(&q[0], &rows[0], stride, body, out)
		for i := body; i < n; i++ {
			out[0] += q[i] * rows[i]
			out[1] += q[i] * rows[stride+i]
			out[2] += q[i] * rows[2*stride+i]
			out[3] += q[i] * rows[3*stride+i]
		}
		return
	}
	dot4Generic(q, rows, stride, out)
}
