package openai

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/embed/internal/remote/remotetest"
	"github.com/lmsys-go/lmsys/internal/retry"
)

const testKey = "sk-test-DO-NOT-LEAK-1234567890"

func fakeVector(text string, dims int) []float32 { return remotetest.Vector(text, dims) }

// fakeOpenAI speaks the OpenAI /v1/embeddings wire format.
type fakeOpenAI struct {
	mu       sync.Mutex
	requests []map[string]any
	calls    atomic.Int32
	respond  func(n int, w http.ResponseWriter, input []string, dims int) bool
}

func (f *fakeOpenAI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := int(f.calls.Add(1))
	if r.URL.Path != "/v1/embeddings" || r.Method != http.MethodPost {
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"error":{"message":"Unknown request URL","type":"invalid_request_error"}}`))
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+testKey {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}}`))
		return
	}
	var raw map[string]any
	if err := json.NewDecoder(r.Body).Decode(&raw); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.requests = append(f.requests, raw)
	f.mu.Unlock()
	var input []string
	for _, x := range raw["input"].([]any) {
		input = append(input, x.(string))
	}
	dims := 1536
	if d, ok := raw["dimensions"].(float64); ok {
		dims = int(d)
	}
	if f.respond != nil && f.respond(n, w, input, dims) {
		return
	}
	data := make([]map[string]any, len(input))
	for i, t := range input {
		data[i] = map[string]any{"object": "embedding", "index": i, "embedding": fakeVector(t, dims)}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"object": "list", "data": data, "model": raw["model"],
		"usage": map[string]any{"prompt_tokens": 5, "total_tokens": 5},
	})
}

func newTest(t *testing.T, f *fakeOpenAI, cfg Config) *Embedder {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	if cfg.BaseURL == "" {
		cfg.BaseURL = srv.URL + "/v1"
	}
	if cfg.APIKey == "" {
		cfg.APIKey = testKey
	}
	cfg.Retry = retry.Policy{BaseDelay: time.Millisecond, MaxDelay: 5 * time.Second}
	e, err := New(cfg)
	require.NoError(t, err)
	return e
}

func TestEmbedSuccessWithDimensionsAndBatches(t *testing.T) {
	f := &fakeOpenAI{}
	e := newTest(t, f, Config{Dims: 512, BatchSize: 40})
	assert.Equal(t, lmsys.Space{Provider: "openai", Model: "text-embedding-3-small", Dims: 512}, e.Space())
	in := make([]string, 100)
	for i := range in {
		in[i] = fmt.Sprintf("text %d", i)
	}
	vecs, err := e.Embed(context.Background(), in, lmsys.PurposeQuery)
	require.NoError(t, err)
	require.Len(t, vecs, 100)
	for i, v := range vecs {
		require.Len(t, v, 512)
		want := fakeVector(in[i], 512)
		var dot, nn float64
		for j := range v {
			dot += float64(v[j]) * float64(want[j])
			nn += float64(want[j]) * float64(want[j])
		}
		assert.InDelta(t, 1, dot*dot/nn, 1e-4)
	}
	require.Len(t, f.requests, 3)
	for _, r := range f.requests {
		assert.Equal(t, "text-embedding-3-small", r["model"])
		assert.EqualValues(t, 512, r["dimensions"])
	}
}

func TestEnvironmentAndConfig(t *testing.T) {
	f := &fakeOpenAI{}
	srv := httptest.NewServer(f)
	defer srv.Close()
	t.Setenv("OPENAI_API_KEY", testKey)
	t.Setenv("OPENAI_BASE_URL", srv.URL+"/v1/")
	e, err := New(Config{})
	require.NoError(t, err)
	assert.Equal(t, 1536, e.Space().Dims)
	_, err = e.Embed(context.Background(), []string{"a"}, lmsys.PurposeClustering)
	require.NoError(t, err)
	_, hasDims := f.requests[0]["dimensions"]
	assert.False(t, hasDims, "native dimension must not be sent")

	// A gateway model of declared dimension: the dimension is not sent.
	g, err := New(Config{Model: "bge-small", Dims: 1536})
	require.NoError(t, err)
	_, err = g.Embed(context.Background(), []string{"a"}, lmsys.PurposeClustering)
	require.NoError(t, err)
	assert.Equal(t, "bge-small", f.requests[1]["model"])
	_, hasDims = f.requests[1]["dimensions"]
	assert.False(t, hasDims)

	for _, cfg := range []Config{
		{Model: "my-model"},
		{Dims: 4096},
		{Model: "text-embedding-ada-002", Dims: 256},
		{BatchSize: 5000},
	} {
		_, err := New(cfg)
		assert.ErrorIs(t, err, lmsys.ErrInvalidInput, "%+v", cfg)
	}
	t.Setenv("OPENAI_API_KEY", "")
	_, err = New(Config{})
	assert.ErrorIs(t, err, lmsys.ErrInvalidInput)
}

func TestRetryAfterThenSuccess(t *testing.T) {
	var first, second time.Time
	f := &fakeOpenAI{respond: func(n int, w http.ResponseWriter, _ []string, _ int) bool {
		if n == 1 {
			first = time.Now()
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = w.Write([]byte(`{"error":{"message":"Rate limit reached for requests","type":"requests"}}`))
			return true
		}
		second = time.Now()
		return false
	}}
	e := newTest(t, f, Config{})
	_, err := e.Embed(context.Background(), []string{"hello"}, lmsys.PurposeClustering)
	require.NoError(t, err)
	assert.EqualValues(t, 2, f.calls.Load())
	assert.GreaterOrEqual(t, second.Sub(first), 900*time.Millisecond)
}

func TestFailures(t *testing.T) {
	tests := []struct {
		name     string
		respond  func(n int, w http.ResponseWriter, input []string, dims int) bool
		key      string
		calls    int32
		status   int
		contains string
	}{
		{"500 until give up", func(n int, w http.ResponseWriter, _ []string, _ int) bool {
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte(`{"error":{"message":"The server had an error"}}`))
			return true
		}, "", 3, 500, "openai: HTTP 500 Internal Server Error after 3 attempts"},
		{"503 without body", func(n int, w http.ResponseWriter, _ []string, _ int) bool {
			w.WriteHeader(http.StatusServiceUnavailable)
			return true
		}, "", 3, 503, "openai: HTTP 503 Service Unavailable after 3 attempts"},
		{"wrong count", func(n int, w http.ResponseWriter, input []string, dims int) bool {
			_ = json.NewEncoder(w).Encode(map[string]any{"data": []map[string]any{{"embedding": fakeVector("x", dims)}}})
			return true
		}, "", 1, 0, "openai returned 1 vectors for 2 texts"},
		{"bad key", nil, "sk-wrong-ALSO-SECRET-987654", 1, 401, "openai: HTTP 401 Unauthorized after 1 attempt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeOpenAI{respond: tt.respond}
			e := newTest(t, f, Config{APIKey: tt.key, MaxAttempts: 3})
			_, err := e.Embed(context.Background(), []string{"a", "b"}, lmsys.PurposeClustering)
			require.Error(t, err)
			assert.ErrorIs(t, err, lmsys.ErrProvider)
			var pe *retry.Error
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, tt.status, pe.Status)
			assert.Contains(t, err.Error(), tt.contains)
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
	f := &fakeOpenAI{respond: func(n int, w http.ResponseWriter, _ []string, _ int) bool {
		started <- struct{}{}
		<-release
		return false
	}}
	e := newTest(t, f, Config{BatchSize: 1, Concurrency: 1})
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-started; cancel() }()
	_, err := e.Embed(ctx, []string{"a", "b", "c", "d"}, lmsys.PurposeClustering)
	assert.ErrorIs(t, err, context.Canceled)
	assert.NotErrorIs(t, err, lmsys.ErrProvider)
	assert.LessOrEqual(t, f.calls.Load(), int32(2))
}
