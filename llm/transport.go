package llm

import (
	"net/http"

	"github.com/lmsys-go/lmsys/internal/retry"
)

// wrapHTTPClient returns a copy of h (or of a default client) whose transport records
// statuses and Retry-After headers for internal/retry. Deadlines come from the
// per-attempt context, so the copy has no Timeout.
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
	out.Transport = &retry.Transport{Base: base}
	out.Timeout = 0
	return &out
}
