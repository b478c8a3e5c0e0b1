package web

import (
	"bytes"
	"context"
	"image/png"
	"net/http"
	"testing"

	"github.com/lmsys-go/lmsys/layout"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRunMapPicture: a run with a stored map shows it on its page, drawn as a PNG; a
// run without one answers 404 saying how to make one.
func TestRunMapPicture(t *testing.T) {
	f := newFixture(t)
	h := f.handler(Options{})
	code, body := call(t, h, http.MethodGet, "/runs/"+f.runID+"/map.png", nil, "")
	assert.Equal(t, http.StatusNotFound, code)
	assert.Contains(t, string(body), "lmsys map "+f.runID)
	code, body = call(t, h, http.MethodGet, "/runs/"+f.runID, nil, "")
	require.Equal(t, http.StatusOK, code)
	assert.NotContains(t, string(body), "map.png")

	_, err := layout.Run(context.Background(), f.ws.Store, f.runID, layout.Options{Seed: 1, Epochs: 30})
	require.NoError(t, err)
	code, body = call(t, h, http.MethodGet, "/runs/"+f.runID, nil, "")
	require.Equal(t, http.StatusOK, code)
	assert.Contains(t, string(body), "/runs/"+f.runID+"/map.png")
	code, body = call(t, h, http.MethodGet, "/runs/"+f.runID+"/map.png", nil, "")
	require.Equal(t, http.StatusOK, code)
	img, err := png.Decode(bytes.NewReader(body))
	require.NoError(t, err)
	assert.Equal(t, 1000, img.Bounds().Dx())
}
