package search_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/curation"
	"github.com/lmsys-go/lmsys/embed"
	"github.com/lmsys-go/lmsys/internal/testdb"
	"github.com/lmsys-go/lmsys/search"
	"github.com/lmsys-go/lmsys/semantic"
	"github.com/lmsys-go/lmsys/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The test space: the lexical embedder is deterministic, offline and fast.
var space = lmsys.Space{Provider: "local", Model: "lexical", Dims: 128}

const (
	runID = "kmeans-3-20260101-000000"
	sumID = "summary-test-20260101-000000"
)

// topics are the fixture's clusters: each query text says what it is about.
var topics = []struct {
	title, description string
	texts              []string
}{
	{"Python programming", "Writing and debugging Python code", []string{
		"how do I reverse a list in python", "python list comprehension with condition", "python dictionary sort by value",
		"fix python indentation error", "python read csv file into list", "python class inheritance example",
		"install python package with pip", "python list append vs extend"}},
	{"SQL databases", "Writing SQL queries and designing database schemas", []string{
		"sql join two tables on id", "sql query group by count", "postgres database index slow query",
		"sql left join vs inner join", "create table sql primary key", "sql query to find duplicate rows",
		"database normalization sql schema", "mysql database backup command"}},
	{"Cooking recipes", "Recipes and cooking advice", []string{
		"easy chocolate cake recipe", "how long to boil an egg", "vegetarian pasta recipe for dinner",
		"bread recipe without yeast", "how to cook rice in a pot", "chicken curry recipe spicy",
		"pancake recipe with milk", "best way to roast vegetables recipe"}},
}

type fixture struct {
	db      *store.DB
	idx     *semantic.Index
	idxDir  string
	svc     *search.Service
	members map[int][]int64 // cluster → query ids
	cluster map[int64]int
}

// newFixture loads the topics as one run of three clusters in space, with cached
// vectors, centroids and one summary run, and a Service over a fresh on-disk index.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	return newFixtureOn(t, testdb.SQLite(t))
}

func newFixtureOn(t *testing.T, db *store.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{db: db, members: map[int][]int64{}, cluster: map[int64]int{}}
	ds, err := db.EnsureDataset(ctx, lmsys.Dataset{Name: "demo"})
	require.NoError(t, err)
	var qs []lmsys.Query
	for c, tp := range topics {
		for i, text := range tp.texts {
			qs = append(qs, lmsys.Query{DatasetID: ds.ID, ConversationID: fmt.Sprintf("c%d-%d", c, i), Text: text,
				Model: []string{"gpt-4", "llama-2"}[i%2], Language: []string{"English", "English", "German"}[i%3]})
		}
	}
	_, err = db.InsertQueries(ctx, qs)
	require.NoError(t, err)
	stored, err := db.ListQueries(ctx, lmsys.QueryFilter{})
	require.NoError(t, err)
	e, err := embed.Open(space.Name(), embed.WithDims(space.Dims))
	require.NoError(t, err)
	texts := make([]string, len(stored))
	for i, q := range stored {
		texts[i] = q.Text
	}
	_, err = embed.Cached(e, db).Embed(ctx, texts, lmsys.PurposeClustering)
	require.NoError(t, err)
	require.NoError(t, db.CreateRun(ctx, lmsys.Run{ID: runID, Algorithm: "kmeans", NumClusters: 3, Space: space, Status: lmsys.RunCompleted}))
	var as []lmsys.Assignment
	for i, q := range stored {
		c := i / 8
		as = append(as, lmsys.Assignment{RunID: runID, QueryID: q.ID, ClusterID: c, Confidence: 1})
		f.members[c] = append(f.members[c], q.ID)
		f.cluster[q.ID] = c
	}
	require.NoError(t, db.SaveAssignments(ctx, as))
	cents := map[int][]float32{}
	for c := range topics {
		v := make([]float32, space.Dims)
		v[c] = 1
		cents[c] = v
	}
	require.NoError(t, db.SaveCentroids(ctx, runID, cents))
	var ss []lmsys.Summary
	gen := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for c, tp := range topics {
		ss = append(ss, lmsys.Summary{RunID: runID, ClusterID: c, SummaryRunID: sumID, Alias: "v1", Title: tp.title,
			Description: tp.description, NumQueries: 8, Model: "test", GeneratedAt: gen})
	}
	require.NoError(t, db.SaveSummaries(ctx, ss))
	f.idxDir = t.TempDir()
	f.idx, err = semantic.OpenIndex(ctx, semantic.IndexOptions{Dir: f.idxDir})
	require.NoError(t, err)
	f.svc = search.New(db, f.idx, search.Options{})
	return f
}

// keys returns the sorted keys of a JSON object.
func keys(t *testing.T, v any) []string {
	t.Helper()
	m, ok := v.(map[string]any)
	require.True(t, ok, "not an object: %v", v)
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func toJSON(t *testing.T, v any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	return m
}

func TestSearchClusters(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tests := []struct {
		text string
		want string
	}{
		{"sql join query", "SQL databases"},
		{"python list", "Python programming"},
		{"cake recipe", "Cooking recipes"},
	}
	for _, tc := range tests {
		t.Run(tc.text, func(t *testing.T) {
			res, err := f.svc.SearchClusters(ctx, tc.text, search.ClusterSearchOptions{RunID: runID})
			require.NoError(t, err)
			require.Len(t, res.Results, 3)
			assert.Equal(t, tc.want, res.Results[0].Title)
			assert.Equal(t, 8, res.Results[0].NumQueries)
			for i := 1; i < len(res.Results); i++ {
				assert.LessOrEqual(t, res.Results[i-1].Distance, res.Results[i].Distance)
			}
		})
	}
	res, err := f.svc.SearchClusters(ctx, "sql join", search.ClusterSearchOptions{RunID: runID, TopK: 1, SummaryRef: "v1"})
	require.NoError(t, err)
	m := toJSON(t, res)
	assert.Equal(t, []string{"results", "run_id", "text"}, keys(t, m))
	rs := m["results"].([]any)
	require.Len(t, rs, 1)
	assert.Equal(t, []string{"cluster_id", "description", "distance", "num_queries", "title"}, keys(t, rs[0]))
	assert.Equal(t, "sql join", m["text"])
	assert.Equal(t, runID, m["run_id"])
}

func TestSearchClustersOlderSummaryRun(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	// A newer summary run renames everything; the old one stays searchable by alias.
	var ss []lmsys.Summary
	for c := range topics {
		ss = append(ss, lmsys.Summary{RunID: runID, ClusterID: c, SummaryRunID: "summary-new", Title: fmt.Sprintf("Topic %d", c),
			Description: "renamed", NumQueries: 8, GeneratedAt: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)})
	}
	require.NoError(t, f.db.SaveSummaries(ctx, ss))
	res, err := f.svc.SearchClusters(ctx, "recipe cake", search.ClusterSearchOptions{RunID: runID, SummaryRef: "v1"})
	require.NoError(t, err)
	assert.Equal(t, "Cooking recipes", res.Results[0].Title)
	latest, err := f.svc.SearchClusters(ctx, "topic", search.ClusterSearchOptions{RunID: runID})
	require.NoError(t, err)
	assert.Contains(t, latest.Results[0].Title, "Topic")
	rep, err := f.svc.Verify(ctx, runID, false)
	require.NoError(t, err)
	assert.True(t, rep.InSync, "%+v", rep)
	assert.Equal(t, "summary-new", rep.SummaryRunID)
}

func TestSearchQueriesShapeAndRestrictions(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tests := []struct {
		name         string
		opts         search.QuerySearchOptions
		text         string
		allowed      []int // clusters results may come from
		applied      []int
		wantFacets   []string
		appliedDists bool
	}{
		{name: "whole run", text: "python list", opts: search.QuerySearchOptions{NResults: 5}, allowed: []int{0, 1, 2}},
		{name: "within clusters", text: "join", opts: search.QuerySearchOptions{WithinClusters: "sql database", TopClusters: 1,
			Facets: []string{"cluster", "language", "model"}}, allowed: []int{1}, applied: []int{1},
			wantFacets: []string{"clusters", "language", "model"}, appliedDists: true},
		{name: "cluster ids", text: "recipe", opts: search.QuerySearchOptions{ClusterIDs: []int{2, 0}, NResults: 50},
			allowed: []int{0, 2}, applied: []int{2, 0}, appliedDists: true},
		{name: "by cluster", text: "python", opts: search.QuerySearchOptions{By: "cluster", NResults: 24}, allowed: []int{0, 1, 2},
			wantFacets: []string{"clusters"}},
		{name: "fulltext in cluster", text: "recipe", opts: search.QuerySearchOptions{Mode: search.ModeFullText, ClusterIDs: []int{2}},
			allowed: []int{2}, applied: []int{2}},
		{name: "hybrid within", text: "sql query", opts: search.QuerySearchOptions{Mode: search.ModeHybrid, WithinClusters: "databases", TopClusters: 1,
			Facets: []string{"language"}}, allowed: []int{1}, applied: []int{1}, wantFacets: []string{"language"}, appliedDists: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.RunID = runID
			res, err := f.svc.SearchQueries(ctx, tc.text, tc.opts)
			require.NoError(t, err)
			require.NotEmpty(t, res.Results)
			m := toJSON(t, res)
			assert.Equal(t, []string{"applied_clusters", "facets", "results", "run_id", "text"}, keys(t, m))
			assert.Equal(t, []string{"cluster_id", "distance", "language", "model", "query_id", "snippet"}, keys(t, m["results"].([]any)[0]))
			wantFacets := tc.wantFacets
			if wantFacets == nil {
				wantFacets = []string{}
			}
			assert.Equal(t, wantFacets, keys(t, m["facets"]))
			var applied []int
			for i, a := range m["applied_clusters"].([]any) {
				assert.Equal(t, []string{"cluster_id", "description", "distance", "num_queries", "title"}, keys(t, a))
				applied = append(applied, res.AppliedClusters[i].ClusterID)
				assert.Equal(t, tc.appliedDists, res.AppliedClusters[i].Distance != nil)
				assert.Equal(t, topics[res.AppliedClusters[i].ClusterID].title, res.AppliedClusters[i].Title)
			}
			assert.Equal(t, tc.applied, applied)
			for _, h := range res.Results {
				require.NotNil(t, h.ClusterID)
				assert.Contains(t, tc.allowed, *h.ClusterID, "query %d", h.QueryID)
				assert.Equal(t, f.cluster[h.QueryID], *h.ClusterID, "cluster joined from the store")
				assert.GreaterOrEqual(t, h.Distance, float32(0))
				assert.NotEmpty(t, h.Snippet)
			}
			if tc.opts.Mode == "" {
				for i := 1; i < len(res.Results); i++ {
					assert.LessOrEqual(t, res.Results[i-1].Distance, res.Results[i].Distance)
				}
			}
			if res.Facets.Clusters != nil {
				var sum int64
				for _, c := range res.Facets.Clusters {
					sum += c.Count
					assert.Equal(t, topics[c.ClusterID].title, c.Meta.Title)
				}
				assert.Equal(t, int64(len(res.Results)), sum)
			}
			if res.Facets.Language != nil {
				var sum int64
				for _, c := range res.Facets.Language {
					sum += c.Count
				}
				assert.Equal(t, int64(len(res.Results)), sum)
			}
		})
	}
}

func TestSearchQueriesSemanticFindsTopic(t *testing.T) {
	f := newFixture(t)
	res, err := f.svc.SearchQueries(context.Background(), "python list", search.QuerySearchOptions{RunID: runID, NResults: 3})
	require.NoError(t, err)
	require.Len(t, res.Results, 3)
	for _, h := range res.Results {
		assert.Equal(t, 0, *h.ClusterID, h.Snippet)
	}
}

func TestFullTextAndHybrid(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	// Full text needs no run and no index.
	res, err := f.svc.SearchQueries(ctx, "recipe", search.QuerySearchOptions{Mode: search.ModeFullText, Facets: []string{"model"}})
	require.NoError(t, err)
	require.Len(t, res.Results, 6)
	assert.Equal(t, "", res.RunID)
	assert.Equal(t, float32(0), res.Results[0].Distance)
	for _, h := range res.Results {
		assert.Contains(t, h.Snippet, "recipe")
		assert.Nil(t, h.ClusterID)
		assert.GreaterOrEqual(t, h.Distance, float32(0))
		assert.LessOrEqual(t, h.Distance, float32(1))
	}
	assert.Nil(t, toJSON(t, res)["results"].([]any)[0].(map[string]any)["cluster_id"])
	count, err := f.idx.Count(ctx, space.Collection(search.KindQueries))
	assert.True(t, errors.Is(err, lmsys.ErrNotFound), "full text must not build the index (count %d)", count)

	// Hybrid: exact-word matches and semantic neighbours, fused.
	hy, err := f.svc.SearchQueries(ctx, "sql join", search.QuerySearchOptions{RunID: runID, Mode: search.ModeHybrid, NResults: 5})
	require.NoError(t, err)
	require.Len(t, hy.Results, 5)
	assert.Contains(t, hy.Results[0].Snippet, "join")
	for _, h := range hy.Results {
		assert.GreaterOrEqual(t, h.Distance, float32(0))
		assert.LessOrEqual(t, h.Distance, float32(2))
	}
	sem, err := f.svc.SearchQueries(ctx, "sql join", search.QuerySearchOptions{RunID: runID, NResults: 24})
	require.NoError(t, err)
	semDist := map[int64]float32{}
	for _, h := range sem.Results {
		semDist[h.QueryID] = h.Distance
	}
	for _, h := range hy.Results {
		assert.InDelta(t, semDist[h.QueryID], h.Distance, 1e-4, "hybrid reports the cosine distance of query %d", h.QueryID)
	}
}

func TestSearchErrors(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tests := []struct {
		name string
		text string
		opts search.QuerySearchOptions
		want error
	}{
		{"empty text", "  ", search.QuerySearchOptions{RunID: runID}, lmsys.ErrInvalidInput},
		{"unknown run", "x", search.QuerySearchOptions{RunID: "nope"}, lmsys.ErrNotFound},
		{"semantic without run", "x", search.QuerySearchOptions{}, lmsys.ErrInvalidInput},
		{"clusters without run", "x", search.QuerySearchOptions{Mode: "fulltext", ClusterIDs: []int{1}}, lmsys.ErrInvalidInput},
		{"bad mode", "x", search.QuerySearchOptions{RunID: runID, Mode: "fuzzy"}, lmsys.ErrInvalidInput},
		{"bad facet", "x", search.QuerySearchOptions{RunID: runID, Facets: []string{"color"}}, lmsys.ErrInvalidInput},
		{"bad by", "x", search.QuerySearchOptions{RunID: runID, By: "model"}, lmsys.ErrInvalidInput},
		{"unknown cluster", "x", search.QuerySearchOptions{RunID: runID, ClusterIDs: []int{99}}, lmsys.ErrNotFound},
		{"fulltext without words", "!!", search.QuerySearchOptions{Mode: "fulltext"}, lmsys.ErrInvalidInput},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.svc.SearchQueries(ctx, tc.text, tc.opts)
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.want)
		})
	}
	_, err := f.svc.SearchClusters(ctx, "x", search.ClusterSearchOptions{RunID: runID, SummaryRef: "nope"})
	assert.ErrorIs(t, err, lmsys.ErrNotFound)
	// A run without summaries has no clusters to search.
	require.NoError(t, f.db.CreateRun(ctx, lmsys.Run{ID: "bare", Algorithm: "kmeans", Space: space}))
	_, err = f.svc.SearchClusters(ctx, "x", search.ClusterSearchOptions{RunID: "bare"})
	assert.ErrorIs(t, err, lmsys.ErrNotFound)
	// An embedder that answers in another space is refused.
	bad := search.New(f.db, f.idx, search.Options{Embedder: func(lmsys.Space) (lmsys.Embedder, error) {
		return embed.Open("local/lexical", embed.WithDims(64))
	}})
	_, err = bad.SearchQueries(ctx, "python", search.QuerySearchOptions{RunID: runID})
	assert.ErrorIs(t, err, lmsys.ErrSpaceMismatch)
}

func TestSpacesNeverMix(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	// A second run over the same queries in a 64-dimensional space, clusters named differently.
	other := lmsys.Space{Provider: "local", Model: "lexical", Dims: 64}
	e, err := embed.Open(other.Name(), embed.WithDims(other.Dims))
	require.NoError(t, err)
	qs, err := f.db.ListQueries(ctx, lmsys.QueryFilter{})
	require.NoError(t, err)
	var texts []string
	for _, q := range qs {
		texts = append(texts, q.Text)
	}
	_, err = embed.Cached(e, f.db).Embed(ctx, texts, lmsys.PurposeClustering)
	require.NoError(t, err)
	const run2 = "kmeans-3-20260102-000000"
	require.NoError(t, f.db.CreateRun(ctx, lmsys.Run{ID: run2, Algorithm: "kmeans", NumClusters: 3, Space: other}))
	var as []lmsys.Assignment
	for id, c := range f.cluster {
		as = append(as, lmsys.Assignment{RunID: run2, QueryID: id, ClusterID: c + 10})
	}
	require.NoError(t, f.db.SaveAssignments(ctx, as))
	var ss []lmsys.Summary
	for c, tp := range topics {
		ss = append(ss, lmsys.Summary{RunID: run2, ClusterID: c + 10, SummaryRunID: "summary-2", Title: "Second " + tp.title, NumQueries: 8})
	}
	require.NoError(t, f.db.SaveSummaries(ctx, ss))

	for _, tc := range []struct {
		run    string
		space  lmsys.Space
		prefix string
	}{{runID, space, ""}, {run2, other, "Second "}} {
		res, err := f.svc.SearchClusters(ctx, "sql", search.ClusterSearchOptions{RunID: tc.run})
		require.NoError(t, err)
		require.Len(t, res.Results, 3, "only the run's own clusters")
		assert.Equal(t, tc.prefix+"SQL databases", res.Results[0].Title)
		qr, err := f.svc.SearchQueries(ctx, "sql", search.QuerySearchOptions{RunID: tc.run, Facets: []string{"cluster"}})
		require.NoError(t, err)
		for _, h := range qr.Results {
			if tc.run == run2 {
				assert.GreaterOrEqual(t, *h.ClusterID, 10)
			} else {
				assert.Less(t, *h.ClusterID, 10)
			}
		}
		n, err := f.idx.Count(ctx, tc.space.Collection(search.KindQueries))
		require.NoError(t, err)
		assert.Equal(t, 24, n)
		d, err := f.idx.CollectionDims(ctx, tc.space.Collection(search.KindSummaries))
		require.NoError(t, err)
		assert.Equal(t, tc.space.Dims, d)
	}
	info, err := f.svc.Info(ctx)
	require.NoError(t, err)
	require.Len(t, info, 4)
	for _, c := range info {
		require.NotNil(t, c.Space, c.Name)
		assert.Equal(t, c.Space.Dims, c.Dims)
		assert.Equal(t, "exact", c.Index)
		assert.Len(t, c.Runs, 1)
		assert.Contains(t, []string{search.KindQueries, search.KindSummaries}, c.Kind)
	}
}

// countIssues sums the differences a report lists.
func countIssues(rep search.Report) (missing, extra, wrong, stale int) {
	for _, c := range rep.Collections {
		missing += c.Missing.Count
		extra += c.Extra.Count
		wrong += c.WrongSpace.Count
		stale += c.Stale.Count
	}
	return
}

func TestVerifyFindsAndRepairs(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	rep, err := f.svc.Verify(ctx, runID, false)
	require.NoError(t, err)
	assert.False(t, rep.InSync)
	m, _, _, _ := countIssues(rep)
	assert.Equal(t, 24+3, m, "an empty index misses every query and summary")

	rep, err = f.svc.Sync(ctx, runID)
	require.NoError(t, err)
	assert.NotEmpty(t, rep.Collections[0].Actions)
	rep, err = f.svc.Verify(ctx, runID, false)
	require.NoError(t, err)
	require.True(t, rep.InSync, "%+v", rep)
	assert.Equal(t, 24, rep.Collections[0].StoreCount)
	assert.Equal(t, 24, rep.Collections[0].IndexCount)
	assert.Equal(t, 3, rep.Collections[1].IndexCount)

	qcoll, scoll := space.Collection(search.KindQueries), space.Collection(search.KindSummaries)
	vec := make([]float32, space.Dims)
	vec[0] = 1
	// Missing: a query and a summary dropped from the index.
	require.NoError(t, f.idx.Delete(ctx, qcoll, []string{"query_" + strconv.FormatInt(f.members[0][0], 10)}))
	require.NoError(t, f.idx.Delete(ctx, scoll, []string{"cluster_" + runID + "_2"}))
	// Extra: a query the store does not have, a cluster without a summary.
	require.NoError(t, f.idx.Upsert(ctx, qcoll, []lmsys.Vector{{ID: "query_999999", Values: vec}}))
	require.NoError(t, f.idx.Upsert(ctx, scoll, []lmsys.Vector{{ID: "cluster_" + runID + "_7", Values: vec, Metadata: map[string]string{"run_id": runID}}}))
	// Wrong space: a vector written by another space's embedder under a real id.
	wrongID := "query_" + strconv.FormatInt(f.members[1][0], 10)
	require.NoError(t, f.idx.Upsert(ctx, qcoll, []lmsys.Vector{{ID: wrongID, Values: vec, Metadata: map[string]string{"space": "cohere/embed-v4.0@128"}}}))
	// Stale: a summary regenerated in the store after it was indexed.
	require.NoError(t, f.db.SaveSummaries(ctx, []lmsys.Summary{{RunID: runID, ClusterID: 1, SummaryRunID: sumID, Alias: "v1", Title: "SQL and databases",
		Description: "Queries about SQL", NumQueries: 8, GeneratedAt: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}}))

	rep, err = f.svc.Verify(ctx, runID, false)
	require.NoError(t, err)
	assert.False(t, rep.InSync)
	q, s := rep.Collections[0], rep.Collections[1]
	assert.Equal(t, []string{"query_" + strconv.FormatInt(f.members[0][0], 10)}, q.Missing.IDs)
	assert.Equal(t, []string{"query_999999"}, q.Extra.IDs)
	assert.Equal(t, []string{wrongID}, q.WrongSpace.IDs)
	assert.Equal(t, 0, q.Stale.Count)
	assert.Equal(t, []string{"cluster_" + runID + "_2"}, s.Missing.IDs)
	assert.Equal(t, []string{"cluster_" + runID + "_7"}, s.Extra.IDs)
	assert.Equal(t, []string{"cluster_" + runID + "_1"}, s.Stale.IDs)
	assert.Empty(t, rep.Collections[0].Actions)

	rep, err = f.svc.Verify(ctx, runID, true)
	require.NoError(t, err)
	assert.True(t, rep.Repaired)
	assert.NotEmpty(t, rep.Collections[0].Actions)
	assert.NotEmpty(t, rep.Collections[1].Actions)
	rep, err = f.svc.Verify(ctx, runID, false)
	require.NoError(t, err)
	assert.True(t, rep.InSync, "%+v", rep)

	// The repaired index answers with the regenerated title, and the repaired vector.
	res, err := f.svc.SearchClusters(ctx, "sql", search.ClusterSearchOptions{RunID: runID, TopK: 1})
	require.NoError(t, err)
	assert.Equal(t, "SQL and databases", res.Results[0].Title)
	hits, err := f.idx.Search(ctx, qcoll, vec, 30, lmsys.Filter{IDs: []string{wrongID}})
	require.NoError(t, err)
	require.Len(t, hits, 1)
	assert.Equal(t, space.String(), hits[0].Metadata["space"])

	// The repaired index survives a reopen (it was flushed).
	idx2, err := semantic.OpenIndex(ctx, semantic.IndexOptions{Dir: f.idxDir})
	require.NoError(t, err)
	rep, err = search.New(f.db, idx2, search.Options{}).Verify(ctx, runID, false)
	require.NoError(t, err)
	assert.True(t, rep.InSync, "%+v", rep)
}

func TestVerifyWrongDimensionCollection(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	// The space's collection holds 8-dimensional vectors (another embedder wrote it).
	qcoll := space.Collection(search.KindQueries)
	var items []lmsys.Vector
	for i := 0; i < 5; i++ {
		v := make([]float32, 8)
		v[i] = 1
		items = append(items, lmsys.Vector{ID: "query_" + strconv.FormatInt(f.members[0][i], 10), Values: v})
	}
	require.NoError(t, f.idx.Upsert(ctx, qcoll, items))
	rep, err := f.svc.Verify(ctx, runID, false)
	require.NoError(t, err)
	q := rep.Collections[0]
	assert.Equal(t, 8, q.IndexDims)
	assert.Equal(t, 5, q.WrongSpace.Count)
	assert.Equal(t, 24, q.Missing.Count)
	rep, err = f.svc.Verify(ctx, runID, true)
	require.NoError(t, err)
	assert.Contains(t, rep.Collections[0].Actions[0], "dropped the collection")
	rep, err = f.svc.Verify(ctx, runID, false)
	require.NoError(t, err)
	assert.True(t, rep.InSync, "%+v", rep)
	assert.Equal(t, space.Dims, rep.Collections[0].IndexDims)
}

func TestFirstSearchSyncsWithProgress(t *testing.T) {
	f := newFixture(t)
	var mu sync.Mutex
	stages := map[string]int64{}
	svc := search.New(f.db, f.idx, search.Options{Progress: func(p lmsys.Progress) {
		mu.Lock()
		stages[p.Stage] = p.Done
		mu.Unlock()
	}})
	_, err := svc.SearchQueries(context.Background(), "python", search.QuerySearchOptions{RunID: runID})
	require.NoError(t, err)
	assert.Equal(t, int64(24), stages["index queries "+space.String()])
	assert.Equal(t, int64(3), stages["index summaries "+runID])
	rep, err := svc.Verify(context.Background(), runID, false)
	require.NoError(t, err)
	assert.True(t, rep.InSync)
}

// TestCurationKeepsIndexInSync runs a sequence of edits with the curation hook
// calling ReindexClusters, and checks Verify after each; then the same without the
// hook, where Sync catches up.
func TestCurationKeepsIndexInSync(t *testing.T) {
	for _, hooked := range []bool{true, false} {
		t.Run(fmt.Sprintf("hook=%v", hooked), func(t *testing.T) {
			f := newFixture(t)
			ctx := context.Background()
			_, err := f.svc.Sync(ctx, runID)
			require.NoError(t, err)
			var hookErr error
			opts := curation.Options{Seed: 1}
			if hooked {
				opts.OnChange = func(ctx context.Context, run string, ids []int) {
					if err := f.svc.ReindexClusters(ctx, run, ids); err != nil {
						hookErr = err
					}
				}
			}
			cur := curation.New(f.db, opts)
			edits := []struct {
				name string
				do   func() (curation.Result, error)
			}{
				{"rename", func() (curation.Result, error) {
					return cur.RenameCluster(ctx, runID, 2, curation.Rename{Title: "Food and cooking"}, "t", "")
				}},
				{"move", func() (curation.Result, error) {
					return cur.MoveQuery(ctx, runID, f.members[0][0], 1, "t", "")
				}},
				{"split", func() (curation.Result, error) {
					return cur.SplitCluster(ctx, runID, 1, curation.Split{QueryIDs: f.members[1][:3]}, "t", "")
				}},
				{"merge", func() (curation.Result, error) {
					return cur.MergeClusters(ctx, runID, []int{0}, 1, "t", "")
				}},
				{"tag", func() (curation.Result, error) {
					notes := "checked"
					return cur.TagCluster(ctx, runID, 1, curation.Tag{Notes: &notes}, "t", "")
				}},
				{"delete", func() (curation.Result, error) {
					to := 1
					return cur.DeleteCluster(ctx, runID, 2, curation.Delete{MoveTo: &to}, "t", "")
				}},
			}
			var last curation.Result
			for _, e := range edits {
				last, err = e.do()
				require.NoError(t, err, e.name)
				require.NoError(t, hookErr, e.name)
				if !hooked {
					continue
				}
				rep, err := f.svc.Verify(ctx, runID, false)
				require.NoError(t, err)
				assert.True(t, rep.InSync, "after %s: %+v", e.name, rep)
			}
			_, err = cur.Undo(ctx, runID, last.Edit.ID, "t", "")
			require.NoError(t, err)
			if !hooked {
				rep, err := f.svc.Verify(ctx, runID, false)
				require.NoError(t, err)
				assert.False(t, rep.InSync, "unhooked edits leave the index behind")
				_, err = f.svc.Sync(ctx, runID)
				require.NoError(t, err)
			}
			rep, err := f.svc.Verify(ctx, runID, false)
			require.NoError(t, err)
			assert.True(t, rep.InSync, "%+v", rep)
			res, err := f.svc.SearchClusters(ctx, "food cooking", search.ClusterSearchOptions{RunID: runID, TopK: 1})
			require.NoError(t, err)
			assert.Equal(t, "Food and cooking", res.Results[0].Title)
		})
	}
}

// TestPostgres runs searches, verify and repair on PostgreSQL (full text through its
// own search) when a test server is configured.
func TestPostgres(t *testing.T) {
	url := testdb.PostgresURL(t)
	db, err := store.Open(context.Background(), store.Config{URL: url})
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	f := newFixtureOn(t, db)
	ctx := context.Background()
	rep, err := f.svc.Sync(ctx, runID)
	require.NoError(t, err)
	assert.False(t, rep.InSync)
	rep, err = f.svc.Verify(ctx, runID, false)
	require.NoError(t, err)
	assert.True(t, rep.InSync, "%+v", rep)
	for _, mode := range []string{search.ModeSemantic, search.ModeFullText, search.ModeHybrid} {
		res, err := f.svc.SearchQueries(ctx, "recipe", search.QuerySearchOptions{RunID: runID, Mode: mode, ClusterIDs: []int{2, 1},
			Facets: []string{"cluster", "language", "model"}, NResults: 5})
		require.NoError(t, err, mode)
		require.NotEmpty(t, res.Results, mode)
		for _, h := range res.Results {
			assert.Contains(t, []int{1, 2}, *h.ClusterID)
		}
	}
	cr, err := f.svc.SearchClusters(ctx, "sql", search.ClusterSearchOptions{RunID: runID, TopK: 1})
	require.NoError(t, err)
	assert.Equal(t, "SQL databases", cr.Results[0].Title)
	info, err := f.svc.Info(ctx)
	require.NoError(t, err)
	assert.Len(t, info, 2)

	// The in-memory text index reads PostgreSQL too (its ranking is BM25, not ts_rank,
	// so only the matches are compared).
	ti := search.New(db, f.idx, search.Options{TextIndex: true})
	require.NoError(t, ti.WarmTextIndex(ctx))
	assert.Equal(t, 24, ti.TextIndexDocs())
	res, err := ti.SearchQueries(ctx, "recipe", search.QuerySearchOptions{RunID: runID, Mode: search.ModeFullText, NResults: 50})
	require.NoError(t, err)
	require.Len(t, res.Results, 6)
	for _, h := range res.Results {
		assert.Contains(t, h.Snippet, "recipe")
		assert.Equal(t, 2, *h.ClusterID)
	}
}

// TestConcurrentSearches runs searches of every kind while summaries are re-indexed
// (run with -race).
func TestConcurrentSearches(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := 0; i < 6; i++ {
		wg.Go(func() {
			for j := 0; j < 5; j++ {
				mode := []string{search.ModeSemantic, search.ModeFullText, search.ModeHybrid}[(i+j)%3]
				if _, err := f.svc.SearchQueries(ctx, "python recipe", search.QuerySearchOptions{RunID: runID, Mode: mode,
					WithinClusters: "cooking", Facets: []string{"cluster"}}); err != nil {
					errs <- err
				}
				if _, err := f.svc.SearchClusters(ctx, "sql", search.ClusterSearchOptions{RunID: runID}); err != nil {
					errs <- err
				}
				if i == 0 {
					if err := f.svc.ReindexClusters(ctx, runID, []int{j % 3}); err != nil {
						errs <- err
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	rep, err := f.svc.Verify(ctx, runID, false)
	require.NoError(t, err)
	assert.True(t, rep.InSync)
}

// TestLongLivedServiceFollowsNewSummaries checks that a Service which already
// searched a run notices a summary run written afterwards (by another process).
func TestLongLivedServiceFollowsNewSummaries(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, err := f.svc.SearchClusters(ctx, "sql", search.ClusterSearchOptions{RunID: runID})
	require.NoError(t, err)
	var ss []lmsys.Summary
	for c := range topics {
		ss = append(ss, lmsys.Summary{RunID: runID, ClusterID: c, SummaryRunID: "summary-later", Title: []string{"Snakes", "Tables", "Kitchen"}[c],
			NumQueries: 8, GeneratedAt: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)})
	}
	require.NoError(t, f.db.SaveSummaries(ctx, ss))
	res, err := f.svc.SearchClusters(ctx, "kitchen", search.ClusterSearchOptions{RunID: runID, TopK: 1})
	require.NoError(t, err)
	assert.Equal(t, "Kitchen", res.Results[0].Title)
	rep, err := f.svc.Verify(ctx, runID, false)
	require.NoError(t, err)
	assert.True(t, rep.InSync, "%+v", rep)
}

// blockingEmbedder embeds like its embedder once release is closed, and says on
// entered when a call started.
type blockingEmbedder struct {
	lmsys.Embedder
	entered chan struct{}
	release chan struct{}
	once    sync.Once
}

func (b *blockingEmbedder) Embed(ctx context.Context, texts []string, p lmsys.Purpose) ([][]float32, error) {
	b.once.Do(func() { close(b.entered) })
	<-b.release
	return b.Embedder.Embed(ctx, texts, p)
}

// TestBackgroundBuild: on a Service for servers, a search whose run's index must be
// built answers at once with a BuildingError that says how far the build is, instead
// of waiting for it; once the build is done the same search answers.
func TestBackgroundBuild(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	e, err := embed.Open(space.Name(), embed.WithDims(space.Dims))
	require.NoError(t, err)
	be := &blockingEmbedder{Embedder: e, entered: make(chan struct{}), release: make(chan struct{})}
	svc := search.New(f.db, f.idx, search.Options{Background: true, Embedder: func(lmsys.Space) (lmsys.Embedder, error) { return be, nil }})

	_, err = svc.SearchQueries(ctx, "python", search.QuerySearchOptions{RunID: runID})
	require.ErrorIs(t, err, search.ErrIndexBuilding)
	<-be.entered // the build has indexed the queries and is embedding the summaries
	_, err = svc.SearchClusters(ctx, "python", search.ClusterSearchOptions{RunID: runID})
	var be2 *search.BuildingError
	require.ErrorAs(t, err, &be2)
	assert.Equal(t, runID, be2.RunID)
	assert.Equal(t, "index summaries "+runID, be2.Stage)
	assert.Equal(t, int64(3), be2.Total)
	assert.Contains(t, err.Error(), "is being built (index summaries "+runID+": 0 of 3)")

	// Full-text searches need no vector index and answer meanwhile.
	res, err := svc.SearchQueries(ctx, "python", search.QuerySearchOptions{RunID: runID, Mode: search.ModeFullText})
	require.NoError(t, err)
	assert.NotEmpty(t, res.Results)

	close(be.release)
	require.NoError(t, svc.Prepare(ctx, runID))
	res, err = svc.SearchQueries(ctx, "python", search.QuerySearchOptions{RunID: runID})
	require.NoError(t, err)
	assert.NotEmpty(t, res.Results)
	rep, err := svc.Verify(ctx, runID, false)
	require.NoError(t, err)
	assert.True(t, rep.InSync)
}

// TestCountTextIndexed: counting full-text matches in the in-memory index against the
// run's cached members agrees with the store's count, and follows an edit that takes
// queries out of the run.
func TestCountTextIndexed(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	svc := search.New(f.db, f.idx, search.Options{TextIndex: true})
	require.NoError(t, svc.WarmTextIndex(ctx))
	for _, text := range []string{"python", "sql", "recipe", "py", "sql join", "list", "nothing at all"} {
		for _, run := range []string{runID, ""} {
			want, err := f.db.CountText(ctx, text, lmsys.QueryFilter{RunID: run})
			require.NoError(t, err)
			got, err := svc.CountText(ctx, text, run)
			require.NoError(t, err)
			assert.Equal(t, want, got, "text %q run %q", text, run)
		}
	}
	before, err := svc.CountText(ctx, "python", runID)
	require.NoError(t, err)
	require.Positive(t, before)
	_, err = curation.New(f.db, curation.Options{}).DeleteCluster(ctx, runID, 0, curation.Delete{Orphan: true}, "test", "")
	require.NoError(t, err)
	after, err := svc.CountText(ctx, "python", runID)
	require.NoError(t, err)
	want, err := f.db.CountText(ctx, "python", lmsys.QueryFilter{RunID: runID})
	require.NoError(t, err)
	assert.Equal(t, want, after)
	assert.Less(t, after, before, "the orphaned Python queries left the run")
}

// TestServerSearchesPlaceHitsLikeTheStore: a server's Service (in-memory text index,
// run members held in memory) gives the same results, clusters included, as one that
// asks the store, in every mode, and follows a move of a query to another cluster.
func TestServerSearchesPlaceHitsLikeTheStore(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	server := search.New(f.db, f.idx, search.Options{TextIndex: true})
	require.NoError(t, server.WarmTextIndex(ctx))
	check := func() {
		t.Helper()
		for _, mode := range []string{search.ModeSemantic, search.ModeFullText, search.ModeHybrid} {
			o := search.QuerySearchOptions{RunID: runID, Mode: mode, NResults: 10}
			want, err := f.svc.SearchQueries(ctx, "python list", o)
			require.NoError(t, err)
			got, err := server.SearchQueries(ctx, "python list", o)
			require.NoError(t, err)
			want.Queries, got.Queries = nil, nil
			assert.Equal(t, want, got, mode)
		}
	}
	check()
	moved := f.members[0][0]
	_, err := curation.New(f.db, curation.Options{}).MoveQuery(ctx, runID, moved, 2, "test", "")
	require.NoError(t, err)
	check()
}

// A label filter on a list facet keeps the hits whose list holds the item.
func TestSearchQueriesByListItem(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	require.NoError(t, f.db.CreateClassificationRun(ctx, lmsys.ClassificationRun{ID: "classify-clio-1", TemplateID: "clio-1", TemplateHash: "h",
		ResultKey: "llm:clio", Provider: "openai", Model: "openai/x", Facets: []string{"languages"},
		Parameters: map[string]any{lmsys.ListFacetsParameter: []string{"languages"}}}))
	var ls []lmsys.Label
	for i, id := range f.members[2] { // the cooking cluster
		ls = append(ls, lmsys.Label{QueryID: id, Facet: "languages", Value: []string{"en, fr", "fr"}[i%2], ClassificationRunID: "classify-clio-1", ResultKey: "llm:clio"})
	}
	require.NoError(t, f.db.SaveLabels(ctx, ls))
	for _, tc := range []struct {
		label string
		want  int
	}{{"languages=fr", 6}, {"languages=en", 3}, {"languages=f", 0}, {"languages=en, fr", 3}} {
		res, err := f.svc.SearchQueries(ctx, "recipe", search.QuerySearchOptions{Mode: search.ModeFullText, Label: tc.label})
		require.NoError(t, err, tc.label)
		assert.Len(t, res.Results, tc.want, tc.label)
	}
}
