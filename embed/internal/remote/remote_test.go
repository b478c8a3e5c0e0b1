package remote

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/lmsys-go/lmsys/internal/gate"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/internal/retry"
)

func TestEmbedKeepsOrderAcrossConcurrentBatches(t *testing.T) {
	c := retry.New(retry.Policy{Provider: "fake"})
	texts := make([]string, 103)
	for i := range texts {
		texts[i] = strconv.Itoa(i)
	}
	// 11 batches, three at a time: the gate fails the test if a fourth runs while
	// three do, and stalls it if fewer than three ever run together.
	g := gate.New(t, 3, 11)
	out, err := Embed(context.Background(), c, texts, 10, 3, 2, func(ctx context.Context, batch []string) ([][]float32, error) {
		g.Pass()
		vecs := make([][]float32, len(batch))
		for i, s := range batch {
			x, _ := strconv.Atoi(s)
			vecs[i] = []float32{float32(x), 1}
		}
		return vecs, nil
	})
	require.NoError(t, err)
	for i, v := range out {
		// Normalised, and in input order.
		assert.InDelta(t, 1, float64(v[0]*v[0]+v[1]*v[1]), 1e-5)
		assert.InDelta(t, float64(i), float64(v[0]/v[1]), 1e-3)
	}
	assert.Equal(t, 3, g.Peak())
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name string
		vecs [][]float32
		want int
		dims int
		err  string
	}{
		{"ok any dims", [][]float32{{3, 4}, {0, 2}}, 2, 0, ""},
		{"zero vector", [][]float32{{0, 0}}, 1, 2, "all-zero vector for text 0"},
		{"count", [][]float32{{1}}, 2, 1, "p returned 1 vectors for 2 texts"},
		{"dims", [][]float32{{1, 2}, {1}}, 2, 2, "vector of 1 dimensions for text 1, want 2"},
		{"ragged any dims", [][]float32{{1, 2}, {1}}, 2, 0, "vector of 1 dimensions for text 1, want 2"},
		{"empty vectors", [][]float32{{}}, 1, 0, "vector of 0 dimensions"},
		{"nan", [][]float32{{float32(math.NaN()), 1}}, 1, 2, "non-finite"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Check("p", tt.vecs, tt.want, tt.dims)
			if tt.err == "" {
				require.NoError(t, err)
				assert.InDelta(t, 1, float64(tt.vecs[0][0]*tt.vecs[0][0]+tt.vecs[0][1]*tt.vecs[0][1]), 1e-5, "normalised")
				return
			}
			assert.ErrorContains(t, err, tt.err)
		})
	}
}

func TestEmbedErrors(t *testing.T) {
	c := retry.New(retry.Policy{Provider: "fake", MaxAttempts: 2, BaseDelay: time.Millisecond})
	_, err := Embed(context.Background(), c, []string{"a", ""}, 10, 1, 0, nil)
	assert.ErrorIs(t, err, lmsys.ErrInvalidInput)

	calls := 0
	_, err = Embed(context.Background(), c, []string{"a"}, 10, 1, 3, func(ctx context.Context, b []string) ([][]float32, error) {
		calls++
		return [][]float32{{1, 2}}, nil
	})
	assert.ErrorIs(t, err, lmsys.ErrProvider)
	assert.Equal(t, 1, calls, "a malformed answer is not retried")

	var syn *json.SyntaxError
	err = DecodeError(json.Unmarshal([]byte("{"), &struct{}{}))
	assert.True(t, retry.IsPermanent(err))
	assert.ErrorAs(t, err, &syn)
	plain := errors.New("x")
	assert.Equal(t, plain, DecodeError(plain))

	out, err := Embed(context.Background(), c, nil, 10, 1, 3, nil)
	require.NoError(t, err)
	assert.Empty(t, out)
}
