// Package fakeembed is a fake of an OpenAI-compatible embeddings API for tests and
// benchmarks: an httptest server answering POST …/embeddings with deterministic
// vectors, optionally after a delay, counting every text it embeds, with a hook that
// can hold a request (to kill its client mid-request). The library's openai embedder
// talks to it through its real client library (langchaingo).
package fakeembed

import (
	"encoding/json"
	"hash/fnv"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// Model is a model name the fake answers for; the openai embedder needs the
// dimension given for it ("openai/fake-embed" with embed.WithDims).
const Model = "fake-embed"

// Server is a running fake. Its handlers may be changed before the first request.
type Server struct {
	// URL is the base URL to give the embedder (ends in /v1); any path prefix before
	// /v1 is accepted too, so URL+"/w1" style prefixes tell clients apart (Prefix).
	URL string
	// Delay is waited before each answer (the latency of a remote API).
	Delay time.Duration
	// OnRequest, when set, is called as each request arrives with its path prefix
	// (the part before /v1) and texts; it may block, for instance until the request's
	// context ends because its client was killed. A request it returns false for is
	// answered 503.
	OnRequest func(r *http.Request, prefix string, texts []string) bool

	dims int
	srv  *httptest.Server

	mu    sync.Mutex
	calls int
	texts map[string]int
}

// Start starts a fake whose vectors have dims values. Close it when done.
func Start(dims int) *Server {
	s := &Server{dims: dims, texts: map[string]int{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL + "/v1"
	return s
}

// Prefixed returns the base URL with a path prefix before /v1, which OnRequest
// receives: one per client tells requests apart.
func (s *Server) Prefixed(prefix string) string { return s.srv.URL + "/" + prefix + "/v1" }

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// Calls returns the number of requests answered with vectors.
func (s *Server) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// Texts returns how many times each text was embedded (answered with a vector).
func (s *Server) Texts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.texts))
	for k, v := range s.texts {
		out[k] = v
	}
	return out
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	i := strings.Index(r.URL.Path, "/v1/embeddings")
	if r.Method != http.MethodPost || i < 0 {
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"error":{"message":"not found"}}`)
		return
	}
	prefix := strings.Trim(r.URL.Path[:i], "/")
	var req struct {
		Input []string `json:"input"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"error":{"message":"invalid request"}}`)
		return
	}
	if s.OnRequest != nil && !s.OnRequest(r, prefix, req.Input) {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, `{"error":{"message":"unavailable"}}`)
		return
	}
	if s.Delay > 0 {
		select {
		case <-time.After(s.Delay):
		case <-r.Context().Done():
			return
		}
	}
	if r.Context().Err() != nil {
		return
	}
	data := make([]map[string]any, len(req.Input))
	for i, t := range req.Input {
		data[i] = map[string]any{"object": "embedding", "index": i, "embedding": Vector(t, s.dims)}
	}
	b, _ := json.Marshal(map[string]any{"object": "list", "model": Model, "data": data,
		"usage": map[string]int{"prompt_tokens": len(req.Input), "total_tokens": len(req.Input)}})
	s.mu.Lock()
	s.calls++
	for _, t := range req.Input {
		s.texts[t]++
	}
	s.mu.Unlock()
	_, _ = w.Write(b)
}

// Vector is the unit vector the fake returns for text: dims values from a linear
// congruential sequence seeded by the text's FNV-1a hash.
func Vector(text string, dims int) []float32 {
	h := fnv.New64a()
	h.Write([]byte(text))
	x := h.Sum64()
	v := make([]float32, dims)
	var norm float64
	for i := range v {
		x = x*6364136223846793005 + 1442695040888963407
		f := float64(int64(x>>11))/float64(1<<52) - 1
		v[i] = float32(f)
		norm += f * f
	}
	n := float32(math.Sqrt(norm))
	for i := range v {
		v[i] /= n
	}
	return v
}
