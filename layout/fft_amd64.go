//go:build !purego

package layout

// butterflyAVX512 is the AVX-512 butterfly of fft_amd64.s, n a multiple of 4.
//
//go:noescape
func butterflyAVX512(top, bot *complex128, n int, wr, wi float64)

// butterflies sets top, bot = top + w·bot, top − w·bot, four values a step where
// the CPU has AVX-512 (hasAVX512), with the bits of butterfliesGo.
func butterflies(top, bot []complex128, w complex128) {
	n := 0
	if hasAVX512 && len(top) >= 4 {
		n = len(top) &^ 3
		_ = bot[n-1]
		butterflyAVX512(&top[0], &bot[0], n, real(w), imag(w))
	}
	butterfliesGo(top[n:], bot[n:], w)
}
