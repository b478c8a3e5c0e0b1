// Package weights reads and writes the USE-lite weights file, a small self-checking
// tensor container.
//
// Layout (all integers little-endian):
//
//	magic    8 bytes  "USELITE\x00"
//	version  uint32   1
//	count    uint32   number of tensors
//	count × tensor header:
//	  nameLen uint16, name [nameLen]byte (UTF-8)
//	  dtype   uint8    1 = IEEE binary16, 2 = IEEE binary32
//	  rank    uint8
//	  dims    rank × uint32
//	data     each tensor's elements in header order, row-major, no padding
//	checksum 32 bytes SHA-256 of every preceding byte
//
// Scalars have rank 0 and one element.
package weights

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/lmsys-go/lmsys/internal/f16"
)

// Magic starts every weights file.
const Magic = "USELITE\x00"

// Version is the format version this package reads and writes.
const Version = 1

// Element types.
const (
	Float16 uint8 = 1
	Float32 uint8 = 2
)

// ErrFormat reports a weights file that is truncated, corrupt or of another format.
var ErrFormat = errors.New("malformed weights file")

// Tensor is one named array of float32 values with its storage type.
type Tensor struct {
	Name  string
	DType uint8
	Shape []int
	Data  []float32
}

// Len returns the number of elements the shape implies.
func (t Tensor) Len() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// Encode serialises tensors, converting each to its DType, and appends the checksum.
func Encode(tensors []Tensor) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(Magic)
	le := binary.LittleEndian
	var u4 [4]byte
	le.PutUint32(u4[:], Version)
	buf.Write(u4[:])
	le.PutUint32(u4[:], uint32(len(tensors)))
	buf.Write(u4[:])
	for _, t := range tensors {
		if len(t.Name) == 0 || len(t.Name) > math.MaxUint16 {
			return nil, fmt.Errorf("tensor name %q: bad length", t.Name)
		}
		if t.DType != Float16 && t.DType != Float32 {
			return nil, fmt.Errorf("tensor %s: unknown dtype %d", t.Name, t.DType)
		}
		if t.Len() != len(t.Data) {
			return nil, fmt.Errorf("tensor %s: shape %v needs %d values, have %d", t.Name, t.Shape, t.Len(), len(t.Data))
		}
		var u2 [2]byte
		le.PutUint16(u2[:], uint16(len(t.Name)))
		buf.Write(u2[:])
		buf.WriteString(t.Name)
		buf.WriteByte(t.DType)
		buf.WriteByte(uint8(len(t.Shape)))
		for _, d := range t.Shape {
			le.PutUint32(u4[:], uint32(d))
			buf.Write(u4[:])
		}
	}
	for _, t := range tensors {
		for _, v := range t.Data {
			if t.DType == Float16 {
				var u2 [2]byte
				le.PutUint16(u2[:], f16.FromFloat32(v))
				buf.Write(u2[:])
			} else {
				le.PutUint32(u4[:], math.Float32bits(v))
				buf.Write(u4[:])
			}
		}
	}
	sum := sha256.Sum256(buf.Bytes())
	buf.Write(sum[:])
	return buf.Bytes(), nil
}

// Decode verifies the checksum and returns the tensors, decoded to float32.
func Decode(b []byte) ([]Tensor, error) {
	if len(b) < len(Magic)+8+sha256.Size || string(b[:len(Magic)]) != Magic {
		return nil, fmt.Errorf("%w: no USE-lite magic", ErrFormat)
	}
	body, sum := b[:len(b)-sha256.Size], b[len(b)-sha256.Size:]
	if got := sha256.Sum256(body); !bytes.Equal(got[:], sum) {
		return nil, fmt.Errorf("%w: checksum mismatch", ErrFormat)
	}
	le := binary.LittleEndian
	p := len(Magic)
	if v := le.Uint32(body[p:]); v != Version {
		return nil, fmt.Errorf("%w: version %d, want %d", ErrFormat, v, Version)
	}
	count := int(le.Uint32(body[p+4:]))
	p += 8
	need := func(n int) error {
		if n < 0 || p+n > len(body) {
			return fmt.Errorf("%w: truncated at byte %d", ErrFormat, p)
		}
		return nil
	}
	if count > len(body) {
		return nil, fmt.Errorf("%w: %d tensors cannot fit", ErrFormat, count)
	}
	tensors := make([]Tensor, count)
	for i := range tensors {
		if err := need(2); err != nil {
			return nil, err
		}
		n := int(le.Uint16(body[p:]))
		p += 2
		if err := need(n + 2); err != nil {
			return nil, err
		}
		t := &tensors[i]
		t.Name = string(body[p : p+n])
		p += n
		t.DType, p = body[p], p+1
		rank := int(body[p])
		p++
		if err := need(4 * rank); err != nil {
			return nil, err
		}
		t.Shape = make([]int, rank)
		for d := range t.Shape {
			t.Shape[d] = int(le.Uint32(body[p:]))
			p += 4
		}
		if t.DType != Float16 && t.DType != Float32 {
			return nil, fmt.Errorf("%w: tensor %s has unknown dtype %d", ErrFormat, t.Name, t.DType)
		}
	}
	for i := range tensors {
		t := &tensors[i]
		n := t.Len()
		size := 2
		if t.DType == Float32 {
			size = 4
		}
		if n < 0 || n > len(body) {
			return nil, fmt.Errorf("%w: tensor %s shape %v too large", ErrFormat, t.Name, t.Shape)
		}
		if err := need(n * size); err != nil {
			return nil, err
		}
		t.Data = make([]float32, n)
		for j := range t.Data {
			if t.DType == Float16 {
				t.Data[j] = f16.ToFloat32(le.Uint16(body[p:]))
				p += 2
			} else {
				t.Data[j] = math.Float32frombits(le.Uint32(body[p:]))
				p += 4
			}
		}
	}
	if p != len(body) {
		return nil, fmt.Errorf("%w: %d trailing bytes", ErrFormat, len(body)-p)
	}
	return tensors, nil
}
