//go:build amd64

package main

import "golang.org/x/sys/cpu"

//go:noescape
func fmaZMM(n int)

//go:noescape
func vnniZMM(n int)

//go:noescape
func fmaYMM(n int)

//go:noescape
func maddYMM(n int)

// peakLoops returns the instruction loops this CPU can run: each runs n iterations of
// 12 independent instructions doing ops operations each.
func peakLoops() []peakLoop {
	var ls []peakLoop
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		ls = append(ls,
			peakLoop{"avx2-fma-f32", "GFLOP/s", 12 * 16, fmaYMM},
			peakLoop{"avx2-vpmaddwd-int16", "GOP/s", 12 * 32, maddYMM})
	}
	if cpu.X86.HasAVX512F {
		ls = append(ls, peakLoop{"avx512-fma-f32", "GFLOP/s", 12 * 32, fmaZMM})
		if cpu.X86.HasAVX512VNNI {
			ls = append(ls, peakLoop{"avx512-vpdpbusd-int8", "GOP/s", 12 * 128, vnniZMM})
		}
	}
	return ls
}
