package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCustomEmbedder(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out, t.TempDir()))
	assert.Contains(t, out.String(), "in example/trigrams@256; run kmeans-8-")
	assert.Contains(t, out.String(), "has 8 clusters")
}
