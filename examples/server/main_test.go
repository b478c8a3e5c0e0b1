package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestServer(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addrc := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- run(ctx, io.Discard, "127.0.0.1:0", t.TempDir(), "tok", func(a string) { addrc <- a }) }()
	var base string
	select {
	case a := <-addrc:
		base = "http://" + a
	case err := <-done:
		t.Fatalf("server stopped: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("server did not start")
	}
	get := func(path string) (int, string) {
		resp, err := http.Get(base + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, body := get("/healthz")
	require.Equal(t, 200, code, body)
	var health map[string]any
	require.NoError(t, json.Unmarshal([]byte(body), &health))
	runID := health["run_id"].(string)

	code, body = get("/lmsys/api/clustering/runs/" + runID + "/clusters")
	assert.Equal(t, 200, code)
	assert.Contains(t, body, `"num_clusters":20`)
	code, body = get("/lmsys/runs/" + runID)
	assert.Equal(t, 200, code)
	assert.Contains(t, body, `href="/lmsys/static/style.css"`)
	code, body = get("/")
	assert.Equal(t, 200, code, "/ redirects to the viewer")
	assert.Contains(t, body, runID)
	code, _ = get("/lmsys/api/nothing")
	assert.Equal(t, 404, code)

	resp, err := http.Post(base+"/lmsys/api/curation/clusters/0/rename?run_id="+runID, "application/json", strings.NewReader(`{"title":"x"}`))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 401, resp.StatusCode, "writes need the token")

	cancel()
	require.NoError(t, <-done)
}

func TestServerRefusesOpenWrites(t *testing.T) {
	err := run(context.Background(), io.Discard, "0.0.0.0:0", t.TempDir(), "", nil)
	assert.ErrorContains(t, err, "LMSYS_API_TOKEN")
}
