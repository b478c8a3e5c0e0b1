//go:build openblas && cgo

package openblas

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSgemm(t *testing.T) {
	// [1 2; 3 4] · [5 6; 7 8] = [19 22; 43 50], added to C = 1.
	c := []float32{1, 1, 1, 1}
	Sgemm(2, 2, 2, []float32{1, 2, 3, 4}, 2, []float32{5, 6, 7, 8}, 2, c, 2)
	assert.Equal(t, []float32{20, 23, 44, 51}, c)
}
