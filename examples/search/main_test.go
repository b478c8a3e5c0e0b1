package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSearchExample runs the example end to end (with the fast lexical embedder under
// -short) so it never rots.
func TestSearchExample(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "")
	model := "local/use-lite"
	if testing.Short() {
		model = "local/lexical"
	}
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out, t.TempDir(), model, "programming and code", "python error"))
	s := out.String()
	assert.Contains(t, s, "Clusters nearest \"programming and code\":")
	assert.Contains(t, s, "Queries nearest \"python error\" in those clusters (semantic):")
	assert.Contains(t, s, "(hybrid):")
	assert.Contains(t, s, "Index in sync with the store: true (393 query vectors")
}
