package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/dataset/demo"
	"github.com/lmsys-go/lmsys/store"
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

// TestAnalyzeNoticesChange: rows appended to the dataset are clustered by a new run,
// and a changed hierarchy setting builds a new hierarchy; the report says why. The
// same command with nothing changed reuses everything.
func TestAnalyzeNoticesChange(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "")
	dir := t.TempDir()
	lines := strings.SplitAfter(strings.TrimSpace(string(demo.JSONL())), "\n")
	first := filepath.Join(dir, "first.jsonl")
	require.NoError(t, os.WriteFile(first, []byte(strings.Join(lines[:200], "")), 0o644))
	all := filepath.Join(dir, "all.jsonl")
	require.NoError(t, os.WriteFile(all, demo.JSONL(), 0o644))
	db := filepath.Join(dir, "q.db")
	analyze := func(source string, extra ...string) map[string]string {
		t.Helper()
		args := append([]string{"--db-path", db, "--json", "analyze", "--source", source, "--dataset-name", "logs",
			"--n-clusters", "10", "--embedding-model", "local/lexical"}, extra...)
		code, out, errOut := cli(t, args...)
		require.Equal(t, 0, code, errOut)
		var r struct {
			RunID       string            `json:"run_id"`
			HierarchyID string            `json:"hierarchy_run_id"`
			Stages      map[string]string `json:"stages"`
		}
		require.NoError(t, json.Unmarshal([]byte(out), &r))
		r.Stages["run_id"], r.Stages["hierarchy_run_id"] = r.RunID, r.HierarchyID
		return r.Stages
	}
	one := analyze(first, "--target-levels", "2")
	assert.Contains(t, one["cluster"], "over 200 queries")

	two := analyze(all, "--target-levels", "2")
	assert.NotEqual(t, one["run_id"], two["run_id"], "appended rows are clustered")
	assert.Contains(t, two["cluster"], "over 393 queries")
	assert.Contains(t, two["cluster"], "the dataset has 393 queries, run "+one["run_id"]+" covered 200")

	three := analyze(all, "--target-levels", "3")
	assert.Equal(t, two["run_id"], three["run_id"])
	assert.Contains(t, three["cluster"], "reused run")
	assert.NotEqual(t, two["hierarchy_run_id"], three["hierarchy_run_id"], "--target-levels 3 builds a new hierarchy")
	assert.Contains(t, three["merge"], "was built with other settings (levels 2")
	ctx := context.Background()
	st, err := store.Open(ctx, store.Config{Path: db})
	require.NoError(t, err)
	nodes, err := st.Hierarchy(ctx, three["hierarchy_run_id"])
	require.NoError(t, err)
	levels := 0
	for _, n := range nodes {
		levels = max(levels, n.Level+1)
	}
	assert.Equal(t, 3, levels)
	n, err := st.CountQueries(ctx, lmsys.QueryFilter{RunID: three["run_id"]})
	require.NoError(t, err)
	assert.Equal(t, int64(393), n, "the run covers every query of the dataset")
	require.NoError(t, st.Close())

	four := analyze(all, "--target-levels", "3")
	assert.Equal(t, three["run_id"], four["run_id"])
	assert.Equal(t, three["hierarchy_run_id"], four["hierarchy_run_id"])
	assert.Contains(t, four["merge"], "reused hierarchy")
	assert.Contains(t, four["summarize"], "10 already done")
}
