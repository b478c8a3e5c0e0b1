// Package web serves a store over HTTP: a JSON REST API (the seed tool's routes plus
// every curation edit, search, analysis and verify), its OpenAPI 3 document at
// /api/openapi.json, and a server-rendered viewer (html/template, a little vanilla
// JavaScript, assets embedded in the binary).
//
// Handler returns an http.Handler that can be mounted anywhere:
//
//	mux.Handle("/lmsys/", http.StripPrefix("/lmsys", web.Handler(deps, web.Options{Token: token})))
//
// API answers the same read requests inside the process, with the same values, for a
// server of another protocol (package mcpserver); Guard puts another handler behind
// the Host, token and Origin checks of the API's writes.
//
// # Security
//
// When Options.Token is set, every request needs "Authorization: Bearer <token>" (401
// without one, 403 with a wrong one), reads included, unless Options.PublicRead lets
// reads (GET) through without it; writes (POST) always need it. Static assets need no
// token; a wrong token is refused wherever it is sent. With Options.ReadOnly every
// write answers 403 read_only.
//
// A request that may be answered without the token (no token set, or a read under
// PublicRead) is served only when its Host header names this machine's loopback
// (localhost, *.localhost, 127.0.0.0/8, [::1], any port) or a name of
// Options.AllowedHosts; any other Host answers 421 misdirected_host. This stops DNS
// rebinding: a page on an attacker's name that resolves to 127.0.0.1 reaches the
// server with the attacker's name in Host. A write's Origin header, when present, must
// be Options.CORSOrigin or name the same host as Host, and that host must be allowed
// too unless the request carries the token (403 cross_origin otherwise): on a
// rebinding page Host and Origin are both the attacker's name.
//
// Request bodies are limited to Options.MaxBodyBytes (1 MB; 413 beyond), search texts
// to Options.MaxQueryChars characters (4,000; 422 query_too_long beyond). CORS headers
// are sent only to the origins Options.CORSOrigin lists. A handler that panics answers 500
// internal and the panic is logged. The caller owns the http.Server and its timeouts
// (see NewServer).
//
// # Errors
//
// Errors are JSON {"error": {"type", "message"}, "detail": {"error": {"type",
// "message"}}, "code": code}, the two places the Python tool's clients read them, with
// the status of the root sentinel the error wraps: a malformed or out-of-range query
// parameter 422 validation_error, lmsys.ErrNotFound 404 not_found, lmsys.ErrInvalidInput
// and malformed JSON 400 invalid_input, lmsys.ErrSpaceMismatch 400 space_mismatch,
// lmsys.ErrConflict 409 conflict, lmsys.ErrEmpty 422 empty, lmsys.ErrProvider 502
// provider, search.ErrIndexBuilding 503 index_building with Retry-After (a search
// whose run's vector index is still being built, see search.Options.Background);
// anything else is 500 internal, logged but never detailed to the client.
//
// # Long jobs
//
// POST /api/clustering/kmeans, /api/clustering/hdbscan, /api/summaries/ and
// /api/hierarchy/ run synchronously within the request: the response is the finished
// run, and a client that disconnects cancels the job through the request context
// (a cancelled clustering run is recorded as failed). Give such requests a long
// client timeout; the server's WriteTimeout (NewServer) bounds them.
package web

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/curation"
	"github.com/lmsys-go/lmsys/embed"
	"github.com/lmsys-go/lmsys/search"
	"github.com/lmsys-go/lmsys/store"
)

// DefaultMaxBodyBytes is the default request body limit (1 MB).
const DefaultMaxBodyBytes = 1 << 20

// DefaultMaxQueryChars is the default limit on a search text, in characters.
const DefaultMaxQueryChars = 4000

// PageSize is the number of queries per page of a cluster or query listing.
const PageSize = 50

// Deps are what the handler serves.
type Deps struct {
	// Store is the system of record (required).
	Store *store.DB
	// Search answers the search and verify endpoints; nil makes them answer 503.
	Search *search.Service
	// Embedder resolves a "provider/model" string for the clustering endpoints, which
	// embed the queries missing a vector first (default embed.Open).
	Embedder func(model string) (lmsys.Embedder, error)
}

// Options configure the handler.
type Options struct {
	// Token, when set, is the bearer token every request needs: every write, and every
	// read unless PublicRead is set.
	Token string
	// PublicRead lets reads (GET) through without the token when Token is set. Such
	// reads are answered only for an allowed Host (see AllowedHosts).
	PublicRead bool
	// AllowedHosts are the host names (or addresses), besides the loopback ones, that a
	// request answered without the token may carry in its Host header; a port given
	// with a name is ignored. "*" allows every Host: use it only behind a proxy that
	// checks Host itself.
	AllowedHosts []string
	// ReadOnly refuses every write endpoint with 403.
	ReadOnly bool
	// CORSOrigin, when set, lists the origins (comma-separated, e.g. a viewer's dev
	// server http://localhost:3000) whose browsers may call the API: their requests
	// get Access-Control-Allow-Origin with credentials and their preflights an answer.
	// CORS is off otherwise.
	CORSOrigin string
	// MaxBodyBytes limits request bodies (default DefaultMaxBodyBytes).
	MaxBodyBytes int64
	// MaxQueryChars limits the text of a search (the text, q and within_clusters
	// parameters of /api/search/ and /search), in characters (default
	// DefaultMaxQueryChars).
	MaxQueryChars int
	// Editor is recorded on edits whose request names no editor (default "web").
	Editor string
	// Logger receives errors and edit re-index failures (default slog.Default()).
	Logger *slog.Logger
}

// server holds the handler's state.
type server struct {
	deps   Deps
	opts   Options
	cur    *curation.Curator
	mux    *http.ServeMux
	log    *slog.Logger
	routes []string // registered patterns, "METHOD /path"
	views  *views
	// sumCache holds recently read summary runs (see summaries).
	sumCache summaryCache
	// counts holds the assigned queries of finished runs (see runTotal).
	counts countCache
	// labels holds the labelled facets and runs' label counts (see labelCache).
	labels labelCache
	// hosts are Options.AllowedHosts as hostName returns them; anyHost is "*" among them.
	hosts   map[string]bool
	anyHost bool
}

// Handler returns the API, the OpenAPI document and the viewer as one http.Handler.
// It panics when deps.Store is nil (a programming error).
func Handler(deps Deps, opts Options) http.Handler {
	return newServer(deps, opts)
}

func newServer(deps Deps, opts Options) *server {
	if deps.Store == nil {
		panic("web: Deps.Store is nil")
	}
	if deps.Embedder == nil {
		deps.Embedder = func(model string) (lmsys.Embedder, error) { return embed.Open(model) }
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.MaxQueryChars <= 0 {
		opts.MaxQueryChars = DefaultMaxQueryChars
	}
	if opts.Editor == "" {
		opts.Editor = "web"
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	s := &server{deps: deps, opts: opts, mux: http.NewServeMux(), log: opts.Logger}
	s.hosts, s.anyHost = allowedHosts(opts.AllowedHosts)
	s.cur = curation.New(deps.Store, curation.Options{OnChange: func(ctx context.Context, runID string, ids []int) {
		s.sumCache.reset()
		s.counts.reset()
		s.labels.reset()
		if s.deps.Search == nil {
			return
		}
		// The edit is committed; re-indexing must not be cut short by the client leaving.
		ctx = context.WithoutCancel(ctx)
		if err := s.deps.Search.ReindexClusters(ctx, runID, ids); err != nil {
			s.log.Warn("web: re-index edited clusters", "run", runID, "clusters", ids, "err", err)
		}
	}})
	s.views = mustViews()
	s.registerAPI()
	s.registerViewer()
	return s
}

// ServeHTTP recovers from panics, checks the Host header and the token of reads,
// applies CORS, the body limit and the search text limit, then routes.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rw := &recordingWriter{ResponseWriter: w}
	defer s.recoverPanic(rw, r)
	w = rw
	tokenOK := s.opts.Token != "" && s.checkToken(r) == nil
	if s.opts.Token != "" && !tokenOK && r.Header.Get("Authorization") != "" {
		// A wrong token is refused even where none is needed (public reads), so a
		// misconfigured client learns of it at once.
		s.writeError(w, r, s.checkToken(r))
		return
	}
	if !tokenOK && (s.opts.Token == "" || s.opts.PublicRead) && !s.hostAllowed(r.Host) {
		s.writeError(w, r, &httpError{http.StatusMisdirectedRequest, "misdirected_host",
			fmt.Sprintf("this server does not answer for host %q (see --allowed-host)", r.Host)})
		return
	}
	if origin := r.Header.Get("Origin"); origin != "" && s.corsAllowed(origin) {
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Credentials", "true")
		h.Add("Vary", "Origin")
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
			allow := "Authorization, Content-Type"
			if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
				allow = req // any header, as the Python tool allows
			}
			h.Set("Access-Control-Allow-Headers", allow)
			h.Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
	}
	// Writes check the token in their handler (after the read-only and origin checks).
	if r.Method != http.MethodPost && s.opts.Token != "" && !s.opts.PublicRead && !tokenOK && !strings.HasPrefix(r.URL.Path, "/static/") {
		s.writeError(w, r, s.checkToken(r))
		return
	}
	if err := s.checkQueryLength(r); err != nil {
		s.writeError(w, r, err)
		return
	}
	if r.Body != nil {
		r.Body = http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes)
	}
	s.mux.ServeHTTP(w, r)
}

// corsAllowed reports whether origin is one of Options.CORSOrigin (a comma-separated
// list of origins).
func (s *server) corsAllowed(origin string) bool {
	for _, o := range strings.Split(s.opts.CORSOrigin, ",") {
		if o = strings.TrimRight(strings.TrimSpace(o), "/"); o != "" && o == origin {
			return true
		}
	}
	return false
}

// recordingWriter notes whether the response has started, so a panic after the header
// was sent is not answered a second time.
type recordingWriter struct {
	http.ResponseWriter
	started bool
}

func (w *recordingWriter) WriteHeader(status int) {
	w.started = true
	w.ResponseWriter.WriteHeader(status)
}

func (w *recordingWriter) Write(b []byte) (int, error) {
	w.started = true
	return w.ResponseWriter.Write(b)
}

// Unwrap gives http.ResponseController the underlying writer.
func (w *recordingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// recoverPanic answers a panicking request 500 internal (when nothing was sent yet) and
// logs the panic with its stack. http.ErrAbortHandler keeps its meaning: abort quietly.
func (s *server) recoverPanic(w *recordingWriter, r *http.Request) {
	v := recover()
	if v == nil {
		return
	}
	if v == http.ErrAbortHandler {
		panic(v)
	}
	s.log.Error("web: handler panicked", "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
	if w.started {
		// The client has part of an answer: cut the connection rather than append to it.
		panic(http.ErrAbortHandler)
	}
	writeJSON(w, http.StatusInternalServerError, newErrorBody("internal", "internal error (logged on the server)"))
}

// hostName returns the host of a Host header or host[:port] value, lower-case, without
// port, brackets or a trailing dot.
func hostName(hostport string) string {
	h := strings.ToLower(strings.TrimSpace(hostport))
	if host, _, err := net.SplitHostPort(h); err == nil {
		h = host
	}
	h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	return strings.TrimSuffix(h, ".")
}

// isLoopbackName reports whether host (as hostName returns it) names this machine's
// loopback interface: localhost, a name under .localhost, or a loopback address.
func isLoopbackName(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// allowedHosts returns the names of Options.AllowedHosts as hostName returns them,
// and whether "*" is among them.
func allowedHosts(names []string) (map[string]bool, bool) {
	hosts, all := map[string]bool{}, false
	for _, h := range names {
		if h = strings.TrimSpace(h); h == "*" {
			all = true
		} else if h != "" {
			hosts[hostName(h)] = true
		}
	}
	return hosts, all
}

// hostAllowed reports whether a Host header names the loopback or an allowed host.
func (s *server) hostAllowed(hostport string) bool {
	if s.anyHost {
		return true
	}
	h := hostName(hostport)
	return h != "" && (isLoopbackName(h) || s.hosts[h])
}

// checkQueryLength refuses a search whose text is longer than Options.MaxQueryChars.
func (s *server) checkQueryLength(r *http.Request) error {
	if !strings.HasPrefix(r.URL.Path, "/api/search/") && r.URL.Path != "/search" {
		return nil
	}
	q := r.URL.Query()
	for _, name := range []string{"text", "q", "within_clusters"} {
		if n := utf8.RuneCountInString(q.Get(name)); n > s.opts.MaxQueryChars {
			return &httpError{http.StatusUnprocessableEntity, "query_too_long",
				fmt.Sprintf("parameter %s is %d characters long; searches take at most %d (see --max-query-chars)", name, n, s.opts.MaxQueryChars)}
		}
	}
	return nil
}

// apiFunc is an API endpoint: it returns the value to encode or an error.
type apiFunc func(r *http.Request) (any, error)

// get registers a read endpoint.
func (s *server) get(path string, f apiFunc) { s.handle("GET", path, false, f) }

// post registers a write endpoint (auth, read-only).
func (s *server) post(path string, f apiFunc) { s.handle("POST", path, true, f) }

// raw registers a read endpoint that writes its own answer (binary data).
func (s *server) raw(path string, h http.HandlerFunc) {
	s.routes = append(s.routes, "GET "+path)
	s.mux.HandleFunc("GET "+path, h)
}

func (s *server) handle(method, path string, write bool, f apiFunc) {
	pattern := method + " " + path
	s.routes = append(s.routes, pattern)
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if write {
			if err := s.authorize(r); err != nil {
				s.writeError(w, r, err)
				return
			}
		}
		v, err := f(r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		status := http.StatusOK
		if c, ok := v.(created); ok {
			status, v = http.StatusCreated, c.v
		}
		writeJSON(w, status, v)
	})
}

// created marks a result answered with 201.
type created struct{ v any }

// httpError is an error with its own status and code (auth, read-only, bad request).
type httpError struct {
	status int
	code   string
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func badRequest(format string, a ...any) error {
	return fmt.Errorf("%w: %s", lmsys.ErrInvalidInput, fmt.Sprintf(format, a...))
}

// authorize checks a write request against the read-only flag, its origin and the
// token. A browser sends Origin with every cross-site POST; refusing foreign origins
// stops another web page from making a visitor's browser write to a local server
// that runs without a token (a text/plain POST needs no CORS preflight). A page served
// through DNS rebinding has the same origin as the Host it sends, so without the token
// the origin must also be an allowed host.
func (s *server) authorize(r *http.Request) error {
	if s.opts.ReadOnly {
		return &httpError{http.StatusForbidden, "read_only", "the server is read-only: writes are disabled"}
	}
	tokenErr := s.checkToken(r)
	authed := s.opts.Token != "" && tokenErr == nil
	if o := r.Header.Get("Origin"); o != "" && !s.corsAllowed(o) {
		u, err := url.Parse(o)
		if err != nil || u.Host != r.Host || (!authed && !s.hostAllowed(u.Host)) {
			return &httpError{http.StatusForbidden, "cross_origin", fmt.Sprintf("writes from origin %q are refused (see --cors-origin and --allowed-host)", o)}
		}
	}
	return tokenErr
}

func (s *server) checkToken(r *http.Request) error {
	if s.opts.Token == "" {
		return nil
	}
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || tok == "" {
		return &httpError{http.StatusUnauthorized, "unauthorized", "this endpoint needs Authorization: Bearer <token>"}
	}
	if subtle.ConstantTimeCompare([]byte(strings.TrimSpace(tok)), []byte(s.opts.Token)) != 1 {
		return &httpError{http.StatusForbidden, "forbidden", "wrong bearer token"}
	}
	return nil
}

// errorBody is the JSON of every error. It carries the message in both places the
// Python tool's clients read it: error (its validation and value errors) and
// detail.error (its HTTP exceptions: not found …), each {type, message}; code is ours.
type errorBody struct {
	Error  errorDetail `json:"error"`
	Detail struct {
		Error errorDetail `json:"error"`
	} `json:"detail"`
	Code string `json:"code"`
}

// errorDetail is the type and message of an error.
type errorDetail struct {
	Type    string `json:"type"`
	Message string `json:"message"`
}

// errorTypes names error codes as the Python tool's error types do.
var errorTypes = map[string]string{
	"not_found": "NotFound", "validation_error": "ValidationError", "query_too_long": "ValidationError", "invalid_input": "ValueError",
	"internal": "InternalServerError", "method_not_allowed": "MethodNotAllowed", "body_too_large": "PayloadTooLarge", "space_mismatch": "SpaceMismatch",
	"conflict": "Conflict", "empty": "Empty", "provider": "ProviderError", "cancelled": "Cancelled", "unauthorized": "Unauthorized", "forbidden": "Forbidden",
	"read_only": "ReadOnly", "cross_origin": "CrossOrigin", "unavailable": "ServiceUnavailable", "index_building": "ServiceUnavailable",
	"misdirected_host": "MisdirectedRequest",
}

func newErrorBody(code, msg string) errorBody {
	typ := errorTypes[code]
	if typ == "" {
		typ = "Error"
	}
	b := errorBody{Error: errorDetail{Type: typ, Message: msg}, Code: code}
	b.Detail.Error = b.Error
	return b
}

// classify maps an error to its status and code.
func classify(err error) (int, string) {
	var he *httpError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &he):
		return he.status, he.code
	case errors.As(err, &mbe):
		return http.StatusRequestEntityTooLarge, "body_too_large"
	case errors.Is(err, lmsys.ErrNotFound):
		return http.StatusNotFound, "not_found"
	case errors.Is(err, lmsys.ErrInvalidInput):
		return http.StatusBadRequest, "invalid_input"
	case errors.Is(err, lmsys.ErrSpaceMismatch):
		return http.StatusBadRequest, "space_mismatch"
	case errors.Is(err, lmsys.ErrConflict):
		return http.StatusConflict, "conflict"
	case errors.Is(err, lmsys.ErrEmpty):
		return http.StatusUnprocessableEntity, "empty"
	case errors.Is(err, lmsys.ErrProvider):
		return http.StatusBadGateway, "provider"
	case errors.Is(err, search.ErrIndexBuilding):
		return http.StatusServiceUnavailable, "index_building"
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable, "cancelled"
	}
	return http.StatusInternalServerError, "internal"
}

func (s *server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, code := classify(err)
	msg := err.Error()
	if status == http.StatusInternalServerError {
		s.log.Error("web: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		msg = "internal error (logged on the server)"
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="lmsys"`)
	}
	if code == "index_building" {
		w.Header().Set("Retry-After", "5")
	}
	writeJSON(w, status, newErrorBody(code, msg))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	_ = enc.Encode(v)
}

// decode reads a JSON body into v; an empty body leaves v as it is. Unknown fields
// are refused so typos do not pass silently.
func decode(r *http.Request, v any) error {
	if r.Body == nil {
		return nil
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return nil
		}
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		return badRequest("request body is not valid JSON for this endpoint: %v", err)
	}
	if dec.More() {
		return badRequest("request body holds more than one JSON value")
	}
	return nil
}

// pathInt parses an integer path value.
func pathInt(r *http.Request, name string) (int, error) {
	v := r.PathValue(name)
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, validation("path parameter %s=%q is not an integer", name, v)
	}
	return n, nil
}

// pathInt64 parses an int64 path value.
func pathInt64(r *http.Request, name string) (int64, error) {
	v := r.PathValue(name)
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, validation("path parameter %s=%q is not an integer", name, v)
	}
	return n, nil
}

// queryInt parses an optional integer query parameter.
func queryInt(r *http.Request, name string, def int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, validation("query parameter %s=%q is not an integer", name, v)
	}
	return n, nil
}

// queryInts parses an optional comma-separated list of integers.
func queryInts(r *http.Request, name string) ([]int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return nil, nil
	}
	var out []int
	for _, p := range strings.Split(v, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		n, err := strconv.Atoi(p)
		if err != nil {
			return nil, validation("query parameter %s: %q is not an integer", name, p)
		}
		out = append(out, n)
	}
	return out, nil
}

// queryList parses an optional comma-separated list.
func queryList(r *http.Request, name string) []string {
	var out []string
	for _, p := range strings.Split(r.URL.Query().Get(name), ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// summaryRef returns the summary run named by summary_run_id or alias.
func summaryRef(r *http.Request) (string, error) {
	q := r.URL.Query()
	id, alias := q.Get("summary_run_id"), q.Get("alias")
	if id != "" && alias != "" {
		return "", badRequest("give summary_run_id or alias, not both")
	}
	return id + alias, nil
}

// IsLoopback reports whether addr ("host:port") listens only on a loopback interface.
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// NewServer returns an http.Server for h with the timeouts a public server needs:
// 10 s to read headers, 30 s to read a body, 10 minutes to write (long jobs run within
// a request) and 2 minutes idle.
func NewServer(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      10 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
}
