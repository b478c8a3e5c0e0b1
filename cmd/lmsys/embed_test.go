package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmsys-go/lmsys"
)

func TestEmbedCommand(t *testing.T) {
	path, db := tempDB(t, 20)

	code, out, errOut := cli(t, "--db-path", path, "embed", "--embedding-model", "local/lexical", "--embedding-dim", "64")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "local/lexical@64: 20 embedded, 0 cached, 0 failed")

	code, out, errOut = cli(t, "--db-path", path, "embed", "--embedding-model", "local/lexical", "--embedding-dim", "64", "--json")
	require.Equal(t, 0, code, errOut)
	var res map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &res))
	assert.Equal(t, map[string]any{"embedding_space": "local/lexical@64", "embedded": 0.0, "cached": 20.0, "failed": 0.0, "seconds": res["seconds"]}, res)

	missing, err := db.CountMissingEmbeddings(context.Background(), lmsys.Space{Provider: "local", Model: "lexical", Dims: 64}, lmsys.QueryFilter{})
	require.NoError(t, err)
	assert.Zero(t, missing)

	code, _, errOut = cli(t, "--db-path", path, "embed", "--embedding-model", "acme/x")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, `unknown embedding provider "acme"`)

	code, _, errOut = cli(t, "--db-path", path, "embed", "--embedding-model", "local/lexical", "--dataset", "nope")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, `dataset "nope" has no queries`)

	code, _, _ = cli(t, "--db-path", path, "embed", "--rpm", "-1")
	assert.Equal(t, 2, code)
}

func TestEmbedCommandRemote(t *testing.T) {
	var calls int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		var req struct {
			Input []string `json:"input"`
		}
		_ = json.NewDecoder(r.Body).Decode(&req)
		data := make([]map[string]any, len(req.Input))
		for i := range req.Input {
			v := make([]float32, 8)
			v[i%8] = 1
			data[i] = map[string]any{"index": i, "embedding": v}
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"object": "list", "data": data})
	}))
	defer srv.Close()
	t.Setenv("OPENAI_API_KEY", "sk-test")
	path, _ := tempDB(t, 10)
	code, out, errOut := cli(t, "--db-path", path, "embed", "--embedding-model", "openai/gateway-model", "--embedding-dim", "8",
		"--base-url", srv.URL+"/v1", "--embed-batch-size", "4", "--concurrency", "2", "--rpm", "6000", "--json")
	require.Equal(t, 0, code, errOut)
	var res map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &res))
	assert.Equal(t, "openai/gateway-model@8", res["embedding_space"])
	assert.Equal(t, 10.0, res["embedded"])
	assert.Equal(t, 3, calls) // 4 + 4 + 2
}
