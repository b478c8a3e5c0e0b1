// Package cohere embeds texts with Cohere's Embed API (embed-v4.0 by default) through
// the official client library, github.com/cohere-ai/cohere-go/v2.
//
// Requests go to the v2 /embed endpoint with float embeddings, the Matryoshka output
// dimension (256, 512, 1024 or 1536 for embed-v4.0; 256 by default) and the input type
// that matches the lmsys.Purpose: search_document, search_query or clustering. At most
// 96 texts go in one request; batches run concurrently under a requests-per-minute
// limit and are retried on 429, 5xx and transport failures (see internal/retry).
package cohere

import (
	"context"
	"fmt"
	"net/http"
	"time"

	coapi "github.com/cohere-ai/cohere-go/v2"
	coclient "github.com/cohere-ai/cohere-go/v2/client"
	"github.com/cohere-ai/cohere-go/v2/option"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/embed/internal/remote"
	"github.com/lmsys-go/lmsys/internal/retry"
)

// Defaults of Config.
const (
	DefaultModel = "embed-v4.0"
	DefaultDims  = 256
	MaxBatch     = 96
)

// Config configures an Embedder. Zero fields take defaults.
type Config struct {
	// Model is the Cohere model id (default embed-v4.0).
	Model string
	// Dims is the output dimension: 256, 512, 1024 or 1536 for embed-v4.0 (default
	// 256). For older models (embed-english-v3.0 …) it must be their fixed dimension.
	Dims int
	// APIKey defaults to $CO_API_KEY, then $COHERE_API_KEY.
	APIKey string
	// BaseURL defaults to $CO_API_URL, then https://api.cohere.com.
	BaseURL string
	// BatchSize is the number of texts per request (default and maximum 96).
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
	// Retry overrides backoff details (BaseDelay, MaxDelay, Logger); its Provider,
	// MaxAttempts, RPM, Concurrency, AttemptTimeout and Secrets are set from the fields
	// above.
	Retry retry.Policy
}

// Embedder embeds texts with Cohere. It is safe for concurrent use.
type Embedder struct {
	model  string
	fixed  bool // the model has one dimension, not sent in requests
	rc     *remote.Client
	client *coclient.Client
}

// fixedDims lists the dimension of Cohere models without Matryoshka output.
var fixedDims = map[string]int{
	"embed-english-v3.0":            1024,
	"embed-multilingual-v3.0":       1024,
	"embed-english-light-v3.0":      384,
	"embed-multilingual-light-v3.0": 384,
}

// New returns an Embedder for cfg. It fails with an error wrapping
// lmsys.ErrInvalidInput when no API key is set or the dimension is not offered.
func New(cfg Config) (*Embedder, error) {
	if cfg.Model == "" {
		cfg.Model = DefaultModel
	}
	fd, fixed := fixedDims[cfg.Model]
	switch {
	case fixed && cfg.Dims != 0 && cfg.Dims != fd:
		return nil, fmt.Errorf("%w: cohere: %s has %d dimensions, not %d", lmsys.ErrInvalidInput, cfg.Model, fd, cfg.Dims)
	case fixed:
		cfg.Dims = fd
	case cfg.Dims == 0:
		cfg.Dims = DefaultDims
	case cfg.Dims != 256 && cfg.Dims != 512 && cfg.Dims != 1024 && cfg.Dims != 1536:
		return nil, fmt.Errorf("%w: cohere: output dimension %d: %s offers 256, 512, 1024 or 1536", lmsys.ErrInvalidInput, cfg.Dims, cfg.Model)
	}
	rc, err := remote.NewClient(remote.Options{
		Provider: "cohere",
		APIKey:   cfg.APIKey, KeyEnv: []string{"CO_API_KEY", "COHERE_API_KEY"}, KeyHelp: "set CO_API_KEY or COHERE_API_KEY",
		BaseURL: cfg.BaseURL, URLEnv: []string{"CO_API_URL"}, DefaultURL: "https://api.cohere.com",
		BatchSize: cfg.BatchSize, DefaultBatch: MaxBatch, MaxBatch: MaxBatch,
		Concurrency: cfg.Concurrency, RPM: cfg.RPM, MaxAttempts: cfg.MaxAttempts, Timeout: cfg.Timeout,
		HTTPClient: cfg.HTTPClient, Retry: cfg.Retry, Dims: cfg.Dims,
	})
	if err != nil {
		return nil, err
	}
	client := coclient.NewClient(
		option.WithToken(rc.APIKey),
		option.WithBaseURL(rc.BaseURL),
		option.WithHTTPClient(rc.HTTPClient),
		option.WithMaxAttempts(1), // retries are ours, so that limits and errors are uniform
	)
	return &Embedder{model: cfg.Model, fixed: fixed, rc: rc, client: client}, nil
}

// Space returns cohere/<model> with the output dimension.
func (e *Embedder) Space() lmsys.Space { return e.rc.Space(e.model) }

// InputType returns the Cohere input type used for a purpose.
func InputType(p lmsys.Purpose) coapi.EmbedInputType {
	switch p {
	case lmsys.PurposeDocument:
		return coapi.EmbedInputTypeSearchDocument
	case lmsys.PurposeQuery:
		return coapi.EmbedInputTypeSearchQuery
	default:
		return coapi.EmbedInputTypeClustering
	}
}

// Embed returns one unit-length vector per text. Empty texts are rejected (the API
// refuses them); a failure after retries wraps lmsys.ErrProvider and names the HTTP
// status.
func (e *Embedder) Embed(ctx context.Context, texts []string, p lmsys.Purpose) ([][]float32, error) {
	it := InputType(p)
	return e.rc.Embed(ctx, texts, func(ctx context.Context, batch []string) ([][]float32, error) {
		req := &coapi.V2EmbedRequest{
			Model:          e.model,
			Texts:          batch,
			InputType:      it,
			EmbeddingTypes: []coapi.EmbeddingType{coapi.EmbeddingTypeFloat},
		}
		if !e.fixed {
			d := e.rc.Dims
			req.OutputDimension = &d
		}
		resp, err := e.client.V2.Embed(ctx, req)
		if err != nil {
			return nil, remote.DecodeError(err)
		}
		if resp == nil || resp.Embeddings == nil || resp.Embeddings.Float == nil {
			return nil, retry.Permanent(fmt.Errorf("cohere returned no float embeddings"))
		}
		out := make([][]float32, len(resp.Embeddings.Float))
		for i, v := range resp.Embeddings.Float {
			f := make([]float32, len(v))
			for j, x := range v {
				f[j] = float32(x)
			}
			out[i] = f
		}
		return out, nil
	})
}
