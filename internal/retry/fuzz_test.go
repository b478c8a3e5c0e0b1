package retry

import (
	"errors"
	"testing"
	"time"
)

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"", "0", "3", "1.5", "-1", "1e300", "NaN", "Fri, 27 Nov 2026 05:00:30 GMT", "Friday, 27-Nov-26 05:00:30 GMT", "soon"} {
		f.Add(s)
	}
	now := time.Date(2026, 11, 27, 5, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := ParseRetryAfter(s, now)
		if d < 0 {
			t.Fatalf("negative wait %v for %q", d, s)
		}
		if !ok && d != 0 {
			t.Fatalf("wait %v without ok for %q", d, s)
		}
	})
}

func FuzzStatusFromText(f *testing.F) {
	for _, s := range []string{"", "status code: 429", "500: {}", "HTTP 503", "(404)", "decoded 500 vectors", "Too Many Requests"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		st := StatusFromText(s)
		if st != 0 && (st < 400 || st > 599) {
			t.Fatalf("status %d from %q", st, s)
		}
		// Classification of any message must not panic and agrees with the status.
		if st != 0 && Retryable(errors.New(s)) != RetryableStatus(st) {
			t.Fatalf("Retryable disagrees with status %d for %q", st, s)
		}
	})
}
