package lmsys_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lmsys-go/lmsys"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseSpace(t *testing.T) {
	tests := []struct {
		in      string
		want    lmsys.Space
		wantErr bool
	}{
		{"local/use-lite@512", lmsys.Space{Provider: "local", Model: "use-lite", Dims: 512}, false},
		{"ollama/library/nomic@768", lmsys.Space{Provider: "ollama", Model: "library/nomic", Dims: 768}, false},
		{"local/use-lite", lmsys.Space{}, true},
		{"use-lite@512", lmsys.Space{}, true},
		{"local/use-lite@0", lmsys.Space{}, true},
		{"local/use-lite@x", lmsys.Space{}, true},
	}
	for _, tc := range tests {
		got, err := lmsys.ParseSpace(tc.in)
		if tc.wantErr {
			assert.ErrorIs(t, err, lmsys.ErrInvalidInput, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, got)
		assert.Equal(t, tc.in, got.String())
	}
}

func TestPartitionK(t *testing.T) {
	assert.Equal(t, 3, lmsys.Partition{Labels: []int{0, 2, -1}}.K())
	assert.Equal(t, 4, lmsys.Partition{Labels: []int{0}, Centroids: make([][]float32, 4)}.K())
	assert.Equal(t, 0, lmsys.Partition{Labels: []int{-1, -1}}.K())
}

func TestPipelineStopsAtFirstError(t *testing.T) {
	boom := errors.New("boom")
	ran := 0
	p := &lmsys.Pipeline{Stages: []lmsys.Stage{
		lmsys.StageFunc{StageName: "a", Fn: func(context.Context, *lmsys.State) error { ran++; return boom }},
		lmsys.StageFunc{StageName: "b", Fn: func(context.Context, *lmsys.State) error { ran++; return nil }},
	}}
	_, err := p.Run(context.Background(), nil)
	assert.ErrorIs(t, err, boom)
	assert.Contains(t, err.Error(), "a: boom")
	assert.Equal(t, 1, ran)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = p.Run(ctx, nil)
	assert.ErrorIs(t, err, context.Canceled)
}

func TestTextHashStable(t *testing.T) {
	assert.Equal(t, lmsys.TextHash("hi"), lmsys.TextHash("hi"))
	assert.NotEqual(t, lmsys.TextHash("hi"), lmsys.TextHash("hi "))
	assert.Len(t, lmsys.TextHash(""), 32)
}

// TestTextHashValueAndCopies: the hash is SHA-256's first 16 bytes in hex, and a
// long text is hashed without a copy (the hex string is the one allocation).
func TestTextHashValueAndCopies(t *testing.T) {
	assert.Equal(t, "8f434346648f6b96df89dda901c5176b", lmsys.TextHash("hi"))
	long := strings.Repeat("a long query text ", 500)
	assert.LessOrEqual(t, testing.AllocsPerRun(20, func() { _ = lmsys.TextHash(long) }), 1.0)
}

func TestProgressFuncNil(t *testing.T) {
	var f lmsys.ProgressFunc
	f.Report("x", 1, 2) // must not panic
	var got lmsys.Progress
	f = func(p lmsys.Progress) { got = p }
	f.Report("embed", 3, 10)
	assert.Equal(t, lmsys.Progress{Stage: "embed", Done: 3, Total: 10}, got)
}

// FuzzListItems checks that a list label splits into distinct, non-empty items that
// each match the label, and that joining the items of a well-formed label gives it
// back.
func FuzzListItems(f *testing.F) {
	for _, s := range []string{"English, French", "French", "", "a, a, b", "a,b", ", ,", "50%_off, a_b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, label string) {
		items := lmsys.ListItems(label)
		seen := map[string]bool{}
		for _, it := range items {
			require.NotEmpty(t, it)
			require.NotContains(t, it, lmsys.ListSeparator)
			require.False(t, seen[it], "item %q twice", it)
			seen[it] = true
			if !strings.Contains(it, ",") {
				require.True(t, lmsys.LabelMatches(label, it, true), "%q holds %q", label, it)
			}
		}
		joined := strings.Join(items, lmsys.ListSeparator)
		require.Equal(t, items, lmsys.ListItems(joined))
	})
}

func TestClusterMetadataJSONLeavesOutAnUnsetEditTime(t *testing.T) {
	b, err := json.Marshal(lmsys.ClusterMetadata{RunID: "r", ClusterID: 1})
	require.NoError(t, err)
	assert.NotContains(t, string(b), "last_edited", "a cluster never annotated has no edit time, not year 1")
	b, err = json.Marshal(lmsys.ClusterMetadata{RunID: "r", ClusterID: 1, UpdatedAt: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)})
	require.NoError(t, err)
	assert.Contains(t, string(b), `"last_edited":"2026-12-01T00:00:00Z"`)
}
