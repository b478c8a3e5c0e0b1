package web

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"sync"
	"testing"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/search"
	"github.com/lmsys-go/lmsys/semantic"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSearchWhileIndexBuilds: a semantic search that arrives while the run's vector
// index is still being built answers 503 with Retry-After at once, not after the
// build; once the index is ready it answers 200.
func TestSearchWhileIndexBuilds(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	idx, err := semantic.OpenIndex(ctx, semantic.IndexOptions{Dir: t.TempDir()}) // empty: must be built
	require.NoError(t, err)
	// The build reports its progress from its own goroutine: holding the first report
	// holds the build.
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	svc := search.New(f.ws.Store, idx, search.Options{Background: true, Progress: func(lmsys.Progress) {
		once.Do(func() {
			close(entered)
			<-release
		})
	}})
	f.svc = svc
	srv := f.server(t, Options{})
	get := func() (*http.Response, string) {
		resp, err := http.Get(srv.URL + "/api/search/queries?" + url.Values{"text": {"python list"}, "run_id": {f.runID}, "mode": {"semantic"}}.Encode())
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp, string(b)
	}
	resp, body := get()
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, body)
	assert.Equal(t, "5", resp.Header.Get("Retry-After"))
	assert.Contains(t, body, "index_building")
	assert.Contains(t, body, "is being built")

	<-entered
	close(release)
	require.NoError(t, svc.Prepare(ctx, f.runID))
	resp, body = get()
	assert.Equal(t, http.StatusOK, resp.StatusCode, body)
}
