package vec

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// qa returns the quantised value of row r, column k of q, whatever the kernel's format.
func qa(q *QRows, r, k int) int32 {
	if q.u8 != nil && q.kern == "avx512-vnni" {
		v := int32(q.u8[r*q.lda+k])
		if !q.unsigned {
			v -= 128
		}
		return v
	}
	return int32(q.i16[r*q.lda+k])
}

// qb returns the quantised value of row k, column j of b.
func qb(b *QPacked, k, j int) int32 {
	return int32(b.b8[(j/nr)*b.kp*nr+(k/4)*64+(j%nr)*4+k%4])
}

// withQKernel runs f once per 8-bit kernel this CPU can run.
func withQKernel(t *testing.T, f func(t *testing.T, k QKernel)) {
	saved := qUse
	defer UseQKernel(saved)
	for _, k := range QKernels() {
		t.Run(k.Name, func(t *testing.T) {
			UseQKernel(k)
			f(t, k)
		})
	}
}

func randMatrix(rng *rand.Rand, n int, scale float32) []float32 {
	m := make([]float32, n)
	for i := range m {
		m[i] = (rng.Float32()*2 - 1) * scale
	}
	return m
}

// TestQGEMMExact checks every kernel against an integer reference computed from the
// quantised values, on sizes that are 0, 1, odd and around the kernels' blocks, for
// signed and unsigned (ReLU) rows, with C accumulated onto non-zero values.
func TestQGEMMExact(t *testing.T) {
	withQKernel(t, func(t *testing.T, kern QKernel) {
		rng := rand.New(rand.NewPCG(7, 9))
		for _, m := range []int{0, 1, 5, 6, 7, 12, 13, 25} {
			for _, k := range []int{0, 1, 3, 4, 5, 17, 64, 257} {
				for _, n := range []int{1, 15, 16, 17, 31, 32, 33, 100} {
					for _, unsigned := range []bool{false, true} {
						name := fmt.Sprintf("m=%d k=%d n=%d unsigned=%v", m, k, n, unsigned)
						lda, ldc := k+3, n+5
						a := randMatrix(rng, max(1, m*lda), 4)
						b := randMatrix(rng, k*n, 0.5)
						c := randMatrix(rng, max(1, m*ldc), 1)
						c0 := append([]float32(nil), c...)
						var q QRows
						q.Quantize(a, m, lda, k, unsigned)
						p := QPack(b, k, n)
						QGEMM(&q, p, c, ldc, &QScratch{})
						for i := 0; i < m; i++ {
							for j := 0; j < n; j++ {
								var acc int64
								for kk := 0; kk < k; kk++ {
									acc += int64(qa(&q, i, kk)) * int64(qb(p, kk, j))
								}
								want := float64(c0[i*ldc+j]) + float64(q.Scale[i])*float64(p.scale[j])*float64(acc)
								require.InDelta(t, want, float64(c[i*ldc+j]), 1e-5*(1+math.Abs(want)), "%s C[%d][%d]", name, i, j)
							}
							// Padding columns of C are left alone.
							for j := n; j < ldc && i*ldc+j < len(c); j++ {
								require.Equal(t, c0[i*ldc+j], c[i*ldc+j], "%s pad C[%d][%d]", name, i, j)
							}
						}
					}
				}
			}
		}
	})
}

// TestQuantizeError checks that dequantised values are within half a step of the
// inputs, that unsigned rows apply a ReLU, and zero rows get scale 0.
func TestQuantizeError(t *testing.T) {
	withQKernel(t, func(t *testing.T, _ QKernel) {
		rng := rand.New(rand.NewPCG(3, 4))
		for _, unsigned := range []bool{false, true} {
			m, k := 9, 37
			a := randMatrix(rng, m*k, 1000)
			clear(a[2*k : 3*k]) // a zero row
			a[5*k+3] = 1e30     // a huge value: the row's other values quantise to 0
			var q QRows
			q.Quantize(a, m, k, k, unsigned)
			require.Zero(t, q.Scale[2])
			for r := 0; r < m; r++ {
				for j := 0; j < k; j++ {
					x := float64(a[r*k+j])
					if unsigned {
						x = max(x, 0)
					}
					got := float64(q.Scale[r]) * float64(qa(&q, r, j))
					require.InDelta(t, x, got, float64(q.Scale[r])*0.5000001+1e-30, "unsigned=%v [%d][%d]", unsigned, r, j)
					lim := int32(127)
					if unsigned {
						lim = 255
					}
					require.LessOrEqual(t, qa(&q, r, j), lim)
					require.GreaterOrEqual(t, qa(&q, r, j), -lim)
				}
			}
		}
	})
}

// TestQGEMMExtremes fills A and B with their largest magnitudes, so every product and
// the int32 sums over a long K are at their extremes, for both signs and both row kinds.
func TestQGEMMExtremes(t *testing.T) {
	withQKernel(t, func(t *testing.T, _ QKernel) {
		m, k, n := 13, 1540, 33
		for _, unsigned := range []bool{false, true} {
			for _, sa := range []float32{1, -1} {
				for _, sb := range []float32{1, -1} {
					a := make([]float32, m*k)
					b := make([]float32, k*n)
					for i := range a {
						a[i] = sa * 3e4
					}
					for i := range b {
						b[i] = sb * 2e-3
					}
					c := make([]float32, m*n)
					var q QRows
					q.Quantize(a, m, k, k, unsigned)
					QGEMM(&q, QPack(b, k, n), c, n, &QScratch{})
					want := float64(k) * float64(sa) * 3e4 * float64(sb) * 2e-3
					if unsigned && sa < 0 {
						want = 0
					}
					for i, v := range c {
						require.InDelta(t, want, float64(v), 1e-4*math.Abs(want)+1e-6, "unsigned=%v sa=%v sb=%v C[%d]", unsigned, sa, sb, i)
					}
				}
			}
		}
	})
}

// TestQGEMMKernelsAgree runs the same product through every kernel: the integer sums
// are exact, so the results may differ only by the rounding of the final scaling.
func TestQGEMMKernelsAgree(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	m, k, n := 37, 515, 96
	a := randMatrix(rng, m*k, 3)
	b := randMatrix(rng, k*n, 1)
	p := QPack(b, k, n)
	var ref []float32
	withQKernel(t, func(t *testing.T, _ QKernel) {
		for _, unsigned := range []bool{false, true} {
			var q QRows
			q.Quantize(a, m, k, k, unsigned)
			c := make([]float32, m*n)
			QGEMM(&q, p, c, n, &QScratch{})
			if unsigned {
				continue
			}
			if ref == nil {
				ref = c
				continue
			}
			for i := range c {
				require.InDelta(t, ref[i], c[i], 1e-6*(1+math.Abs(float64(ref[i]))), "C[%d]", i)
			}
		}
	})
}

// TestQGEMMApproximatesFloat bounds the error of the quantised product against the
// float32 one on data shaped like a dense layer's.
func TestQGEMMApproximatesFloat(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	m, k, n := 20, 512, 64
	a := randMatrix(rng, m*k, 1)
	b := randMatrix(rng, k*n, 0.1)
	withQKernel(t, func(t *testing.T, _ QKernel) {
		var q QRows
		q.Quantize(a, m, k, k, false)
		c := make([]float32, m*n)
		QGEMM(&q, QPack(b, k, n), c, n, &QScratch{})
		var num, den float64
		for i := 0; i < m; i++ {
			for j := 0; j < n; j++ {
				var want float64
				for kk := 0; kk < k; kk++ {
					want += float64(a[i*k+kk]) * float64(b[kk*n+j])
				}
				num += (float64(c[i*n+j]) - want) * (float64(c[i*n+j]) - want)
				den += want * want
			}
		}
		require.Less(t, math.Sqrt(num/den), 0.02, "relative error")
	})
}

func FuzzQuantizeQGEMM(f *testing.F) {
	f.Add(uint8(3), uint16(17), uint8(5), uint64(1), false)
	f.Add(uint8(13), uint16(64), uint8(33), uint64(2), true)
	f.Fuzz(func(t *testing.T, m8 uint8, k16 uint16, n8 uint8, seed uint64, unsigned bool) {
		m, k, n := int(m8%30), int(k16%300), int(n8%70)+1
		rng := rand.New(rand.NewPCG(seed, 0))
		a := randMatrix(rng, max(1, m*k), 10)
		b := randMatrix(rng, k*n, 1)
		p := QPack(b, k, n)
		saved := qUse
		defer UseQKernel(saved)
		var ref []float32
		for _, kern := range QKernels() {
			UseQKernel(kern)
			var q QRows
			q.Quantize(a, m, k, k, unsigned)
			c := make([]float32, max(1, m*n))
			QGEMM(&q, p, c, n, &QScratch{})
			if ref == nil {
				ref = c
				continue
			}
			for i := range c {
				if d := math.Abs(float64(c[i] - ref[i])); d > 1e-5*(1+math.Abs(float64(ref[i]))) {
					t.Fatalf("%s: C[%d] = %v, go kernel %v", kern.Name, i, c[i], ref[i])
				}
			}
		}
	})
}

// BenchmarkDense compares the float32 GEMM with the 8-bit one (quantising the rows
// included) on the shape of USE-lite's first feed-forward layer: 256 tokens × 512 → 1536.
func BenchmarkDense(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	m, k, n := 256, 512, 1536
	a := randMatrix(rng, m*k, 1)
	w := randMatrix(rng, k*n, 0.1)
	c := make([]float32, m*n)
	flops := 2 * float64(m*k*n)
	b.Run("f32-"+gemmUse.Name, func(b *testing.B) {
		p := Pack(w, k, n)
		var s GEMMScratch
		for b.Loop() {
			GEMM(m, a, k, &p, c, n, &s)
		}
		b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	})
	p := QPack(w, k, n)
	withQKernelB(b, func(b *testing.B) {
		var q QRows
		var s QScratch
		for b.Loop() {
			q.Quantize(a, m, k, k, false)
			QGEMM(&q, p, c, n, &s)
		}
		b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GOP/s")
	})
}

func withQKernelB(b *testing.B, f func(b *testing.B)) {
	saved := qUse
	defer UseQKernel(saved)
	for _, k := range QKernels() {
		b.Run("i8-"+k.Name, func(b *testing.B) {
			UseQKernel(k)
			f(b)
		})
	}
}

// TestQKernelInUse checks that the fastest kernel is the one in use at start-up.
func TestQKernelInUse(t *testing.T) {
	ks := QKernels()
	require.Equal(t, ks[len(ks)-1].Name, QKernelName())
}

// TestRowQuantizersMatchPortable compares the row quantisers in use (assembly where
// the CPU has it) with the portable ones, value for value, on every length to 70 and
// on values at the rounding ties and the clamps.
func TestRowQuantizersMatchPortable(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for n := 0; n <= 70; n++ {
		row := randMatrix(rng, n, 3)
		for i := 0; i < n; i += 5 {
			row[i] = float32(i%7) - 3.5 // ties: x·inv = x when inv = 1
		}
		for _, abs := range []bool{false, true} {
			require.Equal(t, rowMaxGo(row, abs), rowMax(row, abs), "rowMax n=%d abs=%v", n, abs)
		}
		for _, lim := range [][3]int32{{-127, 127, 128}, {0, 255, 0}} {
			for _, inv := range []float32{1, 37.5} {
				want8, got8 := make([]uint8, n), make([]uint8, n)
				quantU8Go(want8, row, inv, lim[0], lim[1], lim[2])
				quantU8(got8, row, inv, lim[0], lim[1], lim[2])
				want16, got16 := make([]int16, n), make([]int16, n)
				quantI16Go(want16, row, inv, lim[0], lim[1])
				quantI16(got16, row, inv, lim[0], lim[1])
				if inv == 1 {
					// In range: the assembly does not clamp above, the scale keeps values below hi.
					require.Equal(t, want8, got8, "u8 n=%d lim=%v", n, lim)
					require.Equal(t, want16, got16, "i16 n=%d lim=%v", n, lim)
				}
			}
		}
	}
}
