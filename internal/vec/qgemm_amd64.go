//go:build !purego

package vec

// The CPU-feature switch of the 8-bit kernels in qgemm_amd64.s: the AVX2 one when the
// CPU has AVX2 and FMA, the VNNI one when it has AVX-512F, AVX-512BW and AVX-512 VNNI
// (GODEBUG=cpu.avx512f=off turns the latter off).

import "golang.org/x/sys/cpu"

// qkernel12x32VNNI is the AVX-512 VNNI kernel in qgemm_amd64.s.
//
//go:noescape
func qkernel12x32VNNI(k4 int, a *uint8, lda int, p0, p1 *int8, c *float32, ldc int, sa, sb *float32, corr *int32)

// qkernel6x16AVX2 is the AVX2 kernel in qgemm_amd64.s.
//
//go:noescape
func qkernel6x16AVX2(k2 int, a *int16, lda int, p *int16, c *float32, ldc int, sa, sb *float32)

// maxAVX2 returns max(0, x…) or max(0, |x|…) over n values, n a multiple of 8.
//
//go:noescape
func maxAVX2(x *float32, n int, abs bool) float32

// quantU8AVX512 writes max(lo, round(src·inv)) + off as unsigned bytes, n a multiple of 16.
//
//go:noescape
func quantU8AVX512(dst *uint8, src *float32, n int, inv float32, lo, off int32)

// quantI16AVX2 writes max(lo, round(src·inv)) as int16, n a multiple of 8.
//
//go:noescape
func quantI16AVX2(dst *int16, src *float32, n int, inv float32, lo int32)

// qKernelsCPU returns the assembly kernels this CPU can run, slowest first.
func qKernelsCPU() []QKernel {
	var ks []QKernel
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		rowMax = func(row []float32, abs bool) float32 {
			n := len(row) &^ 7
			mx := rowMaxGo(row[n:], abs)
			if n > 0 {
				mx = max(mx, maxAVX2(&row[0], n, abs))
			}
			return mx
		}
		quantI16 = func(dst []int16, row []float32, inv float32, lo, hi int32) {
			n := len(row) &^ 7
			if n > 0 {
				_ = dst[n-1]
				quantI16AVX2(&dst[0], &row[0], n, inv, lo)
			}
			quantI16Go(dst[n:], row[n:], inv, lo, hi)
		}
		ks = append(ks, QKernel{Name: "avx2", rows: 6, cols: 16, fn: qkernelAVX2})
	}
	if cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VNNI {
		quantU8 = func(dst []uint8, row []float32, inv float32, lo, hi, off int32) {
			n := len(row) &^ 15
			if n > 0 {
				_ = dst[n-1]
				quantU8AVX512(&dst[0], &row[0], n, inv, lo, off)
			}
			quantU8Go(dst[n:], row[n:], inv, lo, hi, off)
		}
		ks = append(ks, QKernel{Name: "avx512-vnni", rows: 12, cols: 32, u8: true, fn: qkernelVNNI})
	}
	return ks
}

func qkernelVNNI(b *QPacked, j int, a *QRows, i int, c []float32, ldc int) {
	kp := b.kp
	p0 := b.b8[(j/nr)*kp*nr : (j/nr+1)*kp*nr]
	p1 := b.b8[(j/nr+1)*kp*nr : (j/nr+2)*kp*nr]
	corr := b.corr[j : j+32]
	if a.unsigned {
		corr = b.zero[j : j+32]
	}
	// Bounds the assembly relies on, checked once per call.
	_ = a.u8[(i+11)*a.lda+kp-1]
	_ = a.Scale[i+11]
	_ = b.scale[j+31]
	_ = c[11*ldc+31]
	qkernel12x32VNNI(kp/4, &a.u8[i*a.lda], a.lda, &p0[0], &p1[0], &c[0], ldc, &a.Scale[i], &b.scale[j], &corr[0])
}

func qkernelAVX2(b *QPacked, j int, a *QRows, i int, c []float32, ldc int) {
	kp := b.kp
	panel := b.pairs()[(j/nr)*kp*nr : (j/nr+1)*kp*nr]
	_ = a.i16[(i+5)*a.lda+kp-1]
	_ = a.Scale[i+5]
	_ = b.scale[j+15]
	_ = c[5*ldc+15]
	qkernel6x16AVX2(kp/2, &a.i16[i*a.lda], a.lda, &panel[0], &c[0], ldc, &a.Scale[i], &b.scale[j])
}
