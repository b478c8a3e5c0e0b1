package summarize

import (
	"context"
	"errors"
	"testing"

	"github.com/lmsys-go/lmsys"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPrepare(t *testing.T) {
	db := newFixture(t)
	ctx := context.Background()
	in, err := Prepare(ctx, db, fixtureRun, lmsys.Space{}, PrepareOptions{ContrastNeighbors: 1, ContrastExamples: 2})
	require.NoError(t, err)
	require.Len(t, in, 5)
	c0 := in[0]
	assert.Equal(t, 0, c0.ClusterID)
	assert.Equal(t, 7, c0.Size, "six texts plus a duplicate")
	assert.Len(t, c0.Queries, 6, "duplicates removed")
	assert.Equal(t, fixtureClusters[0].texts, c0.Queries, "nearest the centroid first")
	assert.Equal(t, map[string]int{"English": 7}, c0.Languages)
	assert.Equal(t, map[string]int{"vicuna-13b": 6, "gpt-4": 1}, c0.Models)
	// The nearest cluster of 0 is 1, whose texts nearest 0's centroid come first.
	require.Len(t, c0.Contrast, 2)
	for _, q := range c0.Contrast {
		assert.Contains(t, fixtureClusters[1].texts, q)
	}
	assert.Contains(t, fixtureClusters[0].texts, in[1].Contrast[0], "and the nearest of 1 is 0")

	// A sample smaller than the cluster is seeded: the same seed gives the same sample.
	a, err := Prepare(ctx, db, fixtureRun, lmsys.Space{}, PrepareOptions{MaxQueries: 3, Seed: 7})
	require.NoError(t, err)
	b, err := Prepare(ctx, db, fixtureRun, lmsys.Space{}, PrepareOptions{MaxQueries: 3, Seed: 7})
	require.NoError(t, err)
	assert.Equal(t, a, b)
	assert.Len(t, a[0].Queries, 3)

	one, err := Prepare(ctx, db, fixtureRun, lmsys.Space{}, PrepareOptions{ClusterIDs: []int{2}})
	require.NoError(t, err)
	require.Len(t, one, 1)
	assert.Equal(t, 2, one[0].ClusterID)
	assert.NotEmpty(t, one[0].Contrast)
}

func TestPrepareErrors(t *testing.T) {
	db := newFixture(t)
	ctx := context.Background()
	_, err := Prepare(ctx, db, "no-such-run", lmsys.Space{}, PrepareOptions{})
	assert.True(t, errors.Is(err, lmsys.ErrNotFound), err)
	_, err = Prepare(ctx, db, fixtureRun, lmsys.Space{}, PrepareOptions{ClusterIDs: []int{99}})
	assert.True(t, errors.Is(err, lmsys.ErrNotFound), err)
	require.NoError(t, db.CreateRun(ctx, lmsys.Run{ID: "empty-run", Algorithm: "kmeans", Space: testSpace, Status: lmsys.RunCompleted}))
	_, err = Prepare(ctx, db, "empty-run", lmsys.Space{}, PrepareOptions{})
	assert.True(t, errors.Is(err, lmsys.ErrEmpty), err)
}
