package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/lmsys-go/lmsys/dataset/demo"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAnalyzeResumes(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "")
	dir := t.TempDir()
	logs := filepath.Join(dir, "logs.jsonl")
	require.NoError(t, os.WriteFile(logs, demo.JSONL(), 0o644))
	db := filepath.Join(dir, "q.db")
	args := []string{"--db-path", db, "analyze", "--source", logs, "--n-clusters", "10", "--target-levels", "2", "--embedding-model", "local/lexical"}
	code, out, errOut := cli(t, args...)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "Top-level categories")
	assert.Contains(t, out, "lmsys show-hierarchy hier-kmeans-10-")
	assert.Contains(t, errOut, "✓ merge")

	code, out, errOut = cli(t, append(args, "--json")...)
	require.Equal(t, 0, code, errOut)
	var r struct {
		Stages   map[string]string `json:"stages"`
		TopLevel []map[string]any  `json:"top_level"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &r))
	assert.Contains(t, r.Stages["load"], "0 new queries")
	assert.Contains(t, r.Stages["cluster"], "reused run")
	assert.NotEmpty(t, r.TopLevel)

	code, _, _ = cli(t, "--db-path", db, "analyze", "--source", logs, "--hf-dataset", "x/y")
	assert.Equal(t, 2, code)
	code, _, errOut = cli(t, "--db-path", db, "analyze", "--source", filepath.Join(dir, "missing.jsonl"))
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "missing.jsonl")
}
