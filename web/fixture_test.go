package web

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/local"
	"github.com/lmsys-go/lmsys/search"
	"github.com/lmsys-go/lmsys/semantic"
	"github.com/stretchr/testify/require"
)

// xssText is a query whose text must never reach a page unescaped.
const xssText = `<script>alert(1)</script> please explain what this HTML tag does`

// fixture is an analysed demo set: a run with summaries and a hierarchy, a search
// service over an on-disk index, and the id of the query holding xssText.
type fixture struct {
	ws       *local.Workspace
	svc      *search.Service
	runID    string
	hierID   string
	sumID    string
	xssID    int64
	xssClust int
}

// newFixture analyses the bundled demo set (plus xssText) in a temporary directory.
func newFixture(t testing.TB) *fixture {
	t.Helper()
	f, err := buildFixture(t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { f.ws.Close() })
	return f
}

// shared is a fixture the read-only tests share; nobody edits it.
var shared *fixture

func buildFixture(dir string) (f *fixture, err error) {
	ctx := context.Background()
	ws, err := local.Open(ctx, local.Config{Dir: dir, EmbeddingModel: "local/use-lite"}) // the fixture's clusters were chosen with the float32 pass
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			ws.Close()
		}
	}()
	ds, err := ws.Store.EnsureDataset(ctx, lmsys.Dataset{Name: "demo", Source: "test"})
	if err != nil {
		return nil, err
	}
	ts := time.Date(2026, 9, 1, 12, 0, 0, 0, time.UTC)
	_, err = ws.Store.InsertQueries(ctx, []lmsys.Query{{DatasetID: ds.ID, ConversationID: "xss-1", Text: xssText, Language: "English", Model: "test-model", Timestamp: &ts}})
	if err != nil {
		return nil, err
	}
	st, err := ws.Pipeline(local.Analysis{Source: local.DemoSource(), K: 12, Offline: true, TargetLevels: 3, MergeRatio: 0.4}).Run(ctx, nil)
	if err != nil {
		return nil, err
	}
	idx, err := semantic.OpenIndex(ctx, semantic.IndexOptions{Dir: dir + "/index"})
	if err != nil {
		return nil, err
	}
	f = &fixture{ws: ws, svc: search.New(ws.Store, idx, search.Options{}), runID: st.RunID, hierID: st.HierarchyRunID, sumID: st.SummaryRunID}
	qs, err := ws.Store.ListQueries(ctx, lmsys.QueryFilter{Contains: "<script>alert(1)</script> please"})
	if err != nil {
		return nil, err
	}
	if len(qs) != 1 {
		return nil, fmt.Errorf("want one XSS query, found %d", len(qs))
	}
	f.xssID = qs[0].ID
	as, err := ws.Store.Assignments(ctx, f.runID, nil)
	if err != nil {
		return nil, err
	}
	for _, a := range as {
		if a.QueryID == f.xssID {
			f.xssClust = a.ClusterID
		}
	}
	return f, nil
}

// handler returns the web handler over the fixture.
func (f *fixture) handler(opts Options) http.Handler {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return Handler(Deps{Store: f.ws.Store, Search: f.svc}, opts)
}

// server starts the handler on a loopback test server.
func (f *fixture) server(t testing.TB, opts Options) *httptest.Server {
	srv := httptest.NewServer(f.handler(opts))
	t.Cleanup(srv.Close)
	return srv
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "lmsys-web-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if shared, err = buildFixture(dir); err != nil {
		fmt.Fprintln(os.Stderr, "web tests: build the demo fixture:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	shared.ws.Close()
	os.RemoveAll(dir)
	os.Exit(code)
}
