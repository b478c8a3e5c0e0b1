package web

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
)

// Guard wraps h, a handler served instead of or beside the API (the MCP endpoint of
// `lmsys mcp --http`), with the checks Handler makes of a write request. With
// opts.Token set, every request needs "Authorization: Bearer <token>" (401 without
// one, 403 with a wrong one). Without a token, a request is answered only when its
// Host header names the loopback or one of opts.AllowedHosts (421 misdirected_host),
// which stops DNS rebinding. A request with an Origin header must come from
// opts.CORSOrigin or from the host it is sent to, and without the token that host
// must be allowed too (403 cross_origin). Refusals are the API's JSON errors. Of
// opts, Token, AllowedHosts, CORSOrigin and Logger apply. A panic in h is answered
// 500 and logged, as in Handler.
func Guard(h http.Handler, opts Options) http.Handler {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	s := &server{opts: opts, log: opts.Logger}
	s.hosts, s.anyHost = allowedHosts(opts.AllowedHosts)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rw := &recordingWriter{ResponseWriter: w}
		defer s.recoverPanic(rw, r)
		if err := s.checkToken(r); err != nil {
			s.writeError(rw, r, err)
			return
		}
		authed := s.opts.Token != ""
		if !authed && !s.hostAllowed(r.Host) {
			s.writeError(rw, r, &httpError{http.StatusMisdirectedRequest, "misdirected_host",
				fmt.Sprintf("this server does not answer for host %q (see --allowed-host)", r.Host)})
			return
		}
		if o := r.Header.Get("Origin"); o != "" && !s.corsAllowed(o) {
			u, err := url.Parse(o)
			if err != nil || u.Host != r.Host || (!authed && !s.hostAllowed(u.Host)) {
				s.writeError(rw, r, &httpError{http.StatusForbidden, "cross_origin", fmt.Sprintf("requests from origin %q are refused (see --allowed-host)", o)})
				return
			}
		}
		h.ServeHTTP(rw, r)
	})
}
