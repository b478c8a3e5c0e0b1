package retry

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// observation holds what Transport saw of the failed responses of one attempt.
type observation struct {
	mu         sync.Mutex
	status     int
	retryAfter time.Duration
}

type obsKey struct{}

func (o *observation) get() (int, time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.status, o.retryAfter
}

// Record tells the Caller running the current attempt (found in ctx) that the server
// answered with status and header; it does nothing outside Caller.Do or for statuses
// below 400. Transport calls it; code that speaks HTTP by hand may call it too.
func Record(ctx context.Context, status int, header http.Header) {
	o, _ := ctx.Value(obsKey{}).(*observation)
	if o == nil || status < 400 {
		return
	}
	ra, _ := retryAfterHeader(header, time.Now())
	o.mu.Lock()
	o.status, o.retryAfter = status, ra
	o.mu.Unlock()
}

// Transport is an http.RoundTripper that reports the status and Retry-After header of
// failed responses to the Caller running the request's attempt (see Record). Give it
// to a client library through its HTTP-client option.
type Transport struct {
	// Base makes the requests; nil means http.DefaultTransport.
	Base http.RoundTripper
}

// RoundTrip sends req through Base and records a failed response's status.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	resp, err := base.RoundTrip(req)
	if err == nil && resp != nil {
		Record(req.Context(), resp.StatusCode, resp.Header)
	}
	return resp, err
}

// HTTPClient returns a copy of base (nil means a zero http.Client) whose transport is
// wrapped in a Transport.
func HTTPClient(base *http.Client) *http.Client {
	c := &http.Client{}
	if base != nil {
		*c = *base
	}
	c.Transport = &Transport{Base: c.Transport}
	return c
}

// retryAfterHeader reads "retry-after-ms" (sent by OpenAI) or "Retry-After".
func retryAfterHeader(h http.Header, now time.Time) (time.Duration, bool) {
	if h == nil {
		return 0, false
	}
	if v := h.Get("Retry-After-Ms"); v != "" {
		if ms, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil && ms >= 0 && ms <= 1e12 {
			return time.Duration(ms * float64(time.Millisecond)), true
		}
	}
	return ParseRetryAfter(h.Get("Retry-After"), now)
}

// ParseRetryAfter parses a Retry-After header value, either delay-seconds ("120",
// fractions accepted) or an HTTP-date, into a wait from now. A date in the past gives
// 0. It reports false for an empty or malformed value.
func ParseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		if !(s >= 0 && s <= 1e9) { // also rejects NaN
			return 0, false
		}
		return time.Duration(s * float64(time.Second)), true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	if d := t.Sub(now); d > 0 {
		return d, true
	}
	return 0, true
}

// RetryAfterOf returns the wait an error asks for through a RetryAfter() time.Duration
// method anywhere in its chain, or 0.
func RetryAfterOf(err error) time.Duration {
	var d time.Duration
	walk(err, func(e error) bool {
		if r, ok := e.(interface{ RetryAfter() time.Duration }); ok && r.RetryAfter() > 0 {
			d = r.RetryAfter()
			return true
		}
		return false
	})
	return d
}

// walk calls fn on err and every error it wraps (depth first) until fn returns true.
func walk(err error, fn func(error) bool) bool {
	for depth := 0; err != nil && depth < 64; depth++ {
		if fn(err) {
			return true
		}
		switch u := err.(type) {
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				if walk(e, fn) {
					return true
				}
			}
			return false
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		default:
			return false
		}
	}
	return false
}

func validStatus(s int) bool { return s >= 100 && s <= 599 }

// statusFromValue finds an HTTP status carried by one error value: a StatusCode() or
// HTTPStatus() method, or an int field named StatusCode (cohere-go's *core.APIError and
// the errors embedding it, langchaingo's ollama StatusError, many generated clients).
func statusFromValue(e error) int {
	switch v := e.(type) {
	case interface{ StatusCode() int }:
		if s := v.StatusCode(); validStatus(s) {
			return s
		}
	case interface{ HTTPStatus() int }:
		if s := v.HTTPStatus(); validStatus(s) {
			return s
		}
	}
	rv := reflect.ValueOf(e)
	for rv.Kind() == reflect.Pointer || rv.Kind() == reflect.Interface {
		if rv.IsNil() {
			return 0
		}
		rv = rv.Elem()
	}
	if rv.Kind() != reflect.Struct {
		return 0
	}
	f, ok := rv.Type().FieldByName("StatusCode")
	if !ok {
		return 0
	}
	fv, err := rv.FieldByIndexErr(f.Index)
	if err != nil {
		return 0
	}
	switch fv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if s := int(fv.Int()); validStatus(s) {
			return s
		}
	}
	return 0
}

var (
	// Status numbers in the phrasings client libraries use: "status code: 429",
	// "status 503", "HTTP 500", "HTTP/1.1 502", "429: {...}" (cohere-go), "(429)".
	statusNumberRE = regexp.MustCompile(`(?i)(?:status(?:[ _]?code)?\s*[:=]?\s*|\bhttp(?:/[0-9.]+)?\s+|^|\()([1-5][0-9]{2})\b(?:\)|:|\s|$)`)
	// Reason phrases without a number.
	statusPhrases = []struct {
		phrase string
		status int
	}{
		{"too many requests", http.StatusTooManyRequests},
		{"rate limit", http.StatusTooManyRequests},
		{"ratelimit", http.StatusTooManyRequests},
		{"internal server error", http.StatusInternalServerError},
		{"bad gateway", http.StatusBadGateway},
		{"service unavailable", http.StatusServiceUnavailable},
		{"gateway timeout", http.StatusGatewayTimeout},
		{"unauthorized", http.StatusUnauthorized},
		{"forbidden", http.StatusForbidden},
	}
)

// StatusFromText extracts an HTTP status from an error message, or returns 0. It
// recognises numbers introduced as a status ("API returned unexpected status code:
// 429", "429: {...}", "HTTP 503") and standard reason phrases ("Too Many Requests",
// "rate limit", "Service Unavailable").
func StatusFromText(msg string) int {
	if m := statusNumberRE.FindStringSubmatch(msg); m != nil {
		if s, err := strconv.Atoi(m[1]); err == nil && s >= 400 {
			return s
		}
	}
	lower := strings.ToLower(msg)
	for _, p := range statusPhrases {
		if strings.Contains(lower, p.phrase) {
			return p.status
		}
	}
	return 0
}

// HTTPStatus returns the HTTP status an error reports, or 0 when it reports none. It
// looks through the whole wrap chain for a status method or StatusCode field first,
// then at the message text (see StatusFromText).
func HTTPStatus(err error) int {
	if err == nil {
		return 0
	}
	status := 0
	walk(err, func(e error) bool {
		status = statusFromValue(e)
		return status != 0
	})
	if status != 0 {
		return status
	}
	return StatusFromText(err.Error())
}

// RetryableStatus reports whether a response with this status is worth retrying:
// 408 Request Timeout, 425 Too Early, 429 Too Many Requests and 5xx except 501 Not
// Implemented and 505 HTTP Version Not Supported.
func RetryableStatus(s int) bool {
	switch {
	case s == http.StatusRequestTimeout, s == http.StatusTooEarly, s == http.StatusTooManyRequests:
		return true
	case s == http.StatusNotImplemented, s == http.StatusHTTPVersionNotSupported:
		return false
	case s >= 500 && s <= 599:
		return true
	}
	return false
}

// transientPhrases are the messages of transport failures after a library has
// flattened the original error into text (langchaingo does, to avoid leaking URLs).
var transientPhrases = []string{
	"timeout", "timed out", "deadline exceeded", "connection refused", "connection reset",
	"broken pipe", "network error", "server closed", "unexpected eof",
	"connection was forcibly closed", "no route to host", "temporarily unavailable",
}

// Retryable reports whether err looks transient: a retryable HTTP status (see
// RetryableStatus), a timeout, a refused, reset or dropped connection. Errors marked
// Permanent, context cancellation and anything unrecognised are not retryable.
func Retryable(err error) bool {
	if err == nil || IsPermanent(err) || errors.Is(err, context.Canceled) {
		return false
	}
	if s := HTTPStatus(err); s != 0 {
		return RetryableStatus(s)
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
		return true
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return true
	}
	lower := strings.ToLower(err.Error())
	for _, p := range transientPhrases {
		if strings.Contains(lower, p) {
			return true
		}
	}
	return false
}
