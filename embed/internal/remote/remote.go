// Package remote is the one shape of the remote embedding providers (embed/cohere,
// embed/openai, embed/ollama): Options and NewClient resolve a provider's
// configuration (API key and base URL from the config or the environment, batch size
// against the API's limit, concurrency, requests per minute, attempts, timeouts) into a
// Client, whose Embed splits texts into batches, runs them concurrently through a
// retry.Caller and checks and normalises what comes back.
//
// A provider is one small file: its Config, a New that fills Options and builds the
// provider's client library on Client.HTTPClient, and an Embed that sends one batch
// through that library. Its test runs remotetest.Conformance against the shared fake
// server with the provider's wire format.
package remote

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/internal/retry"
)

// Defaults shared by the remote providers.
const (
	DefaultConcurrency = 4
	DefaultMaxAttempts = 5
)

// CallFunc embeds one batch. It must make its HTTP requests with ctx.
type CallFunc func(ctx context.Context, batch []string) ([][]float32, error)

// Embed embeds texts in batches of at most batch texts, up to concurrency batches at
// once, each batch retried by c. Every batch must come back with one vector of dims
// floats per text (dims 0 accepts any common length); vectors are L2-normalised in
// place. A malformed answer is an error naming the provider and wrapping
// lmsys.ErrProvider; it is not retried.
func Embed(ctx context.Context, c *retry.Caller, texts []string, batch, concurrency, dims int, call CallFunc) ([][]float32, error) {
	if len(texts) == 0 {
		return [][]float32{}, ctx.Err()
	}
	if batch <= 0 {
		batch = len(texts)
	}
	if concurrency <= 0 {
		concurrency = DefaultConcurrency
	}
	provider := c.Policy().Provider
	for i, t := range texts {
		if t == "" {
			return nil, fmt.Errorf("%w: %s: text %d is empty; remote providers reject empty input", lmsys.ErrInvalidInput, provider, i)
		}
	}
	out := make([][]float32, len(texts))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(concurrency)
	for lo := 0; lo < len(texts); lo += batch {
		hi := min(lo+batch, len(texts))
		g.Go(func() error {
			part := texts[lo:hi]
			return c.Do(gctx, func(actx context.Context) error {
				vecs, err := call(actx, part)
				if err != nil {
					return err
				}
				if err := Check(provider, vecs, len(part), dims); err != nil {
					return retry.Permanent(err)
				}
				copy(out[lo:hi], vecs)
				return nil
			})
		})
	}
	if err := g.Wait(); err != nil {
		// Prefer the caller's own cancellation over a sibling's derived error.
		if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
			return nil, fmt.Errorf("%s: %w", provider, ctx.Err())
		}
		return nil, err
	}
	return out, nil
}

// DecodeError marks an error from decoding a response body (a JSON syntax or type
// error) as permanent with a message that says so; other errors pass unchanged.
func DecodeError(err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	if errors.As(err, &se) || errors.As(err, &te) {
		return retry.Permanent(fmt.Errorf("undecodable response: %w", err))
	}
	return err
}

// Check verifies that vecs holds want vectors of dims finite floats, not all zero
// (dims 0: any one common length, not zero), and normalises each to unit length.
func Check(provider string, vecs [][]float32, want, dims int) error {
	if len(vecs) != want {
		return fmt.Errorf("%s returned %d vectors for %d texts", provider, len(vecs), want)
	}
	if dims == 0 && want > 0 {
		dims = len(vecs[0])
	}
	for i, v := range vecs {
		if len(v) != dims || dims == 0 {
			return fmt.Errorf("%s returned a vector of %d dimensions for text %d, want %d", provider, len(v), i, dims)
		}
		var s float64
		for _, x := range v {
			s += float64(x) * float64(x)
		}
		if math.IsNaN(s) || math.IsInf(s, 0) {
			return fmt.Errorf("%s returned a vector with non-finite values for text %d", provider, i)
		}
		if s == 0 {
			return fmt.Errorf("%s returned an all-zero vector for text %d", provider, i)
		}
		inv := float32(1 / math.Sqrt(s))
		for j := range v {
			v[j] *= inv
		}
	}
	return nil
}

// Limits are the per-provider settings every remote embedder turns into a
// retry.Caller.
type Limits struct {
	MaxAttempts int
	RPM         float64
	Concurrency int
	Timeout     time.Duration
	// APIKey is redacted from every error the caller returns.
	APIKey string
}

// NewCaller returns the retry.Caller of a provider: base supplies the backoff details
// (delays, logger), l the limits.
func NewCaller(provider string, base retry.Policy, l Limits) *retry.Caller {
	base.Provider = provider
	base.MaxAttempts = l.MaxAttempts
	base.RPM = l.RPM
	base.Concurrency = l.Concurrency
	base.AttemptTimeout = l.Timeout
	if l.APIKey != "" {
		base.Secrets = append(base.Secrets, l.APIKey)
	}
	return retry.New(base)
}
