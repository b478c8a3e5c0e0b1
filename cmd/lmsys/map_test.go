package main

import (
	"encoding/json"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/lmsys-go/lmsys/dataset/demo"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// analyzedDemo analyses the demo set offline (8 clusters, 2 levels) in a temporary
// directory and returns the directory, the database and the run.
func analyzedDemo(t *testing.T) (dir, db, runID string) {
	t.Helper()
	t.Setenv("OPENAI_API_KEY", "")
	dir = t.TempDir()
	logs := filepath.Join(dir, "logs.jsonl")
	require.NoError(t, os.WriteFile(logs, demo.JSONL(), 0o644))
	db = filepath.Join(dir, "q.db")
	code, out, errOut := cli(t, "--db-path", db, "--json", "analyze", "--source", logs, "--n-clusters", "8", "--target-levels", "2", "--embedding-model", "local/lexical")
	require.Equal(t, 0, code, errOut)
	var a struct {
		RunID string `json:"run_id"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &a))
	return dir, db, a.RunID
}

func TestMapCommand(t *testing.T) {
	dir, db, runID := analyzedDemo(t)

	code, out, errOut := cli(t, "--db-path", db, "--json", "map", runID)
	require.Equal(t, 0, code, errOut)
	var m struct {
		Reused bool `json:"reused"`
		Points []struct {
			QueryID   int64   `json:"query_id"`
			X         float32 `json:"x"`
			Y         float32 `json:"y"`
			ClusterID int     `json:"cluster_id"`
		} `json:"points"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &m))
	assert.False(t, m.Reused)
	assert.Len(t, m.Points, len(demo.Queries()))

	png1 := filepath.Join(dir, "map.png")
	code, out, errOut = cli(t, "--db-path", db, "map", runID, "--output", png1, "--width", "640", "--height", "480")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "reused", "the stored layout is reused")
	bounds, colours := decodePNG(t, png1)
	assert.Equal(t, image.Rect(0, 0, 640, 480), bounds)
	assert.Greater(t, colours, 8, "not blank: a colour per cluster and more")

	svg := filepath.Join(dir, "map.svg")
	code, _, errOut = cli(t, "--db-path", db, "map", runID, "--output", svg, "--level", "1")
	require.Equal(t, 0, code, errOut)
	body, err := os.ReadFile(svg)
	require.NoError(t, err)
	assert.Contains(t, string(body), "<svg")

	byLang := filepath.Join(dir, "languages.svg")
	code, _, errOut = cli(t, "--db-path", db, "map", runID, "--output", byLang, "--color", "language")
	require.Equal(t, 0, code, errOut)
	body, err = os.ReadFile(byLang)
	require.NoError(t, err)
	assert.Contains(t, string(body), "English", "groups are named by their language")

	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"unknown facet", []string{"map", runID, "--color", "nope"}, 2, "not language, model or a classified facet"},
		{"two colourings", []string{"map", runID, "--color", "language", "--level", "1"}, 2, "give one"},
		{"picture type", []string{"map", runID, "--output", filepath.Join(dir, "map.gif")}, 2, ".png or .svg"},
		{"level beyond the hierarchy", []string{"map", runID, "--level", "5"}, 2, "has levels 0 to"},
		{"unknown run", []string{"map", "kmeans-3-20000101-000000"}, 1, "not found"},
		{"no run", []string{"map"}, 2, "accepts 1 arg"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := cli(t, append([]string{"--db-path", db}, tc.args...)...)
			assert.Equal(t, tc.code, code, errOut)
			assert.Contains(t, errOut, tc.want)
		})
	}
}

// decodePNG reads a PNG and counts its non-white colours.
func decodePNG(t *testing.T, path string) (image.Rectangle, int) {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	img, err := png.Decode(f)
	require.NoError(t, err)
	colours := map[[3]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if r>>8 < 250 || g>>8 < 250 || bl>>8 < 250 {
				colours[[3]uint32{r >> 8, g >> 8, bl >> 8}] = true
			}
		}
	}
	return b, len(colours)
}

func TestTrendsAndFacetsPlots(t *testing.T) {
	dir, db, runID := analyzedDemo(t)

	trends := filepath.Join(dir, "trends.png")
	code, _, errOut := cli(t, "--db-path", db, "trends", runID, "--period", "month", "--plot", trends)
	require.Equal(t, 0, code, errOut)
	bounds, colours := decodePNG(t, trends)
	assert.Equal(t, image.Rect(0, 0, 1200, 700), bounds)
	assert.Greater(t, colours, 8, "a line per cluster")

	facets := filepath.Join(dir, "facets.png")
	code, _, errOut = cli(t, "--db-path", db, "facets", runID, "--by", "language,model", "--plot", facets)
	require.Equal(t, 0, code, errOut)
	for _, field := range []string{"language", "model"} {
		_, colours := decodePNG(t, filepath.Join(dir, "facets-"+field+".png"))
		assert.Greater(t, colours, 1, field)
	}
	code, _, errOut = cli(t, "--db-path", db, "facets", runID, "--plot", filepath.Join(dir, "x.jpg"))
	assert.Equal(t, 2, code, errOut)
	assert.Contains(t, errOut, ".png or .svg")
}
