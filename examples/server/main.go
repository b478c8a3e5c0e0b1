// Command server shows the web handler mounted inside a small Go service: it analyses
// the bundled demo set offline in a directory (a temporary one by default), then serves
// the lmsys API and viewer under /lmsys/ next to the service's own /healthz.
//
//	go run ./examples/server                       # http://127.0.0.1:8080/lmsys/
//	LMSYS_API_TOKEN=secret go run ./examples/server -addr :8080 -dir ./demo
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/lmsys-go/lmsys/local"
	"github.com/lmsys-go/lmsys/search"
	"github.com/lmsys-go/lmsys/semantic"
	"github.com/lmsys-go/lmsys/web"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	dir := flag.String("dir", "", "directory for the database and index (default: a temporary one, removed at the end)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Stdout, *addr, *dir, os.Getenv("LMSYS_API_TOKEN"), nil); err != nil {
		fmt.Fprintln(os.Stderr, "server:", err)
		os.Exit(1)
	}
}

// run analyses the demo set in dir and serves it on addr until ctx ends. ready, when
// not nil, receives the address the server listens on.
func run(ctx context.Context, w io.Writer, addr, dir, token string, ready func(addr string)) error {
	if token == "" && !web.IsLoopback(addr) {
		return fmt.Errorf("refusing to serve writes on %s without LMSYS_API_TOKEN", addr)
	}
	if dir == "" {
		tmp, err := os.MkdirTemp("", "lmsys-server-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	ws, err := local.Open(ctx, local.Config{Dir: dir})
	if err != nil {
		return err
	}
	defer ws.Close()
	fmt.Fprintf(w, "Analysing the demo set in %s …\n", dir)
	st, err := ws.Pipeline(local.Analysis{Source: local.DemoSource(), K: 20, Offline: true, TargetLevels: 3, MergeRatio: 0.3}).Run(ctx, nil)
	if err != nil {
		return err
	}
	idx, err := semantic.OpenIndex(ctx, semantic.IndexOptions{Dir: filepath.Join(dir, "index")})
	if err != nil {
		return err
	}
	// A server answers many full-text searches: keep their index in memory.
	svc := search.New(ws.Store, idx, search.Options{TextIndex: true})
	if err := svc.WarmTextIndex(ctx); err != nil {
		return err
	}

	mux := http.NewServeMux()
	mux.Handle("/lmsys/", http.StripPrefix("/lmsys", web.Handler(web.Deps{Store: ws.Store, Search: svc}, web.Options{
		// Like lmsys serve: reads are open on loopback (the Host check keeps DNS
		// rebinding out), and need the token too on any other address.
		Token: token, PublicRead: web.IsLoopback(addr),
	})))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		status := map[string]any{"ok": true, "run_id": st.RunID}
		if _, err := ws.Store.GetRun(r.Context(), st.RunID); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			status = map[string]any{"ok": false, "error": err.Error()}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(status)
	})
	mux.Handle("GET /{$}", http.RedirectHandler("/lmsys/", http.StatusFound))

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := web.NewServer(ln.Addr().String(), mux)
	fmt.Fprintf(w, "Run %s ready: http://%s/lmsys/ (health: /healthz)\n", st.RunID, ln.Addr())
	if ready != nil {
		ready(ln.Addr().String())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
