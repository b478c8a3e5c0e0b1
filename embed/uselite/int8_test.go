package uselite

import (
	"context"
	"sync"
	"testing"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/internal/vec"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestInt8ReferenceCosine is the accuracy guard of the quantised forward pass: on the
// 20 reference texts, its vectors have cosine ≥ 0.999 to the reference ones and to
// the float32 pass's, with every 8-bit kernel this CPU can run.
func TestInt8ReferenceCosine(t *testing.T) {
	_, cases, texts, want := float32Reference(t)
	q, err := NewInt8()
	require.NoError(t, err)
	ctx := context.Background()
	saved := vec.QKernels()
	defer vec.UseQKernel(saved[len(saved)-1])
	for _, k := range vec.QKernels() {
		t.Run(k.Name, func(t *testing.T) {
			vec.UseQKernel(k)
			got, err := q.Embed(ctx, texts, lmsys.PurposeClustering)
			require.NoError(t, err)
			lo, sum := 1.0, 0.0
			for i, c := range cases {
				cr, cf := cosine(got[i], c.Embedding), cosine(got[i], want[i])
				lo, sum = min(lo, cr, cf), sum+cf
				assert.GreaterOrEqual(t, cr, 0.999, "reference, text %q", c.Text)
				assert.GreaterOrEqual(t, cf, 0.999, "float32 pass, text %q", c.Text)
			}
			t.Logf("%s: cosine to the float32 pass min %.5f mean %.5f", k.Name, lo, sum/float64(len(cases)))
		})
	}
}

func TestFLOPs(t *testing.T) {
	m, err := New()
	require.NoError(t, err)
	// Dense: layer 0 256·768 + 256·512 + 256·512 + 512·1536 + 1536·512, layer 1
	// 512·1536 + 512·512 + 512·1536 + 1536·512 multiply-adds per token.
	perToken := 2.0 * (256*768 + 2*256*512 + 2*512*1536 + 3*512*1536 + 512*512)
	one := 2 * (perToken/2 + 2*(256+512) + 512*512)
	assert.InDelta(t, one, m.FLOPs(1), 1e-6)
	assert.InDelta(t, m.FLOPs(MaxTokens), m.FLOPs(10*MaxTokens), 1e-6)
	assert.InDelta(t, 1.09e9, m.FLOPs(113), 0.01e9)
}

// float32Reference returns New's model, the reference cases, their texts and the
// float32 pass's vectors of them.
func float32Reference(t *testing.T) (*Model, []refCase, []string, [][]float32) {
	t.Helper()
	f, err := New()
	require.NoError(t, err)
	cases := loadReference(t)
	texts := referenceTexts(cases)
	want, err := f.Embed(context.Background(), texts, lmsys.PurposeClustering)
	require.NoError(t, err)
	return f, cases, texts, want
}

// TestQuantizeWhileEmbedding quantises the weights (what the first NewInt8 call does)
// while New's model embeds on other goroutines: the float32 vectors do not change,
// the quantised weights come back to the caller, and New's model holds none of them.
func TestQuantizeWhileEmbedding(t *testing.T) {
	f, _, texts, want := float32Reference(t)
	ctx := context.Background()
	got := make([][][]float32, 2)
	errs := make([]error, 2)
	var qs [2]qlayer
	var wg sync.WaitGroup
	for g := range got {
		wg.Go(func() { got[g], errs[g] = f.Embed(ctx, texts, lmsys.PurposeClustering) })
	}
	wg.Go(func() { qs = f.quantize() })
	wg.Wait()
	for g := range got {
		require.NoError(t, errs[g])
		assert.Equal(t, want, got[g])
	}
	assert.Nil(t, qs[0].qkv, "the first layer's attention stays float32")
	for l, q := range qs {
		assert.NotNil(t, q.ffn1, "layer %d", l)
	}
	assert.Equal(t, [2]qlayer{}, f.q, "New's model holds no quantised weights")
}
