// Package remotetest is the fake-server helper the remote embedders' tests share: an
// httptest server that speaks one provider's wire format (described by a Wire),
// answers with deterministic vectors, records what it was sent and can be scripted to
// fail; and Conformance, the behaviour every remote embedder must show against it
// (batching in order, retries on 429 and 5xx, permanent failures, malformed answers,
// cancellation, empty texts). A new provider's test is its Wire plus one call to
// Conformance, run through the provider's real client library.
package remotetest

import (
	"context"
	"encoding/json"
	"hash/fnv"
	"io"
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
	"github.com/lmsys-go/lmsys/internal/vec"
)

// Wire describes one provider's embedding API as the fake server speaks it.
type Wire struct {
	// Path is the request path of the embedding endpoint ("/v2/embed").
	Path string
	// Texts extracts the input texts of one request body.
	Texts func(body []byte) ([]string, error)
	// Reply is the JSON value answering a request with vecs, one per text.
	Reply func(vecs [][]float32) any
	// Auth, when set, is the Authorization header every request must carry; others
	// get a 401.
	Auth string
}

// Reply is a scripted answer: a status, an optional Retry-After header and a body.
type Reply struct {
	Status     int
	RetryAfter string
	Body       string
}

// Server is a fake embedding API. Its zero value is not usable; call Start.
type Server struct {
	// URL is the server's base URL.
	URL  string
	wire Wire
	dims int

	calls atomic.Int32
	mu    sync.Mutex
	texts []string
	// script answers the n-th request (1-based) instead of the default when it returns
	// true.
	script func(n int, w http.ResponseWriter, texts []string) bool
}

// Start starts a fake server for wire whose vectors have dims values; it stops when
// the test ends.
func Start(t testing.TB, wire Wire, dims int) *Server {
	s := &Server{wire: wire, dims: dims}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// Script makes fn answer the requests it returns true for.
func (s *Server) Script(fn func(n int, w http.ResponseWriter, texts []string) bool) { s.script = fn }

// Calls returns the number of requests received.
func (s *Server) Calls() int { return int(s.calls.Load()) }

// Texts returns every text received, in arrival order.
func (s *Server) Texts() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.texts...)
}

// ServeHTTP answers one request of the wire format.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := int(s.calls.Add(1))
	w.Header().Set("Content-Type", "application/json")
	if r.URL.Path != s.wire.Path || r.Method != http.MethodPost {
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"error":"not found"}`)
		return
	}
	if s.wire.Auth != "" && r.Header.Get("Authorization") != s.wire.Auth {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"error":"invalid api key"}`)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	texts, err := s.wire.Texts(body)
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"error":"invalid request"}`)
		return
	}
	s.mu.Lock()
	s.texts = append(s.texts, texts...)
	s.mu.Unlock()
	if s.script != nil && s.script(n, w, texts) {
		return
	}
	vecs := make([][]float32, len(texts))
	for i, t := range texts {
		vecs[i] = Vector(t, s.dims)
	}
	WriteJSON(w, s.wire.Reply(vecs))
}

// Send writes a scripted reply.
func Send(w http.ResponseWriter, r Reply) {
	if r.RetryAfter != "" {
		w.Header().Set("Retry-After", r.RetryAfter)
	}
	w.WriteHeader(r.Status)
	_, _ = io.WriteString(w, r.Body)
}

// WriteJSON writes v as a 200 JSON answer.
func WriteJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	_, _ = w.Write(b)
}

// Vector is the deterministic vector the fake server returns for text: dims values
// from a linear congruential sequence seeded by the text's FNV-1a hash.
func Vector(text string, dims int) []float32 {
	h := fnv.New64a()
	h.Write([]byte(text))
	s := h.Sum64()
	v := make([]float32, dims)
	for i := range v {
		s = s*6364136223846793005 + 1442695040888963407
		v[i] = float32(int64(s>>11))/float32(1<<52) - 0.5
	}
	return v
}

// Factory builds the embedder under test against a fake server at url with the given
// batch size, attempts per request and backoff policy (fast delays for tests).
type Factory func(url string, batch, attempts int, policy retry.Policy) (lmsys.Embedder, error)

// Conformance runs the behaviour every remote embedder shares against a fake server
// for wire with dims-value vectors. perRequest is the number of texts the provider
// sends in one HTTP request (0: the whole batch).
func Conformance(t *testing.T, wire Wire, dims, perRequest int, newEmbedder Factory) {
	fast := retry.Policy{BaseDelay: time.Millisecond, MaxDelay: 50 * time.Millisecond}
	start := func(t *testing.T, batch, attempts int) (*Server, lmsys.Embedder) {
		s := Start(t, wire, dims)
		e, err := newEmbedder(s.URL, batch, attempts, fast)
		require.NoError(t, err)
		return s, e
	}
	ctx := context.Background()

	t.Run("batches keep their order", func(t *testing.T) {
		s, e := start(t, 3, 1)
		in := []string{"a", "b", "c", "d", "e", "日本語のテキスト", "g", "h", "i", "j"}
		vecs, err := e.Embed(ctx, in, lmsys.PurposeClustering)
		require.NoError(t, err)
		require.Len(t, vecs, len(in))
		for i, v := range vecs {
			require.Len(t, v, dims)
			cos, _ := vec.Cosine(v, Vector(in[i], dims))
			assert.InDelta(t, 1, cos, 1e-5, "text %d is its own vector, normalised", i)
		}
		assert.ElementsMatch(t, in, s.Texts())
	})

	t.Run("429 with Retry-After then success", func(t *testing.T) {
		s, e := start(t, 8, 3)
		s.Script(func(n int, w http.ResponseWriter, _ []string) bool {
			if n > 1 {
				return false
			}
			Send(w, Reply{Status: http.StatusTooManyRequests, RetryAfter: "0", Body: `{"error":"slow down"}`})
			return true
		})
		vecs, err := e.Embed(ctx, []string{"x"}, lmsys.PurposeQuery)
		require.NoError(t, err)
		assert.Len(t, vecs, 1)
		assert.Equal(t, 2, s.Calls())
	})

	failures := []struct {
		name   string
		reply  Reply
		status int
		calls  int
	}{
		{"5xx until the attempts run out", Reply{Status: http.StatusServiceUnavailable, Body: `{"error":"overloaded"}`}, 503, 3},
		{"400 is not retried", Reply{Status: http.StatusBadRequest, Body: `{"error":"bad input"}`}, 400, 1},
		{"garbage JSON is not retried", Reply{Status: http.StatusOK, Body: `this is not json`}, 0, 1},
	}
	for _, f := range failures {
		t.Run(f.name, func(t *testing.T) {
			s, e := start(t, 8, 3)
			s.Script(func(_ int, w http.ResponseWriter, _ []string) bool { Send(w, f.reply); return true })
			_, err := e.Embed(ctx, []string{"x"}, lmsys.PurposeClustering)
			require.Error(t, err)
			assert.ErrorIs(t, err, lmsys.ErrProvider)
			var pe *retry.Error
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, f.status, pe.Status)
			assert.Equal(t, f.calls, s.Calls())
		})
	}

	t.Run("a vector of another dimension is an error", func(t *testing.T) {
		s, e := start(t, 8, 3)
		s.Script(func(_ int, w http.ResponseWriter, texts []string) bool {
			vecs := make([][]float32, len(texts))
			for i, t := range texts {
				vecs[i] = Vector(t, dims+1)
			}
			WriteJSON(w, wire.Reply(vecs))
			return true
		})
		_, err := e.Embed(ctx, []string{"x", "y"}, lmsys.PurposeClustering)
		require.ErrorIs(t, err, lmsys.ErrProvider)
		assert.Contains(t, err.Error(), "dimensions")
		per := perRequest
		if per == 0 {
			per = 2
		}
		assert.LessOrEqual(t, s.Calls(), 2/per, "not retried")
	})

	t.Run("cancellation stops a request in flight", func(t *testing.T) {
		s, e := start(t, 8, 3)
		// The release channel is made before any request arrives: its cleanup is
		// registered after the server's, so it runs first and the blocked handler
		// returns before the server waits for it to close.
		release := ctxDone(t)
		arrived := make(chan struct{})
		var once sync.Once
		s.Script(func(_ int, _ http.ResponseWriter, _ []string) bool {
			once.Do(func() { close(arrived) })
			<-release
			return true
		})
		cctx, cancel := context.WithCancel(ctx)
		go func() {
			<-arrived
			cancel()
		}()
		_, err := e.Embed(cctx, []string{"x"}, lmsys.PurposeClustering)
		require.ErrorIs(t, err, context.Canceled)
	})

	t.Run("empty text is rejected before any request", func(t *testing.T) {
		s, e := start(t, 8, 3)
		_, err := e.Embed(ctx, []string{"x", ""}, lmsys.PurposeClustering)
		require.ErrorIs(t, err, lmsys.ErrInvalidInput)
		assert.Zero(t, s.Calls())
	})
}

// ctxDone returns a channel closed when the test ends, so a blocked handler returns
// and the server can close.
func ctxDone(t *testing.T) <-chan struct{} {
	done := make(chan struct{})
	t.Cleanup(func() { close(done) })
	return done
}
