package weights

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func sample() []Tensor {
	return []Tensor{
		{Name: "m", DType: Float16, Shape: []int{2, 3}, Data: []float32{1, -2, 0.5, 0.25, 3, -0.125}},
		{Name: "v", DType: Float32, Shape: []int{3}, Data: []float32{1e-7, 3.14159, -2}},
		{Name: "s", DType: Float32, Shape: []int{}, Data: []float32{1e-12}},
	}
}

func TestRoundTrip(t *testing.T) {
	b, err := Encode(sample())
	require.NoError(t, err)
	got, err := Decode(b)
	require.NoError(t, err)
	assert.Equal(t, sample()[0].Data, got[0].Data) // exactly representable in float16
	assert.Equal(t, sample()[1:], got[1:])
	assert.Equal(t, []int{2, 3}, got[0].Shape)
}

func TestDecodeRejectsDamage(t *testing.T) {
	good, err := Encode(sample())
	require.NoError(t, err)
	flip := append([]byte(nil), good...)
	flip[20] ^= 0x40
	cases := map[string][]byte{
		"empty":     nil,
		"magic":     append([]byte("NOTMAGIC"), good[8:]...),
		"truncated": good[:len(good)-5],
		"flipped":   flip,
	}
	for name, b := range cases {
		_, err := Decode(b)
		assert.ErrorIs(t, err, ErrFormat, name)
	}
}

func TestEncodeRejectsBadTensors(t *testing.T) {
	_, err := Encode([]Tensor{{Name: "x", DType: Float32, Shape: []int{2}, Data: []float32{1}}})
	assert.ErrorContains(t, err, "needs 2 values")
	_, err = Encode([]Tensor{{Name: "x", DType: 9, Shape: []int{1}, Data: []float32{1}}})
	assert.ErrorContains(t, err, "unknown dtype")
}

func FuzzDecode(f *testing.F) {
	good, _ := Encode(sample())
	f.Add(good)
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = Decode(b) // must not panic
	})
}
