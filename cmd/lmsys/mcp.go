package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/spf13/cobra"

	"github.com/lmsys-go/lmsys/mcpserver"
	"github.com/lmsys-go/lmsys/web"
)

func init() {
	commandRegistrars = append(commandRegistrars, registerMCP)
}

// nopWriteCloser is a writer whose Close does nothing (the command's stdout is not
// its to close).
type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }

func registerMCP(root *cobra.Command, g *globals) {
	var sf searchFlags
	var httpAddr string
	var allowedHosts []string
	var opts mcpserver.Options
	cmd := &cobra.Command{
		Use:   "mcp [--http ADDR] [--allow-writes [--editor NAME]] [--allowed-host NAME] [--max-result-bytes 32768]",
		Short: "Serve the store to MCP hosts (Claude Desktop, Cursor, agents) over stdio or streamable HTTP",
		Long: `Serve the store over the Model Context Protocol: tools for the read and analysis verbs (list_runs,
list_clusters, inspect_cluster, search_queries, search_clusters, list_hierarchies, show_hierarchy, facets,
trends, compare_periods, compare_runs, list_edits, export) and classify, whose LLM classifiers need a model
and a cost cap (max_cost). Runs and hierarchies are resources (lmsys://runs/ID, lmsys://hierarchies/ID).
Results are the HTTP API's JSON, paged, and cut to --max-result-bytes with "truncated": true and the
arguments that continue.

By default the server speaks MCP on stdin and stdout, for a host that starts it as a subprocess;
nothing else is written to stdout. --http ADDR serves the streamable HTTP transport at
http://ADDR/mcp instead, with the rules of serve: when LMSYS_API_TOKEN is set every request needs
"Authorization: Bearer $LMSYS_API_TOKEN"; without a token only a loopback address is served, and a
request is answered only when its Host header names the loopback or an --allowed-host name.

--allow-writes adds the curation tools (move_queries, rename_cluster, merge_clusters, split_cluster,
delete_cluster, tag_cluster, flag_cluster, reassign_orphans, undo_edit); every edit is audited under
--editor. Without it they are not listed and a call is refused.`,
		Example: `  lmsys mcp
  lmsys mcp --http 127.0.0.1:8765
  lmsys mcp --allow-writes --editor agent:triage`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			token := os.Getenv("LMSYS_API_TOKEN")
			if httpAddr != "" && token == "" && !web.IsLoopback(httpAddr) {
				return usagef("refusing to serve MCP on non-loopback address %s without a token: set LMSYS_API_TOKEN", httpAddr)
			}
			if opts.MaxResultBytes < 1024 {
				return usagef("--max-result-bytes must be at least 1024, got %d", opts.MaxResultBytes)
			}
			if opts.MaxQueryChars <= 0 {
				return usagef("--max-query-chars must be positive, got %d", opts.MaxQueryChars)
			}
			if opts.MaxCost < 0 {
				return usagef("--max-cost must not be negative, got %g", opts.MaxCost)
			}
			if opts.Editor == "" {
				return usagef("--editor must not be empty")
			}
			sf.background = true
			svc, db, _, _, err := openSearch(cmd, g, &sf)
			if err != nil {
				return err
			}
			logger := slog.Default()
			// The background index work stops when the server does.
			ctx, cancel := context.WithCancel(cmd.Context())
			defer cancel()
			go prepareNewestIndex(ctx, db, svc, logger)
			if sf.textIndex {
				go func() {
					if err := svc.WarmTextIndex(ctx); err != nil && ctx.Err() == nil {
						logger.Warn("in-memory text index not built; full-text searches use the store's index", "error", err)
					}
				}()
			}
			opts.Logger = logger
			if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
				opts.Version = bi.Main.Version
			}
			srv := mcpserver.New(mcpserver.Deps{Store: db, Search: svc}, opts)
			if httpAddr == "" {
				err := srv.Run(ctx, &mcp.IOTransport{Reader: io.NopCloser(cmd.InOrStdin()), Writer: nopWriteCloser{cmd.OutOrStdout()}})
				if err == nil || errors.Is(err, io.EOF) || ctx.Err() != nil {
					return nil // the host closed the connection, or the command was stopped
				}
				return err
			}
			hosts := append([]string(nil), allowedHosts...)
			if h := listenHost(httpAddr); h != "" {
				hosts = append(hosts, h)
			}
			mux := http.NewServeMux()
			mux.Handle("/mcp", mcpserver.HTTPHandler(srv, mcpserver.HTTPOptions{Token: token, AllowedHosts: hosts, Logger: logger}))
			ln, err := net.Listen("tcp", httpAddr)
			if err != nil {
				return fmt.Errorf("listen on %s: %w", httpAddr, err)
			}
			hs := web.NewServer(ln.Addr().String(), mux)
			// Server-sent event streams stay open: no write deadline.
			hs.WriteTimeout = 0
			mode := "read-only"
			if opts.AllowWrites {
				mode = fmt.Sprintf("curation edits on, audited as %q", opts.Editor)
			}
			if token != "" {
				mode += ", bearer token required"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Serving MCP for %s on http://%s/mcp (%s)\n", db.Where(), ln.Addr(), mode)
			errc := make(chan error, 1)
			go func() { errc <- hs.Serve(ln) }()
			select {
			case err := <-errc:
				return err
			case <-ctx.Done():
			}
			fmt.Fprintln(cmd.ErrOrStderr(), "Shutting down…")
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
				return fmt.Errorf("shutdown: %w", err)
			}
			if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&httpAddr, "http", "", "serve the streamable HTTP transport at http://ADDR/mcp instead of stdio (e.g. 127.0.0.1:8765)")
	f.BoolVar(&opts.AllowWrites, "allow-writes", false, "add the curation tools (every edit audited under --editor)")
	f.StringVar(&opts.Editor, "editor", mcpserver.DefaultEditor, "editor recorded on every edit")
	f.StringSliceVar(&allowedHosts, "allowed-host", nil, "with --http, also answer requests without the token whose Host is this name (repeatable; \"*\" turns the check off, only behind a proxy that checks Host)")
	f.IntVar(&opts.MaxResultBytes, "max-result-bytes", mcpserver.DefaultMaxResultBytes, "cut every result to this many bytes of JSON")
	f.IntVar(&opts.MaxQueryChars, "max-query-chars", web.DefaultMaxQueryChars, "refuse search texts longer than this many characters")
	f.Float64Var(&opts.MaxCost, "max-cost", 0, "the largest max_cost (US dollars) a classify call may give (0: no ceiling beyond the call's own)")
	f.BoolVar(&sf.textIndex, "text-index", false, "answer full-text searches from an in-memory BM25 index built in the background at start (default: the store's full-text index)")
	addIndexFlags(cmd, &sf)
	root.AddCommand(cmd)
}
