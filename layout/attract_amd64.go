//go:build !purego

package layout

import "golang.org/x/sys/cpu"

// attractAVX512 is the AVX-512 attraction in attract_amd64.s: sixteen edges a step,
// the points' coordinates gathered, the tail under a mask.
//
//go:noescape
func attractAVX512(y *float32, cols *int32, vals *float32, n int, xi, yi float32) (ax, ay float32)

// hasAVX512 reports whether this CPU runs the AVX-512 kernels attractAVX512 and
// butterflyAVX512 (GODEBUG=cpu.avx512f=off turns them off).
var hasAVX512 = cpu.X86.HasAVX512F

func init() {
	if hasAVX512 {
		attractRow = attractVector
	}
}

// attractVector is attractRow through attractAVX512.
func attractVector(y []float32, cols []int32, vals []float32, xi, yi float32) (float32, float32) {
	if len(cols) == 0 {
		return 0, 0
	}
	_ = vals[len(cols)-1]
	return attractAVX512(&y[0], &cols[0], &vals[0], len(cols), xi, yi)
}
