package retry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lmsys-go/lmsys/internal/gate"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmsys-go/lmsys"
)

// fakeSleep replaces the Caller's sleep and records the waits it was asked for.
type fakeSleep struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (f *fakeSleep) sleep(ctx context.Context, d time.Duration) error {
	f.mu.Lock()
	f.waits = append(f.waits, d)
	f.mu.Unlock()
	return ctx.Err()
}

func newTestCaller(p Policy) (*Caller, *fakeSleep) {
	c := New(p)
	fs := &fakeSleep{}
	c.sleep = fs.sleep
	return c, fs
}

// get performs one GET through a Transport-wrapped client and fails on status >= 400
// with an error that carries no status, like langchaingo's ollama client does.
func get(ctx context.Context, hc *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 400 {
		return errors.New(string(body))
	}
	return nil
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 27, 5, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"3", 3 * time.Second, true},
		{" 120 ", 120 * time.Second, true},
		{"1.5", 1500 * time.Millisecond, true},
		{"0", 0, true},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
		{"Fri, 27 Nov 2026 05:00:30 GMT", 30 * time.Second, true},
		{"", 0, false},
		{"-5", 0, false},
		{"soon", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := ParseRetryAfter(tt.in, now)
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.want, got)
		})
	}
}

// statusCarrier mimics langchaingo's ollamaclient.StatusError: a value type with a
// StatusCode field and a message that does not mention the status.
type statusCarrier struct {
	Status       string
	ErrorMessage string
	StatusCode   int
}

func (e statusCarrier) Error() string { return e.ErrorMessage }

// embeddedCarrier mimics cohere-go's typed errors, which embed a *core.APIError.
type apiError struct{ StatusCode int }

func (a *apiError) Error() string { return strconv.Itoa(a.StatusCode) }

type embeddedCarrier struct{ *apiError }

func (e *embeddedCarrier) Error() string { return "typed" }

type methodCarrier struct{}

func (methodCarrier) Error() string   { return "m" }
func (methodCarrier) StatusCode() int { return 502 }

func TestHTTPStatus(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, 0},
		{"plain", errors.New("boom"), 0},
		{"field value", statusCarrier{ErrorMessage: "server busy", StatusCode: 503}, 503},
		{"field wrapped", fmt.Errorf("embed: %w", statusCarrier{StatusCode: 429}), 429},
		{"embedded pointer", &embeddedCarrier{&apiError{StatusCode: 500}}, 500},
		{"nil embedded pointer", &embeddedCarrier{}, 0},
		{"method", fmt.Errorf("x: %w", methodCarrier{}), 502},
		{"joined", errors.Join(errors.New("a"), statusCarrier{StatusCode: 504}), 504},
		{"openai text", errors.New("failed to create openai embeddings: API returned unexpected status code: 429: Rate limit reached"), 429},
		{"cohere text", errors.New("500: {\"message\":\"internal\"}"), 500},
		{"http prefix", errors.New("HTTP 503 from gateway"), 503},
		{"phrase", errors.New("Too Many Requests"), 429},
		{"phrase rate limit", errors.New("you hit a rate limit"), 429},
		{"number not a status", errors.New("decoded 500 vectors"), 0},
		{"success status ignored", errors.New("status code: 200"), 0},
		{"timeout text", errors.New("request timeout: API call exceeded deadline"), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, HTTPStatus(tt.err))
		})
	}
}

func TestRetryable(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"429", statusCarrier{StatusCode: 429}, true},
		{"500", statusCarrier{StatusCode: 500}, true},
		{"503 text", errors.New("API returned unexpected status code: 503"), true},
		{"501", statusCarrier{StatusCode: 501}, false},
		{"400", statusCarrier{StatusCode: 400}, false},
		{"401", errors.New("status code: 401: invalid api key"), false},
		{"deadline", fmt.Errorf("x: %w", context.DeadlineExceeded), true},
		{"canceled", fmt.Errorf("x: %w", context.Canceled), false},
		{"unexpected eof", fmt.Errorf("read: %w", io.ErrUnexpectedEOF), true},
		{"net op error", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}, true},
		{"langchaingo timeout text", errors.New("request timeout: network operation exceeded timeout"), true},
		{"langchaingo network text", errors.New("network error: failed to reach API server"), true},
		{"permanent 500", Permanent(statusCarrier{StatusCode: 500}), false},
		{"decode", errors.New("decode response: invalid character 'x'"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, Retryable(tt.err))
		})
	}
}

func TestDoRetryAfterThenSuccess(t *testing.T) {
	tests := []struct {
		name   string
		header func() string
		min    time.Duration
		max    time.Duration
	}{
		{"seconds", func() string { return "7" }, 7 * time.Second, 7 * time.Second},
		{"http date", func() string { return time.Now().Add(20 * time.Second).UTC().Format(http.TimeFormat) }, 15 * time.Second, 20 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var n atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if n.Add(1) == 1 {
					w.Header().Set("Retry-After", tt.header())
					w.WriteHeader(http.StatusTooManyRequests)
					_, _ = w.Write([]byte(`{"error":"slow down"}`))
					return
				}
				_, _ = w.Write([]byte(`ok`))
			}))
			defer srv.Close()
			c, fs := newTestCaller(Policy{Provider: "fake", BaseDelay: time.Millisecond, MaxDelay: time.Minute})
			hc := HTTPClient(srv.Client())
			err := c.Do(context.Background(), func(ctx context.Context) error { return get(ctx, hc, srv.URL) })
			require.NoError(t, err)
			assert.EqualValues(t, 2, n.Load())
			require.Len(t, fs.waits, 1)
			assert.GreaterOrEqual(t, fs.waits[0], tt.min)
			assert.LessOrEqual(t, fs.waits[0], tt.max)
		})
	}
}

func TestDoRetryAfterCappedByMaxDelay(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			w.Header().Set("Retry-After", "3600")
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
	}))
	defer srv.Close()
	c, fs := newTestCaller(Policy{Provider: "fake", MaxDelay: 2 * time.Second})
	hc := HTTPClient(nil)
	require.NoError(t, c.Do(context.Background(), func(ctx context.Context) error { return get(ctx, hc, srv.URL) }))
	assert.Equal(t, []time.Duration{2 * time.Second}, fs.waits)
}

func TestDoGivesUpNamingProviderAndStatus(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		http.Error(w, "upstream exploded", http.StatusInternalServerError)
	}))
	defer srv.Close()
	c, fs := newTestCaller(Policy{Provider: "cohere", MaxAttempts: 4, BaseDelay: 100 * time.Millisecond, MaxDelay: 250 * time.Millisecond})
	hc := HTTPClient(nil)
	err := c.Do(context.Background(), func(ctx context.Context) error { return get(ctx, hc, srv.URL) })
	require.Error(t, err)
	assert.ErrorIs(t, err, lmsys.ErrProvider)
	var pe *Error
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, 500, pe.Status)
	assert.Equal(t, 4, pe.Attempts)
	assert.Contains(t, err.Error(), "cohere: HTTP 500 Internal Server Error after 4 attempts")
	assert.Contains(t, err.Error(), "upstream exploded")
	assert.EqualValues(t, 4, n.Load())
	require.Len(t, fs.waits, 3)
	// Exponential backoff with equal jitter: [50,100], [100,200], [125,250] ms.
	bounds := [][2]time.Duration{{50, 100}, {100, 200}, {125, 250}}
	for i, w := range fs.waits {
		assert.GreaterOrEqual(t, w, bounds[i][0]*time.Millisecond, "wait %d", i)
		assert.LessOrEqual(t, w, bounds[i][1]*time.Millisecond, "wait %d", i)
	}
}

func TestDoDoesNotRetryPermanentFailures(t *testing.T) {
	tests := []struct {
		name   string
		op     func(ctx context.Context) error
		status int
	}{
		{"400", func(ctx context.Context) error { return statusCarrier{StatusCode: 400, ErrorMessage: "bad"} }, 400},
		{"401 text", func(ctx context.Context) error { return errors.New("status code: 401") }, 401},
		{"permanent", func(ctx context.Context) error { return Permanent(errors.New("decode response: garbage")) }, 0},
		{"unknown", func(ctx context.Context) error { return errors.New("model said no") }, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, fs := newTestCaller(Policy{Provider: "p"})
			calls := 0
			err := c.Do(context.Background(), func(ctx context.Context) error { calls++; return tt.op(ctx) })
			assert.ErrorIs(t, err, lmsys.ErrProvider)
			var pe *Error
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, tt.status, pe.Status)
			assert.Equal(t, 1, calls)
			assert.Empty(t, fs.waits)
		})
	}
}

func TestDoRetriesConnectionErrorsAndTimeouts(t *testing.T) {
	// A closed server refuses connections.
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()
	c, _ := newTestCaller(Policy{Provider: "p", MaxAttempts: 3})
	hc := HTTPClient(nil)
	calls := 0
	err := c.Do(context.Background(), func(ctx context.Context) error { calls++; return get(ctx, hc, deadURL) })
	assert.ErrorIs(t, err, lmsys.ErrProvider)
	assert.Equal(t, 3, calls)
	assert.Contains(t, err.Error(), "p: failed after 3 attempts")

	// An attempt that outlasts AttemptTimeout is retried.
	var n atomic.Int32
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
	}))
	defer slow.Close()
	defer close(release)
	c2, _ := newTestCaller(Policy{Provider: "p", AttemptTimeout: 50 * time.Millisecond})
	require.NoError(t, c2.Do(context.Background(), func(ctx context.Context) error { return get(ctx, hc, slow.URL) }))
	assert.EqualValues(t, 2, n.Load())
}

func TestDoCancellation(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	c := New(Policy{Provider: "p", BaseDelay: time.Hour, MaxDelay: time.Hour})
	calls := 0
	failed := make(chan struct{})
	done := make(chan error)
	go func() {
		done <- c.Do(ctx, func(ctx context.Context) error {
			calls++
			if calls == 1 {
				close(failed)
			}
			return statusCarrier{StatusCode: 503}
		})
	}()
	// The first attempt has failed: Do is waiting (an hour) to retry, or about to.
	<-failed
	cancel()
	err := <-done
	assert.ErrorIs(t, err, context.Canceled)
	assert.NotErrorIs(t, err, lmsys.ErrProvider)
	assert.Equal(t, 1, calls)
}

func TestConcurrencyLimit(t *testing.T) {
	c := New(Policy{Provider: "p", Concurrency: 3})
	// The gate fails the test if a fourth call runs while three do, and lets calls
	// through only three at a time: a limiter that ran fewer at once would stall it.
	const calls = 20
	g := gate.New(t, 3, calls)
	var wg sync.WaitGroup
	for i := 0; i < calls; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			assert.NoError(t, c.Do(context.Background(), func(ctx context.Context) error { g.Pass(); return nil }))
		}()
	}
	wg.Wait()
	assert.Equal(t, 3, g.Peak())
}

func TestRPMLimit(t *testing.T) {
	c := New(Policy{Provider: "p", RPM: 1})
	calls := 0
	op := func(ctx context.Context) error { calls++; return nil }
	require.NoError(t, c.Do(context.Background(), op))
	// The next slot is a minute away: a call with a shorter deadline fails at once
	// without reaching the server.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := c.Do(ctx, op)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, 1, calls)
}

func TestSecretsRedacted(t *testing.T) {
	const key = "sk-test-SECRET-0123456789"
	c, _ := newTestCaller(Policy{Provider: "openai", MaxAttempts: 2, Secrets: []string{key, ""}})
	err := c.Do(context.Background(), func(ctx context.Context) error {
		return fmt.Errorf("status code: 500: bad key %s in header", key)
	})
	require.Error(t, err)
	assert.NotContains(t, err.Error(), key)
	assert.Contains(t, err.Error(), "[REDACTED]")
	assert.Equal(t, "a [REDACTED] b", Redact("a "+key+" b", key, "x"))
}

func ExampleCaller_Do() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "maintenance", http.StatusServiceUnavailable)
	}))
	defer srv.Close()

	c := New(Policy{Provider: "example", MaxAttempts: 2, BaseDelay: time.Millisecond, RPM: 6000, Concurrency: 4})
	hc := HTTPClient(srv.Client()) // hand this client to the provider's library
	err := c.Do(context.Background(), func(ctx context.Context) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return errors.New("request failed")
		}
		return nil
	})
	fmt.Println(err)
	fmt.Println(errors.Is(err, lmsys.ErrProvider))
	// Output:
	// example: HTTP 503 Service Unavailable after 2 attempts: request failed
	// true
}
