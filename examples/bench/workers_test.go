package main

import (
	"testing"

	"github.com/lmsys-go/lmsys/internal/testdb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWorkersBench(t *testing.T) {
	url := testdb.PostgresURL(t)
	rows := run(t, "workers", "-db-url", url, "-workers", "1,2", "-n", "300", "-cpu-model", "local/lexical", "-cpu-job-size", "100",
		"-remote-n", "60", "-remote-job-size", "20", "-latency", "1ms")
	require.Len(t, rows, 4)
	assert.Equal(t, []string{"cpu", "remote"}, distinct(rows, "case"))
	for _, row := range rows {
		assert.Equal(t, 3, row["jobs"], "%v", row)
		finite(t, row, "seconds", "queries_per_s", "speedup")
	}
}
