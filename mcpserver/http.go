package mcpserver

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/lmsys-go/lmsys/web"
)

// HTTPOptions configure HTTPHandler.
type HTTPOptions struct {
	// Token, when set, is the bearer token every request needs.
	Token string
	// AllowedHosts are the Host names, besides the loopback ones, that a request
	// without the token may name (see web.Options.AllowedHosts; "*" turns the check
	// off, only behind a proxy that checks Host).
	AllowedHosts []string
	// SessionTimeout closes a session idle this long (default 30 minutes).
	SessionTimeout time.Duration
	// Logger receives the transport's errors (default slog.Default()).
	Logger *slog.Logger
}

// HTTPHandler returns srv over the MCP streamable HTTP transport, behind the checks
// `lmsys serve` makes of a write (web.Guard): with a token, every request needs
// "Authorization: Bearer <token>" (401, 403); without one, only a request whose Host
// names the loopback or an allowed host is answered (421), so a web page cannot reach
// the server through DNS rebinding; a request with a foreign Origin is refused (403).
// Mount it at one path, such as /mcp.
func HTTPHandler(srv *mcp.Server, o HTTPOptions) http.Handler {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.SessionTimeout <= 0 {
		o.SessionTimeout = 30 * time.Minute
	}
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv }, &mcp.StreamableHTTPOptions{
		Logger: o.Logger, SessionTimeout: o.SessionTimeout,
		// web.Guard checks Host, and also lets through the names of AllowedHosts.
		DisableLocalhostProtection: true,
	})
	return web.Guard(h, web.Options{Token: o.Token, AllowedHosts: o.AllowedHosts, Logger: o.Logger})
}
