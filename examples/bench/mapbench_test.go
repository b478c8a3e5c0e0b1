package main

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMapBench(t *testing.T) {
	in := filepath.Join(t.TempDir(), "labelled.jsonl")
	writeLabelled(t, in, 120)
	rows := run(t, "map", "-in", in, "-model", "local/lexical", "-epochs", "50")
	require.Len(t, rows, 1)
	assert.Equal(t, 120, rows[0]["n"], "%v", rows[0])
	agreement, err := strconv.ParseFloat(rows[0]["agreement"].(string), 64)
	require.NoError(t, err)
	assert.Greater(t, agreement, 0.3, "twelve topics of distinct words: far above a random map's 1/12")
}

func TestMapViewBench(t *testing.T) {
	if _, err := os.Stat("/usr/bin/chromium"); err != nil {
		t.Skip("no /usr/bin/chromium (apt-get install -y chromium); .ci/run installs it")
	}
	rows := run(t, "mapview", "-n", "501", "-k", "7", "-frames", "3", "-timeout", "2m")
	stages := map[string]map[string]any{}
	for _, r := range rows {
		if s, ok := r["stage"].(string); ok {
			stages[s] = r
		}
	}
	require.Contains(t, stages, "open", "%v", rows)
	require.Contains(t, stages, "pan", "%v", rows)
	assert.Equal(t, 501, stages["open"]["points"])
	assert.Equal(t, 3, stages["pan"]["frames"])
}
