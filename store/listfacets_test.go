package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/internal/testdb"
	"github.com/lmsys-go/lmsys/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// listLabels are the stored labels of a list facet (languages) and of a plain one
// (note, free text that may hold ", ") for seeded queries 0…len-1: items shared
// across rows, an item that is a prefix ("English" of "Englishman") or a suffix
// ("English" of "Old English") of another, single-item lists, a different case, and
// the LIKE metacharacters % and _.
var listLabels = []struct{ languages, note string }{
	{"English, French", "a, b"},
	{"French", "a"},
	{"English", "b"},
	{"Old English, French", "a, b"},
	{"50%_off, a_b", "c"},
	{"50%, aXb", "c"},
	{"Englishman", "c"},
	{"english, French, German", "c"},
}

// seedListLabels stores listLabels under a run that records languages as a list
// facet, and clusters queries 0-3 as cluster 0 and the others as 1.
func seedListLabels(t *testing.T, db *store.DB, params map[string]any) (lmsys.ClassificationRun, string, []int64) {
	t.Helper()
	ctx := context.Background()
	_, ids := seed(t, db, len(listLabels)+1) // the last query has no label
	tpl := lmsys.ClassificationTemplate{ID: "clio-0123456789ab", Name: "clio", Source: "file", Hash: "h",
		Content: "name: clio\nfacets:\n  - {name: languages, type: list}\n  - {name: note, type: text}\n"}
	require.NoError(t, db.SaveTemplate(ctx, tpl))
	r := lmsys.ClassificationRun{ID: "classify-clio-1", TemplateID: tpl.ID, TemplateHash: tpl.Hash, ResultKey: "llm:clio@h",
		Provider: "fake", Model: "fake/model", Facets: []string{"note", "languages"}, Parameters: params, CreatedAt: time.Now().UTC()}
	require.NoError(t, db.CreateClassificationRun(ctx, r))
	var ls []lmsys.Label
	for i, l := range listLabels {
		ls = append(ls, lmsys.Label{QueryID: ids[i], Facet: "languages", Value: l.languages, ClassificationRunID: r.ID, ResultKey: r.ResultKey},
			lmsys.Label{QueryID: ids[i], Facet: "note", Value: l.note, ClassificationRunID: r.ID, ResultKey: r.ResultKey})
	}
	require.NoError(t, db.SaveLabels(ctx, ls))
	run := lmsys.Run{ID: "kmeans-2-20260101-000000", Algorithm: "kmeans", NumClusters: 2, Space: lmsys.Space{Provider: "local", Model: "lexical", Dims: 4}}
	require.NoError(t, db.CreateRun(ctx, run))
	var as []lmsys.Assignment
	for i, id := range ids {
		as = append(as, lmsys.Assignment{RunID: run.ID, QueryID: id, ClusterID: min(i/4, 1)})
	}
	require.NoError(t, db.SaveAssignments(ctx, as))
	return r, run.ID, ids
}

func TestListFacetCounts(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		r, runID, ids := seedListLabels(t, db, map[string]any{lmsys.ListFacetsParameter: []string{"languages"}})

		lists, err := db.ListFacets(ctx)
		require.NoError(t, err)
		assert.Equal(t, map[string]bool{"languages": true}, lists)
		for facet, want := range map[string]bool{"languages": true, "note": false, "nothing": false} {
			got, err := db.IsListFacet(ctx, facet)
			require.NoError(t, err)
			assert.Equal(t, want, got, facet)
		}

		all := []lmsys.Count{{Key: "French", Count: 4}, {Key: "English", Count: 2}, {Key: "50%", Count: 1}, {Key: "50%_off", Count: 1},
			{Key: "Englishman", Count: 1}, {Key: "German", Count: 1}, {Key: "Old English", Count: 1}, {Key: "aXb", Count: 1}, {Key: "a_b", Count: 1},
			{Key: "english", Count: 1}}
		cases := []struct {
			name    string
			filter  lmsys.LabelFilter
			want    []lmsys.Count
			queries int64
			list    bool
		}{
			{"every item once per query", lmsys.LabelFilter{Facet: "languages"}, all, 8, true},
			{"the run's result key", lmsys.LabelFilter{Facet: "languages", ResultKey: r.ResultKey}, all, 8, true},
			{"a cluster", lmsys.LabelFilter{Facet: "languages", RunID: runID, ClusterID: ptr(0)},
				[]lmsys.Count{{Key: "French", Count: 3}, {Key: "English", Count: 2}, {Key: "Old English", Count: 1}}, 4, true},
			{"some queries", lmsys.LabelFilter{Facet: "languages", QueryIDs: ids[1:2]}, []lmsys.Count{{Key: "French", Count: 1}}, 1, true},
			{"a plain facet keeps its labels whole", lmsys.LabelFilter{Facet: "note"},
				[]lmsys.Count{{Key: "c", Count: 4}, {Key: "a, b", Count: 2}, {Key: "a", Count: 1}, {Key: "b", Count: 1}}, 8, false},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				dist, err := db.LabelDistribution(ctx, tc.filter)
				require.NoError(t, err)
				assert.Equal(t, tc.want, dist.Counts)
				assert.Equal(t, tc.queries, dist.Queries)
				assert.Equal(t, tc.list, dist.List)
				counts, err := db.LabelCounts(ctx, tc.filter)
				require.NoError(t, err)
				assert.Equal(t, tc.want, counts)
			})
		}

		// A cluster's distributions match LabelCounts over the cluster.
		for cluster := range 2 {
			dists, err := db.ClusterLabelDistributions(ctx, runID, cluster)
			require.NoError(t, err)
			counts, err := db.ClusterLabelCounts(ctx, runID, cluster)
			require.NoError(t, err)
			for _, facet := range []string{"languages", "note"} {
				want, err := db.LabelDistribution(ctx, lmsys.LabelFilter{Facet: facet, RunID: runID, ClusterID: ptr(cluster)})
				require.NoError(t, err)
				assert.Equal(t, want, dists[facet], "cluster %d facet %s", cluster, facet)
				assert.Equal(t, want.Counts, counts[facet])
			}
		}

		// The stored labels stay as written, for export and display.
		ls, err := db.Labels(ctx, lmsys.LabelFilter{Facet: "languages", QueryIDs: ids[:1]})
		require.NoError(t, err)
		require.Len(t, ls, 1)
		assert.Equal(t, "English, French", ls[0].Value)
		facets, err := db.LabelFacets(ctx)
		require.NoError(t, err)
		assert.Equal(t, []lmsys.Count{{Key: "languages", Count: 8}, {Key: "note", Count: 8}}, facets, "labelled queries, not items")
	})
}

func TestListFacetFilters(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		_, runID, ids := seedListLabels(t, db, map[string]any{lmsys.ListFacetsParameter: []any{"languages"}})
		cases := []struct {
			label string
			want  []int // indexes into listLabels
		}{
			{"languages=English", []int{0, 2}},
			{"languages=French", []int{0, 1, 3, 7}},
			{"languages=Old English", []int{3}},
			{"languages=Englishman", []int{6}},
			{"languages=english", []int{7}},
			{"languages=Engl", nil},
			{"languages=glish", nil},
			{"languages=50%", []int{5}},
			{"languages=50%_off", []int{4}},
			{"languages=%", nil},
			{"languages=_", nil},
			{"languages=a_b", []int{4}},
			{"languages=aXb", []int{5}},
			{"languages=a%b", nil},
			{"languages=English, French", []int{0}},
			{"languages=French, English", nil},
			{"languages=Spanish", nil},
			{"note=a", []int{1}},
			{"note=a, b", []int{0, 3}},
			{"nothing=a", nil},
		}
		for _, tc := range cases {
			t.Run(tc.label, func(t *testing.T) {
				var want []int64
				for _, i := range tc.want {
					want = append(want, ids[i])
				}
				qs, err := db.ListQueries(ctx, lmsys.QueryFilter{Label: tc.label})
				require.NoError(t, err)
				var got []int64
				for _, q := range qs {
					got = append(got, q.ID)
				}
				assert.Equal(t, want, got)
				n, err := db.CountQueries(ctx, lmsys.QueryFilter{Label: tc.label, RunID: runID})
				require.NoError(t, err)
				assert.EqualValues(t, len(want), n)
				facet, value, err := lmsys.ParseLabel(tc.label)
				require.NoError(t, err)
				list, err := db.IsListFacet(ctx, facet)
				require.NoError(t, err)
				ls, err := db.Labels(ctx, lmsys.LabelFilter{Facet: facet})
				if facet == "nothing" {
					require.ErrorIs(t, err, lmsys.ErrNotFound)
					_, _, err = db.LabelMatch(ctx, facet, value)
					require.ErrorIs(t, err, lmsys.ErrNotFound)
					return
				}
				require.NoError(t, err)
				var inGo []int64
				for _, l := range ls {
					if lmsys.LabelMatches(l.Value, value, list) {
						inGo = append(inGo, l.QueryID)
					}
				}
				assert.Equal(t, want, inGo, "lmsys.LabelMatches agrees with the SQL")
			})
		}
	})
}

// A run recorded before runs named their list facets is read through its template.
func TestListFacetsFromTemplate(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		_, _, ids := seedListLabels(t, db, map[string]any{"owner": "x"})
		lists, err := db.ListFacets(ctx)
		require.NoError(t, err)
		assert.Equal(t, map[string]bool{"languages": true}, lists)
		counts, err := db.LabelCounts(ctx, lmsys.LabelFilter{Facet: "languages"})
		require.NoError(t, err)
		assert.Equal(t, lmsys.Count{Key: "French", Count: 4}, counts[0])
		n, err := db.CountQueries(ctx, lmsys.QueryFilter{Label: "languages=French"})
		require.NoError(t, err)
		assert.EqualValues(t, 4, n)

		// A newer configuration that is not a list is read whole.
		r := lmsys.ClassificationRun{ID: "classify-plain", TemplateID: "plain@1", TemplateHash: "p", ResultKey: "builtin:plain@1",
			Provider: "builtin", Model: "plain", Facets: []string{"languages"}, CreatedAt: time.Now().UTC().Add(time.Hour)}
		require.NoError(t, db.CreateClassificationRun(ctx, r))
		require.NoError(t, db.SaveLabels(ctx, []lmsys.Label{{QueryID: ids[0], Facet: "languages", Value: "English, French", ClassificationRunID: r.ID, ResultKey: r.ResultKey}}))
		lists, err = db.ListFacets(ctx)
		require.NoError(t, err)
		assert.Empty(t, lists)
		counts, err = db.LabelCounts(ctx, lmsys.LabelFilter{Facet: "languages"})
		require.NoError(t, err)
		assert.Equal(t, []lmsys.Count{{Key: "English, French", Count: 1}}, counts)
		n, err = db.CountQueries(ctx, lmsys.QueryFilter{Label: "languages=French"})
		require.NoError(t, err)
		assert.Zero(t, n)
	})
}

func TestListItemsAndLabelMatches(t *testing.T) {
	for _, tc := range []struct {
		label string
		items []string
	}{
		{"English, French", []string{"English", "French"}},
		{"French", []string{"French"}},
		{"a, a, b", []string{"a", "b"}},
		{"", []string{}},
		{"a,b", []string{"a,b"}},
	} {
		assert.Equal(t, tc.items, lmsys.ListItems(tc.label), tc.label)
	}
	assert.True(t, lmsys.LabelMatches("English, French", "French", true))
	assert.False(t, lmsys.LabelMatches("English, French", "French", false))
	assert.False(t, lmsys.LabelMatches("Old English", "English", true))
	assert.True(t, lmsys.LabelMatches("English, French", "English, French", true))
	assert.False(t, lmsys.LabelMatches("French, English", "English, French", true))
	assert.Equal(t, []string{"a"}, lmsys.ClassificationRun{Parameters: map[string]any{lmsys.ListFacetsParameter: []any{"a", 1}}}.ListFacets())
	assert.Nil(t, lmsys.ClassificationRun{}.ListFacets())
}
