package main

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// startServe runs `lmsys serve` with args over a fresh database and returns the port
// it listens on and the first line it printed; the server stops when the test ends.
func startServe(t *testing.T, token string, args ...string) (port, banner string) {
	t.Helper()
	path, _ := tempDB(t, 3)
	t.Setenv("LMSYS_API_TOKEN", token)
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"--db-path", path, "serve", "--index-dir", t.TempDir()}, args...), pw, io.Discard)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	require.NoError(t, err, "serve printed no banner")
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	t.Cleanup(func() {
		cancel()
		assert.Equal(t, 0, <-done)
	})
	addr := regexp.MustCompile(`http://([^/]+)/`).FindStringSubmatch(line)
	require.Len(t, addr, 2, line)
	_, port, err = net.SplitHostPort(addr[1])
	require.NoError(t, err)
	return port, line
}

// TestServeHostsAndTokens starts serve the ways its flags allow and sends each the
// requests a DNS-rebinding page, a LAN client and a client with the token would send.
func TestServeHostsAndTokens(t *testing.T) {
	type request struct {
		method, path, host, origin, token string
		status                            int
	}
	const read, write = "/api/status", "/api/curation/clusters/1/rename?run_id=no-such-run"
	cases := []struct {
		name     string
		token    string
		args     []string
		banner   string
		requests []request
	}{
		{"loopback, no token", "", []string{"--addr", "127.0.0.1:0"}, "(read-write;", []request{
			{"GET", read, "127.0.0.1", "", "", 200},
			{"GET", read, "localhost", "", "", 200},
			{"GET", read, "[::1]", "", "", 200},
			{"GET", read, "evil.example", "", "", 421},
			{"POST", write, "evil.example", "http://evil.example", "", 421},
			{"POST", write, "localhost", "http://evil.example", "", 403},
			{"POST", write, "localhost", "http://localhost", "", 404},
		}},
		{"loopback, allowed hosts", "", []string{"--addr", "127.0.0.1:0", "--allowed-host", "lmsys.test,box.lan", "--allowed-host", "other.test"}, "(read-write;", []request{
			{"GET", read, "lmsys.test", "", "", 200},
			{"GET", read, "box.lan", "", "", 200},
			{"GET", read, "other.test", "", "", 200},
			{"GET", read, "evil.example", "", "", 421},
			{"POST", write, "other.test", "http://other.test", "", 404},
		}},
		{"loopback, token: reads open to allowed hosts, writes need it", "tok", []string{"--addr", "127.0.0.1:0"}, "writes need the bearer token", []request{
			{"GET", read, "127.0.0.1", "", "", 200},
			{"GET", read, "evil.example", "", "", 421},
			{"GET", read, "evil.example", "", "tok", 200},
			{"POST", write, "127.0.0.1", "", "", 401},
			{"POST", write, "127.0.0.1", "", "tok", 404},
		}},
		{"every interface, token: reads need it", "tok", []string{"--addr", "0.0.0.0:0"}, "reads and writes need the bearer token", []request{
			{"GET", read, "127.0.0.1", "", "", 401},
			{"GET", "/", "127.0.0.1", "", "", 401},
			{"GET", read, "10.1.2.3", "", "wrong", 403},
			{"GET", read, "10.1.2.3", "", "tok", 200},
			{"GET", "/static/app.js", "10.1.2.3", "", "", 200},
			{"POST", write, "10.1.2.3", "", "", 401},
			{"POST", write, "10.1.2.3", "", "tok", 404},
		}},
		{"every interface, token, public reads", "tok", []string{"--addr", "0.0.0.0:0", "--public-read", "--allowed-host", "lmsys.corp"}, "writes need the bearer token", []request{
			{"GET", read, "lmsys.corp", "", "", 200},
			{"GET", read, "127.0.0.1", "", "", 200},
			{"GET", read, "evil.example", "", "", 421},
			{"POST", write, "lmsys.corp", "http://lmsys.corp", "", 401},
			{"POST", write, "lmsys.corp", "http://lmsys.corp", "tok", 404},
		}},
		{"every interface, read-only, no token", "", []string{"--addr", "0.0.0.0:0", "--read-only", "--allowed-host", "lmsys.corp"}, "(read-only;", []request{
			{"GET", read, "lmsys.corp", "", "", 200},
			{"GET", read, "evil.example", "", "", 421},
			{"POST", write, "lmsys.corp", "", "", 403},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			port, banner := startServe(t, tc.token, tc.args...)
			assert.Contains(t, banner, tc.banner)
			for _, rq := range tc.requests {
				var body io.Reader
				if rq.method == "POST" {
					body = strings.NewReader(`{"title": "x"}`)
				}
				req, err := http.NewRequest(rq.method, "http://127.0.0.1:"+port+rq.path, body)
				require.NoError(t, err)
				req.Host = rq.host + ":" + port
				if rq.origin != "" {
					req.Header.Set("Origin", rq.origin+":"+port)
				}
				if rq.token != "" {
					req.Header.Set("Authorization", "Bearer "+rq.token)
				}
				resp, err := http.DefaultClient.Do(req)
				require.NoError(t, err)
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				assert.Equal(t, rq.status, resp.StatusCode, "%s %s Host=%s Origin=%s token=%q: %s", rq.method, rq.path, rq.host, rq.origin, rq.token, b)
			}
		})
	}
}

// TestServeFlagsRefused checks the serve flags that are usage errors.
func TestServeFlagsRefused(t *testing.T) {
	path, _ := tempDB(t, 1)
	t.Setenv("LMSYS_API_TOKEN", "")
	code, _, stderr := cli(t, "--db-path", path, "serve", "--addr", "127.0.0.1:0", "--max-query-chars", "0")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "--max-query-chars must be positive")
}

func TestListenHost(t *testing.T) {
	for addr, want := range map[string]string{"127.0.0.1:8000": "127.0.0.1", "0.0.0.0:80": "", ":8000": "", "[::]:80": "", "10.0.0.5:80": "10.0.0.5", "box.lan:80": "box.lan", "[fe80::1]:80": "fe80::1"} {
		assert.Equal(t, want, listenHost(addr), addr)
	}
}
