package f16

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestRoundTripAllHalves(t *testing.T) {
	for h := 0; h < 1<<16; h++ {
		f := ToFloat32(uint16(h))
		if f != f { // NaN
			assert.True(t, math.IsNaN(float64(ToFloat32(FromFloat32(f)))))
			continue
		}
		assert.Equal(t, uint16(h), FromFloat32(f), "half %#04x = %g", h, f)
	}
}

func TestKnownValues(t *testing.T) {
	cases := []struct {
		f float32
		h uint16
	}{
		{0, 0}, {1, 0x3c00}, {-2, 0xc000}, {65504, 0x7bff}, {65520, 0x7c00}, {1e9, 0x7c00},
		{float32(math.Inf(-1)), 0xfc00}, {5.960464477539063e-08, 0x0001}, {2e-8, 0},
		{6.103515625e-05, 0x0400}, {0.333333343, 0x3555}, {1.0009765625, 0x3c01},
		// Halfway between 1 and 1+2^-10 rounds to even (1); just above rounds up.
		{1.00048828125, 0x3c00}, {math.Nextafter32(1.00048828125, 2), 0x3c01},
	}
	for _, c := range cases {
		assert.Equal(t, c.h, FromFloat32(c.f), "%g", c.f)
	}
}

func TestRelativeError(t *testing.T) {
	for _, f := range []float32{0.1, -0.73, 3.14159, 123.456, 1e-3, -4e-4} {
		g := ToFloat32(FromFloat32(f))
		assert.InDelta(t, 1, g/f, 1.0/2048+1e-7, "%g -> %g", f, g)
	}
}
