package cohere

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/internal/retry"
)

const testKey = "co-test-key-DO-NOT-LEAK-42"

// fakeVector is the fake server's deterministic embedding of a text.
func fakeVector(text string, dims int) []float64 {
	h := fnv.New64a()
	h.Write([]byte(text))
	s := h.Sum64()
	v := make([]float64, dims)
	for i := range v {
		s = s*6364136223846793005 + 1442695040888963407
		v[i] = float64(int64(s>>11))/float64(1<<52) - 0.5
	}
	return v
}

// fakeCohere speaks Cohere's v2 /embed wire format.
type fakeCohere struct {
	mu       sync.Mutex
	requests []map[string]any
	calls    atomic.Int32
	// respond, when set, handles the n-th call (1-based) instead of the default.
	respond func(n int, w http.ResponseWriter, texts []string, dims int) bool
}

func (f *fakeCohere) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := int(f.calls.Add(1))
	if r.URL.Path != "/v2/embed" || r.Method != http.MethodPost {
		http.Error(w, `{"message":"not found"}`, http.StatusNotFound)
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+testKey {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"message":"invalid api token"}`))
		return
	}
	var req struct {
		Model           string   `json:"model"`
		Texts           []string `json:"texts"`
		InputType       string   `json:"input_type"`
		EmbeddingTypes  []string `json:"embedding_types"`
		OutputDimension int      `json:"output_dimension"`
	}
	var raw map[string]any
	body := json.NewDecoder(r.Body)
	if err := body.Decode(&raw); err != nil {
		http.Error(w, `{"message":"bad json"}`, http.StatusBadRequest)
		return
	}
	b, _ := json.Marshal(raw)
	_ = json.Unmarshal(b, &req)
	f.mu.Lock()
	f.requests = append(f.requests, raw)
	f.mu.Unlock()
	if len(req.Texts) > 96 {
		http.Error(w, `{"message":"too many texts"}`, http.StatusBadRequest)
		return
	}
	dims := req.OutputDimension
	if dims == 0 {
		dims = 1536
	}
	if f.respond != nil && f.respond(n, w, req.Texts, dims) {
		return
	}
	vecs := make([][]float64, len(req.Texts))
	for i, t := range req.Texts {
		vecs[i] = fakeVector(t, dims)
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"id":         "emb-1",
		"embeddings": map[string]any{"float": vecs},
		"texts":      req.Texts,
		"meta":       map[string]any{"api_version": map[string]any{"version": "2"}, "billed_units": map[string]any{"input_tokens": 3}},
	})
}

func newTest(t *testing.T, f *fakeCohere, cfg Config) *Embedder {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	cfg.BaseURL = srv.URL
	if cfg.APIKey == "" {
		cfg.APIKey = testKey
	}
	cfg.Retry = retry.Policy{BaseDelay: time.Millisecond, MaxDelay: 5 * time.Second}
	e, err := New(cfg)
	require.NoError(t, err)
	return e
}

func texts(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("query %d", i)
	}
	return out
}

func TestEmbedSuccessBatchesAndInputTypes(t *testing.T) {
	f := &fakeCohere{}
	e := newTest(t, f, Config{Concurrency: 3})
	assert.Equal(t, lmsys.Space{Provider: "cohere", Model: "embed-v4.0", Dims: 256}, e.Space())
	in := texts(200)
	vecs, err := e.Embed(context.Background(), in, lmsys.PurposeClustering)
	require.NoError(t, err)
	require.Len(t, vecs, 200)
	for i, v := range vecs {
		require.Len(t, v, 256)
		want := fakeVector(in[i], 256)
		// Same direction as the server's vector, normalised.
		var dot, n1 float64
		for j := range v {
			dot += float64(v[j]) * want[j]
			n1 += want[j] * want[j]
		}
		assert.InDelta(t, 1, dot*dot/n1, 1e-4, "vector %d", i)
	}
	require.Len(t, f.requests, 3) // 96 + 96 + 8
	for _, r := range f.requests {
		assert.Equal(t, "embed-v4.0", r["model"])
		assert.Equal(t, "clustering", r["input_type"])
		assert.Equal(t, []any{"float"}, r["embedding_types"])
		assert.EqualValues(t, 256, r["output_dimension"])
	}

	for p, want := range map[lmsys.Purpose]string{lmsys.PurposeDocument: "search_document", lmsys.PurposeQuery: "search_query"} {
		f.requests = nil
		_, err := e.Embed(context.Background(), []string{"x"}, p)
		require.NoError(t, err)
		assert.Equal(t, want, f.requests[0]["input_type"])
	}
}

func TestDimsAndConfigErrors(t *testing.T) {
	f := &fakeCohere{}
	e := newTest(t, f, Config{Dims: 1024, BatchSize: 10})
	v, err := e.Embed(context.Background(), texts(25), lmsys.PurposeDocument)
	require.NoError(t, err)
	assert.Len(t, v[0], 1024)
	assert.Len(t, f.requests, 3)

	t.Setenv("CO_API_KEY", "")
	t.Setenv("COHERE_API_KEY", "")
	for _, cfg := range []Config{
		{},
		{APIKey: "k", Dims: 300},
		{APIKey: "k", BatchSize: 97},
		{APIKey: "k", Model: "embed-english-v3.0", Dims: 256},
	} {
		_, err := New(cfg)
		assert.ErrorIs(t, err, lmsys.ErrInvalidInput, "%+v", cfg)
	}
	t.Setenv("COHERE_API_KEY", "from-env")
	e2, err := New(Config{Model: "embed-english-v3.0"})
	require.NoError(t, err)
	assert.Equal(t, 1024, e2.Space().Dims)
}

func TestRetryAfterThenSuccess(t *testing.T) {
	var first time.Time
	var second time.Time
	f := &fakeCohere{respond: func(n int, w http.ResponseWriter, _ []string, _ int) bool {
		switch n {
		case 1:
			first = time.Now()
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = w.Write([]byte(`{"message":"You are using a Trial key, which is limited to 100 API calls / minute."}`))
			return true
		case 2:
			second = time.Now()
		}
		return false
	}}
	e := newTest(t, f, Config{})
	v, err := e.Embed(context.Background(), []string{"hello"}, lmsys.PurposeQuery)
	require.NoError(t, err)
	assert.Len(t, v, 1)
	assert.EqualValues(t, 2, f.calls.Load())
	assert.GreaterOrEqual(t, second.Sub(first), 900*time.Millisecond, "Retry-After: 1 was not honoured")
}

func TestFailures(t *testing.T) {
	tests := []struct {
		name     string
		respond  func(n int, w http.ResponseWriter, texts []string, dims int) bool
		key      string
		calls    int32
		contains []string
		status   int
	}{
		{
			name: "500 until give up",
			respond: func(n int, w http.ResponseWriter, _ []string, _ int) bool {
				w.WriteHeader(http.StatusInternalServerError)
				_, _ = w.Write([]byte(`{"message":"internal error"}`))
				return true
			},
			calls:    3,
			status:   500,
			contains: []string{"cohere: HTTP 500 Internal Server Error after 3 attempts"},
		},
		{
			name: "truncated json is retried",
			respond: func(n int, w http.ResponseWriter, _ []string, _ int) bool {
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(`{"embeddings": {"float": [[0.1, 0.2`))
				return true
			},
			calls:    3,
			contains: []string{"cohere: failed after 3 attempts: unexpected EOF"},
		},
		{
			name: "no embeddings",
			respond: func(n int, w http.ResponseWriter, _ []string, _ int) bool {
				_, _ = w.Write([]byte(`{"id":"x"}`))
				return true
			},
			calls:    1,
			contains: []string{"cohere returned no float embeddings"},
		},
		{
			name: "wrong count",
			respond: func(n int, w http.ResponseWriter, texts []string, dims int) bool {
				_ = json.NewEncoder(w).Encode(map[string]any{"embeddings": map[string]any{"float": [][]float64{fakeVector("a", dims)}}})
				return true
			},
			calls:    1,
			contains: []string{"cohere returned 1 vectors for 2 texts"},
		},
		{
			name:     "bad key is not retried and not leaked",
			key:      "co-wrong-key-ALSO-SECRET",
			calls:    1,
			status:   401,
			contains: []string{"cohere: HTTP 401 Unauthorized after 1 attempt", "invalid api token"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeCohere{respond: tt.respond}
			e := newTest(t, f, Config{APIKey: tt.key, MaxAttempts: 3})
			_, err := e.Embed(context.Background(), []string{"a", "b"}, lmsys.PurposeClustering)
			require.Error(t, err)
			assert.ErrorIs(t, err, lmsys.ErrProvider)
			var pe *retry.Error
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, tt.status, pe.Status)
			for _, c := range tt.contains {
				assert.Contains(t, err.Error(), c)
			}
			assert.NotContains(t, err.Error(), testKey)
			if tt.key != "" {
				assert.NotContains(t, err.Error(), tt.key)
			}
			assert.Equal(t, tt.calls, f.calls.Load())
		})
	}
}

func TestCancellation(t *testing.T) {
	started := make(chan struct{}, 10)
	// The request stays in flight until the test ends: the client must give up on it
	// because ctx is cancelled, not because the server answered.
	release := make(chan struct{})
	defer close(release)
	f := &fakeCohere{respond: func(n int, w http.ResponseWriter, _ []string, _ int) bool {
		started <- struct{}{}
		<-release
		return false
	}}
	e := newTest(t, f, Config{BatchSize: 1, Concurrency: 1})
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-started; cancel() }()
	_, err := e.Embed(ctx, texts(5), lmsys.PurposeClustering)
	require.Error(t, err)
	assert.True(t, errors.Is(err, context.Canceled), "%v", err)
	assert.NotErrorIs(t, err, lmsys.ErrProvider)
	assert.LessOrEqual(t, f.calls.Load(), int32(2))
}

func TestNoTexts(t *testing.T) {
	e := newTest(t, &fakeCohere{}, Config{})
	v, err := e.Embed(context.Background(), nil, lmsys.PurposeClustering)
	require.NoError(t, err)
	assert.Empty(t, v)
}
