package embed_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/embed"
	"github.com/lmsys-go/lmsys/embed/lexical"
	"github.com/lmsys-go/lmsys/store"
)

func TestOpenResolvesProviders(t *testing.T) {
	openaiSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Input      []string `json:"input"`
			Dimensions int      `json:"dimensions"`
		}
		_ = json.NewDecoder(r.Body).Decode(&req)
		data := []map[string]any{}
		for i := range req.Input {
			v := make([]float32, req.Dimensions)
			v[i%req.Dimensions] = 1
			data = append(data, map[string]any{"index": i, "embedding": v})
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"data": data})
	}))
	defer openaiSrv.Close()

	tests := []struct {
		model string
		opts  []embed.Option
		want  lmsys.Space
	}{
		{"", nil, lmsys.Space{Provider: "local", Model: "use-lite-i8", Dims: 512}},
		{"local/use-lite-i8", nil, lmsys.Space{Provider: "local", Model: "use-lite-i8", Dims: 512}},
		{"local/use-lite", nil, lmsys.Space{Provider: "local", Model: "use-lite", Dims: 512}},
		{"local/lexical", nil, lmsys.Space{Provider: "local", Model: "lexical", Dims: 512}},
		{"local/lexical", []embed.Option{embed.WithDims(128)}, lmsys.Space{Provider: "local", Model: "lexical", Dims: 128}},
		{"local/hybrid", nil, lmsys.Space{Provider: "local", Model: "hybrid", Dims: 512 + embed.HybridLexicalDims}},
		{"local/hybrid", []embed.Option{embed.WithDims(1024)}, lmsys.Space{Provider: "local", Model: "hybrid", Dims: 1024}},
		{"cohere/embed-v4.0", []embed.Option{embed.WithAPIKey("k"), embed.WithDims(1024)}, lmsys.Space{Provider: "cohere", Model: "embed-v4.0", Dims: 1024}},
		{"cohere/embed-v4.0", []embed.Option{embed.WithAPIKey("k")}, lmsys.Space{Provider: "cohere", Model: "embed-v4.0", Dims: 256}},
		{"openai/text-embedding-3-large", []embed.Option{embed.WithAPIKey("k")}, lmsys.Space{Provider: "openai", Model: "text-embedding-3-large", Dims: 3072}},
		{"openai/BAAI/bge-small-en", []embed.Option{embed.WithAPIKey("k"), embed.WithDims(384)}, lmsys.Space{Provider: "openai", Model: "BAAI/bge-small-en", Dims: 384}},
		{"ollama/nomic-embed-text", nil, lmsys.Space{Provider: "ollama", Model: "nomic-embed-text", Dims: 768}},
	}
	for _, tt := range tests {
		t.Run(tt.model, func(t *testing.T) {
			e, err := embed.Open(tt.model, tt.opts...)
			require.NoError(t, err)
			assert.Equal(t, tt.want, e.Space())
		})
	}

	// Options reach the provider: base URL, key, dimension, batch size.
	e, err := embed.Open("openai/text-embedding-3-small", embed.WithBaseURL(openaiSrv.URL), embed.WithAPIKey("k"),
		embed.WithDims(64), embed.WithBatchSize(2), embed.WithConcurrency(1), embed.WithRPM(60000), embed.WithMaxAttempts(1))
	require.NoError(t, err)
	v, err := e.Embed(context.Background(), []string{"a", "b", "c"}, lmsys.PurposeClustering)
	require.NoError(t, err)
	require.Len(t, v, 3)
	assert.Len(t, v[2], 64)
}

func TestOpenErrors(t *testing.T) {
	t.Setenv("CO_API_KEY", "")
	t.Setenv("COHERE_API_KEY", "")
	tests := []struct {
		model, contains string
		opts            []embed.Option
	}{
		{"use-lite", "is not provider/model (providers: cohere, local, ollama, openai", nil},
		{"local/", "is not provider/model", nil},
		{"acme/embedder", `unknown embedding provider "acme" in "acme/embedder" (known: cohere, local, ollama, openai`, nil},
		{"local/bert", `unknown local embedding model "bert" (local models: use-lite-i8, use-lite, lexical, hybrid)`, nil},
		{"local/use-lite", "has 512 dimensions, not 256", []embed.Option{embed.WithDims(256)}},
		{"local/hybrid", "at least 576 dimensions", []embed.Option{embed.WithDims(520)}},
		{"local/lexical", "must not be negative", []embed.Option{embed.WithBatchSize(-1)}},
		{"cohere/embed-v4.0", "set CO_API_KEY or COHERE_API_KEY", nil},
		{"cohere/embed-v4.0", "output dimension 300", []embed.Option{embed.WithAPIKey("k"), embed.WithDims(300)}},
		{"ollama/unknown-model", "dimension of model \"unknown-model\" is unknown", nil},
	}
	for _, tt := range tests {
		t.Run(tt.model+tt.contains, func(t *testing.T) {
			_, err := embed.Open(tt.model, tt.opts...)
			require.Error(t, err)
			assert.ErrorIs(t, err, lmsys.ErrInvalidInput)
			assert.Contains(t, err.Error(), tt.contains)
		})
	}
}

// registerTestProvider registers the test provider once per process, so the
// test also passes under -count=N.
var registerTestProvider = sync.OnceFunc(func() {
	embed.Register("test-provider", func(model string, c embed.Config) (lmsys.Embedder, error) {
		return lexical.New(lexical.Options{Dims: c.Dims})
	})
})

func TestRegister(t *testing.T) {
	registerTestProvider()
	e, err := embed.Open("test-provider/anything", embed.WithDims(16))
	require.NoError(t, err)
	assert.Equal(t, 16, e.Space().Dims)
	assert.Contains(t, embed.Providers(), "test-provider")
	assert.Panics(t, func() { embed.Register("test-provider", nil) })
	assert.Panics(t, func() {
		embed.Register("local", func(string, embed.Config) (lmsys.Embedder, error) { return nil, nil })
	})
	assert.Panics(t, func() { embed.Register("a/b", func(string, embed.Config) (lmsys.Embedder, error) { return nil, nil }) })
}

func dot(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

func TestConcatAndHybrid(t *testing.T) {
	a, _ := lexical.New(lexical.Options{Dims: 32})
	b, _ := lexical.New(lexical.Options{Dims: 64, WordWeight: 1})
	c, err := embed.Concat(lmsys.Space{}, embed.Part{Embedder: a, Weight: 3}, embed.Part{Embedder: b, Weight: 1})
	require.NoError(t, err)
	assert.Equal(t, "concat", c.Space().Provider)
	assert.Equal(t, 96, c.Space().Dims)
	texts := []string{"set an alarm", "set the alarm for six", "weather today"}
	v, err := c.Embed(context.Background(), texts, lmsys.PurposeClustering)
	require.NoError(t, err)
	va, _ := a.Embed(context.Background(), texts, lmsys.PurposeClustering)
	vb, _ := b.Embed(context.Background(), texts, lmsys.PurposeClustering)
	for i := range texts {
		assert.InDelta(t, 1, dot(v[i], v[i]), 1e-5)
		for j := range texts {
			// The combined cosine is the weighted mean of the parts' cosines.
			assert.InDelta(t, 0.75*dot(va[i], va[j])+0.25*dot(vb[i], vb[j]), dot(v[i], v[j]), 1e-5)
		}
	}
	_, err = embed.Concat(lmsys.Space{})
	assert.ErrorIs(t, err, lmsys.ErrInvalidInput)
	_, err = embed.Concat(lmsys.Space{}, embed.Part{Embedder: a, Weight: 0})
	assert.ErrorIs(t, err, lmsys.ErrInvalidInput)
	_, err = embed.Concat(lmsys.Space{Provider: "x", Model: "y", Dims: 10}, embed.Part{Embedder: a, Weight: 1})
	assert.ErrorIs(t, err, lmsys.ErrSpaceMismatch)

	h, err := embed.Open("local/hybrid")
	require.NoError(t, err)
	hv, err := h.Embed(context.Background(), []string{"set an alarm for 7 am", "wake me up at 7", "你好世界"}, lmsys.PurposeClustering)
	require.NoError(t, err)
	for _, x := range hv {
		assert.InDelta(t, 1, dot(x, x), 1e-4)
	}
}

// memStore is an in-memory BackfillStore with fault injection, for the paths the
// SQLite store cannot easily produce.
type memStore struct {
	mu      sync.Mutex
	queries []lmsys.Query
	vecs    map[string]map[string][]float32 // space → hash → vector
	puts    int
	failPut error
}

func newMemStore(texts ...string) *memStore {
	m := &memStore{vecs: map[string]map[string][]float32{}}
	for i, t := range texts {
		m.queries = append(m.queries, lmsys.Query{ID: int64(i + 1), Text: t})
	}
	return m
}

func (m *memStore) CountQueries(ctx context.Context, f lmsys.QueryFilter) (int64, error) {
	return int64(len(m.queries)), nil
}

func (m *memStore) ScanQueries(ctx context.Context, f lmsys.QueryFilter, batch int, fn func([]lmsys.Query) error) error {
	buf := make([]lmsys.Query, 0, batch)
	for lo := 0; lo < len(m.queries); lo += batch {
		buf = append(buf[:0], m.queries[lo:min(lo+batch, len(m.queries))]...)
		if err := fn(buf); err != nil {
			return err
		}
		for i := range buf {
			buf[i] = lmsys.Query{Text: "reused buffer"} // the store reuses its slice
		}
	}
	return nil
}

func (m *memStore) CountMissingEmbeddings(ctx context.Context, space lmsys.Space, f lmsys.QueryFilter) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var n int64
	for _, q := range m.queries {
		if _, ok := m.vecs[space.String()][lmsys.TextHash(q.Text)]; !ok {
			n++
		}
	}
	return n, nil
}

func (m *memStore) GetEmbeddings(ctx context.Context, space lmsys.Space, hashes []string) (map[string][]float32, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string][]float32{}
	for _, h := range hashes {
		if v, ok := m.vecs[space.String()][h]; ok {
			out[h] = v
		}
	}
	return out, nil
}

func (m *memStore) PutEmbeddings(ctx context.Context, space lmsys.Space, vectors map[string][]float32) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failPut != nil {
		return m.failPut
	}
	m.puts++
	s := m.vecs[space.String()]
	if s == nil {
		s = map[string][]float32{}
		m.vecs[space.String()] = s
	}
	for h, v := range vectors {
		if len(v) != space.Dims {
			return fmt.Errorf("bad dims: %w", lmsys.ErrSpaceMismatch)
		}
		if _, ok := s[h]; !ok {
			s[h] = v
		}
	}
	return nil
}

func (m *memStore) ScanQueryVectors(ctx context.Context, space lmsys.Space, f lmsys.QueryFilter, batch int, fn func(ids []int64, vecs [][]float32) error) error {
	return errors.New("not used")
}

// countingEmbedder records every text it embeds; fail decides per call whether to fail.
type countingEmbedder struct {
	inner lmsys.Embedder
	mu    sync.Mutex
	seen  []string
	calls atomic.Int32
	fail  func(call int, texts []string) error
	dims  int // when set, return vectors of this many dims (a misbehaving embedder)
}

func newCounting(t testing.TB) *countingEmbedder {
	l, err := lexical.New(lexical.Options{Dims: 16})
	require.NoError(t, err)
	return &countingEmbedder{inner: l}
}

func (c *countingEmbedder) Space() lmsys.Space { return c.inner.Space() }

func (c *countingEmbedder) Embed(ctx context.Context, texts []string, p lmsys.Purpose) ([][]float32, error) {
	n := int(c.calls.Add(1))
	if c.fail != nil {
		if err := c.fail(n, texts); err != nil {
			return nil, err
		}
	}
	c.mu.Lock()
	c.seen = append(c.seen, texts...)
	c.mu.Unlock()
	if c.dims > 0 {
		out := make([][]float32, len(texts))
		for i := range out {
			out[i] = make([]float32, c.dims)
		}
		return out, nil
	}
	return c.inner.Embed(ctx, texts, p)
}

func TestCached(t *testing.T) {
	ctx := context.Background()
	s := newMemStore()
	ce := newCounting(t)
	c := embed.Cached(ce, s)
	assert.Equal(t, ce.Space(), c.Space())

	v1, err := c.Embed(ctx, []string{"a b", "c d", "a b", "e f"}, lmsys.PurposeClustering)
	require.NoError(t, err)
	assert.Equal(t, []string{"a b", "c d", "e f"}, ce.seen, "duplicates are embedded once")
	assert.Equal(t, v1[0], v1[2])
	v1[2][0] = 42 // callers own their vectors
	assert.NotEqual(t, v1[0][0], v1[2][0])

	v2, err := c.Embed(ctx, []string{"e f", "g h", "a b"}, lmsys.PurposeClustering)
	require.NoError(t, err)
	assert.Equal(t, []string{"a b", "c d", "e f", "g h"}, ce.seen, "only the new text is embedded")
	direct, _ := ce.inner.Embed(ctx, []string{"e f", "g h", "a b"}, lmsys.PurposeClustering)
	assert.Equal(t, direct, v2)
	hits, misses := c.Stats()
	assert.EqualValues(t, 3, hits)
	assert.EqualValues(t, 4, misses)

	// Search queries are not cached.
	_, err = c.Embed(ctx, []string{"a b"}, lmsys.PurposeQuery)
	require.NoError(t, err)
	assert.Len(t, ce.seen, 5)

	// An embedder whose vectors do not fit its space is refused, nothing stored.
	bad := newCounting(t)
	bad.dims = 3
	_, err = embed.Cached(bad, s).Embed(ctx, []string{"zz"}, lmsys.PurposeClustering)
	assert.ErrorIs(t, err, lmsys.ErrSpaceMismatch)

	// Store failures surface.
	s.failPut = errors.New("disk full")
	_, err = c.Embed(ctx, []string{"new text"}, lmsys.PurposeClustering)
	assert.ErrorContains(t, err, "disk full")
}

func texts(n, distinct int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("query about topic %d", i%distinct)
	}
	return out
}

func TestBackfillMemStore(t *testing.T) {
	ctx := context.Background()
	s := newMemStore(texts(100, 60)...)
	ce := newCounting(t)
	var reports []lmsys.Progress
	st, err := embed.Backfill(ctx, s, ce, lmsys.QueryFilter{}, embed.BackfillOptions{BatchSize: 32, Progress: func(p lmsys.Progress) { reports = append(reports, p) }})
	require.NoError(t, err)
	// 60 distinct texts embedded once each; the other 40 queries share them.
	assert.Equal(t, embed.BackfillStats{Embedded: 60, Cached: 40}, st)
	assert.Len(t, ce.seen, 60)
	last := reports[len(reports)-1]
	assert.Equal(t, lmsys.Progress{Stage: "embed", Done: 100, Total: 100}, last)

	// A second run embeds nothing.
	st, err = embed.Backfill(ctx, s, ce, lmsys.QueryFilter{}, embed.BackfillOptions{})
	require.NoError(t, err)
	assert.Equal(t, embed.BackfillStats{Cached: 100}, st)
	assert.Len(t, ce.seen, 60)

	// Expecting another space is an error.
	_, err = embed.Backfill(ctx, s, ce, lmsys.QueryFilter{}, embed.BackfillOptions{Space: lmsys.Space{Provider: "cohere", Model: "embed-v4.0", Dims: 256}})
	assert.ErrorIs(t, err, lmsys.ErrSpaceMismatch)
}

func TestBackfillFailures(t *testing.T) {
	ctx := context.Background()
	providerErr := fmt.Errorf("cohere: HTTP 500 after 5 attempts: %w", lmsys.ErrProvider)

	t.Run("a failed batch is counted and the rest continues", func(t *testing.T) {
		s := newMemStore(texts(30, 30)...)
		ce := newCounting(t)
		ce.fail = func(call int, _ []string) error {
			if call == 2 {
				return providerErr
			}
			return nil
		}
		st, err := embed.Backfill(ctx, s, ce, lmsys.QueryFilter{}, embed.BackfillOptions{BatchSize: 10})
		assert.Equal(t, embed.BackfillStats{Embedded: 20, Failed: 10}, st)
		assert.ErrorIs(t, err, lmsys.ErrProvider)
		assert.ErrorContains(t, err, "10 queries failed")
		// Re-running embeds just the failed ones.
		ce.fail = nil
		st, err = embed.Backfill(ctx, s, ce, lmsys.QueryFilter{}, embed.BackfillOptions{BatchSize: 10})
		require.NoError(t, err)
		assert.Equal(t, embed.BackfillStats{Embedded: 10, Cached: 20}, st)
	})

	t.Run("stops after consecutive failed batches", func(t *testing.T) {
		s := newMemStore(texts(100, 100)...)
		ce := newCounting(t)
		ce.fail = func(int, []string) error { return providerErr }
		st, err := embed.Backfill(ctx, s, ce, lmsys.QueryFilter{}, embed.BackfillOptions{BatchSize: 10, MaxFailedBatches: 2})
		assert.ErrorContains(t, err, "stopped after 2 failed batches")
		assert.ErrorIs(t, err, lmsys.ErrProvider)
		assert.Equal(t, embed.BackfillStats{Failed: 20}, st)
	})

	t.Run("an invalid text fails alone", func(t *testing.T) {
		in := texts(10, 10)
		in[3] = ""
		s := newMemStore(in...)
		ce := newCounting(t)
		ce.fail = func(_ int, batch []string) error {
			for _, x := range batch {
				if x == "" {
					return fmt.Errorf("%w: empty text", lmsys.ErrInvalidInput)
				}
			}
			return nil
		}
		st, err := embed.Backfill(ctx, s, ce, lmsys.QueryFilter{}, embed.BackfillOptions{})
		assert.Equal(t, embed.BackfillStats{Embedded: 9, Failed: 1}, st)
		assert.ErrorIs(t, err, lmsys.ErrInvalidInput)
	})

	t.Run("wrong dimension stops at once and stores nothing", func(t *testing.T) {
		s := newMemStore(texts(10, 10)...)
		ce := newCounting(t)
		ce.dims = 5
		_, err := embed.Backfill(ctx, s, ce, lmsys.QueryFilter{}, embed.BackfillOptions{})
		assert.ErrorIs(t, err, lmsys.ErrSpaceMismatch)
		assert.Zero(t, s.puts)
	})

	t.Run("store failure stops", func(t *testing.T) {
		s := newMemStore(texts(10, 10)...)
		s.failPut = errors.New("database is locked")
		_, err := embed.Backfill(ctx, s, newCounting(t), lmsys.QueryFilter{}, embed.BackfillOptions{})
		assert.ErrorContains(t, err, "database is locked")
	})
}

// openStore opens a fresh SQLite store holding the given query texts.
func openStore(t *testing.T, texts []string) *store.DB {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{Path: filepath.Join(t.TempDir(), "q.db")})
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	ds, err := db.EnsureDataset(ctx, lmsys.Dataset{Name: "demo", Source: "test"})
	require.NoError(t, err)
	qs := make([]lmsys.Query, len(texts))
	for i, tx := range texts {
		qs[i] = lmsys.Query{DatasetID: ds.ID, ConversationID: fmt.Sprintf("c%d", i), Text: tx}
	}
	n, err := db.InsertQueries(ctx, qs)
	require.NoError(t, err)
	require.Equal(t, len(texts), n)
	return db
}

func TestBackfillSQLiteResumes(t *testing.T) {
	in := texts(500, 300)
	db := openStore(t, in)
	ce := newCounting(t)
	space := ce.Space()

	// Kill the backfill after its third batch.
	ctx, cancel := context.WithCancel(context.Background())
	st, err := embed.Backfill(ctx, db, ce, lmsys.QueryFilter{}, embed.BackfillOptions{BatchSize: 50, Progress: func(p lmsys.Progress) {
		if p.Done >= 150 {
			cancel()
		}
	}})
	require.ErrorIs(t, err, context.Canceled)
	assert.EqualValues(t, 150, st.Embedded+st.Cached)
	firstRun := len(ce.seen)

	// The re-run embeds exactly what is missing; nothing is embedded twice.
	st2, err := embed.Backfill(context.Background(), db, ce, lmsys.QueryFilter{}, embed.BackfillOptions{BatchSize: 50})
	require.NoError(t, err)
	assert.EqualValues(t, 500, st2.Embedded+st2.Cached)
	assert.EqualValues(t, 300, st.Embedded+st2.Embedded)
	assert.Len(t, ce.seen, 300)
	seen := append([]string(nil), ce.seen...)
	sort.Strings(seen)
	for i := 1; i < len(seen); i++ {
		require.NotEqual(t, seen[i-1], seen[i], "text embedded twice")
	}
	assert.Greater(t, firstRun, 0)

	missing, err := db.CountMissingEmbeddings(context.Background(), space, lmsys.QueryFilter{})
	require.NoError(t, err)
	assert.Zero(t, missing)
	stored, err := db.GetEmbeddings(context.Background(), space, []string{lmsys.TextHash(in[0])})
	require.NoError(t, err)
	want, _ := ce.inner.Embed(context.Background(), in[:1], lmsys.PurposeClustering)
	assert.Equal(t, want[0], stored[lmsys.TextHash(in[0])])

	// Cached over the SQLite store serves the backfilled vectors without embedding.
	c := embed.Cached(ce, db)
	v, err := c.Embed(context.Background(), in[:10], lmsys.PurposeClustering)
	require.NoError(t, err)
	assert.Len(t, v, 10)
	assert.Len(t, ce.seen, 300)

	// Another space is a separate cache: everything is missing there.
	other, _ := lexical.New(lexical.Options{Dims: 24})
	st3, err := embed.Backfill(context.Background(), db, other, lmsys.QueryFilter{Limit: 100}, embed.BackfillOptions{})
	require.NoError(t, err)
	assert.EqualValues(t, 100, st3.Embedded+st3.Cached)
}

func ExampleOpen() {
	e, err := embed.Open("local/lexical", embed.WithDims(256))
	if err != nil {
		fmt.Println(err)
		return
	}
	v, _ := e.Embed(context.Background(), []string{"how do I reset my password?"}, lmsys.PurposeClustering)
	fmt.Println(e.Space(), len(v[0]), math.Round(dot(v[0], v[0])))

	_, err = embed.Open("acme/embedder")
	fmt.Println(strings.Contains(err.Error(), "known: cohere, local, ollama, openai"))
	// Output:
	// local/lexical@256 256 1
	// true
}

func TestScriptHybrid(t *testing.T) {
	sem, _ := lexical.New(lexical.Options{Dims: 32, WordWeight: 1})
	lex, _ := lexical.New(lexical.Options{Dims: 48})
	h, err := embed.NewScriptHybrid(lmsys.Space{}, sem, lex, 0.25)
	require.NoError(t, err)
	assert.Equal(t, 80, h.Space().Dims)
	assert.Equal(t, "hybrid", h.Space().Provider)

	tests := []struct {
		text  string
		share float64
	}{
		{"hello world", 0},
		{"", 0},
		{"1234 !!", 0},
		{"你好世界", 1},
		{"hi 你好", 0.5},
		{"café", 0},
		{"Привет", 1},
	}
	for _, tt := range tests {
		assert.InDelta(t, tt.share, embed.NonLatinShare(tt.text), 1e-9, tt.text)
		assert.InDelta(t, 0.25+0.75*tt.share, h.LexicalWeight(tt.text), 1e-9, tt.text)
	}

	texts := []string{"set an alarm", "set the alarm for six", "你好世界", "你好朋友"}
	v, err := h.Embed(context.Background(), texts, lmsys.PurposeClustering)
	require.NoError(t, err)
	vs, _ := sem.Embed(context.Background(), texts, lmsys.PurposeClustering)
	vl, _ := lex.Embed(context.Background(), texts, lmsys.PurposeClustering)
	for i := range texts {
		assert.InDelta(t, 1, dot(v[i], v[i]), 1e-5)
	}
	// Two Latin texts: the base mix of cosines.
	assert.InDelta(t, 0.75*dot(vs[0], vs[1])+0.25*dot(vl[0], vl[1]), dot(v[0], v[1]), 1e-5)
	// Two texts without Latin letters: the lexical cosine alone.
	assert.InDelta(t, dot(vl[2], vl[3]), dot(v[2], v[3]), 1e-5)
	// The semantic half of a Chinese text is empty.
	for _, x := range v[2][:32] {
		assert.Zero(t, x)
	}

	_, err = embed.NewScriptHybrid(lmsys.Space{}, sem, lex, 1)
	assert.ErrorIs(t, err, lmsys.ErrInvalidInput)
	_, err = embed.NewScriptHybrid(lmsys.Space{Provider: "a", Model: "b", Dims: 3}, sem, lex, 0.5)
	assert.ErrorIs(t, err, lmsys.ErrSpaceMismatch)
}

func TestBackfillBisectsRefusedBatches(t *testing.T) {
	// An OpenAI-compatible fake that refuses any request holding an over-long text
	// with HTTP 400, as the real API does beyond the model's context.
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		var req struct {
			Input []string `json:"input"`
		}
		_ = json.NewDecoder(r.Body).Decode(&req)
		for _, in := range req.Input {
			if len(in) > 100 {
				w.WriteHeader(http.StatusBadRequest)
				_, _ = w.Write([]byte(`{"error":{"message":"This model's maximum context length is 8192 tokens"}}`))
				return
			}
		}
		data := []map[string]any{}
		for i, in := range req.Input {
			v := make([]float32, 8)
			v[len(in)%8] = 1
			data = append(data, map[string]any{"index": i, "embedding": v})
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"data": data})
	}))
	defer srv.Close()
	e, err := embed.Open("openai/gw", embed.WithBaseURL(srv.URL), embed.WithAPIKey("k"), embed.WithDims(8), embed.WithBatchSize(64))
	require.NoError(t, err)
	in := texts(40, 40)
	in[17] = strings.Repeat("long ", 50)
	s := newMemStore(in...)
	st, err := embed.Backfill(context.Background(), s, e, lmsys.QueryFilter{}, embed.BackfillOptions{})
	assert.Equal(t, embed.BackfillStats{Embedded: 39, Failed: 1}, st)
	assert.ErrorIs(t, err, lmsys.ErrProvider)
	assert.ErrorContains(t, err, "HTTP 400")
	assert.LessOrEqual(t, calls.Load(), int32(2*7+1), "bisection, not one call per text")
}

func ExampleBackfill() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "lmsys-example-")
	defer os.RemoveAll(dir)
	db, err := store.Open(ctx, store.Config{Path: filepath.Join(dir, "queries.db")})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()
	ds, _ := db.EnsureDataset(ctx, lmsys.Dataset{Name: "demo"})
	_, _ = db.InsertQueries(ctx, []lmsys.Query{
		{DatasetID: ds.ID, ConversationID: "1", Text: "hi"},
		{DatasetID: ds.ID, ConversationID: "2", Text: "hi"},
		{DatasetID: ds.ID, ConversationID: "3", Text: "write a haiku about rain"},
	})
	e, _ := embed.Open("local/lexical")
	st, err := embed.Backfill(ctx, db, e, lmsys.QueryFilter{}, embed.BackfillOptions{})
	fmt.Printf("%+v %v\n", st, err)
	st, err = embed.Backfill(ctx, db, e, lmsys.QueryFilter{}, embed.BackfillOptions{}) // nothing left to do
	fmt.Printf("%+v %v\n", st, err)
	// Output:
	// {Embedded:2 Cached:1 Failed:0} <nil>
	// {Embedded:0 Cached:3 Failed:0} <nil>
}

// TestLocalSpacesReopen checks that every local model's space names the model that
// made it: a store re-opens the embedder of a recorded space with
// embed.Open(space.Name()), so USE-lite's float32 and 8-bit passes must not share one.
func TestLocalSpacesReopen(t *testing.T) {
	seen := map[lmsys.Space]string{}
	for _, name := range embed.LocalModels {
		e, err := embed.Open("local/" + name)
		require.NoError(t, err)
		sp := e.Space()
		again, err := embed.Open(sp.Name(), embed.WithDims(sp.Dims))
		require.NoError(t, err)
		assert.Equal(t, sp, again.Space(), name)
		assert.NotContains(t, seen, sp, "%s shares a space with %s", name, seen[sp])
		seen[sp] = name
	}
}
