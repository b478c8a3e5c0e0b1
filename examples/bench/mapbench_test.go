package main

import (
	"context"
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

	// -vectors writes the embeddings once, and a second run reads them back instead of
	// embedding: the same vectors give the same map.
	cache := filepath.Join(t.TempDir(), "v.npy")
	first := run(t, "map", "-in", in, "-model", "local/lexical", "-epochs", "50", "-vectors", cache)
	_, err = os.Stat(cache)
	require.NoError(t, err)
	second := run(t, "map", "-in", in, "-model", "local/lexical", "-epochs", "50", "-vectors", cache)
	assert.Equal(t, "0.00", second[0]["embed_s"], "read from the file")
	assert.Equal(t, first[0]["agreement"], second[0]["agreement"])
	assert.Equal(t, rows[0]["agreement"], second[0]["agreement"])
	writeLabelled(t, in, 60)
	err = subcommands["map"].run(context.Background(), []string{"-in", in, "-model", "local/lexical", "-vectors", cache}, &reporter{json: true})
	require.ErrorContains(t, err, "remove it to embed again", "a file of another set's vectors is refused")
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
