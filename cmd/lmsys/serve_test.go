package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestServe(t *testing.T) {
	path, _ := tempDB(t, 5)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		var errb strings.Builder
		done <- run(ctx, []string{"--db-path", path, "serve", "--addr", "127.0.0.1:0", "--index-dir", t.TempDir(), "--cors-origin", "https://app.example"}, pw, &errb)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	require.NoError(t, err)
	go io.Copy(io.Discard, pr)
	url := regexp.MustCompile(`http://[0-9.:]+/`).FindString(line)
	require.NotEmpty(t, url, line)

	req, err := http.NewRequest(http.MethodGet, url+"api/status", nil)
	require.NoError(t, err)
	req.Header.Set("Origin", "https://app.example")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode)
	assert.Contains(t, string(b), `"total_queries":5`)
	assert.Equal(t, "https://app.example", resp.Header.Get("Access-Control-Allow-Origin"))
	assert.Equal(t, "true", resp.Header.Get("Access-Control-Allow-Credentials"))
	resp, err = http.Get(url + "api/health")
	require.NoError(t, err)
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Contains(t, string(b), `"service":"lmsys-query-analysis"`)
	resp, err = http.Get(url)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode)

	cancel() // what SIGINT does through main's context
	select {
	case code := <-done:
		assert.Equal(t, 0, code)
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not shut down")
	}
}

func TestServeRefusesOpenWrites(t *testing.T) {
	path, _ := tempDB(t, 1)
	t.Setenv("LMSYS_API_TOKEN", "")
	code, _, stderr := cli(t, "--db-path", path, "serve", "--addr", "0.0.0.0:0")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "LMSYS_API_TOKEN")
}

func TestServeReadOnlyAndToken(t *testing.T) {
	path, _ := tempDB(t, 1)
	t.Setenv("LMSYS_API_TOKEN", "tok")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"--db-path", path, "serve", "--addr", "127.0.0.1:0", "--index-dir", t.TempDir()}, pw, io.Discard)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	require.NoError(t, err)
	go io.Copy(io.Discard, pr)
	assert.Contains(t, line, "writes need the bearer token")
	url := regexp.MustCompile(`http://[0-9.:]+/`).FindString(line)
	resp, err := http.Post(url+"api/clustering/kmeans", "application/json", strings.NewReader(`{}`))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 401, resp.StatusCode)
	cancel()
	assert.Equal(t, 0, <-done)
}
