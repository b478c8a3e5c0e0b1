package uselite

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"testing"

	"github.com/lmsys-go/lmsys"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type refCase struct {
	Text      string    `json:"text"`
	TokenIDs  []int     `json:"token_ids"`
	Embedding []float32 `json:"embedding"`
}

func loadReference(t testing.TB) []refCase {
	t.Helper()
	raw, err := os.ReadFile("testdata/reference.json")
	require.NoError(t, err)
	var ref struct {
		Cases []refCase `json:"cases"`
	}
	require.NoError(t, json.Unmarshal(raw, &ref))
	require.Len(t, ref.Cases, 20)
	return ref.Cases
}

func cosine(a, b []float32) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += float64(a[i]) * float64(b[i])
		aa += float64(a[i]) * float64(a[i])
		bb += float64(b[i]) * float64(b[i])
	}
	return ab / math.Sqrt(aa*bb)
}

func TestReferenceTokenIDs(t *testing.T) {
	m, err := New()
	require.NoError(t, err)
	for _, c := range loadReference(t) {
		assert.Equal(t, c.TokenIDs, m.Tokenize(c.Text), "text %q", c.Text)
	}
}

func TestReferenceEmbeddings(t *testing.T) {
	m, err := New()
	require.NoError(t, err)
	cases := loadReference(t)
	texts := make([]string, len(cases))
	for i, c := range cases {
		texts[i] = c.Text
	}
	got, err := m.Embed(context.Background(), texts, lmsys.PurposeClustering)
	require.NoError(t, err)
	require.Len(t, got, len(cases))
	for i, c := range cases {
		require.Len(t, got[i], Dims)
		cos := cosine(got[i], c.Embedding)
		t.Logf("%.6f %q", cos, c.Text)
		assert.GreaterOrEqual(t, cos, 0.9999, "text %q", c.Text)
	}
}
