package vec

import "golang.org/x/sys/cpu"

// kern4x16AVX2 adds the 4×16 product of the packed panels a (steps·4 floats) and b
// (steps·16 floats) to the tile at c with row stride ldc floats, using AVX2 FMA.
//
//go:noescape
func kern4x16AVX2(a, b *float32, steps int, c *float32, ldc int)

// useAVX2 reports whether the assembly micro-kernel may run on this CPU.
var useAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// kernel adds the 4×16 product of two packed panels to the tile at c (row stride
// ldc); see kernelGeneric for the layout.
func kernel(a, b []float32, c []float32, ldc int) {
	steps := len(a) / mr
	if !useAVX2 || steps == 0 {
		kernelGeneric(a, b, c, ldc)
		return
	}
	_ = b[steps*nr-1]
	_ = c[3*ldc+nr-1]
	kern4x16AVX2(&a[0], &b[0], steps, &c[0], ldc)
}

// dot4AVX2 computes four dot products of q with rows stride floats apart over the
// first n8 values (a multiple of 8).
//
//go:noescape
func dot4AVX2(q, rows *float32, n8, stride int, out *[4]float32)

// dot1AVX2 returns the dot product of q and row over the first n8 values (a
// multiple of 8).
//
//go:noescape
func dot1AVX2(q, row *float32, n8 int) float32

// DotRows writes to out[j] the dot product of q with row j of the row-major matrix m
// (rows of len(q) values), for j < len(out).
func DotRows(out, q, m []float32) {
	d := len(q)
	n8 := d &^ 7
	if len(out) == 0 {
		return
	}
	if !useAVX2 || n8 == 0 {
		dotRowsGeneric(out, q, m)
		return
	}
	_ = m[len(out)*d-1]
	j := 0
	var o [4]float32
	for ; j+4 <= len(out); j += 4 {
		dot4AVX2(&q[0], &m[j*d], n8, d, &o)
		if n8 < d {
			for r := 0; r < 4; r++ {
				row := m[(j+r)*d : (j+r+1)*d]
				for p := n8; p < d; p++ {
					o[r] += q[p] * row[p]
				}
			}
		}
		out[j], out[j+1], out[j+2], out[j+3] = o[0], o[1], o[2], o[3]
	}
	for ; j < len(out); j++ {
		row := m[j*d : (j+1)*d]
		s := dot1AVX2(&q[0], &row[0], n8)
		for p := n8; p < d; p++ {
			s += q[p] * row[p]
		}
		out[j] = s
	}
}
