package curation_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/curation"
	"github.com/lmsys-go/lmsys/hierarchy"
	"github.com/lmsys-go/lmsys/internal/testdb"
	"github.com/lmsys-go/lmsys/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	runID   = "kmeans-4-20260101-000000"
	sumID   = "summary-test-20260101-000000"
	hierID  = "hier-kmeans-4-20260101-000000-20260101-000000"
	perClus = 6
	dims    = 8
)

var space = lmsys.Space{Provider: "test", Model: "fake", Dims: dims}

// fixture is a run of 4 clusters of 6 queries each, with cached embeddings (each
// cluster is two tight halves, so k-means can split it), centroids, a summary run
// and a 3-level hierarchy (two parents under one root).
type fixture struct {
	db      *store.DB
	cur     *curation.Curator
	members map[int][]int64
	changes [][]int
	mu      sync.Mutex
}

func vecFor(c, i int) []float32 {
	v := make([]float32, dims)
	v[c] = 1
	if i%2 == 0 {
		v[(c+4)%dims] = 0.5
	} else {
		v[(c+4)%dims] = -0.5
	}
	v[(c+1)%4] += float32(i) * 0.001
	return v
}

func newFixture(t testing.TB, db *store.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{db: db, members: map[int][]int64{}}
	f.cur = curation.New(db, curation.Options{Seed: 1, OnChange: func(_ context.Context, run string, ids []int) {
		f.mu.Lock()
		f.changes = append(f.changes, ids)
		f.mu.Unlock()
	}})
	ds, err := db.EnsureDataset(ctx, lmsys.Dataset{Name: "demo"})
	require.NoError(t, err)
	var qs []lmsys.Query
	for c := 0; c < 4; c++ {
		for i := 0; i < perClus; i++ {
			qs = append(qs, lmsys.Query{DatasetID: ds.ID, ConversationID: fmt.Sprintf("c%d-%d", c, i), Text: fmt.Sprintf("topic %d item %d", c, i)})
		}
	}
	_, err = db.InsertQueries(ctx, qs)
	require.NoError(t, err)
	stored, err := db.ListQueries(ctx, lmsys.QueryFilter{})
	require.NoError(t, err)
	require.Len(t, stored, 4*perClus)
	require.NoError(t, db.CreateRun(ctx, lmsys.Run{ID: runID, Algorithm: "kmeans", NumClusters: 4, Space: space, Status: lmsys.RunCompleted}))
	var as []lmsys.Assignment
	embs := map[string][]float32{}
	for k, q := range stored {
		c, i := k/perClus, k%perClus
		f.members[c] = append(f.members[c], q.ID)
		as = append(as, lmsys.Assignment{RunID: runID, QueryID: q.ID, ClusterID: c, Confidence: 0.5 + float64(i)/100})
		embs[lmsys.TextHash(q.Text)] = vecFor(c, i)
	}
	require.NoError(t, db.SaveAssignments(ctx, as))
	require.NoError(t, db.PutEmbeddings(ctx, space, embs))
	cents := map[int][]float32{}
	for c := 0; c < 4; c++ {
		v := make([]float32, dims)
		v[c] = 1
		cents[c] = v
	}
	require.NoError(t, db.SaveCentroids(ctx, runID, cents))
	titles := []string{"Python debugging help", "Various topics", "Cooking recipes", "Travel planning"}
	var ss []lmsys.Summary
	for c, title := range titles {
		ss = append(ss, lmsys.Summary{RunID: runID, ClusterID: c, SummaryRunID: sumID, Title: title, Description: "about " + title,
			NumQueries: perClus, RepresentativeQueries: []string{"x"}, Coherence: []int{4, 2, 5, 3}[c], Model: "test",
			GeneratedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
	}
	require.NoError(t, db.SaveSummaries(ctx, ss))
	p0, p1, root := 1_000_000, 1_000_001, 2_000_000
	var nodes []lmsys.HierarchyNode
	for c := 0; c < 4; c++ {
		p := p0
		if c >= 2 {
			p = p1
		}
		nodes = append(nodes, lmsys.HierarchyNode{HierarchyRunID: hierID, RunID: runID, ClusterID: c, ParentClusterID: &p,
			Title: titles[c], NumQueries: perClus, ChildrenIDs: []int{}})
	}
	nodes = append(nodes,
		lmsys.HierarchyNode{HierarchyRunID: hierID, RunID: runID, ClusterID: p0, ParentClusterID: &root, Level: 1, ChildrenIDs: []int{0, 1}, Title: "Tech", NumQueries: 2 * perClus},
		lmsys.HierarchyNode{HierarchyRunID: hierID, RunID: runID, ClusterID: p1, ParentClusterID: &root, Level: 1, ChildrenIDs: []int{2, 3}, Title: "Life", NumQueries: 2 * perClus},
		lmsys.HierarchyNode{HierarchyRunID: hierID, RunID: runID, ClusterID: root, Level: 2, ChildrenIDs: []int{p0, p1}, Title: "All", NumQueries: 4 * perClus})
	require.NoError(t, hierarchy.Validate(nodes))
	require.NoError(t, db.SaveHierarchy(ctx, nodes))
	return f
}

// state is everything an edit may change, in comparable form.
type state struct {
	Assign    map[int64]string
	Orphans   []string
	Summaries []string
	Metadata  []string
	Centroids map[int][]float32
	Hier      []string
	Edits     int
}

func dump(t testing.TB, db *store.DB) state {
	t.Helper()
	ctx := context.Background()
	s := state{Assign: map[int64]string{}}
	as, err := db.Assignments(ctx, runID, nil)
	require.NoError(t, err)
	for _, a := range as {
		s.Assign[a.QueryID] = fmt.Sprintf("%d/%.3f/%v", a.ClusterID, a.Confidence, a.Late)
	}
	os, err := db.Orphans(ctx, runID)
	require.NoError(t, err)
	for _, o := range os {
		s.Orphans = append(s.Orphans, fmt.Sprintf("%d/%d/%s", o.QueryID, *o.OriginalClusterID, o.Reason))
	}
	sort.Strings(s.Orphans)
	runs, err := db.SummaryRuns(ctx, runID)
	require.NoError(t, err)
	for _, r := range runs {
		ss, err := db.Summaries(ctx, runID, r.SummaryRunID)
		require.NoError(t, err)
		for _, x := range ss {
			x.GeneratedAt = time.Time{}
			b, _ := json.Marshal(x)
			s.Summaries = append(s.Summaries, string(b))
		}
	}
	ms, err := db.ListClusterMetadata(ctx, runID)
	require.NoError(t, err)
	for _, m := range ms {
		m.UpdatedAt = time.Time{}
		b, _ := json.Marshal(m)
		s.Metadata = append(s.Metadata, string(b))
	}
	s.Centroids, err = db.Centroids(ctx, runID)
	require.NoError(t, err)
	hs, err := db.Hierarchies(ctx, runID)
	require.NoError(t, err)
	for _, h := range hs {
		nodes, err := db.Hierarchy(ctx, h)
		require.NoError(t, err)
		for _, n := range nodes {
			slices.Sort(n.ChildrenIDs)
			n.CreatedAt = time.Time{}
			b, _ := json.Marshal(n)
			s.Hier = append(s.Hier, string(b))
		}
	}
	sort.Strings(s.Hier)
	es, err := db.Edits(ctx, store.EditFilter{RunID: runID})
	require.NoError(t, err)
	s.Edits = len(es)
	return s
}

// checkConsistent asserts every hierarchy is valid, its leaf counts equal the cluster
// sizes, and summary counts equal the sizes.
func checkConsistent(t testing.TB, db *store.DB) {
	t.Helper()
	ctx := context.Background()
	sizes, err := db.ClusterSizes(ctx, runID)
	require.NoError(t, err)
	hs, err := db.Hierarchies(ctx, runID)
	require.NoError(t, err)
	for _, h := range hs {
		nodes, err := db.Hierarchy(ctx, h)
		require.NoError(t, err)
		require.NoError(t, hierarchy.Validate(nodes))
		for _, n := range nodes {
			if n.Level == 0 {
				assert.Equal(t, sizes[n.ClusterID], n.NumQueries, "leaf %d count", n.ClusterID)
			}
		}
	}
	ss, err := db.Summaries(ctx, runID, "")
	if err == nil {
		for _, s := range ss {
			assert.Equal(t, sizes[s.ClusterID], s.NumQueries, "summary %d count", s.ClusterID)
		}
	}
}

func leafIDs(t testing.TB, db *store.DB) map[int]lmsys.HierarchyNode {
	nodes, err := db.Hierarchy(context.Background(), hierID)
	require.NoError(t, err)
	out := map[int]lmsys.HierarchyNode{}
	for _, n := range nodes {
		out[n.ClusterID] = n
	}
	return out
}

func clusterOf(t testing.TB, db *store.DB, q int64) int {
	as, err := db.Assignments(context.Background(), runID, nil)
	require.NoError(t, err)
	for _, a := range as {
		if a.QueryID == q {
			return a.ClusterID
		}
	}
	return -1
}

// undoAndCompare undoes the edit, checks the run is back to before and the undo row.
func undoAndCompare(t *testing.T, f *fixture, editID int64, before state) {
	t.Helper()
	res, err := f.cur.Undo(context.Background(), runID, editID, "bob", "oops")
	require.NoError(t, err)
	assert.Equal(t, curation.TypeUndo, res.Edit.EditType)
	assert.Equal(t, float64(editID), res.Edit.NewValue["undoes"])
	assert.Equal(t, "bob", res.Edit.Editor)
	after := dump(t, f.db)
	before.Edits += 2 // the edit and its undo stay in the log
	assert.Equal(t, before, after)
	checkConsistent(t, f.db)
}

func TestMoveQueries(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		before := dump(t, db)
		q := f.members[0][0]
		res, err := f.cur.MoveQuery(ctx, runID, q, 1, "alice", "belongs with 1")
		require.NoError(t, err)
		assert.Equal(t, 1, clusterOf(t, db, q))
		e := res.Edit
		assert.Positive(t, e.ID)
		assert.Equal(t, curation.TypeMove, e.EditType)
		assert.Equal(t, "alice", e.Editor)
		assert.Equal(t, "belongs with 1", e.Reason)
		assert.Equal(t, 1, *e.ClusterID)
		assert.Equal(t, []any{float64(0)}, e.NewValue["from_clusters"])
		assert.Equal(t, []int{0, 1}, res.Changed)
		assert.Contains(t, res.Hierarchies, hierID)
		stored, err := db.GetEdit(ctx, e.ID)
		require.NoError(t, err)
		assert.Equal(t, e.OldValue, stored.OldValue)
		assert.False(t, stored.CreatedAt.IsZero())
		checkConsistent(t, db)
		leaves := leafIDs(t, db)
		assert.Equal(t, perClus-1, leaves[0].NumQueries)
		assert.Equal(t, perClus+1, leaves[1].NumQueries)
		assert.Equal(t, 2*perClus, leaves[1_000_000].NumQueries)
		assert.Equal(t, [][]int{{0, 1}}, f.changes)

		// Several at once, one already there.
		mid := dump(t, db)
		res, err = f.cur.MoveQueries(ctx, runID, []int64{f.members[2][0], f.members[2][1], q}, 1, "alice", "")
		require.NoError(t, err)
		assert.Equal(t, []any{float64(q)}, res.Edit.NewValue["already_there"])
		checkConsistent(t, db)
		_, err = f.cur.MoveQueries(ctx, runID, []int64{q}, 1, "alice", "")
		assert.ErrorIs(t, err, lmsys.ErrInvalidInput)

		undoAndCompare(t, f, res.Edit.ID, mid)
		undoAndCompare(t, f, e.ID, withEdits(before, 2))
	})
}

func withEdits(s state, n int) state { s.Edits = n; return s }

func TestRenameCluster(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		before := dump(t, db)
		res, err := f.cur.RenameCluster(ctx, runID, 1, curation.Rename{Title: "Python packaging"}, "alice", "clearer")
		require.NoError(t, err)
		ss, err := db.Summaries(ctx, runID, "")
		require.NoError(t, err)
		assert.Equal(t, "Python packaging", ss[1].Title)
		assert.Equal(t, "about Various topics", ss[1].Description, "an empty description keeps the old one")
		assert.Equal(t, "Python packaging", leafIDs(t, db)[1].Title)
		assert.Equal(t, "Various topics", res.Edit.OldValue["titles"].([]any)[0].(map[string]any)["title"])
		assert.Equal(t, [][]int{{1}}, f.changes)
		checkConsistent(t, db)

		_, err = f.cur.RenameCluster(ctx, runID, 1, curation.Rename{}, "alice", "")
		assert.ErrorIs(t, err, lmsys.ErrInvalidInput)
		_, err = f.cur.RenameCluster(ctx, runID, 1, curation.Rename{Title: "x", SummaryRunID: "nope"}, "alice", "")
		assert.ErrorIs(t, err, lmsys.ErrNotFound)
		assert.ErrorContains(t, err, "nope")
		undoAndCompare(t, f, res.Edit.ID, before)
	})
}

func TestMergeClusters(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		require.NoError(t, db.SaveClusterMetadata(ctx, lmsys.ClusterMetadata{RunID: runID, ClusterID: 2, Quality: "low"}))
		before := dump(t, db)
		res, err := f.cur.MergeClusters(ctx, runID, []int{1, 2}, 0, "alice", "same topic")
		require.NoError(t, err)
		assert.Equal(t, curation.TypeMerge, res.Edit.EditType)
		sizes, err := db.ClusterSizes(ctx, runID)
		require.NoError(t, err)
		assert.Equal(t, map[int]int{0: 3 * perClus, 3: perClus}, sizes)
		ss, err := db.Summaries(ctx, runID, "")
		require.NoError(t, err)
		assert.Len(t, ss, 2, "source summaries are removed")
		m, err := db.ClusterMetadata(ctx, runID, 2)
		require.NoError(t, err)
		assert.Empty(t, m.Quality)
		cents, err := db.Centroids(ctx, runID)
		require.NoError(t, err)
		assert.Len(t, cents, 2)
		assert.InDelta(t, 1/1.7320508, cents[0][0], 1e-5, "size-weighted mean of three unit centroids, renormalised")
		leaves := leafIDs(t, db)
		assert.NotContains(t, leaves, 1)
		assert.NotContains(t, leaves, 2)
		assert.Equal(t, []int{0}, leaves[1_000_000].ChildrenIDs)
		assert.Equal(t, []int{3}, leaves[1_000_001].ChildrenIDs)
		assert.Equal(t, 4*perClus, leaves[2_000_000].NumQueries)
		checkConsistent(t, db)

		for _, bad := range [][]int{{}, {0}} {
			_, err = f.cur.MergeClusters(ctx, runID, bad, 0, "alice", "")
			assert.ErrorIs(t, err, lmsys.ErrInvalidInput)
		}
		_, err = f.cur.MergeClusters(ctx, runID, []int{1}, 0, "alice", "")
		assert.ErrorIs(t, err, lmsys.ErrNotFound, "cluster 1 no longer exists")
		assert.ErrorContains(t, err, "cluster 1")
		undoAndCompare(t, f, res.Edit.ID, before)
	})
}

func TestMergeDropsEmptiedParent(t *testing.T) {
	t.Parallel()
	db := testdb.SQLite(t)
	ctx := context.Background()
	f := newFixture(t, db)
	before := dump(t, db)
	res, err := f.cur.MergeClusters(ctx, runID, []int{2, 3}, 0, "alice", "")
	require.NoError(t, err)
	leaves := leafIDs(t, db)
	assert.NotContains(t, leaves, 1_000_001, "a parent left without children is removed")
	assert.Equal(t, []int{1_000_000}, leaves[2_000_000].ChildrenIDs)
	checkConsistent(t, db)
	undoAndCompare(t, f, res.Edit.ID, before)
}

func TestSplitCluster(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		before := dump(t, db)
		take := []int64{f.members[3][0], f.members[3][2]}
		res, err := f.cur.SplitCluster(ctx, runID, 3, curation.Split{QueryIDs: take}, "alice", "two topics")
		require.NoError(t, err)
		assert.Equal(t, []int{4}, res.NewClusterIDs)
		assert.Equal(t, 4, clusterOf(t, db, take[0]))
		ss, err := db.Summaries(ctx, runID, "")
		require.NoError(t, err)
		require.Len(t, ss, 5)
		assert.Equal(t, "Split from cluster 3: Travel planning", ss[4].Title)
		assert.Equal(t, 2, ss[4].NumQueries)
		leaves := leafIDs(t, db)
		require.Contains(t, leaves, 4)
		assert.Equal(t, 1_000_001, *leaves[4].ParentClusterID)
		assert.ElementsMatch(t, []int{2, 3, 4}, leaves[1_000_001].ChildrenIDs)
		cents, err := db.Centroids(ctx, runID)
		require.NoError(t, err)
		assert.Contains(t, cents, 4)
		checkConsistent(t, db)
		undoAndCompare(t, f, res.Edit.ID, before)

		// By k-means: the two halves of cluster 2 are recovered.
		res, err = f.cur.SplitCluster(ctx, runID, 2, curation.Split{K: 2}, "alice", "")
		require.NoError(t, err)
		newID := res.NewClusterIDs[0]
		assert.Greater(t, newID, 4, "ids of undone splits are not reused")
		moved, err := db.Assignments(ctx, runID, &newID)
		require.NoError(t, err)
		require.Len(t, moved, perClus/2)
		parity := -1
		for _, a := range moved {
			i := slices.Index(f.members[2], a.QueryID)
			if parity < 0 {
				parity = i % 2
			}
			assert.Equal(t, parity, i%2, "k-means keeps the halves together")
		}
		assert.Equal(t, "kmeans", res.Edit.NewValue["method"])
		checkConsistent(t, db)

		for _, sp := range []curation.Split{{}, {K: 1}, {K: 2, QueryIDs: take}, {K: 99}, {QueryIDs: f.members[0]}, {QueryIDs: []int64{f.members[1][0]}}} {
			_, err = f.cur.SplitCluster(ctx, runID, 0, sp, "alice", "")
			assert.ErrorIs(t, err, lmsys.ErrInvalidInput, "%+v", sp)
		}
		_, err = f.cur.SplitCluster(ctx, runID, 0, curation.Split{QueryIDs: []int64{999999}}, "alice", "")
		assert.ErrorIs(t, err, lmsys.ErrNotFound)
		assert.ErrorContains(t, err, "999999")
	})
}

func TestSplitNeedsEmbeddings(t *testing.T) {
	t.Parallel()
	db := testdb.SQLite(t)
	ctx := context.Background()
	f := newFixture(t, db)
	require.NoError(t, db.Gorm().Exec(`DELETE FROM embeddings`).Error)
	before := dump(t, db)
	_, err := f.cur.SplitCluster(ctx, runID, 1, curation.Split{K: 2}, "alice", "")
	require.ErrorIs(t, err, lmsys.ErrEmpty)
	assert.ErrorContains(t, err, "no cached embedding")
	assert.Equal(t, before, dump(t, db))
	// A split by ids still works and keeps the old centroid.
	_, err = f.cur.SplitCluster(ctx, runID, 1, curation.Split{QueryIDs: f.members[1][:1]}, "alice", "")
	require.NoError(t, err)
	checkConsistent(t, db)
}

func TestDeleteCluster(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		before := dump(t, db)
		res, err := f.cur.DeleteCluster(ctx, runID, 1, curation.Delete{Orphan: true}, "alice", "junk")
		require.NoError(t, err)
		assert.Equal(t, curation.TypeDelete, res.Edit.EditType)
		orphans, err := f.cur.Orphaned(ctx, runID)
		require.NoError(t, err)
		require.Len(t, orphans, perClus)
		assert.Equal(t, 1, *orphans[0].OriginalClusterID)
		assert.Equal(t, "junk", orphans[0].Reason)
		assert.Contains(t, orphans[0].QueryText, "topic 1")
		assert.NotContains(t, leafIDs(t, db), 1)
		checkConsistent(t, db)
		v, err := f.cur.ViewQuery(ctx, f.members[1][0])
		require.NoError(t, err)
		require.Len(t, v.Clusters, 1)
		assert.True(t, v.Clusters[0].Orphaned)

		// Reassign two orphans, then the rest.
		part, err := f.cur.ReassignOrphans(ctx, runID, 0, f.members[1][:2], "alice", "")
		require.NoError(t, err)
		assert.Equal(t, curation.TypeReassign, part.Edit.EditType)
		assert.Equal(t, 0, clusterOf(t, db, f.members[1][0]))
		checkConsistent(t, db)
		_, err = f.cur.ReassignOrphans(ctx, runID, 0, []int64{f.members[0][0]}, "alice", "")
		assert.ErrorIs(t, err, lmsys.ErrNotFound)
		rest, err := f.cur.ReassignOrphans(ctx, runID, 2, nil, "alice", "")
		require.NoError(t, err)
		orphans, err = f.cur.Orphaned(ctx, runID)
		require.NoError(t, err)
		assert.Empty(t, orphans)
		_, err = f.cur.ReassignOrphans(ctx, runID, 2, nil, "alice", "")
		assert.ErrorIs(t, err, lmsys.ErrEmpty)

		_, err = f.cur.Undo(ctx, runID, res.Edit.ID, "bob", "")
		assert.ErrorIs(t, err, lmsys.ErrConflict, "reassignments depend on the delete")
		_, err = f.cur.Undo(ctx, runID, rest.Edit.ID, "bob", "")
		require.NoError(t, err)
		_, err = f.cur.Undo(ctx, runID, part.Edit.ID, "bob", "")
		require.NoError(t, err)
		undo, err := f.cur.Undo(ctx, runID, res.Edit.ID, "bob", "")
		require.NoError(t, err)
		after := dump(t, db)
		assert.Equal(t, withEdits(before, 6), after)
		_ = undo

		// Delete moving the queries elsewhere.
		res, err = f.cur.DeleteCluster(ctx, runID, 3, curation.Delete{MoveTo: ptr(2)}, "alice", "")
		require.NoError(t, err)
		sizes, err := db.ClusterSizes(ctx, runID)
		require.NoError(t, err)
		assert.Equal(t, 2*perClus, sizes[2])
		assert.NotContains(t, sizes, 3)
		checkConsistent(t, db)
		for _, d := range []curation.Delete{{}, {Orphan: true, MoveTo: ptr(2)}, {MoveTo: ptr(3)}} {
			_, err = f.cur.DeleteCluster(ctx, runID, 3, d, "alice", "")
			assert.Error(t, err)
		}
		_, err = f.cur.DeleteCluster(ctx, runID, 0, curation.Delete{MoveTo: ptr(77)}, "alice", "")
		assert.ErrorIs(t, err, lmsys.ErrNotFound)
		assert.ErrorContains(t, err, "77")
	})
}

func ptr(i int) *int { return &i }

func TestTagAndFlag(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		before := dump(t, db)
		q := "high"
		notes := "fine"
		tag, err := f.cur.TagCluster(ctx, runID, 2, curation.Tag{Coherence: ptr(4), Quality: &q, Flags: []string{"needs-review", " ", "needs-review"}, Notes: &notes}, "alice", "")
		require.NoError(t, err)
		assert.Equal(t, curation.TypeTag, tag.Edit.EditType)
		m, err := db.ClusterMetadata(ctx, runID, 2)
		require.NoError(t, err)
		assert.Equal(t, 4, *m.Coherence)
		assert.Equal(t, "high", m.Quality)
		assert.Equal(t, []string{"needs-review"}, m.Flags)
		assert.Equal(t, "fine", m.Notes)
		flag, err := f.cur.FlagCluster(ctx, runID, 2, "incoherent", "bob", "")
		require.NoError(t, err)
		m, err = db.ClusterMetadata(ctx, runID, 2)
		require.NoError(t, err)
		assert.Equal(t, []string{"needs-review", "incoherent"}, m.Flags)
		assert.Equal(t, 4, *m.Coherence, "a flag keeps the other annotations")
		_, err = f.cur.FlagCluster(ctx, runID, 2, "incoherent", "bob", "")
		assert.ErrorIs(t, err, lmsys.ErrInvalidInput)

		bad := "excellent"
		for _, tg := range []curation.Tag{{}, {Coherence: ptr(0)}, {Coherence: ptr(6)}, {Quality: &bad}} {
			_, err = f.cur.TagCluster(ctx, runID, 2, tg, "alice", "")
			assert.ErrorIs(t, err, lmsys.ErrInvalidInput)
		}
		_, err = f.cur.TagCluster(ctx, runID, 42, curation.Tag{Coherence: ptr(3)}, "alice", "")
		assert.ErrorIs(t, err, lmsys.ErrNotFound)

		_, err = f.cur.Undo(ctx, runID, tag.Edit.ID, "bob", "")
		assert.ErrorIs(t, err, lmsys.ErrConflict)
		assert.ErrorContains(t, err, fmt.Sprintf("undo edit %d first", flag.Edit.ID))
		_, err = f.cur.Undo(ctx, runID, flag.Edit.ID, "bob", "")
		require.NoError(t, err)
		m, err = db.ClusterMetadata(ctx, runID, 2)
		require.NoError(t, err)
		assert.Equal(t, []string{"needs-review"}, m.Flags)
		_, err = f.cur.Undo(ctx, runID, tag.Edit.ID, "bob", "")
		require.NoError(t, err)
		assert.Equal(t, withEdits(before, 4), dump(t, db))
		assert.Empty(t, f.changes, "metadata edits do not touch the index")
	})
}

func TestUndoRules(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		q := f.members[0][0]
		a, err := f.cur.MoveQuery(ctx, runID, q, 1, "alice", "")
		require.NoError(t, err)
		b, err := f.cur.MoveQuery(ctx, runID, q, 2, "alice", "")
		require.NoError(t, err)
		// An independent edit does not block undo.
		other, err := f.cur.MoveQuery(ctx, runID, f.members[3][0], 1, "alice", "")
		require.NoError(t, err)
		_, err = f.cur.Undo(ctx, runID, a.Edit.ID, "bob", "")
		require.ErrorIs(t, err, lmsys.ErrConflict)
		assert.ErrorContains(t, err, fmt.Sprintf("later edit %d", b.Edit.ID))
		assert.ErrorContains(t, err, fmt.Sprintf("moved query %d again", q))

		u, err := f.cur.Undo(ctx, runID, b.Edit.ID, "bob", "")
		require.NoError(t, err)
		assert.Equal(t, 1, clusterOf(t, db, q))
		_, err = f.cur.Undo(ctx, runID, b.Edit.ID, "bob", "")
		assert.ErrorIs(t, err, lmsys.ErrConflict)
		assert.ErrorContains(t, err, "already undid it")
		// Undo of the undo redoes the move.
		_, err = f.cur.Undo(ctx, runID, u.Edit.ID, "bob", "redo")
		require.NoError(t, err)
		assert.Equal(t, 2, clusterOf(t, db, q))
		checkConsistent(t, db)

		// A later rename of a merge target blocks undoing the merge.
		m, err := f.cur.MergeClusters(ctx, runID, []int{3}, 2, "alice", "")
		require.NoError(t, err)
		r, err := f.cur.RenameCluster(ctx, runID, 2, curation.Rename{Title: "Food and travel"}, "alice", "")
		require.NoError(t, err)
		_, err = f.cur.Undo(ctx, runID, m.Edit.ID, "bob", "")
		assert.ErrorIs(t, err, lmsys.ErrConflict)
		_, err = f.cur.Undo(ctx, runID, other.Edit.ID, "bob", "")
		assert.ErrorIs(t, err, lmsys.ErrConflict, "the moved query's cluster was merged since")
		_, err = f.cur.Undo(ctx, runID, r.Edit.ID, "bob", "")
		require.NoError(t, err)
		_, err = f.cur.Undo(ctx, runID, m.Edit.ID, "bob", "")
		require.NoError(t, err)
		checkConsistent(t, db)

		// A later rename of the cluster a delete moved queries into blocks undoing the delete.
		d, err := f.cur.DeleteCluster(ctx, runID, 1, curation.Delete{MoveTo: ptr(0)}, "alice", "")
		require.NoError(t, err)
		r0, err := f.cur.RenameCluster(ctx, runID, 0, curation.Rename{Title: "Python and more"}, "alice", "")
		require.NoError(t, err)
		_, err = f.cur.Undo(ctx, runID, d.Edit.ID, "bob", "")
		assert.ErrorIs(t, err, lmsys.ErrConflict)
		_, err = f.cur.Undo(ctx, runID, r0.Edit.ID, "bob", "")
		require.NoError(t, err)
		_, err = f.cur.Undo(ctx, runID, d.Edit.ID, "bob", "")
		require.NoError(t, err)
		checkConsistent(t, db)

		// Unknown edits, and edits of other runs.
		_, err = f.cur.Undo(ctx, runID, 9999, "bob", "")
		assert.ErrorIs(t, err, lmsys.ErrNotFound)
		assert.ErrorContains(t, err, "9999")
		require.NoError(t, db.CreateRun(ctx, lmsys.Run{ID: "other", Algorithm: "kmeans"}))
		_, err = f.cur.Undo(ctx, "other", a.Edit.ID, "bob", "")
		assert.ErrorIs(t, err, lmsys.ErrNotFound)
		foreign, err := db.AddEdit(ctx, lmsys.Edit{RunID: runID, EditType: "rename", Editor: "seed", OldValue: map[string]any{"title": "x"}})
		require.NoError(t, err)
		_, err = f.cur.Undo(ctx, runID, foreign, "bob", "")
		assert.ErrorIs(t, err, lmsys.ErrInvalidInput)
	})
}

func TestBadIDsChangeNothing(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		before := dump(t, db)
		q := f.members[0][0]
		ops := map[string]func() error{
			"move unknown run": func() error { _, err := f.cur.MoveQuery(ctx, "nope", q, 1, "a", ""); return err },
			"move unknown cluster": func() error {
				_, err := f.cur.MoveQueries(ctx, runID, []int64{q}, 99, "a", "")
				return err
			},
			"move unknown query": func() error {
				_, err := f.cur.MoveQueries(ctx, runID, []int64{q, 123456}, 1, "a", "")
				return err
			},
			"rename unknown cluster": func() error {
				_, err := f.cur.RenameCluster(ctx, runID, 99, curation.Rename{Title: "x"}, "a", "")
				return err
			},
			"merge unknown source": func() error { _, err := f.cur.MergeClusters(ctx, runID, []int{1, 99}, 0, "a", ""); return err },
			"split unknown cluster": func() error {
				_, err := f.cur.SplitCluster(ctx, runID, 99, curation.Split{K: 2}, "a", "")
				return err
			},
			"delete unknown cluster": func() error {
				_, err := f.cur.DeleteCluster(ctx, runID, 99, curation.Delete{Orphan: true}, "a", "")
				return err
			},
			"flag unknown run":     func() error { _, err := f.cur.FlagCluster(ctx, "nope", 1, "x", "a", ""); return err },
			"history unknown run":  func() error { _, err := f.cur.History(ctx, "nope", 1); return err },
			"history unknown cl":   func() error { _, err := f.cur.History(ctx, runID, 99); return err },
			"audit unknown run":    func() error { _, err := f.cur.Audit(ctx, "nope", curation.AuditFilter{}); return err },
			"orphaned unknown run": func() error { _, err := f.cur.Orphaned(ctx, "nope"); return err },
			"view unknown query":   func() error { _, err := f.cur.ViewQuery(ctx, 123456); return err },
			"bad unknown run": func() error {
				_, err := f.cur.SelectBadClusters(ctx, "nope", curation.BadFilter{MaxSize: 1})
				return err
			},
		}
		for name, op := range ops {
			err := op()
			require.ErrorIs(t, err, lmsys.ErrNotFound, name)
			assert.Regexp(t, `nope|99|123456`, err.Error(), name)
		}
		_, err := f.cur.MoveQuery(ctx, runID, q, 1, " ", "")
		assert.ErrorIs(t, err, lmsys.ErrInvalidInput, "an editor is required")
		assert.Equal(t, before, dump(t, db))
		assert.Empty(t, f.changes)
	})
}

func TestHistoryAudit(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		clock := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
		f.cur = curation.New(db, curation.Options{Now: func() time.Time { clock = clock.Add(24 * time.Hour); return clock }})
		_, err := f.cur.MoveQuery(ctx, runID, f.members[0][0], 1, "alice", "")
		require.NoError(t, err)
		_, err = f.cur.MergeClusters(ctx, runID, []int{2}, 3, "bob", "")
		require.NoError(t, err)
		_, err = f.cur.TagCluster(ctx, runID, 0, curation.Tag{Coherence: ptr(2)}, "alice", "")
		require.NoError(t, err)

		h, err := f.cur.History(ctx, runID, 0)
		require.NoError(t, err)
		assert.Equal(t, []string{curation.TypeMove, curation.TypeTag}, types(h), "moves out of a cluster are in its history")
		h, err = f.cur.History(ctx, runID, 2)
		require.NoError(t, err)
		assert.Equal(t, []string{curation.TypeMerge}, types(h), "a merged-away cluster keeps its history")

		all, err := f.cur.Audit(ctx, runID, curation.AuditFilter{})
		require.NoError(t, err)
		assert.Len(t, all, 3)
		byEd, err := f.cur.Audit(ctx, runID, curation.AuditFilter{Editor: "alice"})
		require.NoError(t, err)
		assert.Equal(t, []string{curation.TypeMove, curation.TypeTag}, types(byEd))
		byType, err := f.cur.Audit(ctx, runID, curation.AuditFilter{Type: "merge"})
		require.NoError(t, err)
		assert.Equal(t, []string{curation.TypeMerge}, types(byType))
		since, err := f.cur.Audit(ctx, runID, curation.AuditFilter{Since: time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC)})
		require.NoError(t, err)
		assert.Equal(t, []string{curation.TypeMerge, curation.TypeTag}, types(since))
		_, err = f.cur.Audit(ctx, runID, curation.AuditFilter{Type: "explode"})
		assert.ErrorIs(t, err, lmsys.ErrInvalidInput)
	})
}

func types(es []lmsys.Edit) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.EditType)
	}
	return out
}

func TestViewQuery(t *testing.T) {
	t.Parallel()
	db := testdb.SQLite(t)
	ctx := context.Background()
	f := newFixture(t, db)
	v, err := f.cur.ViewQuery(ctx, f.members[2][1])
	require.NoError(t, err)
	assert.Equal(t, "topic 2 item 1", v.Query.Text)
	require.Len(t, v.Clusters, 1)
	assert.Equal(t, curation.QueryCluster{RunID: runID, ClusterID: 2, Confidence: 0.51, Title: "Cooking recipes", SummaryRunID: sumID}, v.Clusters[0])
}

func TestSelectBadClusters(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		_, err := f.cur.MoveQueries(ctx, runID, f.members[3][:4], 2, "alice", "")
		require.NoError(t, err)
		_, err = f.cur.FlagCluster(ctx, runID, 0, "incoherent", "alice", "")
		require.NoError(t, err)
		_, err = f.cur.TagCluster(ctx, runID, 2, curation.Tag{Coherence: ptr(1)}, "alice", "")
		require.NoError(t, err)

		cases := []struct {
			name string
			f    curation.BadFilter
			want []int
		}{
			{"size", curation.BadFilter{MaxSize: 2}, []int{3}},
			{"coherence from summary and metadata", curation.BadFilter{MinCoherence: 3}, []int{1, 2}},
			{"generic", curation.BadFilter{GenericTitles: true}, []int{1}},
			{"flag", curation.BadFilter{Flags: []string{"incoherent"}}, []int{0}},
			{"any", curation.BadFilter{MaxSize: 2, GenericTitles: true}, []int{1, 3}},
		}
		for _, tc := range cases {
			got, err := f.cur.SelectBadClusters(ctx, runID, tc.f)
			require.NoError(t, err, tc.name)
			assert.Equal(t, tc.want, curation.IDs(got), tc.name)
			for _, b := range got {
				assert.NotEmpty(t, b.Reasons)
			}
		}
		// Silhouette: cluster 2 now holds four queries of cluster 3, so it is the
		// least coherent geometrically.
		s, err := f.cur.Silhouettes(ctx, lmsys.Run{ID: runID, Space: space})
		require.NoError(t, err)
		for c := 0; c < 4; c++ {
			if c != 2 {
				assert.Less(t, s[2], s[c], "cluster %d", c)
			}
		}
		thr := (s[2] + min(s[0], s[1], s[3])) / 2
		got, err := f.cur.SelectBadClusters(ctx, runID, curation.BadFilter{MaxSilhouette: &thr})
		require.NoError(t, err)
		assert.Equal(t, []int{2}, curation.IDs(got))
		require.NotNil(t, got[0].Silhouette)

		_, err = f.cur.SelectBadClusters(ctx, runID, curation.BadFilter{})
		assert.ErrorIs(t, err, lmsys.ErrInvalidInput)
	})
}

func TestGenericTitle(t *testing.T) {
	t.Parallel()
	for title, want := range map[string]bool{
		"Various topics": true, "Diverse requests": true, "General questions": true, "Miscellaneous": true,
		"Mixed bag": true, "User queries about programming": true, "Help with a wide range of tasks": true,
		"Python debugging": false, "General Relativity": true, "": false, "Travel planning in Europe": false,
	} {
		assert.Equal(t, want, curation.GenericTitle(title), title)
	}
}

// TestConcurrentEdits runs two store handles (as two processes would) moving queries
// of the same run at once: every move lands, the audit log holds all of them, and the
// hierarchy counts stay exact.
func TestConcurrentEdits(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) {
		path := t.TempDir() + "/q.db"
		open := func() *store.DB {
			db, err := store.Open(context.Background(), store.Config{Path: path})
			require.NoError(t, err)
			t.Cleanup(func() { db.Close() })
			return db
		}
		concurrent(t, open)
	})
	t.Run("postgres", func(t *testing.T) {
		url := testdb.PostgresURL(t)
		open := func() *store.DB {
			db, err := store.Open(context.Background(), store.Config{URL: url})
			require.NoError(t, err)
			t.Cleanup(func() { db.Close() })
			return db
		}
		concurrent(t, open)
	})
}

func concurrent(t *testing.T, open func() *store.DB) {
	ctx := context.Background()
	first := open()
	f := newFixture(t, first)
	second := open()
	curs := []*curation.Curator{curation.New(first, curation.Options{}), curation.New(second, curation.Options{})}
	// Worker w moves the queries of cluster w to cluster 2+w's neighbour, one edit each,
	// interleaved with tags of a shared cluster.
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i, q := range f.members[w] {
				if _, err := curs[w].MoveQuery(ctx, runID, q, 2+w, fmt.Sprintf("editor%d", w), ""); err != nil {
					errs <- err
				}
				if _, err := curs[w].FlagCluster(ctx, runID, 3, fmt.Sprintf("w%d-%d", w, i), fmt.Sprintf("editor%d", w), ""); err != nil {
					errs <- err
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	sizes, err := first.ClusterSizes(ctx, runID)
	require.NoError(t, err)
	assert.Equal(t, map[int]int{2: 2 * perClus, 3: 2 * perClus}, sizes)
	m, err := first.ClusterMetadata(ctx, runID, 3)
	require.NoError(t, err)
	assert.Len(t, m.Flags, 2*perClus, "no flag is lost to a concurrent read-modify-write")
	es, err := first.Edits(ctx, store.EditFilter{RunID: runID})
	require.NoError(t, err)
	assert.Len(t, es, 4*perClus)
	checkConsistent(t, first)
}

// TestRandomEditSequences applies random sequences of edits, checking after each that
// hierarchies and counts stay consistent and that a refused edit changed nothing, then
// undoes every edit newest first and expects the run exactly as it started.
func TestRandomEditSequences(t *testing.T) {
	t.Parallel()
	seeds := []uint64{1, 2, 3, 4, 5, 6}
	if testing.Short() {
		seeds = seeds[:2]
	}
	for _, seed := range seeds {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			db := testdb.SQLite(t)
			ctx := context.Background()
			f := newFixture(t, db)
			rng := rand.New(rand.NewPCG(seed, 7))
			start := dump(t, db)
			var done []int64
			for step := 0; step < 25; step++ {
				sizes, err := db.ClusterSizes(ctx, runID)
				require.NoError(t, err)
				var ids []int
				for c := range sizes {
					ids = append(ids, c)
				}
				slices.Sort(ids)
				pick := func() int { return ids[rng.IntN(len(ids))] }
				anyQuery := func() int64 {
					as, err := db.Assignments(ctx, runID, nil)
					require.NoError(t, err)
					return as[rng.IntN(len(as))].QueryID
				}
				before := dump(t, db)
				var res curation.Result
				switch op := rng.IntN(7); op {
				case 0:
					res, err = f.cur.MoveQuery(ctx, runID, anyQuery(), pick(), "r", "")
				case 1:
					res, err = f.cur.MergeClusters(ctx, runID, []int{pick()}, pick(), "r", "")
				case 2:
					res, err = f.cur.SplitCluster(ctx, runID, pick(), curation.Split{K: 2}, "r", "")
				case 3:
					c := pick()
					mem, _ := db.Assignments(ctx, runID, &c)
					res, err = f.cur.SplitCluster(ctx, runID, c, curation.Split{QueryIDs: []int64{mem[0].QueryID}}, "r", "")
				case 4:
					if rng.IntN(2) == 0 {
						res, err = f.cur.DeleteCluster(ctx, runID, pick(), curation.Delete{Orphan: true}, "r", "")
					} else {
						res, err = f.cur.DeleteCluster(ctx, runID, pick(), curation.Delete{MoveTo: ptr(pick())}, "r", "")
					}
				case 5:
					res, err = f.cur.RenameCluster(ctx, runID, pick(), curation.Rename{Title: fmt.Sprintf("name %d", step)}, "r", "")
				case 6:
					orphans, _ := db.Orphans(ctx, runID)
					if len(orphans) > 0 {
						res, err = f.cur.ReassignOrphans(ctx, runID, pick(), nil, "r", "")
					} else {
						res, err = f.cur.TagCluster(ctx, runID, pick(), curation.Tag{Coherence: ptr(1 + rng.IntN(5))}, "r", "")
					}
				}
				if err != nil {
					require.True(t, errors.Is(err, lmsys.ErrInvalidInput) || errors.Is(err, lmsys.ErrNotFound), "step %d: %v", step, err)
					require.Equal(t, before, dump(t, db), "step %d: a refused edit changed nothing", step)
					continue
				}
				done = append(done, res.Edit.ID)
				checkConsistent(t, db)
			}
			require.NotEmpty(t, done)
			t.Logf("%d of 25 random edits applied", len(done))
			// Undo one edit out of order when nothing later depends on it; a refusal
			// changes nothing.
			k := rng.IntN(len(done))
			before := dump(t, db)
			if _, err := f.cur.Undo(ctx, runID, done[k], "r", ""); err != nil {
				require.ErrorIs(t, err, lmsys.ErrConflict)
				require.Equal(t, before, dump(t, db))
				t.Logf("undo of edit %d of %d refused: %v", k+1, len(done), err)
			} else {
				t.Logf("undo of edit %d of %d done out of order", k+1, len(done))
				checkConsistent(t, db)
				done = slices.Delete(done, k, k+1)
			}
			for i := len(done) - 1; i >= 0; i-- {
				_, err := f.cur.Undo(ctx, runID, done[i], "r", "")
				require.NoError(t, err, "undo edit %d", done[i])
				checkConsistent(t, db)
			}
			end := dump(t, db)
			end.Edits = start.Edits
			assert.Equal(t, start, end)
		})
	}
}

// TestUndoKeepsLaterRuns checks that undoing an edit leaves alone the summary and
// hierarchy runs made after it (by summarize or merge-clusters, outside curation).
func TestUndoKeepsLaterRuns(t *testing.T) {
	t.Parallel()
	db := testdb.SQLite(t)
	ctx := context.Background()
	f := newFixture(t, db)
	res, err := f.cur.MergeClusters(ctx, runID, []int{1}, 0, "alice", "")
	require.NoError(t, err)
	later := "summary-later-20260102-000000"
	var ss []lmsys.Summary
	for _, c := range []int{0, 2, 3} {
		n := perClus
		if c == 0 {
			n = 2 * perClus
		}
		ss = append(ss, lmsys.Summary{RunID: runID, ClusterID: c, SummaryRunID: later, Title: fmt.Sprintf("later %d", c), Model: "test", NumQueries: n,
			GeneratedAt: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)})
	}
	require.NoError(t, db.SaveSummaries(ctx, ss))
	root := 1_000_000
	var nodes []lmsys.HierarchyNode
	for _, c := range []int{0, 2, 3} {
		nodes = append(nodes, lmsys.HierarchyNode{HierarchyRunID: "hier-later", RunID: runID, ClusterID: c, ParentClusterID: &root, Title: "x",
			NumQueries: ss[len(nodes)].NumQueries, CreatedAt: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)})
	}
	nodes = append(nodes, lmsys.HierarchyNode{HierarchyRunID: "hier-later", RunID: runID, ClusterID: root, Level: 1, ChildrenIDs: []int{0, 2, 3},
		NumQueries: 4 * perClus, CreatedAt: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)})
	require.NoError(t, db.SaveHierarchy(ctx, nodes))

	_, err = f.cur.Undo(ctx, runID, res.Edit.ID, "bob", "")
	require.NoError(t, err)
	got, err := db.Summaries(ctx, runID, later)
	require.NoError(t, err)
	assert.Len(t, got, 3, "the later summary run keeps its rows")
	assert.Equal(t, perClus, got[0].NumQueries, "but its counts follow the undo")
	old, err := db.Summaries(ctx, runID, sumID)
	require.NoError(t, err)
	assert.Len(t, old, 4, "the merged-away summary is back")
	h, err := db.Hierarchy(ctx, "hier-later")
	require.NoError(t, err)
	assert.Len(t, h, 4, "the later hierarchy keeps its nodes")
	checkConsistent(t, db)
}

// TestBadText stores invalid UTF-8 and NUL bytes cleaned (PostgreSQL rejects both) and
// refuses enormous texts without changing anything.
func TestBadText(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		res, err := f.cur.RenameCluster(ctx, runID, 1, curation.Rename{Title: "caf\xe9\x00 talk"}, "ed\xffitor", "why\x00")
		require.NoError(t, err)
		assert.Equal(t, "ed\uFFFDitor", res.Edit.Editor)
		ss, err := db.Summaries(ctx, runID, "")
		require.NoError(t, err)
		assert.Equal(t, "caf\uFFFD talk", ss[1].Title)
		_, err = f.cur.FlagCluster(ctx, runID, 1, "bad\xff", "a", "")
		require.NoError(t, err)

		before := dump(t, db)
		huge := strings.Repeat("x", 20000)
		for name, op := range map[string]func() error{
			"title": func() error {
				_, err := f.cur.RenameCluster(ctx, runID, 1, curation.Rename{Title: huge}, "a", "")
				return err
			},
			"editor": func() error { _, err := f.cur.FlagCluster(ctx, runID, 1, "x", huge, ""); return err },
			"reason": func() error { _, err := f.cur.FlagCluster(ctx, runID, 1, "x", "a", huge); return err },
			"notes": func() error {
				_, err := f.cur.TagCluster(ctx, runID, 1, curation.Tag{Notes: &huge}, "a", "")
				return err
			},
			"flag": func() error {
				_, err := f.cur.TagCluster(ctx, runID, 1, curation.Tag{Flags: []string{huge}}, "a", "")
				return err
			},
		} {
			err := op()
			require.ErrorIs(t, err, lmsys.ErrInvalidInput, name)
			assert.ErrorContains(t, err, "characters", name)
		}
		assert.Equal(t, before, dump(t, db))
	})
}
