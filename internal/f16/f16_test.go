package f16

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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

func TestBulkMatchesScalar(t *testing.T) {
	cases := []struct {
		name string
		in   []float32
	}{
		{"empty", nil},
		{"one", []float32{0.5}},
		{"mixed", []float32{0, -0, 1, -2.5, 65504, 65520, 1e-7, 6.1e-5, -0.333, float32(math.Inf(1)), 1.00048828125}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := make([]uint16, len(c.in)+2) // longer dst: only len(src) is written
			FromFloat32s(h, c.in)
			back := make([]float32, len(c.in)+2)
			ToFloat32s(back, h[:len(c.in)])
			for i, f := range c.in {
				require.Equal(t, FromFloat32(f), h[i], "%g", f)
				require.Equal(t, math.Float32bits(ToFloat32(h[i])), math.Float32bits(back[i]), "%g", f)
			}
			assert.Zero(t, h[len(c.in)])
			assert.Zero(t, back[len(c.in)])
		})
	}
	all := make([]uint16, 1<<16)
	for i := range all {
		all[i] = uint16(i)
	}
	got := make([]float32, len(all))
	ToFloat32s(got, all)
	for i, h := range all {
		require.Equal(t, math.Float32bits(ToFloat32(h)), math.Float32bits(got[i]), "half %#04x", h)
	}
}
