package analysis_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/analysis"
	"github.com/lmsys-go/lmsys/clustering"
	"github.com/lmsys-go/lmsys/internal/testdb"
	"github.com/lmsys-go/lmsys/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var space = lmsys.Space{Provider: "test", Model: "topics", Dims: 4}

// topicEmbedder embeds "topic<N> …" near axis N, with a little noise from the text.
type topicEmbedder struct{}

func (topicEmbedder) Space() lmsys.Space { return space }

func (topicEmbedder) Embed(_ context.Context, texts []string, _ lmsys.Purpose) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i, t := range texts {
		var axis int
		fmt.Sscanf(t, "topic%d", &axis)
		rng := rand.New(rand.NewPCG(uint64(len(t)), uint64(t[len(t)-1])))
		v := make([]float32, space.Dims)
		for j := range v {
			v[j] = float32(rng.NormFloat64() * 0.05)
		}
		v[axis] += 1
		out[i] = v
	}
	return out, nil
}

// plant loads 3 topics: topic0 all German, topic2 growing week over week through
// September 2026, then clusters them with k = 3.
func plant(t *testing.T, db *store.DB) string {
	t.Helper()
	ctx := context.Background()
	var qs []lmsys.Query
	add := func(ds lmsys.Dataset, topic, n int, week int, lang string) {
		for i := 0; i < n; i++ {
			ts := time.Date(2026, 9, 1+7*week, 10, i%60, 0, 0, time.UTC)
			text := fmt.Sprintf("topic%d question %s %d %d", topic, ds.Name, week, i)
			qs = append(qs, lmsys.Query{DatasetID: ds.ID, ConversationID: text, Text: text, Language: lang, Timestamp: &ts,
				Model: "m", Metadata: map[string]any{"flagged": topic == 1}})
		}
	}
	a, err := db.EnsureDataset(ctx, lmsys.Dataset{Name: "a"})
	require.NoError(t, err)
	for week := 0; week < 4; week++ {
		add(a, 0, 20, week, "German")
		add(a, 1, 20, week, "English")
		add(a, 2, 5+15*week, week, "English")
	}
	_, err = db.InsertQueries(ctx, qs)
	require.NoError(t, err)
	all, err := db.ListQueries(ctx, lmsys.QueryFilter{})
	require.NoError(t, err)
	texts := make([]string, len(all))
	for i, q := range all {
		texts[i] = q.Text
	}
	vecs, _ := topicEmbedder{}.Embed(ctx, texts, lmsys.PurposeClustering)
	m := map[string][]float32{}
	for i, tx := range texts {
		m[lmsys.TextHash(tx)] = vecs[i]
	}
	require.NoError(t, db.PutEmbeddings(ctx, space, m))
	run, err := clustering.Run(ctx, db, clustering.RunSpec{Algorithm: "kmeans", K: 3, Space: space,
		Clusterer: &clustering.KMeans{K: 3, Seed: 3, Spherical: true, NInit: 3}})
	require.NoError(t, err)
	return run.ID
}

// clusterOf returns the cluster holding the queries of a topic.
func clusterOf(t *testing.T, db *store.DB, runID string, topic int) int {
	qs, err := db.ListQueries(context.Background(), lmsys.QueryFilter{Contains: fmt.Sprintf("topic%d ", topic), Limit: 1})
	require.NoError(t, err)
	as, err := db.Assignments(context.Background(), runID, nil)
	require.NoError(t, err)
	for _, a := range as {
		if a.QueryID == qs[0].ID {
			return a.ClusterID
		}
	}
	t.Fatalf("topic %d not assigned", topic)
	return -1
}

func TestFacets(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		runID := plant(t, db)
		german := clusterOf(t, db, runID, 0)
		fs, err := analysis.Facets(ctx, db, runID, analysis.FacetOptions{Fields: []string{"language", "flagged", "dataset"}})
		require.NoError(t, err)
		require.Len(t, fs, 3)
		lang := fs[0]
		assert.Equal(t, int64(80+80+5+20+35+50), lang.Total)
		require.NotEmpty(t, lang.OverRepresented)
		top := lang.OverRepresented[0]
		assert.Equal(t, german, top.ClusterID)
		assert.Equal(t, "German", top.Value)
		assert.Equal(t, int64(80), top.Count)
		assert.InDelta(t, 1.0, top.Share, 1e-9)
		assert.Greater(t, top.Lift, 2.0)
		flagged := fs[1]
		assert.Equal(t, "flagged", flagged.Field)
		keys := map[string]int64{}
		for _, v := range flagged.Overall {
			keys[v.Key] = v.Count
		}
		assert.Equal(t, int64(80), keys["1"]+keys["true"], "metadata booleans are facets too: %v", keys)
		assert.Equal(t, "a", fs[2].Overall[0].Key)

		one, err := analysis.Facets(ctx, db, runID, analysis.FacetOptions{Fields: []string{"language"}, ClusterID: &german})
		require.NoError(t, err)
		require.Len(t, one[0].Clusters, 1)
		assert.Equal(t, german, one[0].Clusters[0].ClusterID)

		_, err = analysis.Facets(ctx, db, runID, analysis.FacetOptions{Fields: []string{"x'); DROP TABLE queries; --"}})
		assert.ErrorIs(t, err, lmsys.ErrInvalidInput)
		_, err = analysis.Facets(ctx, db, "no-run", analysis.FacetOptions{})
		assert.ErrorIs(t, err, lmsys.ErrNotFound)
	})
}

func TestTrendsAndCompare(t *testing.T) {
	ctx := context.Background()
	db := testdb.SQLite(t)
	runID := plant(t, db)
	growing := clusterOf(t, db, runID, 2)
	rep, err := analysis.Trends(ctx, db, runID, analysis.TrendOptions{Period: analysis.Week})
	require.NoError(t, err)
	require.Len(t, rep.Periods, 4)
	for _, c := range rep.Clusters {
		if c.ClusterID != growing {
			continue
		}
		for i := 1; i < len(c.Periods); i++ {
			assert.Greater(t, c.Periods[i].Share, c.Periods[i-1].Share, "the planted topic grows every week")
		}
	}
	first, last := rep.Periods[0], rep.Periods[3]
	cmp, err := analysis.ComparePeriods(ctx, db, runID, first, last, analysis.TrendOptions{})
	require.NoError(t, err)
	require.NotEmpty(t, cmp.Risers)
	assert.Equal(t, growing, cmp.Risers[0].ClusterID)
	assert.Less(t, cmp.Risers[0].P, 0.001)
	assert.Len(t, cmp.Fallers, 2)

	_, err = analysis.ComparePeriods(ctx, db, runID, "2026-09", "2026-W40", analysis.TrendOptions{})
	assert.ErrorIs(t, err, lmsys.ErrInvalidInput)
	_, err = analysis.ComparePeriods(ctx, db, runID, "September", "2026-10", analysis.TrendOptions{})
	assert.ErrorIs(t, err, lmsys.ErrInvalidInput)
	_, err = analysis.Trends(ctx, db, runID, analysis.TrendOptions{Period: "fortnight"})
	assert.ErrorIs(t, err, lmsys.ErrInvalidInput)
	_, err = analysis.Trends(ctx, db, runID, analysis.TrendOptions{Field: "no_such_key"})
	assert.ErrorIs(t, err, analysis.ErrNoTimestamps)
	assert.Contains(t, err.Error(), "--compare-datasets")
}

func TestCompareDatasetsAndNoTimestamps(t *testing.T) {
	ctx := context.Background()
	db := testdb.SQLite(t)
	runID := plant(t, db)
	// A second dataset without timestamps, all about topic 1, assigned late.
	b, err := db.EnsureDataset(ctx, lmsys.Dataset{Name: "b"})
	require.NoError(t, err)
	var qs []lmsys.Query
	for i := 0; i < 30; i++ {
		text := fmt.Sprintf("topic1 later question %d", i)
		qs = append(qs, lmsys.Query{DatasetID: b.ID, ConversationID: text, Text: text})
	}
	_, err = db.InsertQueries(ctx, qs)
	require.NoError(t, err)
	res, err := analysis.Assign(ctx, db, runID, topicEmbedder{}, analysis.AssignOptions{Filter: lmsys.QueryFilter{Dataset: "b"}, Percentile: 0.999})
	require.NoError(t, err)
	assert.Equal(t, 30, res.Assigned+res.NotFitting)
	assert.GreaterOrEqual(t, res.Assigned, 28, "queries of a known topic fit")
	cmp, err := analysis.CompareDatasets(ctx, db, runID, "a", "b", analysis.TrendOptions{})
	require.NoError(t, err)
	assert.Equal(t, int64(res.Assigned), cmp.TotalB)
	require.NotEmpty(t, cmp.Risers)
	assert.Equal(t, clusterOf(t, db, runID, 1), cmp.Risers[0].ClusterID)
	_, err = analysis.CompareDatasets(ctx, db, runID, "a", "nope", analysis.TrendOptions{})
	assert.ErrorIs(t, err, lmsys.ErrEmpty)
}

func TestAssignFindsNewTopic(t *testing.T) {
	ctx := context.Background()
	db := testdb.SQLite(t)
	runID := plant(t, db)
	nd, err := db.EnsureDataset(ctx, lmsys.Dataset{Name: "new"})
	require.NoError(t, err)
	var qs []lmsys.Query
	for i := 0; i < 12; i++ {
		for _, topic := range []int{0, 3} { // topic3 is new: its axis no cluster covers
			text := fmt.Sprintf("topic%d new question %d", topic, i)
			qs = append(qs, lmsys.Query{DatasetID: nd.ID, ConversationID: text, Text: text})
		}
	}
	_, err = db.InsertQueries(ctx, qs)
	require.NoError(t, err)
	res, err := analysis.Assign(ctx, db, runID, topicEmbedder{}, analysis.AssignOptions{Filter: lmsys.QueryFilter{Dataset: "new"}})
	require.NoError(t, err)
	assert.Equal(t, 24, res.Assigned+res.NotFitting)
	assert.GreaterOrEqual(t, res.Assigned, 10, "most queries of a known topic fit (the threshold is the run's 95th percentile)")
	require.Len(t, res.Clusters, 1)
	assert.Equal(t, clusterOf(t, db, runID, 0), res.Clusters[0].ClusterID)
	require.Len(t, res.Candidates, 1)
	assert.GreaterOrEqual(t, res.Candidates[0].Size, 12)
	assert.True(t, strings.HasPrefix(res.Candidates[0].Examples[0], "topic3"))
	newTopic, err := db.ListQueries(ctx, lmsys.QueryFilter{Contains: "topic3 "})
	require.NoError(t, err)
	for _, q := range newTopic {
		as, err := db.Assignments(ctx, runID, ptr(-1))
		require.NoError(t, err)
		found := false
		for _, a := range as {
			found = found || a.QueryID == q.ID
		}
		assert.True(t, found, "every query of the unseen topic is marked as not fitting")
	}

	as, err := db.Assignments(ctx, runID, nil)
	require.NoError(t, err)
	late := 0
	for _, a := range as {
		if a.Late {
			late++
		}
	}
	assert.Equal(t, 24, late, "assigned queries are marked late")

	again, err := analysis.Assign(ctx, db, runID, topicEmbedder{}, analysis.AssignOptions{Filter: lmsys.QueryFilter{Dataset: "new"}})
	require.NoError(t, err)
	assert.Equal(t, 0, again.Assigned+again.NotFitting, "re-running assigns nothing twice")
	assert.Equal(t, 24, again.Skipped)

	_, err = analysis.Assign(ctx, db, runID, wrongSpace{}, analysis.AssignOptions{})
	assert.ErrorIs(t, err, lmsys.ErrSpaceMismatch)
}

type wrongSpace struct{ topicEmbedder }

func (wrongSpace) Space() lmsys.Space { return lmsys.Space{Provider: "x", Model: "y", Dims: 4} }

func ptr[T any](v T) *T { return &v }
