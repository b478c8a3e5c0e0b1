package vec

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// offsets are the starting positions (in floats) of the operands the kernel tests
// slice out of larger buffers: 0 is 32-byte aligned in practice, the others are not.
var offsets = []int{0, 1, 3, 5, 7}

// tol is the tolerance for a float32 sum of n products of values in [-1, 1] computed
// in a different order.
func tol(n int) float64 { return 1e-5 * float64(n+1) }

// TestDotMatchesPortable compares the dispatched Dot (AVX-512 or AVX2) and Dot4 with the portable code
// and a float64 reference for every length 0..67 and unaligned starts, so the 32-, 16-
// and 8-wide loops and the scalar tail of the assembly are each exercised alone and
// together.
func TestDotMatchesPortable(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 1))
	for n := 0; n <= 67; n++ {
		for _, off := range offsets {
			stride := n + off%3
			buf := uniform(rng, off+4*stride+n+8)
			q := uniform(rng, off+n)[off:]
			rows := buf[off:]
			name := fmt.Sprintf("n=%d off=%d", n, off)

			want := naiveDot(q, rows[:n])
			require.InDelta(t, want, float64(dotGeneric(q, rows[:n])), tol(n), "portable dot %s", name)
			require.InDelta(t, want, float64(Dot(q, rows[:n])), tol(n), "dot %s", name)

			var got, ref [4]float32
			Dot4(q, rows, stride, &got)
			dot4Generic(q, rows, stride, &ref)
			for r := 0; r < 4; r++ {
				want := naiveDot(q, rows[r*stride:r*stride+n])
				require.InDelta(t, want, float64(ref[r]), tol(n), "portable dot4 %s row %d", name, r)
				require.InDelta(t, want, float64(got[r]), tol(n), "dot4 %s row %d", name, r)
			}

			out := make([]float32, 7) // one group of four rows, then three single rows
			m := uniform(rng, off+7*n)[off:]
			DotRows(out, q, m)
			for j := range out {
				require.InDelta(t, naiveDot(q, m[j*n:(j+1)*n]), float64(out[j]), tol(n), "dotrows %s row %d", name, j)
			}
		}
	}
}

// TestDotPortableSwitch runs Dot, Dot4 and DotRows with the CPU-feature switch off on a
// machine that has the assembly, and checks they agree with the dispatched results.
func TestDotPortableSwitch(t *testing.T) {
	if !useAVX2 {
		t.Skip("this CPU or build runs the portable kernels already")
	}
	rng := rand.New(rand.NewPCG(21, 2))
	q, m := uniform(rng, 67), uniform(rng, 67*9)
	var fast [9]float32
	DotRows(fast[:], q, m)
	setAVX2(t, false)
	var slow [9]float32
	DotRows(slow[:], q, m)
	for j := range fast {
		require.InDelta(t, float64(slow[j]), float64(fast[j]), tol(67), "row %d", j)
	}
}

// TestGEMMKernelsMatchPortable runs every GEMM micro-kernel this CPU has (the portable
// one first) on edge shapes — one row, rows that do not fill a micro-kernel, K of 1
// and past the 256-value tile, one and many panels, strided and unaligned A and C —
// and compares each with a float64 reference.
func TestGEMMKernelsMatchPortable(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 3))
	saved := gemmUse
	defer func() { gemmUse = saved }()
	shapes := [][3]int{{1, 1, 16}, {6, 3, 16}, {7, 256, 32}, {13, 300, 48}, {64, 513, 64}, {5, 1536, 16},
		{18, 2, 80}, {25, 7, 16}, {12, 1, 32}, {11, 67, 32}, {24, 257, 96}}
	for _, kern := range GEMMKernels() {
		for _, sh := range shapes {
			for _, off := range []int{0, 3} {
				m, k, n := sh[0], sh[1], sh[2]
				lda, ldc := k+off, n+16+off
				a := uniform(rng, off+m*lda)[off:]
				b := uniform(rng, k*n)
				c := uniform(rng, off+m*ldc)[off:]
				want := append([]float32(nil), c...)
				for i := 0; i < m; i++ {
					for j := 0; j < n; j++ {
						var s float64
						for kk := 0; kk < k; kk++ {
							s += float64(a[i*lda+kk]) * float64(b[kk*n+j])
						}
						want[i*ldc+j] += float32(s)
					}
				}
				UseGEMMKernel(kern)
				p := Pack(b, k, n)
				GEMM(m, a, lda, &p, c, ldc, &GEMMScratch{})
				for i := range c {
					require.InDelta(t, want[i], c[i], tol(k), "%s m=%d k=%d n=%d off=%d at %d", kern.Name, m, k, n, off, i)
				}
			}
		}
	}
}

// TestDistanceKernelMatchesPortable compares the 4×16 distance micro-kernel with the
// portable one for every step count 1..67 (the product never calls it with none) on
// unaligned panels.
func TestDistanceKernelMatchesPortable(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 4))
	const ld = 21
	for steps := 1; steps <= 67; steps++ {
		for _, off := range []int{0, 1, 5} {
			a := uniform(rng, off+steps*mr)[off:]
			b := uniform(rng, off+steps*nr)[off:]
			base := uniform(rng, mr*ld)
			got := append([]float32(nil), base...)
			ref := append([]float32(nil), base...)
			kernel(a, b, got, ld)
			kernelGeneric(a, b, ref, ld)
			for i := range got {
				require.InDelta(t, ref[i], got[i], tol(steps), "steps=%d off=%d at %d", steps, off, i)
			}
		}
	}
}

func uniform(r *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = r.Float32()*2 - 1
	}
	return v
}
