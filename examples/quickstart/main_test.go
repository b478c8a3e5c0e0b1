package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestQuickstart runs the example end to end (with the fast lexical embedder under
// -short) so it never rots.
func TestQuickstart(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "")
	model := "local/use-lite"
	if testing.Short() {
		model = "local/lexical"
	}
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out, t.TempDir(), model, "python list", 12))
	s := out.String()
	assert.Contains(t, s, "Loaded 393 queries")
	assert.Contains(t, s, "Hierarchy hier-kmeans-12-")
	assert.Contains(t, s, "Queries nearest")
}
