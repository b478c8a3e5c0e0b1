package search_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/search"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTextIndexRanksLikeTheStore checks that full-text searches answered from the
// in-memory index return the store's FTS5 results exactly — for all queries, for a
// run, and for a run holding a small part of the matches — and that the index follows
// new queries and a replaced table.
func TestTextIndexRanksLikeTheStore(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	svc := search.New(f.db, f.idx, search.Options{TextIndex: true})

	// A small run: two Python queries only, so most "python" matches lie outside it.
	small := "small-run"
	require.NoError(t, f.db.CreateRun(ctx, lmsys.Run{ID: small, Algorithm: "kmeans", NumClusters: 1, Space: space, Status: lmsys.RunCompleted}))
	require.NoError(t, f.db.SaveAssignments(ctx, []lmsys.Assignment{
		{RunID: small, QueryID: f.members[0][6], ClusterID: 0}, {RunID: small, QueryID: f.members[0][7], ClusterID: 0}}))

	same := func(text, run string, n int) bool {
		t.Helper()
		want, wantScores, err := svc.TextHitsFromStore(ctx, text, run, n)
		require.NoError(t, err)
		got, gotScores, ok, err := svc.TextHitsFromIndex(ctx, text, run, n)
		require.NoError(t, err)
		if !ok {
			return false
		}
		assert.Equal(t, want, got, "%q in run %q, n=%d", text, run, n)
		require.Len(t, gotScores, len(wantScores))
		for i := range wantScores {
			assert.InDelta(t, wantScores[i], gotScores[i], 1e-9, "%q result %d", text, i)
		}
		return true
	}
	require.NoError(t, svc.WarmTextIndex(ctx))
	assert.Equal(t, 24, svc.TextIndexDocs())
	for _, text := range []string{"python", "sql", "recipe", "python list", "how to", "database", "nothingmatches"} {
		for _, n := range []int{1, 3, 50} {
			assert.True(t, same(text, "", n))
			assert.True(t, same(text, runID, n))
		}
	}
	// The small run: the index widens its candidates while the run's two are crowded
	// out, and answers exactly once they are found.
	assert.True(t, same("python", small, 2))
	assert.True(t, same("python list", small, 1))

	// New queries are indexed on the next search.
	ds, err := f.db.EnsureDataset(ctx, lmsys.Dataset{Name: "demo"})
	require.NoError(t, err)
	_, err = f.db.InsertQueries(ctx, []lmsys.Query{{DatasetID: ds.ID, ConversationID: "new-1", Text: "python pandas dataframe merge"}})
	require.NoError(t, err)
	assert.True(t, same("pandas", "", 5))
	assert.Equal(t, 25, svc.TextIndexDocs())

	// A replaced table (cleared and loaded again) is indexed from scratch.
	require.NoError(t, f.db.Clear(ctx))
	ds, err = f.db.EnsureDataset(ctx, lmsys.Dataset{Name: "other"})
	require.NoError(t, err)
	var qs []lmsys.Query
	for i := 0; i < 30; i++ {
		qs = append(qs, lmsys.Query{DatasetID: ds.ID, ConversationID: fmt.Sprint("o", i), Text: fmt.Sprintf("rust borrow checker question %d", i)})
	}
	_, err = f.db.InsertQueries(ctx, qs)
	require.NoError(t, err)
	assert.True(t, same("python", "", 10))
	assert.True(t, same("rust borrow", "", 10))
	assert.Equal(t, 30, svc.TextIndexDocs())

	// Errors match the store's.
	_, err = svc.SearchQueries(ctx, "?!", search.QuerySearchOptions{Mode: search.ModeFullText})
	assert.ErrorIs(t, err, lmsys.ErrInvalidInput)
}

// TestTextIndexAnswersSmallRuns checks that a run holding few of the matches (its hits
// outranked by many others outside it) gets from the index the same results a
// store-only service gives: the index keeps to the run's members as it ranks.
func TestTextIndexAnswersSmallRuns(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	ds, err := f.db.EnsureDataset(ctx, lmsys.Dataset{Name: "demo"})
	require.NoError(t, err)
	var fillers []lmsys.Query
	for i := 0; i < 40; i++ { // short texts: they outrank the run's longer ones
		fillers = append(fillers, lmsys.Query{DatasetID: ds.ID, ConversationID: fmt.Sprint("filler-", i), Text: fmt.Sprint("python ", i)})
	}
	_, err = f.db.InsertQueries(ctx, fillers)
	require.NoError(t, err)
	small := "tiny-run"
	require.NoError(t, f.db.CreateRun(ctx, lmsys.Run{ID: small, Algorithm: "kmeans", NumClusters: 1, Space: space, Status: lmsys.RunCompleted}))
	require.NoError(t, f.db.SaveAssignments(ctx, []lmsys.Assignment{{RunID: small, QueryID: f.members[0][7], ClusterID: 0}}))

	svc := search.New(f.db, f.idx, search.Options{TextIndex: true})
	ids, _, ok, err := svc.TextHitsFromIndex(ctx, "python", small, 1)
	require.NoError(t, err)
	assert.True(t, ok, "the index answers")
	assert.Equal(t, []int64{f.members[0][7]}, ids)

	o := search.QuerySearchOptions{RunID: small, Mode: search.ModeFullText, NResults: 1}
	got, err := svc.SearchQueries(ctx, "python", o)
	require.NoError(t, err)
	want, err := f.svc.SearchQueries(ctx, "python", o)
	require.NoError(t, err)
	assert.Equal(t, want, got)
	require.Len(t, got.Results, 1)
	assert.Equal(t, f.members[0][7], got.Results[0].QueryID)
}
