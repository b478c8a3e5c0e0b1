package uselite

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"unicode/utf8"

	"github.com/lmsys-go/lmsys/embed/uselite/internal/weights"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/internal/vec"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type refCase struct {
	Text      string    `json:"text"`
	TokenIDs  []int     `json:"token_ids"`
	Embedding []float32 `json:"embedding"`
}

// referenceTexts returns the reference cases' texts in order.
func referenceTexts(cases []refCase) []string {
	texts := make([]string, len(cases))
	for i, c := range cases {
		texts[i] = c.Text
	}
	return texts
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
	texts := referenceTexts(cases)
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

func embedOne(t *testing.T, m *Model, text string) []float32 {
	t.Helper()
	v, err := m.Embed(context.Background(), []string{text}, lmsys.PurposeQuery)
	require.NoError(t, err)
	require.Len(t, v, 1)
	require.Len(t, v[0], Dims)
	var ss float64
	for _, x := range v[0] {
		require.False(t, math.IsNaN(float64(x)) || math.IsInf(float64(x), 0), "non-finite value for %q", text)
		ss += float64(x) * float64(x)
	}
	require.InDelta(t, 1, ss, 1e-4, "vector for %q is not unit length", text)
	return v[0]
}

func TestSpace(t *testing.T) {
	m, err := New()
	require.NoError(t, err)
	var e lmsys.Embedder = m
	assert.Equal(t, lmsys.Space{Provider: "local", Model: "use-lite", Dims: 512}, e.Space())
	again, err := New()
	require.NoError(t, err)
	assert.Same(t, m, again, "New must load the weights once")
}

func TestEdgeCaseTexts(t *testing.T) {
	m, err := New()
	require.NoError(t, err)
	long := strings.Repeat("the quick brown fox jumps over the lazy dog ", 2400) // ~105 KB
	require.Greater(t, len(long), 100_000)
	cases := []struct {
		name, text string
		ids        []int
	}{
		{"empty", "", []int{30}},
		{"whitespace", "   ", []int{30, 30, 30, 30}},
		{"tab and newline are unknown", "\t\n", []int{30, 0}},
		{"invalid utf-8", "\xff\xfeok", m.Tokenize("\uFFFD\uFFFDok")},
		{"lone continuation byte", "a\x80b", m.Tokenize("a\uFFFDb")},
		{"nul", "\x00", []int{30, 0}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.ids, m.Tokenize(c.text))
			embedOne(t, m, c.text)
		})
	}
	t.Run("invalid utf-8 embeds as U+FFFD", func(t *testing.T) {
		assert.Equal(t, embedOne(t, m, "\uFFFD\uFFFDok"), embedOne(t, m, "\xff\xfeok"))
	})
	t.Run("100 KB text is clipped to 128 tokens", func(t *testing.T) {
		ids := m.Tokenize(long)
		require.Greater(t, len(ids), 10*MaxTokens)
		a := embedOne(t, m, long)
		// Anything past the 128th token does not change the vector.
		b := embedOne(t, m, long+" and then something else entirely: SQL, emoji 😀, 日本語")
		assert.Equal(t, a, b)
		c := embedOne(t, m, long[:2000])
		assert.Equal(t, a, c)
	})
}

func TestBatchEqualsSingle(t *testing.T) {
	m, err := New()
	require.NoError(t, err)
	cases := loadReference(t)
	var texts []string
	for i := 0; i < 6; i++ { // enough texts for both workers and several batches
		for _, c := range cases {
			texts = append(texts, c.Text)
		}
	}
	batch, err := m.Embed(context.Background(), texts, lmsys.PurposeClustering)
	require.NoError(t, err)
	for i, text := range texts[:len(cases)] {
		single := embedOne(t, m, text)
		for rep := 0; rep < 6; rep++ {
			assert.InDeltaSlice(t, single, batch[rep*len(cases)+i], 1e-6, "text %q copy %d", text, rep)
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	m, err := New()
	require.NoError(t, err)
	cases := loadReference(t)
	texts := referenceTexts(cases)
	want, err := m.Embed(context.Background(), texts, lmsys.PurposeClustering)
	require.NoError(t, err)
	var wg sync.WaitGroup
	results := make([][][]float32, 4)
	for g := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[g], _ = m.Embed(context.Background(), texts, lmsys.PurposeClustering)
		}()
	}
	wg.Wait()
	for _, got := range results {
		assert.Equal(t, want, got)
	}
}

func TestEmptyInput(t *testing.T) {
	m, err := New()
	require.NoError(t, err)
	v, err := m.Embed(context.Background(), nil, lmsys.PurposeClustering)
	require.NoError(t, err)
	assert.Empty(t, v)
}

// cancelAfter is a context whose Err reports cancellation from its n-th call on, so a
// test can cancel deterministically in the middle of a run.
type cancelAfter struct {
	context.Context
	calls, n atomic.Int64
}

func (c *cancelAfter) Err() error {
	if c.calls.Add(1) >= c.n.Load() {
		return context.Canceled
	}
	return nil
}

func TestContextCancellation(t *testing.T) {
	m, err := New()
	require.NoError(t, err)
	texts := make([]string, 400)
	for i := range texts {
		texts[i] = fmt.Sprintf("how do I set alarm number %d", i)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = m.Embed(ctx, texts, lmsys.PurposeClustering)
	assert.ErrorIs(t, err, context.Canceled)

	mid := &cancelAfter{Context: context.Background()}
	mid.n.Store(4) // let the first batches through, then cancel
	v, err := m.Embed(mid, texts, lmsys.PurposeClustering)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Nil(t, v, "a cancelled call returns no partial result")

	dst := make([]float32, Dims)
	assert.ErrorIs(t, m.EmbedInto(context.Background(), texts[:2], dst), lmsys.ErrInvalidInput)
}

func TestEveryKernelMatchesReference(t *testing.T) {
	m, err := New()
	require.NoError(t, err)
	kernels := vec.GEMMKernels()
	defer vec.UseGEMMKernel(kernels[len(kernels)-1])
	cases := loadReference(t)
	texts := referenceTexts(cases)
	for _, k := range kernels {
		vec.UseGEMMKernel(k)
		n := len(cases)
		if k.Name == "go" && testing.Short() {
			n = 8 // the portable kernel is slow; its short run skips the long texts
		}
		v, err := m.Embed(context.Background(), texts[:n], lmsys.PurposeClustering)
		require.NoError(t, err)
		for i, c := range cases[:n] {
			assert.GreaterOrEqual(t, cosine(v[i], c.Embedding), 0.9999, "kernel %s text %q", k.Name, c.Text)
		}
	}
}

func TestCorruptWeightsAreRejected(t *testing.T) {
	bad := append([]byte(nil), weightsFile...)
	bad[len(bad)/2] ^= 1
	_, err := load(bad, vocabFile)
	assert.ErrorIs(t, err, weights.ErrFormat)
	assert.ErrorContains(t, err, "checksum")

	_, err = newTokenizer([]byte("not a vocabulary"))
	assert.ErrorContains(t, err, "vocabulary line 1")
	_, err = newTokenizer([]byte("-1\ta\n"))
	assert.ErrorContains(t, err, "no one-character unk")
}

func FuzzTokenize(f *testing.F) {
	m, err := New()
	require.NoError(f, err)
	for _, c := range loadReference(f) {
		f.Add(c.Text)
	}
	f.Add("\xff\xfe\xfd")
	f.Add("a\u0301\u0301\u0301 ﬁ ½ ２")
	f.Fuzz(func(t *testing.T, text string) {
		ids := m.Tokenize(text)
		require.NotEmpty(t, ids)
		for i, id := range ids {
			require.True(t, id == 0 || (id >= firstPiece && id < 8000), "id %d out of range", id)
			require.False(t, i > 0 && id == 0 && ids[i-1] == 0, "consecutive unks in %v", ids)
		}
		if !utf8.ValidString(text) {
			require.Equal(t, m.Tokenize(strings.ToValidUTF8(text, "\uFFFD")), ids)
		}
		// Deterministic, and the buffers reused across calls do not leak state.
		require.Equal(t, ids, m.Tokenize(text))
		// Tokenising prefixes gives the same first MaxTokens ids.
		var sc tokScratch
		clipped := m.tok.encodeClipped(text, &sc, 3)
		require.Len(t, clipped, min(len(ids), MaxTokens))
		for i, id := range clipped {
			require.Equal(t, ids[i], int(id), "prefix tokenisation differs at %d", i)
		}
	})
}

// TestClippedPrefixTokenization checks that tokenising growing prefixes of a long text
// gives exactly the first MaxTokens ids of tokenising all of it.
func TestClippedPrefixTokenization(t *testing.T) {
	m, err := New()
	require.NoError(t, err)
	words := []string{"the", "password", "日本語の文章", "😀", "naïve", "ﬁnance", "a\u0301", "´", "::", ":", "", "\t", "\xff",
		"SELECT", "*", "http://x.io", "don't", "½", "Ｆｕｌｌ", "\u00a0", "e\u0301\u0301", "🤖🤖"}
	rng := rand.New(rand.NewPCG(3, 4))
	for trial := 0; trial < 300; trial++ {
		var b strings.Builder
		n := 20 + rng.IntN(400)
		for i := 0; i < n; i++ {
			b.WriteString(words[rng.IntN(len(words))])
			for j := rng.IntN(3); j >= 0; j-- {
				b.WriteByte(' ')
			}
		}
		text := b.String()
		full := m.Tokenize(text)
		want := make([]int32, min(len(full), MaxTokens))
		for i := range want {
			want[i] = int32(full[i])
		}
		var s tokScratch
		for _, first := range []int{1, 7, 64, prefixBytes} {
			got := append([]int32(nil), m.tok.encodeClipped(text, &s, first)...)
			require.Equal(t, want, got, "first=%d text=%q", first, text)
		}
	}
}

func TestRelu(t *testing.T) {
	x := []float32{-1, 0, 2.5, float32(math.Copysign(0, -1)), -1e-30, 3e38}
	relu(x)
	assert.Equal(t, []float32{0, 0, 2.5, 0, 0, 3e38}, x)
}
