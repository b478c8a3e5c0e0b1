// Package ollama embeds texts with a local or remote Ollama server (nomic-embed-text
// by default) through langchaingo's Ollama client.
//
// The server is Config.BaseURL, else $OLLAMA_HOST, else http://127.0.0.1:11434. The
// client sends one request per text; a batch of texts is one retried unit, and
// batches run concurrently (2 at a time by default, since a local server shares the
// machine). An API key, when set, is sent as a bearer token for proxies in front of
// Ollama.
package ollama

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	lcollama "github.com/tmc/langchaingo/llms/ollama"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/embed/internal/remote"
	"github.com/lmsys-go/lmsys/internal/retry"
)

// Defaults of Config.
const (
	DefaultModel       = "nomic-embed-text"
	DefaultBatchSize   = 16
	DefaultConcurrency = 2
)

// nativeDims lists the dimension of common Ollama embedding models.
var nativeDims = map[string]int{
	"nomic-embed-text":       768,
	"mxbai-embed-large":      1024,
	"all-minilm":             384,
	"snowflake-arctic-embed": 1024,
	"bge-m3":                 1024,
	"bge-large":              1024,
	"granite-embedding":      384,
}

// Config configures an Embedder. Zero fields take defaults.
type Config struct {
	// Model is the Ollama model (default nomic-embed-text). A ":tag" suffix is allowed.
	Model string
	// Dims is the model's dimension; required for models this package does not know.
	Dims int
	// BaseURL is the server (default $OLLAMA_HOST, then http://127.0.0.1:11434).
	BaseURL string
	// APIKey, when set, is sent as "Authorization: Bearer" (for proxies).
	APIKey string
	// BatchSize is the number of texts per retried unit (default 16).
	BatchSize int
	// Concurrency is the number of batches in flight (default 2).
	Concurrency int
	// RPM limits batches started per minute (0: no limit).
	RPM float64
	// MaxAttempts bounds the attempts per batch (default 5).
	MaxAttempts int
	// Timeout bounds one batch attempt (default 120 s: a cold model loads slowly).
	Timeout time.Duration
	// HTTPClient is the client to send requests with (default a new http.Client).
	HTTPClient *http.Client
	// Retry overrides backoff details (BaseDelay, MaxDelay, Logger).
	Retry retry.Policy
}

// Embedder embeds texts with Ollama. It is safe for concurrent use.
type Embedder struct {
	model string
	rc    *remote.Client
	llm   *lcollama.LLM
}

// baseModel strips an Ollama ":tag".
func baseModel(m string) string {
	for i := 0; i < len(m); i++ {
		if m[i] == ':' {
			return m[:i]
		}
	}
	return m
}

// New returns an Embedder for cfg. It fails with an error wrapping
// lmsys.ErrInvalidInput for a malformed URL or a model of unknown dimension.
func New(cfg Config) (*Embedder, error) {
	if cfg.Model == "" {
		cfg.Model = DefaultModel
	}
	if native, ok := nativeDims[baseModel(cfg.Model)]; ok {
		if cfg.Dims != 0 && cfg.Dims != native {
			return nil, fmt.Errorf("%w: ollama: %s has %d dimensions, not %d", lmsys.ErrInvalidInput, cfg.Model, native, cfg.Dims)
		}
		cfg.Dims = native
	} else if cfg.Dims <= 0 {
		return nil, fmt.Errorf("%w: ollama: the dimension of model %q is unknown: set it (--embedding-dim)", lmsys.ErrInvalidInput, cfg.Model)
	}
	if cfg.BaseURL != "" {
		u, err := url.Parse(cfg.BaseURL)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return nil, fmt.Errorf("%w: ollama: base URL %q is not an absolute URL", lmsys.ErrInvalidInput, cfg.BaseURL)
		}
	}
	// The URL's environment default ($OLLAMA_HOST, host:port without a scheme) is the
	// client library's to read, so only a configured URL is passed on.
	rc, err := remote.NewClient(remote.Options{
		Provider: "ollama",
		APIKey:   cfg.APIKey, BaseURL: cfg.BaseURL,
		BatchSize: cfg.BatchSize, DefaultBatch: DefaultBatchSize,
		Concurrency: cfg.Concurrency, DefaultConcurrency: DefaultConcurrency,
		RPM: cfg.RPM, MaxAttempts: cfg.MaxAttempts, Timeout: cfg.Timeout, DefaultTimeout: 120 * time.Second,
		HTTPClient: cfg.HTTPClient, Retry: cfg.Retry, Dims: cfg.Dims,
	})
	if err != nil {
		return nil, err
	}
	hc := rc.HTTPClient
	if rc.APIKey != "" {
		hc.Transport = &bearer{key: rc.APIKey, base: hc.Transport}
	}
	opts := []lcollama.Option{lcollama.WithModel(cfg.Model), lcollama.WithHTTPClient(hc)}
	if cfg.BaseURL != "" {
		opts = append(opts, lcollama.WithServerURL(cfg.BaseURL))
	}
	llm, err := lcollama.New(opts...)
	if err != nil {
		return nil, fmt.Errorf("%w: ollama: %v", lmsys.ErrInvalidInput, err)
	}
	return &Embedder{model: cfg.Model, rc: rc, llm: llm}, nil
}

// Space returns ollama/<model> with its dimension.
func (e *Embedder) Space() lmsys.Space { return e.rc.Space(e.model) }

// Embed returns one unit-length vector per text; the purpose does not change Ollama
// embeddings. A failure after retries wraps lmsys.ErrProvider and names the HTTP
// status.
func (e *Embedder) Embed(ctx context.Context, texts []string, _ lmsys.Purpose) ([][]float32, error) {
	return e.rc.Embed(ctx, texts, func(ctx context.Context, batch []string) ([][]float32, error) {
		vecs, err := e.llm.CreateEmbedding(ctx, batch)
		switch {
		case errors.Is(err, lcollama.ErrEmptyResponse):
			return nil, retry.Permanent(fmt.Errorf("ollama returned no embeddings"))
		case errors.Is(err, lcollama.ErrIncompleteEmbedding):
			return nil, retry.Permanent(fmt.Errorf("ollama returned %d vectors for %d texts", len(vecs), len(batch)))
		case err != nil:
			return nil, remote.DecodeError(err)
		}
		return vecs, nil
	})
}

// bearer adds an Authorization header to every request.
type bearer struct {
	key  string
	base http.RoundTripper
}

func (b *bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.key)
	return b.base.RoundTrip(r)
}
