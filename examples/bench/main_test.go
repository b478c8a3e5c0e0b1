package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// run runs one subcommand as `bench -json NAME args…` does and returns its rows.
func run(t *testing.T, name string, args ...string) []map[string]any {
	t.Helper()
	r := &reporter{json: true}
	require.NoError(t, subcommands[name].run(context.Background(), args, r))
	return r.rows
}

// nonEmpty asserts that path is a file with something in it.
func nonEmpty(t *testing.T, path string) {
	t.Helper()
	st, err := os.Stat(path)
	require.NoError(t, err)
	assert.Positive(t, st.Size(), path)
}

func TestLoadBench(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "gen.jsonl")
	rows := run(t, "load", "-gen", "3000", "-random-ids", "-out", in)
	require.Len(t, rows, 1)
	assert.Equal(t, 3000, rows[0]["generated"])

	prof, tr := filepath.Join(dir, "cpu.prof"), filepath.Join(dir, "trace.out")
	rows = run(t, "load", "-in", in, "-batch", "500", "-cpuprofile", prof, "-trace", tr)
	require.Len(t, rows, 1)
	assert.Equal(t, int64(3000), rows[0]["rows"])
	assert.Equal(t, int64(3000), rows[0]["inserted"])
	nonEmpty(t, prof)
	nonEmpty(t, tr)
}

func TestPipelineBench(t *testing.T) {
	dir := t.TempDir()
	prof := filepath.Join(dir, "embed.prof")
	rows := run(t, "pipeline", "-n", "2000", "-k", "8", "-data", filepath.Join(dir, "none"), "-dir", filepath.Join(dir, "work"),
		"-cpuprofile", prof, "-stage-cpuprofile", "embed")
	stages := map[string]bool{}
	for _, r := range rows {
		if s, ok := r["stage"].(string); ok {
			stages[s] = true
			if st, ok := r["status"]; ok {
				assert.Equal(t, "ok", st, s)
			}
		}
	}
	for _, s := range []string{"load", "embed", "cluster", "summarize", "merge", "total"} {
		assert.True(t, stages[s], "stage %s reported", s)
	}
	nonEmpty(t, prof)
	assert.Equal(t, "lmsys", rows[0]["shape"], "the default generator")

	// The earlier generator stays reachable, and an unknown shape is refused.
	rows = run(t, "pipeline", "-n", "300", "-k", "4", "-shape", "recombined", "-data", filepath.Join(dir, "none"), "-dir", filepath.Join(dir, "recombined"))
	assert.Equal(t, "recombined", rows[0]["shape"])
	assert.Equal(t, 300, rows[0]["queries"])
	err := subcommands["pipeline"].run(context.Background(), []string{"-n", "10", "-shape", "zipf", "-dir", filepath.Join(dir, "bad")}, &reporter{json: true})
	assert.ErrorContains(t, err, `-shape "zipf": want lmsys or recombined`)
}

func TestClusterBench(t *testing.T) {
	dir := t.TempDir()
	work := filepath.Join(dir, "work")
	run(t, "pipeline", "-n", "1500", "-k", "6", "-data", filepath.Join(dir, "none"), "-dir", work)
	streamed := run(t, "cluster", "-dir", work, "-k", "6", "-matrix-budget", "-1", "-keep")
	require.Len(t, streamed, 1)
	assert.EqualValues(t, 1500, streamed[0]["queries"])
	id, ok := streamed[0]["run"].(string)
	require.True(t, ok, "%v", streamed)
	rows := run(t, "cluster", "-dir", work, "-k", "6", "-compare", id)
	require.Len(t, rows, 2)
	assert.EqualValues(t, 1500, rows[1]["queries"])
	assert.Greater(t, rows[1]["nmi"], 0.9, "the half-float path finds the streaming path's clusters: %v", rows)
	err := subcommands["cluster"].run(context.Background(), nil, &reporter{json: true})
	assert.ErrorContains(t, err, "-dir is required")
}
