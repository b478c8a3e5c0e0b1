package main

import (
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
