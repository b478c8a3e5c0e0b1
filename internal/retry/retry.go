// Package retry calls remote APIs politely and persistently: it limits requests per
// minute and requests in flight, retries transient failures (HTTP 408, 425, 429, 5xx,
// timeouts, refused or reset connections) with exponential backoff and jitter, honours
// Retry-After, and when it gives up returns an *Error that names the provider and the
// last HTTP status and wraps lmsys.ErrProvider.
//
// Client libraries report HTTP failures in different shapes (cohere-go returns typed
// errors carrying a status code, langchaingo's OpenAI client puts the status in the
// error text, its Ollama client sometimes drops it altogether). Two mechanisms make the
// classification reliable whatever the library:
//
//   - Transport wraps the library's http.RoundTripper and records the status and
//     Retry-After header of every failed response in the attempt's context, so the
//     Caller knows exactly what the server said;
//   - HTTPStatus extracts a status from an error value alone (typed fields, methods
//     or text), for errors that did not pass through a Transport.
//
// API keys listed in Policy.Secrets are redacted from every message the package
// produces, and the package never logs request headers or bodies.
package retry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/lmsys-go/lmsys"
)

// Policy configures a Caller. The zero Policy is valid: 5 attempts, backoff from
// 500 ms doubling up to 30 s, no rate or concurrency limit.
type Policy struct {
	// Provider names the remote service in errors and logs ("cohere", "openai" …).
	Provider string
	// MaxAttempts is the total number of attempts per call, first one included
	// (default 5).
	MaxAttempts int
	// BaseDelay is the backoff before the second attempt; it doubles after each
	// failure (default 500 ms).
	BaseDelay time.Duration
	// MaxDelay caps one wait, including one asked for by Retry-After (default 30 s).
	MaxDelay time.Duration
	// RPM limits the requests started per minute across all calls of the Caller;
	// 0 means no limit.
	RPM float64
	// Concurrency limits the requests in flight across all calls of the Caller;
	// 0 means no limit.
	Concurrency int
	// AttemptTimeout bounds one attempt; 0 means no bound beyond the caller's context.
	// An attempt that times out is retried.
	AttemptTimeout time.Duration
	// Secrets are strings (API keys) replaced by "[REDACTED]" in every error message.
	Secrets []string
	// Logger receives one debug line per retry (provider, attempt, status, wait);
	// nil means slog.Default().
	Logger *slog.Logger
}

// Caller runs operations under one Policy. It is safe for concurrent use; its rate
// and concurrency limits are shared by all its calls.
type Caller struct {
	p       Policy
	limiter *rate.Limiter
	sem     chan struct{}
	sleep   func(ctx context.Context, d time.Duration) error
}

// New returns a Caller for p, filling in defaults for zero fields.
func New(p Policy) *Caller {
	if p.Provider == "" {
		p.Provider = "provider"
	}
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = 5
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = 500 * time.Millisecond
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = 30 * time.Second
	}
	if p.MaxDelay < p.BaseDelay {
		p.MaxDelay = p.BaseDelay
	}
	c := &Caller{p: p, sleep: sleepCtx}
	if p.RPM > 0 {
		c.limiter = rate.NewLimiter(rate.Limit(p.RPM/60), 1)
	}
	if p.Concurrency > 0 {
		c.sem = make(chan struct{}, p.Concurrency)
	}
	return c
}

// Policy returns the Caller's policy with defaults filled in.
func (c *Caller) Policy() Policy { return c.p }

// Do runs op until it succeeds, fails permanently, runs out of attempts or ctx ends.
// op must make its HTTP request with the context it is given (that is how Transport
// reports the response status and Retry-After). When ctx ends, Do returns an error
// wrapping ctx.Err(); any other failure is an *Error wrapping lmsys.ErrProvider.
func (c *Caller) Do(ctx context.Context, op func(ctx context.Context) error) error {
	var last *attempt
	for n := 1; ; n++ {
		a, err := c.try(ctx, op)
		if err == nil {
			return nil
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return fmt.Errorf("%s: %w", c.p.Provider, ctxErr)
		}
		if a == nil { // the rate-limit wait would outlast ctx's deadline
			return fmt.Errorf("%s: %w", c.p.Provider, err)
		}
		last = a
		if !a.retryable || n >= c.p.MaxAttempts {
			return c.fail(last, n)
		}
		wait := c.backoff(n)
		if a.retryAfter > 0 {
			wait = a.retryAfter
		}
		if wait > c.p.MaxDelay {
			wait = c.p.MaxDelay
		}
		c.logger().Debug("retrying remote call", "provider", c.p.Provider, "attempt", n,
			"status", a.status, "wait", wait, "error", redact(a.err.Error(), c.p.Secrets))
		if err := c.sleep(ctx, wait); err != nil {
			return fmt.Errorf("%s: %w", c.p.Provider, err)
		}
	}
}

// attempt records what one try of an operation came to.
type attempt struct {
	err        error
	status     int
	retryAfter time.Duration
	retryable  bool
}

func (c *Caller) try(ctx context.Context, op func(ctx context.Context) error) (*attempt, error) {
	if c.sem != nil {
		select {
		case c.sem <- struct{}{}:
			defer func() { <-c.sem }()
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if c.limiter != nil {
		if err := c.limiter.Wait(ctx); err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			// The wait would outlast ctx's deadline: report the deadline as the cause.
			return nil, fmt.Errorf("rate limit wait: %w", context.DeadlineExceeded)
		}
	}
	obs := &observation{}
	actx := context.WithValue(ctx, obsKey{}, obs)
	cancel := context.CancelFunc(func() {})
	if c.p.AttemptTimeout > 0 {
		actx, cancel = context.WithTimeout(actx, c.p.AttemptTimeout)
	}
	err := op(actx)
	timedOut := actx.Err() != nil && ctx.Err() == nil
	cancel()
	if err == nil {
		return nil, nil
	}
	a := &attempt{err: err}
	a.status, a.retryAfter = obs.get()
	if a.status == 0 {
		a.status = HTTPStatus(err)
	}
	if a.retryAfter == 0 {
		a.retryAfter = RetryAfterOf(err)
	}
	switch {
	case IsPermanent(err):
		a.retryable = false
	case a.status != 0:
		a.retryable = RetryableStatus(a.status)
	case timedOut:
		a.retryable = true
	default:
		a.retryable = Retryable(err)
	}
	return a, err
}

// backoff returns the wait after the n-th failed attempt: BaseDelay·2^(n−1), capped
// by MaxDelay, with "equal jitter" (uniform in [d/2, d]) so that clients that failed
// together do not retry together.
func (c *Caller) backoff(n int) time.Duration {
	d := c.p.BaseDelay
	for i := 1; i < n && d < c.p.MaxDelay; i++ {
		d *= 2
	}
	if d > c.p.MaxDelay {
		d = c.p.MaxDelay
	}
	half := d / 2
	return half + time.Duration(rand.Int64N(int64(d-half)+1))
}

func (c *Caller) fail(a *attempt, n int) error {
	return &Error{
		Provider: c.p.Provider,
		Status:   a.status,
		Attempts: n,
		msg:      redact(a.err.Error(), c.p.Secrets),
		cause:    a.err,
	}
}

func (c *Caller) logger() *slog.Logger {
	if c.p.Logger != nil {
		return c.p.Logger
	}
	return slog.Default()
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Error is what a Caller returns when it gives up on a provider. It wraps
// lmsys.ErrProvider and the last error the operation returned; its message names the
// provider, the HTTP status (when there was one) and the number of attempts, with
// secrets redacted.
type Error struct {
	// Provider is the Policy's provider name.
	Provider string
	// Status is the last HTTP status seen, 0 when the failure was not an HTTP response
	// (connection refused, timeout, undecodable body).
	Status int
	// Attempts is the number of attempts made.
	Attempts int

	msg   string
	cause error
}

// Error returns "provider: HTTP status text after n attempts: last error".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Provider)
	b.WriteString(": ")
	if e.Status != 0 {
		fmt.Fprintf(&b, "HTTP %d", e.Status)
		if t := http.StatusText(e.Status); t != "" {
			b.WriteString(" " + t)
		}
		b.WriteString(" ")
	} else {
		b.WriteString("failed ")
	}
	if e.Attempts == 1 {
		b.WriteString("after 1 attempt")
	} else {
		fmt.Fprintf(&b, "after %d attempts", e.Attempts)
	}
	if e.msg != "" {
		b.WriteString(": ")
		b.WriteString(e.msg)
	}
	return b.String()
}

// Unwrap returns lmsys.ErrProvider and the operation's last error, so both errors.Is
// (err, lmsys.ErrProvider) and errors.As into a client library's error type work.
func (e *Error) Unwrap() []error { return []error{lmsys.ErrProvider, e.cause} }

// permanent marks an error as not worth retrying.
type permanent struct{ err error }

func (p permanent) Error() string { return p.err.Error() }
func (p permanent) Unwrap() error { return p.err }

// Permanent marks err so that a Caller does not retry it (a response that cannot be
// decoded, a wrong number of vectors). It returns nil for nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanent{err}
}

// IsPermanent reports whether err was marked by Permanent.
func IsPermanent(err error) bool {
	var p permanent
	return errors.As(err, &p)
}

// redact replaces every secret (of at least 4 bytes, so that an empty or trivial
// value cannot blank the message) in s.
func redact(s string, secrets []string) string {
	for _, k := range secrets {
		if len(k) >= 4 {
			s = strings.ReplaceAll(s, k, "[REDACTED]")
		}
	}
	return s
}

// Redact replaces each secret in s by "[REDACTED]"; secrets shorter than 4 bytes are
// ignored.
func Redact(s string, secrets ...string) string { return redact(s, secrets) }
