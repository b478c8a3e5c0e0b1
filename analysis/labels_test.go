package analysis_test

import (
	"context"
	"strings"
	"testing"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/analysis"
	"github.com/lmsys-go/lmsys/internal/testdb"
	"github.com/lmsys-go/lmsys/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// labelPlanted labels the planted queries: topic1 is refused three times in four,
// the rest complied with; two topic0 queries get no label at all.
func labelPlanted(t *testing.T, db *store.DB) {
	t.Helper()
	ctx := context.Background()
	run := lmsys.ClassificationRun{ID: "classify-refusal-test", TemplateID: "refusal@1", TemplateHash: "h", ResultKey: "builtin:refusal@1",
		Provider: "builtin", Model: "refusal", Facets: []string{"refusal"}}
	require.NoError(t, db.CreateClassificationRun(ctx, run))
	qs, err := db.ListQueries(ctx, lmsys.QueryFilter{})
	require.NoError(t, err)
	var ls []lmsys.Label
	skipped := 0
	for i, q := range qs {
		v := "complied"
		switch {
		case strings.HasPrefix(q.Text, "topic1 ") && i%4 != 0:
			v = "refused"
		case strings.HasPrefix(q.Text, "topic0 ") && skipped < 2:
			skipped++
			continue
		}
		ls = append(ls, lmsys.Label{QueryID: q.ID, Facet: "refusal", Value: v, ClassificationRunID: run.ID, ResultKey: run.ResultKey})
	}
	require.NoError(t, db.SaveLabels(ctx, ls))
}

func TestFacetsByLabel(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		runID := plant(t, db)
		labelPlanted(t, db)
		refusing := clusterOf(t, db, runID, 1)
		for _, by := range []string{"z", "lift", "count"} {
			fs, err := analysis.Facets(ctx, db, runID, analysis.FacetOptions{Fields: []string{"refusal"}, Sort: by})
			require.NoError(t, err, by)
			f := fs[0]
			overall := map[string]int64{}
			for _, v := range f.Overall {
				overall[v.Key] = v.Count
			}
			assert.Equal(t, map[string]int64{"refused": 60, "complied": 208, "(unlabelled)": 2}, overall, by)
			require.NotEmpty(t, f.OverRepresented, by)
			top := f.OverRepresented[0]
			if by == "count" {
				// The largest over-represented count is complied-with topic2; the refusals follow.
				for i := 1; i < len(f.OverRepresented); i++ {
					assert.GreaterOrEqual(t, f.OverRepresented[i-1].Count, f.OverRepresented[i].Count)
				}
				for _, l := range f.OverRepresented {
					if l.Value == "refused" {
						top = l
					}
				}
			}
			assert.Equal(t, refusing, top.ClusterID, "where does the assistant refuse? sort %s", by)
			assert.Equal(t, "refused", top.Value, by)
			assert.Equal(t, int64(60), top.Count)
			assert.Equal(t, int64(80), top.ClusterSize)
			assert.Greater(t, top.Z, 5.0)
		}
		_, err := analysis.Facets(ctx, db, runID, analysis.FacetOptions{Fields: []string{"refusal"}, Sort: "size"})
		require.ErrorIs(t, err, lmsys.ErrInvalidInput)
	})
}

func TestTrendsOfALabel(t *testing.T) {
	ctx := context.Background()
	db := testdb.SQLite(t)
	runID := plant(t, db)
	labelPlanted(t, db)
	refusing := clusterOf(t, db, runID, 1)
	rep, err := analysis.Trends(ctx, db, runID, analysis.TrendOptions{Label: "refusal=refused"})
	require.NoError(t, err)
	var total int64
	for _, n := range rep.Totals {
		total += n
	}
	assert.Equal(t, int64(60), total, "only refused queries are counted")
	for _, c := range rep.Clusters {
		if c.ClusterID != refusing {
			for _, p := range c.Periods {
				assert.Zero(t, p.Count, "cluster %d has no refusals", c.ClusterID)
			}
		}
	}
	for _, bad := range []string{"refusal", "=x", "refusal="} {
		_, err = analysis.Trends(ctx, db, runID, analysis.TrendOptions{Label: bad})
		require.ErrorIs(t, err, lmsys.ErrInvalidInput, bad)
	}
	_, err = analysis.Trends(ctx, db, runID, analysis.TrendOptions{Label: "pushback=objects"})
	require.ErrorIs(t, err, lmsys.ErrNotFound)
}

// TestLanguageFacetFallsBackToTheDetectedLanguage counts rows without a language
// column by the language classifier's label, named as the column names them.
func TestLanguageFacetFallsBackToTheDetectedLanguage(t *testing.T) {
	ctx := context.Background()
	db := testdb.SQLite(t)
	ds, err := db.EnsureDataset(ctx, lmsys.Dataset{Name: "d"})
	require.NoError(t, err)
	qs := []lmsys.Query{
		{DatasetID: ds.ID, ConversationID: "a", Text: "Привет", Language: "Russian"},
		{DatasetID: ds.ID, ConversationID: "b", Text: "Как дела"},
		{DatasetID: ds.ID, ConversationID: "c", Text: "hello"},
		{DatasetID: ds.ID, ConversationID: "d", Text: "..."},
	}
	_, err = db.InsertQueries(ctx, qs)
	require.NoError(t, err)
	all, err := db.ListQueries(ctx, lmsys.QueryFilter{})
	require.NoError(t, err)
	run := lmsys.Run{ID: "kmeans-1-20260101-000000", Algorithm: "kmeans", NumClusters: 1, Space: space, Status: lmsys.RunCompleted}
	require.NoError(t, db.CreateRun(ctx, run))
	var as []lmsys.Assignment
	for _, q := range all {
		as = append(as, lmsys.Assignment{RunID: run.ID, QueryID: q.ID})
	}
	require.NoError(t, db.SaveAssignments(ctx, as))
	cr := lmsys.ClassificationRun{ID: "classify-language-x", TemplateID: "language@1", TemplateHash: "h", ResultKey: "builtin:language@1",
		Provider: "builtin", Model: "language", Facets: []string{"language"}}
	require.NoError(t, db.CreateClassificationRun(ctx, cr))
	var ls []lmsys.Label
	for i, code := range []string{"ru", "ru", "en", "und"} {
		ls = append(ls, lmsys.Label{QueryID: all[i].ID, Facet: "language", Value: code, ClassificationRunID: cr.ID, ResultKey: cr.ResultKey})
	}
	require.NoError(t, db.SaveLabels(ctx, ls))
	fs, err := analysis.Facets(ctx, db, run.ID, analysis.FacetOptions{Fields: []string{"language"}})
	require.NoError(t, err)
	got := map[string]int64{}
	for _, v := range fs[0].Overall {
		got[v.Key] = v.Count
	}
	assert.Equal(t, map[string]int64{"Russian": 2, "English": 1, "unknown": 1}, got)
}

// TestFacetsOfAListFacet labels every planted query "en" and three topic1 queries in
// four "en, fr" under a run that records languages as a list facet: each item counts
// once per query, and sizes, totals and shares stay counts of queries.
func TestFacetsOfAListFacet(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		runID := plant(t, db)
		french := clusterOf(t, db, runID, 1)
		run := lmsys.ClassificationRun{ID: "classify-clio-test", TemplateID: "clio-1", TemplateHash: "h", ResultKey: "llm:clio",
			Provider: "openai", Model: "openai/x", Facets: []string{"languages"}, Parameters: map[string]any{lmsys.ListFacetsParameter: []string{"languages"}}}
		require.NoError(t, db.CreateClassificationRun(ctx, run))
		qs, err := db.ListQueries(ctx, lmsys.QueryFilter{})
		require.NoError(t, err)
		var ls []lmsys.Label
		for i, q := range qs {
			v := "en"
			if strings.HasPrefix(q.Text, "topic1 ") && i%4 != 0 {
				v = "en, fr"
			}
			ls = append(ls, lmsys.Label{QueryID: q.ID, Facet: "languages", Value: v, ClassificationRunID: run.ID, ResultKey: run.ResultKey})
		}
		require.NoError(t, db.SaveLabels(ctx, ls))

		fs, err := analysis.Facets(ctx, db, runID, analysis.FacetOptions{Fields: []string{"languages"}})
		require.NoError(t, err)
		f := fs[0]
		assert.True(t, f.List)
		assert.EqualValues(t, 270, f.Total, "queries, not items")
		assert.Equal(t, []analysis.FacetValue{{Key: "en", Count: 270, Share: 1}, {Key: "fr", Count: 60, Share: 60.0 / 270}}, f.Overall)
		var sum int64
		for _, c := range f.Clusters {
			sum += c.Size
			if c.ClusterID == french {
				assert.EqualValues(t, 80, c.Size)
				assert.Equal(t, []analysis.FacetValue{{Key: "en", Count: 80, Share: 1}, {Key: "fr", Count: 60, Share: 0.75}}, c.Values)
			}
		}
		assert.EqualValues(t, 270, sum, "cluster sizes are queries")
		require.NotEmpty(t, f.OverRepresented)
		top := f.OverRepresented[0]
		assert.Equal(t, french, top.ClusterID)
		assert.Equal(t, "fr", top.Value)
		assert.EqualValues(t, 60, top.Count)
		assert.InDelta(t, 0.75/(60.0/270), top.Lift, 1e-9)

		cond, args, err := analysis.LabelCondition(ctx, db, "languages=fr")
		require.NoError(t, err)
		var n int64
		require.NoError(t, db.Gorm().Raw(`SELECT COUNT(*) FROM queries q WHERE 1=1`+cond, args...).Row().Scan(&n))
		assert.EqualValues(t, 60, n)
		rep, err := analysis.Trends(ctx, db, runID, analysis.TrendOptions{Label: "languages=fr"})
		require.NoError(t, err)
		var total int64
		for _, n := range rep.Totals {
			total += n
		}
		assert.EqualValues(t, 60, total, "only queries whose list holds fr")
	})
}
