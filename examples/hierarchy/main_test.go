package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHierarchyExample(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "")
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out, t.TempDir(), "local/lexical", "", 12, 3))
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	assert.Contains(t, lines[0], "hier-kmeans-12-")
	assert.Contains(t, lines[0], "393 queries")
	indented := 0
	for _, l := range lines[1:] {
		if strings.HasPrefix(l, "    ") {
			indented++
		}
	}
	assert.Equal(t, 12, indented, "every leaf appears once, two levels down")
}
