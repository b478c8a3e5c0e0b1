// Package f16 converts between IEEE 754 binary16 ("half") and float32.
//
// Model weights are stored as half floats to halve their size and decoded to float32
// once, at load time. Mini-batch k-means keeps the vectors it clusters as half floats
// in memory and decodes them a block of rows at a time on every pass: ToFloat32s and
// FromFloat32s are the bulk forms for that, ToFloat32s through a 256 KB table.
package f16

import (
	"math"
	"sync"
)

// FromFloat32 returns the binary16 value nearest to f, rounding ties to even.
// Values beyond the half range become ±Inf; NaN stays NaN.
func FromFloat32(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int32(b>>23) & 0xff
	mant := b & 0x7fffff
	switch {
	case exp == 0xff: // Inf or NaN
		if mant != 0 {
			return sign | 0x7e00
		}
		return sign | 0x7c00
	case exp == 0 && mant == 0:
		return sign
	}
	e := exp - 127 + 15
	if e >= 0x1f {
		return sign | 0x7c00
	}
	if e <= 0 {
		// Subnormal half (or zero): shift the mantissa with its implicit bit.
		if e < -10 {
			return sign
		}
		m := mant | 0x800000
		shift := uint32(14 - e)
		half := m >> shift
		rem := m & (1<<shift - 1)
		mid := uint32(1) << (shift - 1)
		if rem > mid || (rem == mid && half&1 == 1) {
			half++
		}
		return sign | uint16(half)
	}
	half := uint32(e)<<10 | mant>>13
	rem := mant & 0x1fff
	if rem > 0x1000 || (rem == 0x1000 && half&1 == 1) {
		half++ // may carry into the exponent, which is the correct rounding
	}
	return sign | uint16(half)
}

// ToFloat32 returns the float32 value of the binary16 h (exact).
func ToFloat32(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h & 0x3ff)
	switch {
	case exp == 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	case exp == 0:
		if mant == 0 {
			return math.Float32frombits(sign)
		}
		// Subnormal: normalise.
		e := uint32(127 - 15 + 1)
		for mant&0x400 == 0 {
			mant <<= 1
			e--
		}
		mant &= 0x3ff
		return math.Float32frombits(sign | e<<23 | mant<<13)
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
}

// table maps every binary16 bit pattern to its float32 value; built on first use.
var (
	tableOnce sync.Once
	table     *[1 << 16]float32
)

func decodeTable() *[1 << 16]float32 {
	tableOnce.Do(func() {
		t := new([1 << 16]float32)
		for h := range t {
			t[h] = ToFloat32(uint16(h))
		}
		table = t
	})
	return table
}

// ToFloat32s decodes src into dst (exactly, as ToFloat32); dst must be at least as
// long as src.
func ToFloat32s(dst []float32, src []uint16) {
	t := decodeTable()
	dst = dst[:len(src)]
	for i, h := range src {
		dst[i] = t[h]
	}
}

// FromFloat32s encodes src into dst (as FromFloat32: nearest, ties to even, ±Inf
// beyond ±65504); dst must be at least as long as src.
func FromFloat32s(dst []uint16, src []float32) {
	dst = dst[:len(src)]
	for i, f := range src {
		dst[i] = FromFloat32(f)
	}
}
