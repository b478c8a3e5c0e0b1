package llm

import (
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// callInfo is filled in by the transport for one attempt: the HTTP status and the
// Retry-After the server asked for. langchaingo's errors carry neither, so the
// transport reads them from the response before the client library sees it.
type callInfo struct {
	status     int
	retryAfter time.Duration
	timedOut   bool
	emptyReply bool
}

type callInfoKey struct{}

// infoTransport records status and Retry-After of each response in the request's callInfo.
type infoTransport struct{ base http.RoundTripper }

func (t infoTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if resp != nil {
		if info, ok := req.Context().Value(callInfoKey{}).(*callInfo); ok {
			info.status = resp.StatusCode
			info.retryAfter = RetryAfter(resp.Header, time.Now())
		}
	}
	return resp, err
}

// wrapHTTPClient returns a copy of h (or of a default client) whose transport records
// statuses. Deadlines come from the per-attempt context, so the copy has no Timeout.
// Without a transport of the caller's, it keeps up to conns idle connections to the
// provider (the standard transport keeps 2, so a batch of 50 concurrent calls would
// open — and for HTTPS, handshake — new connections all the time).
func wrapHTTPClient(h *http.Client, conns int) *http.Client {
	var out http.Client
	if h != nil {
		out = *h
	}
	base := out.Transport
	if base == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = max(conns, 2)
		t.MaxIdleConns = max(t.MaxIdleConns, conns)
		base = t
	}
	out.Transport = infoTransport{base: base}
	out.Timeout = 0
	return &out
}

// RetryAfter returns how long the response headers ask a client to wait: the
// "retry-after-ms" header (OpenAI), "Retry-After" in seconds or as an HTTP date, or 0.
func RetryAfter(h http.Header, now time.Time) time.Duration {
	if v := strings.TrimSpace(h.Get("Retry-After-Ms")); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms > 0 {
			return time.Duration(ms * float64(time.Millisecond))
		}
	}
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		if s <= 0 {
			return 0
		}
		return time.Duration(s * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

// Backoff returns the wait before retry number attempt+1: base·2^attempt capped at max,
// with "equal jitter" (a random value between half and all of it) so that many
// clients rejected together do not retry together.
func Backoff(attempt int, base, max time.Duration) time.Duration {
	if base <= 0 {
		return 0
	}
	d := base
	for i := 0; i < attempt && d < max; i++ {
		d *= 2
	}
	if max > 0 && d > max {
		d = max
	}
	half := d / 2
	return half + time.Duration(rand.Int64N(int64(half)+1))
}
