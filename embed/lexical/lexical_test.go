package lexical

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmsys-go/lmsys"
)

func dot(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

func mustNew(t testing.TB, o Options) *Embedder {
	t.Helper()
	e, err := New(o)
	require.NoError(t, err)
	return e
}

func TestSpaceAndOptions(t *testing.T) {
	e := mustNew(t, Options{})
	assert.Equal(t, lmsys.Space{Provider: "local", Model: "lexical", Dims: 512}, e.Space())
	assert.Equal(t, lmsys.Space{Provider: "local", Model: "lexical", Dims: 256}, mustNew(t, Options{Dims: 256}).Space())
	assert.Equal(t, "lexical-w1-c0-n3-5-r16384", mustNew(t, Options{WordWeight: 1}).Space().Model)

	for _, bad := range []Options{{Dims: -1}, {MinN: 4, MaxN: 3}, {MaxN: 9}, {WordWeight: -1}, {Dims: 1 << 21}} {
		_, err := New(bad)
		assert.ErrorIs(t, err, lmsys.ErrInvalidInput, "%+v", bad)
	}
}

func TestVectorsAreUnitAndDeterministic(t *testing.T) {
	e := mustNew(t, Options{Dims: 128})
	texts := []string{
		"what alarms do i have set right now",
		"",
		"   ",
		"???",
		"!!!",
		"你好，请帮我写一首关于秋天的诗",
		"안녕하세요 오늘 날씨 어때요",
		"ما هو الطقس اليوم",
		"Привет, как дела?",
		"नमस्ते आप कैसे हैं",
		"สวัสดีครับ วันนี้อากาศดีไหม",
		"\xff\xfe invalid utf-8 \xc3",
		strings.Repeat("long text ", 5000),
	}
	a, err := e.Embed(context.Background(), texts, lmsys.PurposeClustering)
	require.NoError(t, err)
	b, err := e.Embed(context.Background(), texts, lmsys.PurposeQuery)
	require.NoError(t, err)
	require.Len(t, a, len(texts))
	for i := range texts {
		require.Len(t, a[i], 128)
		assert.InDelta(t, 1, dot(a[i], a[i]), 1e-5, "text %d %q", i, texts[i])
		assert.Equal(t, a[i], b[i], "text %d", i)
	}
	// Different punctuation-only and different scripts give different vectors.
	assert.Less(t, dot(a[3], a[4]), 0.99)
	for i := 5; i <= 10; i++ {
		for j := i + 1; j <= 10; j++ {
			assert.Less(t, dot(a[i], a[j]), 0.5, "%q vs %q", texts[i], texts[j])
		}
	}
}

func TestSimilarTextsAreCloser(t *testing.T) {
	e := mustNew(t, Options{})
	tests := []struct{ q, near, far string }{
		{"set an alarm for 7 am", "wake me up with an alarm at 7", "what is the weather in paris"},
		{"write a python function to sort a list", "python code that sorts a list", "recipe for chocolate cake"},
		{"请帮我写一首关于秋天的诗", "写一首秋天的诗", "今天北京的天气怎么样"},
		{"오늘 날씨 어때요", "내일 날씨 어때요", "파이썬 코드를 작성해 주세요"},
		{"embeddings", "embedding", "tomato"},
	}
	for _, tt := range tests {
		v, err := e.Embed(context.Background(), []string{tt.q, tt.near, tt.far}, lmsys.PurposeClustering)
		require.NoError(t, err)
		assert.Greater(t, dot(v[0], v[1]), dot(v[0], v[2]), "%q", tt.q)
	}
}

func TestParallelBatchEqualsSequential(t *testing.T) {
	e := mustNew(t, Options{Dims: 64})
	texts := make([]string, 3*parallelMin+7)
	for i := range texts {
		texts[i] = fmt.Sprintf("query number %d about topic %d", i, i%13)
	}
	batch, err := e.Embed(context.Background(), texts, lmsys.PurposeClustering)
	require.NoError(t, err)
	one := make([]float32, 64)
	for i, tx := range texts {
		e.EmbedInto(one, tx)
		require.Equal(t, one, batch[i], "text %d", i)
	}
}

func TestEmbedIntoAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops buffers on purpose under -race")
	}
	e := mustNew(t, Options{})
	dst := make([]float32, 512)
	text := "Please write a short poem about autumn leaves 秋天 and rain"
	e.EmbedInto(dst, text) // warm the buffers
	allocs := testing.AllocsPerRun(200, func() { e.EmbedInto(dst, text) })
	assert.Zero(t, allocs)
	assert.Panics(t, func() { e.EmbedInto(make([]float32, 3), text) })
}

func TestEmbedHonoursCancellation(t *testing.T) {
	e := mustNew(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := e.Embed(ctx, []string{"a"}, lmsys.PurposeClustering)
	assert.ErrorIs(t, err, context.Canceled)
	big := make([]string, 5000)
	_, err = e.Embed(ctx, big, lmsys.PurposeClustering)
	assert.ErrorIs(t, err, context.Canceled)
}

func FuzzEmbed(f *testing.F) {
	for _, s := range []string{"", "hello world", "你好世界", "\xff", "a b c d e f g", "ÉCOLE école"} {
		f.Add(s)
	}
	e := mustNew(f, Options{Dims: 32})
	dst := make([]float32, 32)
	f.Fuzz(func(t *testing.T, s string) {
		e.EmbedInto(dst, s)
		n := dot(dst, dst)
		if math.IsNaN(n) || math.Abs(n-1) > 1e-4 {
			t.Fatalf("norm² %v for %q", n, s)
		}
	})
}

func ExampleEmbedder_Embed() {
	e, _ := New(Options{Dims: 256})
	v, _ := e.Embed(context.Background(), []string{"set an alarm for 7 am", "wake me up at 7 with an alarm", "weather in paris"}, lmsys.PurposeClustering)
	fmt.Println(e.Space())
	fmt.Println(dot(v[0], v[1]) > dot(v[0], v[2]))
	// Output:
	// local/lexical@256
	// true
}

// loadTexts reads the text field of $LMSYS_DATA_DIR/name/normalized.jsonl, skipping
// when the variable is not set or the file is missing.
func loadTexts(tb testing.TB, name string) []string {
	dir := os.Getenv("LMSYS_DATA_DIR")
	if dir == "" {
		tb.Skip("set LMSYS_DATA_DIR to a directory of NAME/normalized.jsonl data sets to run this benchmark")
	}
	path := filepath.Join(dir, name, "normalized.jsonl")
	f, err := os.Open(path)
	if err != nil {
		tb.Skipf("data set %s not available: %v", name, err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var row struct{ Text string }
		if err := json.Unmarshal(sc.Bytes(), &row); err == nil {
			out = append(out, row.Text)
		}
	}
	return out
}

// BenchmarkEmbed reports queries per second over whole data sets, with Embed's
// parallel batches (the way backfill calls it).
func BenchmarkEmbed(b *testing.B) {
	for _, name := range []string{"hwu64", "sharegpt"} {
		b.Run(name, func(b *testing.B) {
			texts := loadTexts(b, name)
			e := mustNew(b, Options{})
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for lo := 0; lo < len(texts); lo += 1024 {
					if _, err := e.Embed(context.Background(), texts[lo:min(lo+1024, len(texts))], lmsys.PurposeClustering); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.N*len(texts))/b.Elapsed().Seconds(), "queries/s")
		})
	}
}

// BenchmarkEmbedInto measures one goroutine, no allocation.
func BenchmarkEmbedInto(b *testing.B) {
	texts := loadTexts(b, "hwu64")
	e := mustNew(b, Options{})
	dst := make([]float32, 512)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e.EmbedInto(dst, texts[i%len(texts)])
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "queries/s")
}

// TestSpaceIsStable pins the vectors of local/lexical: stored embeddings of this space
// must stay comparable with new ones, so any change to the features, hashing or
// weighting must come with a new model name instead.
func TestSpaceIsStable(t *testing.T) {
	e := mustNew(t, Options{})
	texts := []string{"what alarms do i have set right now", "你好，请帮我写一首关于秋天的诗", "Write a Python function!", ""}
	vecs, err := e.Embed(context.Background(), texts, lmsys.PurposeClustering)
	require.NoError(t, err)
	h := fnv.New64a()
	for _, v := range vecs {
		for _, x := range v {
			var b [4]byte
			binary.LittleEndian.PutUint32(b[:], math.Float32bits(x))
			h.Write(b[:])
		}
	}
	assert.Equal(t, uint64(0x97fb17c52177c00), h.Sum64(), "local/lexical vectors changed")
}
