package remote

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/internal/retry"
)

// Options is the shared shape of a remote embedder's configuration: the settings every
// provider's Config carries (key, URL, batching, limits, HTTP client, backoff) and the
// provider's defaults for them. A provider's New copies its Config into Options and
// gets back a Client with every default applied and every limit checked.
type Options struct {
	// Provider names the provider in errors, logs and spaces ("cohere").
	Provider string

	// APIKey is the key the caller set; when empty, the first non-empty variable of
	// KeyEnv is used. KeyHelp, when not empty, makes a key required and says how to set
	// one ("set CO_API_KEY or COHERE_API_KEY").
	APIKey  string
	KeyEnv  []string
	KeyHelp string

	// BaseURL is the URL the caller set; when empty, the first non-empty variable of
	// URLEnv, then DefaultURL. A trailing slash is dropped.
	BaseURL    string
	URLEnv     []string
	DefaultURL string

	// BatchSize is the number of texts per request the caller set; 0 means
	// DefaultBatch. MaxBatch, when positive, is the API's limit: a larger BatchSize is
	// an error.
	BatchSize    int
	DefaultBatch int
	MaxBatch     int

	// Concurrency is the number of requests in flight (0: DefaultConcurrency, then
	// remote.DefaultConcurrency).
	Concurrency        int
	DefaultConcurrency int

	// RPM limits requests per minute (0: no limit); MaxAttempts bounds the attempts
	// per request (0: remote.DefaultMaxAttempts).
	RPM         float64
	MaxAttempts int

	// Timeout bounds one attempt (0: DefaultTimeout, then 60 s).
	Timeout        time.Duration
	DefaultTimeout time.Duration

	// HTTPClient is the client requests go through (nil: a new one); Retry supplies
	// backoff details (delays, logger).
	HTTPClient *http.Client
	Retry      retry.Policy

	// Dims is the dimension every returned vector must have (0: any common one).
	Dims int
}

// Client is a resolved remote embedder: the settings after defaults, the HTTP client
// to give the provider's library, and the retry.Caller its batches run through.
type Client struct {
	Provider    string
	APIKey      string
	BaseURL     string
	BatchSize   int
	Concurrency int
	Timeout     time.Duration
	Dims        int
	// HTTPClient is Options.HTTPClient made ready for retries (retry.HTTPClient).
	HTTPClient *http.Client
	Caller     *retry.Caller
}

// NewClient applies the defaults of o and checks its limits. It fails with an error
// wrapping lmsys.ErrInvalidInput when a required key is missing or the batch size is
// above the API's limit.
func NewClient(o Options) (*Client, error) {
	c := &Client{Provider: o.Provider, APIKey: firstSet(o.APIKey, o.KeyEnv), Dims: o.Dims}
	if c.APIKey == "" && o.KeyHelp != "" {
		return nil, fmt.Errorf("%w: %s: no API key: %s", lmsys.ErrInvalidInput, o.Provider, o.KeyHelp)
	}
	c.BaseURL = firstSet(o.BaseURL, o.URLEnv)
	if c.BaseURL == "" {
		c.BaseURL = o.DefaultURL
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	if o.MaxBatch > 0 && o.BatchSize > o.MaxBatch {
		return nil, fmt.Errorf("%w: %s: batch size %d exceeds the API's limit of %d texts", lmsys.ErrInvalidInput, o.Provider, o.BatchSize, o.MaxBatch)
	}
	c.BatchSize = pick(o.BatchSize, o.DefaultBatch, o.MaxBatch)
	c.Concurrency = pick(o.Concurrency, o.DefaultConcurrency, DefaultConcurrency)
	c.Timeout = pick(o.Timeout, o.DefaultTimeout, 60*time.Second)
	c.HTTPClient = retry.HTTPClient(o.HTTPClient)
	c.Caller = NewCaller(o.Provider, o.Retry, Limits{MaxAttempts: o.MaxAttempts, RPM: o.RPM,
		Concurrency: c.Concurrency, Timeout: c.Timeout, APIKey: c.APIKey})
	return c, nil
}

// Embed embeds texts in batches of c.BatchSize, c.Concurrency at a time, each batch
// retried by c.Caller and checked against c.Dims; see Embed.
func (c *Client) Embed(ctx context.Context, texts []string, call CallFunc) ([][]float32, error) {
	return Embed(ctx, c.Caller, texts, c.BatchSize, c.Concurrency, c.Dims, call)
}

// Space returns the embedding space of model under this client's provider and
// dimension.
func (c *Client) Space(model string) lmsys.Space {
	return lmsys.Space{Provider: c.Provider, Model: model, Dims: c.Dims}
}

// firstSet returns v, or else the first non-empty environment variable of env.
func firstSet(v string, env []string) string {
	for _, name := range env {
		if v != "" {
			break
		}
		v = os.Getenv(name)
	}
	return v
}

// pick returns the first positive of its arguments (0 when none is).
func pick[T int | time.Duration](vs ...T) T {
	for _, v := range vs {
		if v > 0 {
			return v
		}
	}
	return 0
}
