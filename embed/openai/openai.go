// Package openai embeds texts with OpenAI's embeddings API (or any server speaking
// it: Azure-style gateways, vLLM, LiteLLM …) through langchaingo's OpenAI client.
//
// text-embedding-3-small (1536 dimensions) is the default model; the text-embedding-3
// models accept a smaller Dims (Matryoshka shortening, sent as "dimensions"). Other
// model names need Dims, which is then only checked, not sent. Batches run
// concurrently under a requests-per-minute limit and are retried on 429, 5xx and
// transport failures (see internal/retry).
package openai

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	lcopenai "github.com/tmc/langchaingo/llms/openai"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/embed/internal/remote"
	"github.com/lmsys-go/lmsys/internal/retry"
)

// Defaults of Config.
const (
	DefaultModel     = "text-embedding-3-small"
	DefaultBatchSize = 256
	// MaxBatch is the API's limit of inputs per request.
	MaxBatch = 2048
)

// nativeDims lists the output dimension of OpenAI's embedding models.
var nativeDims = map[string]int{
	"text-embedding-3-small": 1536,
	"text-embedding-3-large": 3072,
	"text-embedding-ada-002": 1536,
}

// Config configures an Embedder. Zero fields take defaults.
type Config struct {
	// Model is the embedding model (default text-embedding-3-small).
	Model string
	// Dims is the output dimension: at most the model's own for text-embedding-3-*,
	// required for models this package does not know.
	Dims int
	// APIKey defaults to $OPENAI_API_KEY.
	APIKey string
	// BaseURL defaults to $OPENAI_BASE_URL, then $OPENAI_API_BASE, then
	// https://api.openai.com/v1.
	BaseURL string
	// BatchSize is the number of texts per request (default 256, at most 2048).
	BatchSize int
	// Concurrency is the number of requests in flight (default 4).
	Concurrency int
	// RPM limits requests per minute (0: no limit).
	RPM float64
	// MaxAttempts bounds the attempts per request (default 5).
	MaxAttempts int
	// Timeout bounds one attempt (default 60 s).
	Timeout time.Duration
	// HTTPClient is the client to send requests with (default a new http.Client).
	HTTPClient *http.Client
	// Retry overrides backoff details (BaseDelay, MaxDelay, Logger).
	Retry retry.Policy
}

// Embedder embeds texts with an OpenAI-compatible API. It is safe for concurrent use.
type Embedder struct {
	model string
	rc    *remote.Client
	llm   *lcopenai.LLM
}

// New returns an Embedder for cfg. It fails with an error wrapping
// lmsys.ErrInvalidInput when no API key is set or the dimension is unknown or not
// offered.
func New(cfg Config) (*Embedder, error) {
	if cfg.Model == "" {
		cfg.Model = DefaultModel
	}
	native, known := nativeDims[cfg.Model]
	sendDims := 0
	switch {
	case !known && cfg.Dims <= 0:
		return nil, fmt.Errorf("%w: openai: the dimension of model %q is unknown: set it (--embedding-dim)", lmsys.ErrInvalidInput, cfg.Model)
	case !known:
	case cfg.Dims <= 0:
		cfg.Dims = native
	case cfg.Dims > native:
		return nil, fmt.Errorf("%w: openai: %s has at most %d dimensions, not %d", lmsys.ErrInvalidInput, cfg.Model, native, cfg.Dims)
	case cfg.Dims != native:
		if !strings.HasPrefix(cfg.Model, "text-embedding-3") {
			return nil, fmt.Errorf("%w: openai: %s has %d dimensions and cannot shorten them to %d", lmsys.ErrInvalidInput, cfg.Model, native, cfg.Dims)
		}
		sendDims = cfg.Dims
	}
	rc, err := remote.NewClient(remote.Options{
		Provider: "openai",
		APIKey:   cfg.APIKey, KeyEnv: []string{"OPENAI_API_KEY"}, KeyHelp: "set OPENAI_API_KEY (any value for a gateway that needs none)",
		BaseURL: cfg.BaseURL, URLEnv: []string{"OPENAI_BASE_URL", "OPENAI_API_BASE"}, DefaultURL: "https://api.openai.com/v1",
		BatchSize: cfg.BatchSize, DefaultBatch: DefaultBatchSize, MaxBatch: MaxBatch,
		Concurrency: cfg.Concurrency, RPM: cfg.RPM, MaxAttempts: cfg.MaxAttempts, Timeout: cfg.Timeout,
		HTTPClient: cfg.HTTPClient, Retry: cfg.Retry, Dims: cfg.Dims,
	})
	if err != nil {
		return nil, err
	}
	opts := []lcopenai.Option{
		lcopenai.WithToken(rc.APIKey),
		lcopenai.WithBaseURL(rc.BaseURL),
		lcopenai.WithEmbeddingModel(cfg.Model),
		lcopenai.WithHTTPClient(rc.HTTPClient),
	}
	if sendDims > 0 {
		opts = append(opts, lcopenai.WithEmbeddingDimensions(sendDims))
	}
	llm, err := lcopenai.New(opts...)
	if err != nil {
		return nil, fmt.Errorf("%w: openai: %s", lmsys.ErrInvalidInput, retry.Redact(err.Error(), rc.APIKey))
	}
	return &Embedder{model: cfg.Model, rc: rc, llm: llm}, nil
}

// Space returns openai/<model> with the output dimension.
func (e *Embedder) Space() lmsys.Space { return e.rc.Space(e.model) }

// Embed returns one unit-length vector per text; the purpose does not change OpenAI
// embeddings. Empty texts are rejected (the API refuses them); a failure after
// retries wraps lmsys.ErrProvider and names the HTTP status.
func (e *Embedder) Embed(ctx context.Context, texts []string, _ lmsys.Purpose) ([][]float32, error) {
	return e.rc.Embed(ctx, texts, func(ctx context.Context, batch []string) ([][]float32, error) {
		vecs, err := e.llm.CreateEmbedding(ctx, batch)
		switch {
		case errors.Is(err, lcopenai.ErrEmptyResponse):
			return nil, retry.Permanent(fmt.Errorf("openai returned no embeddings for %d texts", len(batch)))
		case errors.Is(err, lcopenai.ErrUnexpectedResponseLength):
			return nil, retry.Permanent(fmt.Errorf("openai returned %d vectors for %d texts", len(vecs), len(batch)))
		case err != nil:
			return nil, remote.DecodeError(err)
		}
		return vecs, nil
	})
}
