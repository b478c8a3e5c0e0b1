package summarize

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lmsys-go/lmsys"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func demoClusters() []lmsys.ClusterInput {
	mk := func(id int, qs ...string) lmsys.ClusterInput {
		return lmsys.ClusterInput{ClusterID: id, Size: len(qs) * 10, Queries: qs,
			Languages: map[string]int{"English": len(qs) * 9, "German": len(qs)}, Models: map[string]int{"vicuna-13b": 7, "gpt-4": 3}}
	}
	return []lmsys.ClusterInput{
		mk(0, "How do I sort a list in Python?", "python sort list of dicts by key", "Sort a Python list descending",
			"python list sort vs sorted", "how to sort list of tuples python"),
		mk(1, "Write a poem about the ocean", "write a short poem about love", "poem about autumn leaves",
			"compose a poem about the ocean at night", "a haiku poem about spring"),
		mk(2, "What is the capital of France?", "capital of Australia", "what's the capital city of Canada",
			"capital of Japan?", "Which city is the capital of Brazil"),
		mk(3, "翻译成英文：今天天气很好", "把这段话翻译成英文", "翻译成日文", "请翻译成英文", "中文翻译成英文怎么说"),
		mk(4),
	}
}

func TestOfflineSummarize(t *testing.T) {
	fixed := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	o := &Offline{Now: func() time.Time { return fixed }}
	in := demoClusters()
	got, err := o.Summarize(context.Background(), in)
	require.NoError(t, err)
	require.Len(t, got, len(in))
	for i, s := range got[:4] {
		assert.Equal(t, in[i].ClusterID, s.ClusterID)
		assert.Empty(t, s.Error)
		assert.NotEmpty(t, s.Title)
		assert.LessOrEqual(t, len(strings.Fields(s.Title)), 10)
		assert.Equal(t, OfflineModel, s.Model)
		assert.Equal(t, fixed, s.GeneratedAt)
		assert.Equal(t, in[i].Queries[0], s.RepresentativeQueries[0])
		assert.Contains(t, s.Description, "English (90%) and German (10%)")
		assert.Contains(t, s.Description, "vicuna-13b (70%)")
		assert.True(t, s.Coherence >= 1 && s.Coherence <= 5)
		for _, g := range genericWords {
			assert.NotContains(t, strings.ToLower(s.Title), g)
		}
	}
	assert.Contains(t, strings.ToLower(got[0].Title), "list")
	assert.Contains(t, strings.ToLower(got[0].Title), "python")
	assert.Contains(t, strings.ToLower(got[1].Title), "poem")
	assert.Contains(t, strings.ToLower(got[2].Title), "capital")
	assert.Contains(t, got[3].Title, "翻译")
	assert.NotEmpty(t, got[4].Error)
	assert.Empty(t, got[4].Title)

	again, err := o.Summarize(context.Background(), in)
	require.NoError(t, err)
	assert.Equal(t, got, again, "deterministic")
}

func TestOfflineCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := (&Offline{}).Summarize(ctx, demoClusters())
	assert.ErrorIs(t, err, context.Canceled)
}

func ExampleOffline() {
	o := &Offline{}
	out, _ := o.Summarize(context.Background(), []lmsys.ClusterInput{
		{ClusterID: 0, Queries: []string{"sort a list in python", "python list sort descending", "sort python list of dicts"}},
		{ClusterID: 1, Queries: []string{"write a poem about the sea", "poem about the ocean", "a short poem about love"}},
	})
	for _, s := range out {
		fmt.Println(s.ClusterID, s.Title)
	}
	// Output:
	// 0 Python list
	// 1 Poem about love and ocean
}
