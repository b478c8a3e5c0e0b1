package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestClassifyLLMBench(t *testing.T) {
	rows := run(t, "classify-llm", "-n", "30", "-latency", "0s", "-concurrency", "4", "-dir", t.TempDir())
	require.Len(t, rows, 1)
	row := rows[0]
	assert.Equal(t, int64(30), row["classified"])
	assert.Equal(t, int64(30), row["calls"])
	assert.Equal(t, 30, row["fake_calls"])
	assert.Equal(t, int64(30), row["est_calls"])
	assert.Equal(t, int64(30), row["rerun_skipped"], "the re-run skips every labelled conversation")
	assert.Greater(t, row["cost_usd"], 0.0)
}
