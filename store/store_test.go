package store_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/internal/testdb"
	"github.com/lmsys-go/lmsys/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func ptr[T any](v T) *T { return &v }

// seed loads n queries into dataset "ds" and returns their ids.
func seed(t *testing.T, db *store.DB, n int) (lmsys.Dataset, []int64) {
	t.Helper()
	ctx := context.Background()
	ds, err := db.EnsureDataset(ctx, lmsys.Dataset{Name: "ds", Source: "test"})
	require.NoError(t, err)
	qs := make([]lmsys.Query, n)
	langs := []string{"English", "Spanish", "German"}
	for i := range qs {
		ts := time.Date(2026, 9, 1+i%28, 12, 0, 0, 0, time.UTC)
		qs[i] = lmsys.Query{DatasetID: ds.ID, ConversationID: fmt.Sprintf("c%04d", i), Model: fmt.Sprintf("m%d", i%2),
			Text: fmt.Sprintf("query number %d about topic %d", i, i%5), Language: langs[i%3], Timestamp: &ts,
			Metadata: map[string]any{"turn": float64(1 + i%3)}}
	}
	inserted, err := db.InsertQueries(ctx, qs)
	require.NoError(t, err)
	require.Equal(t, n, inserted)
	all, err := db.ListQueries(ctx, lmsys.QueryFilter{})
	require.NoError(t, err)
	ids := make([]int64, len(all))
	for i, q := range all {
		ids[i] = q.ID
	}
	return ds, ids
}

func TestQueries(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ds, ids := seed(t, db, 1234)
		require.Len(t, ids, 1234)

		// Re-inserting the same conversations inserts nothing.
		again, err := db.ListQueries(ctx, lmsys.QueryFilter{Limit: 700})
		require.NoError(t, err)
		n, err := db.InsertQueries(ctx, again)
		require.NoError(t, err)
		assert.Equal(t, 0, n)

		q, err := db.GetQuery(ctx, ids[7])
		require.NoError(t, err)
		assert.Equal(t, "c0007", q.ConversationID)
		assert.Equal(t, "query number 7 about topic 2", q.Text)
		assert.Equal(t, "Spanish", q.Language)
		assert.Equal(t, ds.ID, q.DatasetID)
		require.NotNil(t, q.Timestamp)
		assert.True(t, q.Timestamp.Equal(time.Date(2026, 9, 8, 12, 0, 0, 0, time.UTC)), "timestamp %v", q.Timestamp)
		assert.Equal(t, map[string]any{"turn": float64(2)}, q.Metadata)

		_, err = db.GetQuery(ctx, 999999)
		assert.ErrorIs(t, err, lmsys.ErrNotFound)

		tests := []struct {
			name string
			f    lmsys.QueryFilter
			want int64
		}{
			{"all", lmsys.QueryFilter{}, 1234},
			{"dataset", lmsys.QueryFilter{Dataset: "ds"}, 1234},
			{"unknown dataset", lmsys.QueryFilter{Dataset: "nope"}, 0},
			{"model", lmsys.QueryFilter{Model: "m1"}, 617},
			{"language", lmsys.QueryFilter{Language: "Spanish"}, 411},
			{"contains", lmsys.QueryFilter{Contains: "TOPIC 3"}, 247},
			{"contains wildcard chars literally", lmsys.QueryFilter{Contains: "%"}, 0},
			{"ids", lmsys.QueryFilter{IDs: ids[:3]}, 3},
			{"after", lmsys.QueryFilter{AfterID: ids[1000]}, 233},
		}
		for _, tc := range tests {
			got, err := db.CountQueries(ctx, tc.f)
			require.NoError(t, err, tc.name)
			assert.Equal(t, tc.want, got, tc.name)
		}

		page, err := db.ListQueries(ctx, lmsys.QueryFilter{Limit: 10, Offset: 20})
		require.NoError(t, err)
		require.Len(t, page, 10)
		assert.Equal(t, ids[20], page[0].ID)
		tail, err := db.ListQueries(ctx, lmsys.QueryFilter{Offset: 1230})
		require.NoError(t, err)
		assert.Len(t, tail, 4)

		var batches, total int
		var last int64
		require.NoError(t, db.ScanQueries(ctx, lmsys.QueryFilter{}, 500, func(qs []lmsys.Query) error {
			batches++
			for _, q := range qs {
				require.Greater(t, q.ID, last)
				last = q.ID
			}
			total += len(qs)
			return nil
		}))
		assert.Equal(t, 3, batches)
		assert.Equal(t, 1234, total)
		total = 0
		require.NoError(t, db.ScanQueries(ctx, lmsys.QueryFilter{Limit: 600}, 500, func(qs []lmsys.Query) error { total += len(qs); return nil }))
		assert.Equal(t, 600, total)
		stop := errors.New("stop")
		assert.ErrorIs(t, db.ScanQueries(ctx, lmsys.QueryFilter{}, 100, func([]lmsys.Query) error { return stop }), stop)

		st, err := db.Status(ctx)
		require.NoError(t, err)
		assert.Equal(t, int64(1234), st.TotalQueries)
		assert.Equal(t, []lmsys.Count{{Key: "ds", Count: 1234}}, st.Datasets)
		assert.Len(t, st.Languages, 3)
		assert.Len(t, st.Models, 2)
	})
}

func TestInsertRepairsText(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ds, err := db.EnsureDataset(ctx, lmsys.Dataset{Name: "bad"})
		require.NoError(t, err)
		big := make([]byte, 200_000)
		for i := range big {
			big[i] = 'a' + byte(i%26)
		}
		n, err := db.InsertQueries(ctx, []lmsys.Query{
			{DatasetID: ds.ID, ConversationID: "utf8", Text: "bad \xff\xfe bytes"},
			{DatasetID: ds.ID, ConversationID: "nul", Text: "nul\x00byte"},
			{DatasetID: ds.ID, ConversationID: "big", Text: string(big)},
		})
		require.NoError(t, err)
		require.Equal(t, 3, n)
		qs, err := db.ListQueries(ctx, lmsys.QueryFilter{})
		require.NoError(t, err)
		assert.Equal(t, "bad \uFFFD bytes", qs[0].Text)
		assert.Equal(t, "nulbyte", qs[1].Text)
		assert.Equal(t, string(big), qs[2].Text, "full text is stored")

		_, err = db.EnsureDataset(ctx, lmsys.Dataset{Name: " "})
		assert.ErrorIs(t, err, lmsys.ErrInvalidInput)
	})
}

func TestEmbeddingsAndRuns(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		_, ids := seed(t, db, 50)
		qs, err := db.ListQueries(ctx, lmsys.QueryFilter{})
		require.NoError(t, err)
		space := lmsys.Space{Provider: "local", Model: "test", Dims: 3}

		missing, err := db.CountMissingEmbeddings(ctx, space, lmsys.QueryFilter{})
		require.NoError(t, err)
		assert.Equal(t, int64(50), missing)

		vecs := map[string][]float32{}
		for i, q := range qs[:40] {
			vecs[lmsys.TextHash(q.Text)] = []float32{float32(i), 1, -2.5}
		}
		require.NoError(t, db.PutEmbeddings(ctx, space, vecs))
		require.NoError(t, db.PutEmbeddings(ctx, space, vecs), "storing again is a no-op")
		err = db.PutEmbeddings(ctx, space, map[string][]float32{"x": {1, 2}})
		assert.ErrorIs(t, err, lmsys.ErrSpaceMismatch)

		got, err := db.GetEmbeddings(ctx, space, []string{lmsys.TextHash(qs[3].Text), "absent"})
		require.NoError(t, err)
		assert.Equal(t, map[string][]float32{lmsys.TextHash(qs[3].Text): {3, 1, -2.5}}, got)
		other, err := db.GetEmbeddings(ctx, lmsys.Space{Provider: "local", Model: "other", Dims: 3}, []string{lmsys.TextHash(qs[3].Text)})
		require.NoError(t, err)
		assert.Empty(t, other, "spaces never mix")

		missing, err = db.CountMissingEmbeddings(ctx, space, lmsys.QueryFilter{})
		require.NoError(t, err)
		assert.Equal(t, int64(10), missing)

		var seen []int64
		require.NoError(t, db.ScanQueryVectors(ctx, space, lmsys.QueryFilter{}, 16, func(bid []int64, bv [][]float32) error {
			for i := range bid {
				assert.Equal(t, float32(len(seen)), bv[i][0])
				seen = append(seen, bid[i])
			}
			return nil
		}))
		assert.Equal(t, ids[:40], seen)

		// Runs.
		run := lmsys.Run{ID: "kmeans-2-20260901-120000", Algorithm: "kmeans", NumClusters: 2, Space: space,
			Parameters: map[string]any{"seed": 42}, Description: "test"}
		require.NoError(t, db.CreateRun(ctx, run))
		assert.Error(t, db.CreateRun(ctx, run), "duplicate run id")
		as := make([]lmsys.Assignment, 40)
		for i := range as {
			as[i] = lmsys.Assignment{RunID: run.ID, QueryID: ids[i], ClusterID: i % 2, Confidence: 0.5}
		}
		require.NoError(t, db.SaveAssignments(ctx, as))
		as[0].ClusterID = 1
		require.NoError(t, db.SaveAssignments(ctx, as[:1]), "re-saving replaces")
		require.NoError(t, db.FinishRun(ctx, run.ID, lmsys.RunCompleted, "", 40))
		assert.ErrorIs(t, db.FinishRun(ctx, "nope", lmsys.RunCompleted, "", 0), lmsys.ErrNotFound)

		r, err := db.GetRun(ctx, run.ID)
		require.NoError(t, err)
		assert.Equal(t, space, r.Space)
		assert.Equal(t, lmsys.RunCompleted, r.Status)
		assert.Equal(t, 40, r.NumQueries)
		assert.Equal(t, float64(42), r.Parameters["seed"])
		assert.Equal(t, "local", r.Parameters["embedding_provider"])
		require.NotNil(t, r.FinishedAt)
		_, err = db.GetRun(ctx, "nope")
		assert.ErrorIs(t, err, lmsys.ErrNotFound)

		sizes, err := db.ClusterSizes(ctx, run.ID)
		require.NoError(t, err)
		assert.Equal(t, map[int]int{0: 19, 1: 21}, sizes)
		c1, err := db.Assignments(ctx, run.ID, ptr(1))
		require.NoError(t, err)
		assert.Len(t, c1, 21)
		n, err := db.CountQueries(ctx, lmsys.QueryFilter{RunID: run.ID, ClusterID: ptr(0)})
		require.NoError(t, err)
		assert.Equal(t, int64(19), n)

		require.NoError(t, db.SaveCentroids(ctx, run.ID, map[int][]float32{0: {1, 0, 0}, 1: {0, 1, 0}}))
		cs, err := db.Centroids(ctx, run.ID)
		require.NoError(t, err)
		assert.Equal(t, []float32{0, 1, 0}, cs[1])

		runs, err := db.ListRuns(ctx)
		require.NoError(t, err)
		require.Len(t, runs, 1)

		// Summaries: latest by default, by alias, by id.
		for i, alias := range []string{"v1", "v2"} {
			srID := fmt.Sprintf("summary-test-%d", i)
			require.NoError(t, db.SaveSummaryRun(ctx, lmsys.SummaryRun{SummaryRunID: srID, RunID: run.ID, Alias: alias, Model: "offline", InputTokens: 10}))
			require.NoError(t, db.SaveSummaries(ctx, []lmsys.Summary{
				{RunID: run.ID, ClusterID: 0, SummaryRunID: srID, Alias: alias, Title: "T0 " + alias, NumQueries: 19,
					RepresentativeQueries: []string{"a", "b"}, Model: "offline", GeneratedAt: time.Date(2026, 9, 1+i, 0, 0, 0, 0, time.UTC)},
				{RunID: run.ID, ClusterID: 1, SummaryRunID: srID, Alias: alias, Title: "T1 " + alias, NumQueries: 21, Model: "offline",
					Error: "boom", GeneratedAt: time.Date(2026, 9, 1+i, 0, 0, 0, 0, time.UTC)},
			}))
		}
		latest, err := db.Summaries(ctx, run.ID, "")
		require.NoError(t, err)
		require.Len(t, latest, 2)
		assert.Equal(t, "T0 v2", latest[0].Title)
		assert.Equal(t, []string{"a", "b"}, latest[0].RepresentativeQueries)
		byAlias, err := db.Summaries(ctx, run.ID, "v1")
		require.NoError(t, err)
		assert.Equal(t, "T1 v1", byAlias[1].Title)
		assert.Equal(t, "boom", byAlias[1].Error)
		_, err = db.Summaries(ctx, run.ID, "v9")
		assert.ErrorIs(t, err, lmsys.ErrNotFound)
		srs, err := db.SummaryRuns(ctx, run.ID)
		require.NoError(t, err)
		require.Len(t, srs, 2)
		assert.Equal(t, "summary-test-1", srs[0].SummaryRunID)
		assert.Equal(t, 1, srs[0].NumFailed)
		assert.Equal(t, int64(10), srs[0].InputTokens)

		// Hierarchy.
		hid := lmsys.NewHierarchyRunID(run.ID, time.Now())
		require.NoError(t, db.SaveHierarchy(ctx, []lmsys.HierarchyNode{
			{HierarchyRunID: hid, RunID: run.ID, ClusterID: 0, ParentClusterID: ptr(1000), Level: 0, Title: "a", NumQueries: 19},
			{HierarchyRunID: hid, RunID: run.ID, ClusterID: 1, ParentClusterID: ptr(1000), Level: 0, Title: "b", NumQueries: 21},
			{HierarchyRunID: hid, RunID: run.ID, ClusterID: 1000, Level: 1, ChildrenIDs: []int{0, 1}, Title: "top", NumQueries: 40},
		}))
		nodes, err := db.Hierarchy(ctx, hid)
		require.NoError(t, err)
		require.Len(t, nodes, 3)
		assert.Equal(t, []int{0, 1}, nodes[0].ChildrenIDs)
		assert.Nil(t, nodes[0].ParentClusterID)
		assert.Equal(t, 1000, *nodes[1].ParentClusterID)
		hs, err := db.Hierarchies(ctx, run.ID)
		require.NoError(t, err)
		assert.Equal(t, []string{hid}, hs)
		_, err = db.Hierarchy(ctx, "hier-nope")
		assert.ErrorIs(t, err, lmsys.ErrNotFound)

		// Full-text search, alone and within a cluster.
		// Every word is a prefix: "3" matches topic 3 (10 queries) and numbers 3, 30–39 (11, 3 of them topic 3).
		hits, err := db.SearchText(ctx, "topic 3", lmsys.QueryFilter{}, 100)
		require.NoError(t, err)
		assert.Len(t, hits, 18)
		n, err = db.CountText(ctx, "topic 3", lmsys.QueryFilter{})
		require.NoError(t, err)
		assert.EqualValues(t, 18, n)
		hits, err = db.SearchText(ctx, "quer TOPIC", lmsys.QueryFilter{}, 100)
		require.NoError(t, err)
		assert.Len(t, hits, 50, "a word finds the words it begins, in any case")
		n, err = db.CountText(ctx, "quer", lmsys.QueryFilter{RunID: "nope"})
		require.NoError(t, err)
		assert.Zero(t, n)
		hits, err = db.SearchText(ctx, "topic 3", lmsys.QueryFilter{RunID: run.ID, ClusterID: ptr(1)}, 100)
		require.NoError(t, err)
		for _, h := range hits {
			a, err := db.Assignments(ctx, run.ID, ptr(1))
			require.NoError(t, err)
			found := false
			for _, x := range a {
				found = found || x.QueryID == h.QueryID
			}
			assert.True(t, found)
		}
		_, err = db.SearchText(ctx, `"*(`, lmsys.QueryFilter{}, 10)
		assert.ErrorIs(t, err, lmsys.ErrInvalidInput)
		// New rows are indexed on the next search.
		_, err = db.InsertQueries(ctx, []lmsys.Query{{DatasetID: qs[0].DatasetID, ConversationID: "new", Text: "zanzibar refund"}})
		require.NoError(t, err)
		hits, err = db.SearchText(ctx, "Zanzibar", lmsys.QueryFilter{}, 10)
		require.NoError(t, err)
		assert.Len(t, hits, 1)

		require.NoError(t, db.DeleteRun(ctx, run.ID))
		_, err = db.GetRun(ctx, run.ID)
		assert.ErrorIs(t, err, lmsys.ErrNotFound)
		sizes, err = db.ClusterSizes(ctx, run.ID)
		require.NoError(t, err)
		assert.Empty(t, sizes)

		require.NoError(t, db.Clear(ctx))
		st, err := db.Status(ctx)
		require.NoError(t, err)
		assert.Zero(t, st.TotalQueries)
		assert.Empty(t, st.Embeddings)
		hits, err = db.SearchText(ctx, "zanzibar", lmsys.QueryFilter{}, 10)
		require.NoError(t, err)
		assert.Empty(t, hits)
	})
}

func TestEditsMetadataOrphans(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		id, err := db.AddEdit(ctx, lmsys.Edit{RunID: "r", ClusterID: ptr(3), EditType: "rename", Editor: "alice",
			OldValue: map[string]any{"title": "a"}, NewValue: map[string]any{"title": "b"}, Reason: "clearer"})
		require.NoError(t, err)
		_, err = db.AddEdit(ctx, lmsys.Edit{RunID: "r", EditType: "merge", Editor: "bob"})
		require.NoError(t, err)
		e, err := db.GetEdit(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, "b", e.NewValue["title"])
		assert.Equal(t, 3, *e.ClusterID)
		_, err = db.GetEdit(ctx, id+100)
		assert.ErrorIs(t, err, lmsys.ErrNotFound)
		es, err := db.Edits(ctx, store.EditFilter{RunID: "r", Editor: "bob"})
		require.NoError(t, err)
		require.Len(t, es, 1)
		assert.Equal(t, "merge", es[0].EditType)

		m, err := db.ClusterMetadata(ctx, "r", 3)
		require.NoError(t, err)
		assert.Nil(t, m.Coherence)
		require.NoError(t, db.SaveClusterMetadata(ctx, lmsys.ClusterMetadata{RunID: "r", ClusterID: 3, Coherence: ptr(4), Quality: "high", Flags: []string{"x"}}))
		m, err = db.ClusterMetadata(ctx, "r", 3)
		require.NoError(t, err)
		assert.Equal(t, 4, *m.Coherence)
		assert.Equal(t, []string{"x"}, m.Flags)

		require.NoError(t, db.AddOrphans(ctx, []lmsys.OrphanedQuery{{RunID: "r", QueryID: 5, OriginalClusterID: ptr(3)}}))
		os, err := db.Orphans(ctx, "r")
		require.NoError(t, err)
		require.Len(t, os, 1)
		require.NoError(t, db.RemoveOrphans(ctx, "r", []int64{5}))
		os, err = db.Orphans(ctx, "r")
		require.NoError(t, err)
		assert.Empty(t, os)
	})
}

// TestTxAtomic checks that a failing transaction leaves nothing behind.
func TestTxAtomic(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		boom := errors.New("boom")
		err := db.Tx(ctx, func(tx *store.DB) error {
			if _, err := tx.AddEdit(ctx, lmsys.Edit{RunID: "r", EditType: "x"}); err != nil {
				return err
			}
			return boom
		})
		assert.ErrorIs(t, err, boom)
		es, err := db.Edits(ctx, store.EditFilter{})
		require.NoError(t, err)
		assert.Empty(t, es)
	})
}

// TestConcurrentWriters opens the same SQLite file twice (as two processes would) and
// writes from both at once: every write lands.
func TestConcurrentWriters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "q.db")
	ctx := context.Background()
	a, err := store.Open(ctx, store.Config{Path: path})
	require.NoError(t, err)
	defer a.Close()
	b, err := store.Open(ctx, store.Config{Path: path})
	require.NoError(t, err)
	defer b.Close()
	var wg sync.WaitGroup
	for w, db := range []*store.DB{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				err := db.Tx(ctx, func(tx *store.DB) error {
					_, err := tx.AddEdit(ctx, lmsys.Edit{RunID: "r", EditType: "move", Editor: fmt.Sprint(w)})
					return err
				})
				assert.NoError(t, err)
			}
		}()
	}
	wg.Wait()
	es, err := a.Edits(ctx, store.EditFilter{RunID: "r"})
	require.NoError(t, err)
	assert.Len(t, es, 100)
}

func TestOpenErrors(t *testing.T) {
	_, err := store.Open(context.Background(), store.Config{URL: "mysql://x"})
	assert.ErrorIs(t, err, lmsys.ErrInvalidInput)
	_, err = store.Open(context.Background(), store.Config{Path: "/proc/definitely/not/writable/q.db"})
	assert.Error(t, err)
}

func TestHierarchyRunRecord(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		require.NoError(t, db.CreateRun(ctx, lmsys.Run{ID: "r1", Algorithm: "kmeans"}))
		h := lmsys.HierarchyRun{HierarchyRunID: "hier-r1-x", RunID: "r1", Method: "offline", Parameters: map[string]any{"merge_ratio": 0.2},
			Report: map[string]any{"leaves": float64(10)}}
		require.NoError(t, db.SaveHierarchyRun(ctx, h))
		got, err := db.HierarchyRun(ctx, "hier-r1-x")
		require.NoError(t, err)
		assert.Equal(t, "offline", got.Method)
		assert.Equal(t, 0.2, got.Parameters["merge_ratio"])
		assert.Equal(t, float64(10), got.Report["leaves"])
		_, err = db.HierarchyRun(ctx, "nope")
		assert.ErrorIs(t, err, lmsys.ErrNotFound)
		require.NoError(t, db.DeleteRun(ctx, "r1"))
		_, err = db.HierarchyRun(ctx, "hier-r1-x")
		assert.ErrorIs(t, err, lmsys.ErrNotFound)
	})
}

// TestMemberPages checks the pages and counts of a run's and a cluster's members,
// which the store answers from the assignments alone, against the same filter with a
// condition on the queries (Dataset), which joins them.
func TestMemberPages(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		_, ids := seed(t, db, 600)
		run := lmsys.Run{ID: "pages", Algorithm: "kmeans", NumClusters: 7}
		require.NoError(t, db.CreateRun(ctx, run))
		var as []lmsys.Assignment
		for i, id := range ids {
			if i%5 == 4 {
				continue // not every query is in the run
			}
			as = append(as, lmsys.Assignment{RunID: run.ID, QueryID: id, ClusterID: i % 7})
		}
		require.NoError(t, db.SaveAssignments(ctx, as))
		three := 3
		for _, f := range []lmsys.QueryFilter{
			{RunID: run.ID},
			{RunID: run.ID, ClusterID: &three},
			{RunID: run.ID, ClusterID: &three, Limit: 10},
			{RunID: run.ID, ClusterID: &three, Limit: 10, Offset: 30},
			{RunID: run.ID, ClusterID: &three, Offset: 60},
			{RunID: run.ID, ClusterID: &three, AfterID: ids[300], Limit: 5},
			{RunID: run.ID, Limit: 50, Offset: 400},
		} {
			joined := f
			joined.Dataset = "ds"
			want, err := db.ListQueries(ctx, joined)
			require.NoError(t, err)
			got, err := db.ListQueries(ctx, f)
			require.NoError(t, err)
			assert.Equal(t, want, got, "%+v", f)
			assert.NotEmpty(t, got, "%+v", f)
			page, total, err := db.ListQueriesPage(ctx, f)
			require.NoError(t, err)
			assert.Equal(t, want, page, "%+v", f)
			all := joined
			all.Limit, all.Offset, all.AfterID = 0, 0, 0
			wantTotal, err := db.CountQueries(ctx, all)
			require.NoError(t, err)
			assert.Equal(t, wantTotal, total, "%+v", f)
			page, total, err = db.ListQueriesPage(ctx, joined)
			require.NoError(t, err)
			assert.Equal(t, want, page, "%+v", joined)
			assert.Equal(t, wantTotal, total, "%+v", joined)
			f.Limit, f.Offset, joined.Limit, joined.Offset = 0, 0, 0, 0
			wantN, err := db.CountQueries(ctx, joined)
			require.NoError(t, err)
			gotN, err := db.CountQueries(ctx, f)
			require.NoError(t, err)
			assert.Equal(t, wantN, gotN, "%+v", f)
		}
		n, err := db.CountQueries(ctx, lmsys.QueryFilter{RunID: run.ID, ClusterID: &three})
		require.NoError(t, err)
		assert.Equal(t, int64(69), n) // i%7 == 3 and i%5 != 4 for i < 600
		beyond, total, err := db.ListQueriesPage(ctx, lmsys.QueryFilter{RunID: run.ID, ClusterID: &three, Limit: 50, Offset: 100})
		require.NoError(t, err)
		assert.Empty(t, beyond)
		assert.Equal(t, int64(69), total, "an empty page still counts the cluster")
		sizes, err := db.SizesOf(ctx, run.ID, []int{3, 99})
		require.NoError(t, err)
		assert.Equal(t, map[int]int{3: 69}, sizes, "a cluster without queries is absent")
		all, err := db.ClusterSizes(ctx, run.ID)
		require.NoError(t, err)
		assert.Len(t, all, 7)
		assert.Equal(t, 69, all[3])
	})
}

// TestInsertQueriesChunkShapes inserts one batch whose chunks share different columns
// (all, some, none; NULLs in some rows or all) and checks every field comes back as
// written, so binding a shared value once per chunk never shifts a value into
// another row or column; through InsertQueries and through PrepareQueries and
// InsertPrepared, whose memory a smaller batch then reuses.
func TestInsertQueriesChunkShapes(t *testing.T) {
	var prepared lmsys.PreparedQueries
	paths := []struct {
		name   string
		insert func(db *store.DB, qs []lmsys.Query) (int, error)
	}{
		{"InsertQueries", func(db *store.DB, qs []lmsys.Query) (int, error) { return db.InsertQueries(context.Background(), qs) }},
		{"InsertPrepared", func(db *store.DB, qs []lmsys.Query) (int, error) {
			prepared = db.PrepareQueries(qs, prepared)
			require.Equal(t, len(qs), prepared.Len())
			return db.InsertPrepared(context.Background(), prepared)
		}},
	}
	for _, path := range paths {
		t.Run(path.name, func(t *testing.T) {
			testdb.Each(t, func(t *testing.T, db *store.DB) {
				testChunkShapes(t, db, path.insert)
			})
		})
	}
}

func testChunkShapes(t *testing.T, db *store.DB, insert func(db *store.DB, qs []lmsys.Query) (int, error)) {
	{
		ctx := context.Background()
		a, err := db.EnsureDataset(ctx, lmsys.Dataset{Name: "a", Source: "test"})
		require.NoError(t, err)
		b, err := db.EnsureDataset(ctx, lmsys.Dataset{Name: "b", Source: "test"})
		require.NoError(t, err)
		day := time.Date(2026, 9, 1, 12, 0, 0, 0, time.UTC)
		created := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
		qs := make([]lmsys.Query, 1337)
		for i := range qs {
			q := lmsys.Query{DatasetID: a.ID, ConversationID: fmt.Sprintf("c%05d", i), Text: fmt.Sprintf("text %d", i), CreatedAt: created}
			switch {
			case i < 500: // one chunk: model, language, timestamp and metadata shared
				q.Model, q.Language, q.Timestamp = "gpt-4", "English", &day
				q.Metadata = map[string]any{"turn": float64(1)}
			case i < 1000: // every column differs somewhere
				ts := day.Add(time.Duration(i) * time.Minute)
				q.Model, q.Timestamp = fmt.Sprintf("m%d", i%3), &ts
				if i%2 == 0 {
					q.Language = "German"
				}
				if i%7 == 0 {
					q.DatasetID = b.ID
					q.CreatedAt = created.Add(time.Hour)
				}
			default: // a short last chunk from the other dataset, NULLs throughout
				q.DatasetID = b.ID
			}
			qs[i] = q
		}
		n, err := insert(db, qs)
		require.NoError(t, err)
		require.Equal(t, len(qs), n)
		// A smaller batch after it, new and old queries mixed.
		more := append([]lmsys.Query{}, qs[:600]...)
		for i := 0; i < 100; i++ {
			more[3*i] = lmsys.Query{DatasetID: b.ID, ConversationID: fmt.Sprintf("more%03d", i), Text: fmt.Sprintf("more %d", i),
				Model: "claude", CreatedAt: created}
		}
		n, err = insert(db, more)
		require.NoError(t, err)
		require.Equal(t, 100, n)
		qs = append(qs, more[:300]...)

		got, err := db.ListQueries(ctx, lmsys.QueryFilter{})
		require.NoError(t, err)
		require.Len(t, got, len(qs)-200)
		byConv := map[string]lmsys.Query{}
		for _, q := range got {
			byConv[q.ConversationID] = q
		}
		for _, want := range qs {
			q, ok := byConv[want.ConversationID]
			require.True(t, ok, want.ConversationID)
			assert.Equal(t, want.DatasetID, q.DatasetID, want.ConversationID)
			assert.Equal(t, want.Text, q.Text, want.ConversationID)
			assert.Equal(t, want.Model, q.Model, want.ConversationID)
			assert.Equal(t, want.Language, q.Language, want.ConversationID)
			assert.Equal(t, want.Metadata, q.Metadata, want.ConversationID)
			assert.True(t, want.CreatedAt.Equal(q.CreatedAt), "%s: created %v, want %v", want.ConversationID, q.CreatedAt, want.CreatedAt)
			if want.Timestamp == nil {
				assert.Nil(t, q.Timestamp, want.ConversationID)
			} else if assert.NotNil(t, q.Timestamp, want.ConversationID) {
				assert.True(t, want.Timestamp.Equal(*q.Timestamp), "%s: timestamp %v, want %v", want.ConversationID, *q.Timestamp, *want.Timestamp)
			}
		}

		// The same batch again inserts nothing.
		n, err = insert(db, qs)
		require.NoError(t, err)
		assert.Zero(t, n)
	}
}

// TestInsertPreparedBatchesInOneTransaction hands InsertPrepared several batches at
// once: all are inserted, and a batch it cannot take refuses the whole call before
// anything is written.
func TestInsertPreparedBatchesInOneTransaction(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ds, err := db.EnsureDataset(ctx, lmsys.Dataset{Name: "g", Source: "test"})
		require.NoError(t, err)
		batch := func(from, n int) lmsys.PreparedQueries {
			qs := make([]lmsys.Query, n)
			for i := range qs {
				qs[i] = lmsys.Query{DatasetID: ds.ID, ConversationID: fmt.Sprint("g", from+i), Text: fmt.Sprint("text ", from+i)}
			}
			return db.PrepareQueries(qs, nil)
		}
		_, err = db.InsertPrepared(ctx, batch(0, 10), otherBatch{})
		require.ErrorIs(t, err, lmsys.ErrInvalidInput)
		n, err := db.CountQueries(ctx, lmsys.QueryFilter{})
		require.NoError(t, err)
		assert.Zero(t, n, "nothing of a refused call is written")

		got, err := db.InsertPrepared(ctx, batch(0, 700), nil, batch(700, 3), batch(500, 600))
		require.NoError(t, err)
		assert.Equal(t, 1100, got, "the last batch repeats 203 earlier ids")
		n, err = db.CountQueries(ctx, lmsys.QueryFilter{})
		require.NoError(t, err)
		assert.Equal(t, int64(1100), n)
		got, err = db.InsertPrepared(ctx)
		require.NoError(t, err)
		assert.Zero(t, got)

		// A written batch is spent: empty, and nothing if handed over again.
		b := batch(5000, 5)
		got, err = db.InsertPrepared(ctx, b)
		require.NoError(t, err)
		assert.Equal(t, 5, got)
		assert.Zero(t, b.Len())
		got, err = db.InsertPrepared(ctx, b)
		require.NoError(t, err)
		assert.Zero(t, got)
		b = db.PrepareQueries([]lmsys.Query{{DatasetID: ds.ID, ConversationID: "reused", Text: "in a spent batch's memory"}}, b)
		got, err = db.InsertPrepared(ctx, b)
		require.NoError(t, err)
		assert.Equal(t, 1, got)
	})
}

// otherBatch is a lmsys.PreparedQueries that no store.DB prepared.
type otherBatch struct{}

func (otherBatch) Len() int { return 1 }
