package curation_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/curation"
	"github.com/lmsys-go/lmsys/internal/testdb"
	"github.com/lmsys-go/lmsys/store"
	"github.com/stretchr/testify/require"
)

// bigRun stores a run of n queries in k clusters with a summary run and a two-level
// hierarchy (k leaves under k/10 parents), and returns the members of each cluster.
func bigRun(b *testing.B, db *store.DB, n, k int) map[int][]int64 {
	ctx := context.Background()
	ds, err := db.EnsureDataset(ctx, lmsys.Dataset{Name: "big"})
	require.NoError(b, err)
	qs := make([]lmsys.Query, n)
	for i := range qs {
		qs[i] = lmsys.Query{DatasetID: ds.ID, ConversationID: fmt.Sprint(i), Text: fmt.Sprintf("query number %d", i)}
	}
	_, err = db.InsertQueries(ctx, qs)
	require.NoError(b, err)
	require.NoError(b, db.CreateRun(ctx, lmsys.Run{ID: runID, Algorithm: "kmeans", NumClusters: k, Status: lmsys.RunCompleted}))
	members := map[int][]int64{}
	var as []lmsys.Assignment
	err = db.ScanQueries(ctx, lmsys.QueryFilter{}, 10000, func(batch []lmsys.Query) error {
		for _, q := range batch {
			c := int(q.ID) % k
			members[c] = append(members[c], q.ID)
			as = append(as, lmsys.Assignment{RunID: runID, QueryID: q.ID, ClusterID: c, Confidence: 1})
		}
		return nil
	})
	require.NoError(b, err)
	require.NoError(b, db.SaveAssignments(ctx, as))
	var ss []lmsys.Summary
	var nodes []lmsys.HierarchyNode
	parents := map[int][]int{}
	for c := 0; c < k; c++ {
		ss = append(ss, lmsys.Summary{RunID: runID, ClusterID: c, SummaryRunID: sumID, Title: fmt.Sprintf("cluster %d", c), NumQueries: len(members[c])})
		p := 1_000_000 + c/10
		parents[p] = append(parents[p], c)
		nodes = append(nodes, lmsys.HierarchyNode{HierarchyRunID: hierID, RunID: runID, ClusterID: c, ParentClusterID: &p, NumQueries: len(members[c])})
	}
	for p, ch := range parents {
		sum := 0
		for _, c := range ch {
			sum += len(members[c])
		}
		nodes = append(nodes, lmsys.HierarchyNode{HierarchyRunID: hierID, RunID: runID, ClusterID: p, Level: 1, ChildrenIDs: ch, NumQueries: sum})
	}
	require.NoError(b, db.SaveSummaries(ctx, ss))
	require.NoError(b, db.SaveHierarchy(ctx, nodes))
	return members
}

// BenchmarkMoveQuery times one audited move (with its hierarchy and summary count
// upkeep) in a run of 100,000 queries and 200 clusters, on SQLite.
func BenchmarkMoveQuery(b *testing.B) {
	db := testdb.SQLite(b)
	members := bigRun(b, db, 100_000, 200)
	cur := curation.New(db, curation.Options{})
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		q := members[0][i%len(members[0])]
		if _, err := cur.MoveQuery(ctx, runID, q, 1+i%2, "bench", ""); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMergeUndo times merging two clusters of 500 queries and undoing it, in a
// run of 100,000 queries and 200 clusters, on SQLite.
func BenchmarkMergeUndo(b *testing.B) {
	db := testdb.SQLite(b)
	bigRun(b, db, 100_000, 200)
	cur := curation.New(db, curation.Options{})
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := cur.MergeClusters(ctx, runID, []int{3}, 4, "bench", "")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := cur.Undo(ctx, runID, res.Edit.ID, "bench", ""); err != nil {
			b.Fatal(err)
		}
	}
}
