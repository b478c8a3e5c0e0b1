package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/search"
	"github.com/lmsys-go/lmsys/store"
	"github.com/lmsys-go/lmsys/web"
	"github.com/spf13/cobra"
)

func init() {
	commandRegistrars = append(commandRegistrars, registerServe)
}

// listenHost returns the host of a listen address that clients will name in their
// Host header: a specific name or address, or "" for the unspecified address (every
// interface, which clients reach by names the server cannot know).
func listenHost(addr string) string {
	host, _, err := net.SplitHostPort(addr)
	if err != nil || host == "" {
		return ""
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		return ""
	}
	return host
}

func registerServe(root *cobra.Command, g *globals) {
	var sf searchFlags
	var addr, corsOrigin string
	var readOnly, publicRead bool
	var allowedHosts []string
	var maxQueryChars int
	cmd := &cobra.Command{
		Use:   "serve [--addr 127.0.0.1:8000] [--read-only] [--allowed-host NAME] [--public-read] [--cors-origin URL] [--index-dir DIR]",
		Short: "Serve the REST API (/api, OpenAPI at /api/openapi.json) and the web viewer (/)",
		Long: `Serve the store over HTTP: the JSON API under /api (OpenAPI 3 at /api/openapi.json and /openapi.json,
health at /api/health) and the viewer at /. The API answers the Python tool's routes with its response
shapes, so its viewer and scripts work against this server.
When LMSYS_API_TOKEN is set, write endpoints (POST: clustering, summaries, hierarchy, every curation
edit) need "Authorization: Bearer $LMSYS_API_TOKEN", and so do reads when --addr is not a loopback
address, unless --public-read. Without a token the server only starts read-write on a loopback address.
A request answered without the token is refused (421) unless its Host header names the loopback
(localhost, 127.0.0.1, [::1]), the host of --addr or an --allowed-host name: this stops DNS rebinding.
--read-only disables every write. Clustering, summarising and merging requests run synchronously (the
response is the finished job). CORS is off unless --cors-origin is given. Search texts longer than
--max-query-chars characters answer 422. SIGINT / SIGTERM shut the server down gracefully.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			token := os.Getenv("LMSYS_API_TOKEN")
			if !readOnly && token == "" && !web.IsLoopback(addr) {
				return usagef("refusing to serve writes on non-loopback address %s without a token: set LMSYS_API_TOKEN or pass --read-only", addr)
			}
			sf.background = true
			if maxQueryChars <= 0 {
				return usagef("--max-query-chars must be positive, got %d", maxQueryChars)
			}
			hosts := append([]string(nil), allowedHosts...)
			if h := listenHost(addr); h != "" {
				hosts = append(hosts, h)
			}
			// On loopback only this machine can connect; the Host check keeps pages
			// served through DNS rebinding out of tokenless reads.
			public := publicRead || web.IsLoopback(addr)
			svc, db, dir, _, err := openSearch(cmd, g, &sf)
			if err != nil {
				return err
			}
			logger := slog.Default()
			go prepareNewestIndex(cmd.Context(), db, svc, logger)
			if sf.textIndex {
				go func() {
					start := time.Now()
					if err := svc.WarmTextIndex(cmd.Context()); err != nil && cmd.Context().Err() == nil {
						logger.Warn("in-memory text index not built; full-text searches use the store's index", "error", err)
						return
					}
					logger.Debug("in-memory text index ready", "seconds", time.Since(start).Seconds())
				}()
			}
			h := web.Handler(web.Deps{Store: db, Search: svc}, web.Options{
				Token: token, PublicRead: public, AllowedHosts: hosts, ReadOnly: readOnly,
				CORSOrigin: corsOrigin, MaxQueryChars: maxQueryChars, Logger: logger,
			})
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return fmt.Errorf("listen on %s: %w", addr, err)
			}
			srv := web.NewServer(ln.Addr().String(), h)
			mode := "read-write"
			switch {
			case readOnly && token != "" && !public:
				mode = "read-only, reads need the bearer token"
			case readOnly:
				mode = "read-only"
			case token != "" && !public:
				mode = "read-write, reads and writes need the bearer token"
			case token != "":
				mode = "read-write, writes need the bearer token"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Serving %s on http://%s/ (%s; API at /api, OpenAPI at /api/openapi.json; index %s)\n", db.Where(), ln.Addr(), mode, dir)
			errc := make(chan error, 1)
			go func() { errc <- srv.Serve(ln) }()
			select {
			case err := <-errc:
				return err
			case <-cmd.Context().Done():
			}
			fmt.Fprintln(cmd.ErrOrStderr(), "Shutting down…")
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			if err := srv.Shutdown(ctx); err != nil {
				return fmt.Errorf("shutdown: %w", err)
			}
			if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8000", "address to listen on")
	cmd.Flags().BoolVar(&readOnly, "read-only", false, "refuse every write endpoint")
	cmd.Flags().BoolVar(&sf.textIndex, "text-index", true, "answer full-text and hybrid searches from an in-memory BM25 index, built in the background at start (~1 s and ~25 MB per 100,000 short queries; 9.5 s and 244 MB of heap at 1M); false: the store's full-text index")
	cmd.Flags().StringVar(&corsOrigin, "cors-origin", "", "allow these origins (comma-separated, e.g. http://localhost:3000 for the Python tool's Next.js viewer) to call the API from a browser, with credentials and preflight (CORS off when empty)")
	cmd.Flags().StringSliceVar(&allowedHosts, "allowed-host", nil, "also answer requests without the token whose Host is this name (repeatable or comma-separated; any port; \"*\" turns the check off, only behind a proxy that checks Host)")
	cmd.Flags().BoolVar(&publicRead, "public-read", false, "with LMSYS_API_TOKEN set on a non-loopback address, let reads through without the token (writes still need it)")
	cmd.Flags().IntVar(&maxQueryChars, "max-query-chars", web.DefaultMaxQueryChars, "refuse search texts longer than this many characters (422)")
	addIndexFlags(cmd, &sf)
	root.AddCommand(cmd)
}

// prepareNewestIndex loads (or builds) the vector index of the newest completed run,
// so that its first search answers at once.
func prepareNewestIndex(ctx context.Context, db *store.DB, svc *search.Service, logger *slog.Logger) {
	runs, err := db.ListRuns(ctx)
	if err != nil {
		logger.Warn("vector index not prepared", "error", err)
		return
	}
	for _, r := range runs {
		if r.Status != lmsys.RunCompleted {
			continue
		}
		start := time.Now()
		if err := svc.Prepare(ctx, r.ID); err != nil && ctx.Err() == nil {
			logger.Warn("vector index not prepared; the first search of the run builds it", "run", r.ID, "error", err)
		} else {
			logger.Debug("vector index ready", "run", r.ID, "seconds", time.Since(start).Seconds())
		}
		return
	}
}
