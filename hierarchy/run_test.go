package hierarchy_test

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"testing"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/hierarchy"
	"github.com/lmsys-go/lmsys/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// seedStore writes a run of 12 clusters over three planted topics: queries,
// assignments, centroids and (when summarise is set) a summary run.
func seedStore(t *testing.T, summarise bool) *store.DB {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{Path: filepath.Join(t.TempDir(), "q.db")})
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	ds, err := db.EnsureDataset(ctx, lmsys.Dataset{Name: "ds", Source: "test"})
	require.NoError(t, err)
	topics := []string{"recipe cooking dinner", "weather forecast rain", "email inbox send"}
	var qs []lmsys.Query
	for c := 0; c < 12; c++ {
		for i := 0; i <= c%4+2; i++ {
			qs = append(qs, lmsys.Query{DatasetID: ds.ID, ConversationID: fmt.Sprintf("c%d-%d", c, i),
				Text: fmt.Sprintf("%s question %d variant%d", topics[c%3], c, i)})
		}
	}
	_, err = db.InsertQueries(ctx, qs)
	require.NoError(t, err)
	stored, err := db.ListQueries(ctx, lmsys.QueryFilter{})
	require.NoError(t, err)
	run := lmsys.Run{ID: "kmeans-12-20261127-050000", Algorithm: "kmeans", NumClusters: 12, Space: lmsys.Space{Provider: "test", Model: "t", Dims: 3}}
	require.NoError(t, db.CreateRun(ctx, run))
	var as []lmsys.Assignment
	c, n := 0, 0
	for _, q := range stored {
		as = append(as, lmsys.Assignment{RunID: run.ID, QueryID: q.ID, ClusterID: c})
		n++
		if n > c%4+2 {
			c, n = c+1, 0
		}
	}
	require.NoError(t, db.SaveAssignments(ctx, as))
	cents := map[int][]float32{}
	for c := 0; c < 12; c++ {
		v := []float32{0.1, 0.1, 0.1}
		v[c%3] = 1
		cents[c] = v
	}
	require.NoError(t, db.SaveCentroids(ctx, run.ID, cents))
	require.NoError(t, db.FinishRun(ctx, run.ID, lmsys.RunCompleted, "", len(as)))
	if summarise {
		require.NoError(t, db.SaveSummaryRun(ctx, lmsys.SummaryRun{SummaryRunID: "summary-x-1", RunID: run.ID, Model: "offline"}))
		var ss []lmsys.Summary
		for c := 0; c < 12; c++ {
			ss = append(ss, lmsys.Summary{RunID: run.ID, ClusterID: c, SummaryRunID: "summary-x-1", Title: fmt.Sprintf("%s topic %d", topics[c%3], c),
				Description: "About " + topics[c%3], Keywords: []string{topics[c%3]}, Model: "offline"})
		}
		require.NoError(t, db.SaveSummaries(ctx, ss))
	}
	return db
}

func TestRunSavesHierarchy(t *testing.T) {
	for _, summarise := range []bool{true, false} {
		t.Run(fmt.Sprintf("summaries=%v", summarise), func(t *testing.T) {
			ctx := context.Background()
			db := seedStore(t, summarise)
			res, err := hierarchy.Run(ctx, db, "kmeans-12-20261127-050000", hierarchy.Options{TargetLevels: 2, TopClusters: 3})
			require.NoError(t, err)
			got, err := db.Hierarchy(ctx, res.Report.HierarchyRunID)
			require.NoError(t, err)
			require.NoError(t, hierarchy.Validate(got))
			assert.Len(t, got, 15)
			total := 0
			for _, n := range got {
				if n.Level == 1 {
					total += n.NumQueries
					// Each parent holds one planted topic (cluster ids ≡ mod 3).
					for _, c := range n.ChildrenIDs {
						assert.Equal(t, n.ChildrenIDs[0]%3, c%3, "%s: %v", n.Title, n.ChildrenIDs)
					}
				}
			}
			assert.Equal(t, res.Report.NumQueries, total)
			ids, err := db.Hierarchies(ctx, "kmeans-12-20261127-050000")
			require.NoError(t, err)
			assert.Equal(t, []string{res.Report.HierarchyRunID}, ids)
		})
	}
}

func TestRunErrors(t *testing.T) {
	ctx := context.Background()
	db := seedStore(t, false)
	_, err := hierarchy.Run(ctx, db, "nope", hierarchy.Options{})
	assert.ErrorIs(t, err, lmsys.ErrNotFound)
	_, err = hierarchy.Run(ctx, db, "kmeans-12-20261127-050000", hierarchy.Options{SummaryRun: "missing"})
	assert.ErrorIs(t, err, lmsys.ErrNotFound)
	ids, err := db.Hierarchies(ctx, "")
	require.NoError(t, err)
	assert.Empty(t, ids, "nothing saved on failure")
}

func TestRunRecordsReport(t *testing.T) {
	ctx := context.Background()
	db := seedStore(t, true)
	runID := "kmeans-12-20261127-050000"
	res, err := hierarchy.Run(ctx, db, runID, hierarchy.Options{TargetLevels: 2, MergeRatio: 0.5})
	require.NoError(t, err)
	rec, err := db.HierarchyRun(ctx, res.Report.HierarchyRunID)
	require.NoError(t, err)
	assert.Equal(t, res.Report.Method, rec.Method)
	assert.Equal(t, runID, rec.RunID)
	assert.Equal(t, float64(res.Report.Leaves), rec.Report["leaves"])
	assert.NotEmpty(t, rec.Parameters)
}

func TestLoadLeavesSamplesTexts(t *testing.T) {
	ctx := context.Background()
	db := seedStore(t, true)
	runID := "kmeans-12-20261127-050000"
	leaves, err := hierarchy.LoadLeaves(ctx, db, runID, "", true)
	require.NoError(t, err)
	require.Len(t, leaves, 12)
	for _, l := range leaves {
		// Cluster c holds c%4+3 queries "… question c variantI".
		require.Len(t, l.Texts, l.ClusterID%4+3, "cluster %d", l.ClusterID)
		assert.Equal(t, l.Size, len(l.Texts))
		seen := map[string]bool{}
		for _, tx := range l.Texts {
			assert.Contains(t, tx, fmt.Sprintf("question %d variant", l.ClusterID))
			assert.False(t, seen[tx], "distinct texts")
			seen[tx] = true
		}
		assert.Contains(t, l.Title, "topic", "the summary's title is kept")
	}
	// Leaves for the LLM merge need no sample.
	leaves, err = hierarchy.LoadLeaves(ctx, db, runID, "", false)
	require.NoError(t, err)
	for _, l := range leaves {
		assert.Nil(t, l.Texts)
	}
	// The offline merge of the loaded leaves records the sampled text weight.
	res, err := hierarchy.Run(ctx, db, runID, hierarchy.Options{TargetLevels: 2, TopClusters: 3})
	require.NoError(t, err)
	assert.Equal(t, hierarchy.SampledTextWeight, res.Report.Parameters["text_weight"])
}

// TestRecordRefusesNaN checks that a report without a JSON form (a NaN figure) is an
// error naming the hierarchy run, not a record with an empty report.
func TestRecordRefusesNaN(t *testing.T) {
	rec, err := hierarchy.Report{HierarchyRunID: "hier-x", RunID: "run-x", Seconds: 1.5}.Record()
	require.NoError(t, err)
	assert.Equal(t, 1.5, rec.Report["seconds"])
	_, err = hierarchy.Report{HierarchyRunID: "hier-x", Seconds: math.NaN()}.Record()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "hier-x")
}
