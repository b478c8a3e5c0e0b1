package ollama

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
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

func fakeVector(text string, dims int) []float32 { return remotetest.Vector(text, dims) }

// fakeOllama speaks Ollama's POST /api/embed wire format.
type fakeOllama struct {
	mu      sync.Mutex
	auth    []string
	calls   atomic.Int32
	respond func(n int, w http.ResponseWriter, input string) bool
}

func (f *fakeOllama) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := int(f.calls.Add(1))
	if r.URL.Path != "/api/embed" || r.Method != http.MethodPost {
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"error":"not found"}`))
		return
	}
	var req struct {
		Model string `json:"model"`
		Input string `json:"input"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"error":"invalid request"}`))
		return
	}
	if req.Model != "nomic-embed-text" && req.Model != "nomic-embed-text:latest" {
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"error":"model \"` + req.Model + `\" not found, try pulling it first"}`))
		return
	}
	f.mu.Lock()
	f.auth = append(f.auth, r.Header.Get("Authorization"))
	f.mu.Unlock()
	if f.respond != nil && f.respond(n, w, req.Input) {
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"model": req.Model, "embeddings": [][]float32{fakeVector(req.Input, 768)}})
}

func newTest(t *testing.T, f *fakeOllama, cfg Config) *Embedder {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	if cfg.BaseURL == "" {
		cfg.BaseURL = srv.URL
	}
	cfg.Retry = retry.Policy{BaseDelay: time.Millisecond, MaxDelay: 5 * time.Second}
	e, err := New(cfg)
	require.NoError(t, err)
	return e
}

// TestDefaultsWithoutKey checks the default space and that no Authorization header is
// sent without an API key; batching and vectors are Conformance's.
func TestDefaultsWithoutKey(t *testing.T) {
	f := &fakeOllama{}
	e := newTest(t, f, Config{})
	assert.Equal(t, lmsys.Space{Provider: "ollama", Model: "nomic-embed-text", Dims: 768}, e.Space())
	_, err := e.Embed(context.Background(), []string{"a"}, lmsys.PurposeClustering)
	require.NoError(t, err)
	assert.Equal(t, []string{""}, f.auth)
}

func TestOllamaHostAndBearer(t *testing.T) {
	f := &fakeOllama{}
	srv := httptest.NewServer(f)
	defer srv.Close()
	t.Setenv("OLLAMA_HOST", strings.TrimPrefix(srv.URL, "http://"))
	e, err := New(Config{Model: "nomic-embed-text:latest", APIKey: "proxy-key-123"})
	require.NoError(t, err)
	_, err = e.Embed(context.Background(), []string{"x"}, lmsys.PurposeQuery)
	require.NoError(t, err)
	assert.Equal(t, []string{"Bearer proxy-key-123"}, f.auth)

	for _, cfg := range []Config{{Model: "my-embedder"}, {Dims: 512}, {BaseURL: "::not a url"}} {
		_, err := New(cfg)
		assert.ErrorIs(t, err, lmsys.ErrInvalidInput, "%+v", cfg)
	}
	m, err := New(Config{Model: "my-embedder", Dims: 64})
	require.NoError(t, err)
	assert.Equal(t, 64, m.Space().Dims)
}

func TestRetryAfterThenSuccess(t *testing.T) {
	var first, second time.Time
	f := &fakeOllama{respond: func(n int, w http.ResponseWriter, _ string) bool {
		if n == 1 {
			first = time.Now()
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = w.Write([]byte(`{"error":"server busy, please try again.  maximum pending requests exceeded"}`))
			return true
		}
		second = time.Now()
		return false
	}}
	e := newTest(t, f, Config{})
	_, err := e.Embed(context.Background(), []string{"hello"}, lmsys.PurposeClustering)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, second.Sub(first), 900*time.Millisecond)
}

func TestFailures(t *testing.T) {
	tests := []struct {
		name     string
		model    string
		respond  func(n int, w http.ResponseWriter, input string) bool
		calls    int32
		status   int
		contains string
	}{
		{"500 until give up", "", func(n int, w http.ResponseWriter, _ string) bool {
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte(`{"error":"llama runner process has terminated"}`))
			return true
		}, 3, 500, "ollama: HTTP 500 Internal Server Error after 3 attempts: llama runner process has terminated"},
		{"model missing", "nomic-embed-text:v9", nil, 1, 404, "ollama: HTTP 404 Not Found after 1 attempt"},
		{"no vectors", "", func(n int, w http.ResponseWriter, _ string) bool {
			_, _ = w.Write([]byte(`{"embeddings":[]}`))
			return true
		}, 1, 0, "ollama returned no embeddings"},
		{"two vectors for one text", "", func(n int, w http.ResponseWriter, _ string) bool {
			_ = json.NewEncoder(w).Encode(map[string]any{"embeddings": [][]float32{fakeVector("a", 768), fakeVector("b", 768)}})
			return true
		}, 1, 0, "ollama returned 2 vectors for 1 texts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeOllama{respond: tt.respond}
			e := newTest(t, f, Config{Model: tt.model, MaxAttempts: 3})
			_, err := e.Embed(context.Background(), []string{"a"}, lmsys.PurposeClustering)
			require.Error(t, err)
			assert.ErrorIs(t, err, lmsys.ErrProvider)
			var pe *retry.Error
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, tt.status, pe.Status)
			assert.Contains(t, err.Error(), tt.contains)
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
	f := &fakeOllama{respond: func(n int, w http.ResponseWriter, _ string) bool {
		started <- struct{}{}
		<-release
		return false
	}}
	e := newTest(t, f, Config{BatchSize: 1, Concurrency: 1})
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-started; cancel() }()
	_, err := e.Embed(ctx, []string{"a", "b", "c"}, lmsys.PurposeClustering)
	assert.ErrorIs(t, err, context.Canceled)
	assert.NotErrorIs(t, err, lmsys.ErrProvider)
}
