package web

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/curation"
	"github.com/lmsys-go/lmsys/internal/testdb"
	"github.com/lmsys-go/lmsys/search"
	"github.com/lmsys-go/lmsys/semantic"
	"github.com/lmsys-go/lmsys/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The contract suite states, route by route over real HTTP, what the Python tool
// (jxnl/lmsys-query-analysis: api/schemas.py, api/routers/*.py, tests/api/*.py) promises
// its clients: its viewer and its users' scripts. It runs on SQLite and on PostgreSQL.

// Fixture ids of the contract suite.
const (
	cRun      = "kmeans-3-20251010-120000"
	cRun2     = "hdbscan-2-20251011-120000"
	cEmptyRun = "test-run-empty"
	cHier     = "hier-test-run-1"
	cHierOld  = "hier-test-run-0"
	cHierZero = "hier-test-run-empty"
	cSum      = "summary-1"
	cOrigin   = "http://localhost:3000"
)

// contractFixture is a store with the contract's data, served over HTTP.
type contractFixture struct {
	url      string
	db       *store.DB
	queryIDs map[int][]int64 // cluster → its queries, ascending
	texts    map[int64]string
	orphan   int64
}

// contractTexts are the queries of each cluster of cRun: 5, 10 and 15 (as
// test_hierarchy_counts.py), with words whose substrings the search checks rely on.
func contractTexts(cluster, i int) string {
	switch cluster {
	case 0:
		return []string{"What is Python?", "How do I write Python code?", "python list comprehension", "Pythonic way to sort a dict", "install python on windows"}[i]
	case 1:
		return fmt.Sprintf("set alarms for %d am tomorrow", i+5)
	}
	if i == 14 {
		return "写一个关于时间旅行者的故事" // one run of Han letters: one token to the full-text index
	}
	return fmt.Sprintf("Write a poem number %d about the sea", i)
}

func newContractFixture(t *testing.T, db *store.DB, textIndex bool) *contractFixture {
	t.Helper()
	ctx := context.Background()
	ds, err := db.EnsureDataset(ctx, lmsys.Dataset{Name: "contract", Source: "test"})
	require.NoError(t, err)
	ts := time.Date(2025, 10, 1, 12, 0, 0, 0, time.UTC)
	var qs []lmsys.Query
	type slot struct{ cluster, i int }
	var slots []slot
	for c, n := range []int{5, 10, 15} {
		for i := 0; i < n; i++ {
			model := "gpt-4"
			if i%2 == 1 {
				model = "vicuna-13b"
			}
			qs = append(qs, lmsys.Query{DatasetID: ds.ID, ConversationID: fmt.Sprintf("conv-%d-%d", c, i), Text: contractTexts(c, i), Model: model, Language: "English", Timestamp: &ts})
			slots = append(slots, slot{c, i})
		}
	}
	// Two queries outside every cluster: one without a language, one an orphan of cRun.
	qs = append(qs, lmsys.Query{DatasetID: ds.ID, ConversationID: "conv-free", Text: "an unclustered alarm clock question", Model: "claude-1"},
		lmsys.Query{DatasetID: ds.ID, ConversationID: "conv-orphan", Text: "orphaned question about the alarm", Model: "claude-1", Language: "English"})
	_, err = db.InsertQueries(ctx, qs)
	require.NoError(t, err)
	all, err := db.ListQueries(ctx, lmsys.QueryFilter{})
	require.NoError(t, err)
	require.Len(t, all, len(qs))
	sort.Slice(all, func(i, j int) bool { return all[i].ID < all[j].ID })
	f := &contractFixture{db: db, queryIDs: map[int][]int64{}, texts: map[int64]string{}}
	var as []lmsys.Assignment
	for i, s := range slots {
		f.queryIDs[s.cluster] = append(f.queryIDs[s.cluster], all[i].ID)
		as = append(as, lmsys.Assignment{RunID: cRun, QueryID: all[i].ID, ClusterID: s.cluster, Confidence: 0.9})
	}
	for _, q := range all {
		f.texts[q.ID] = q.Text
	}
	f.orphan = all[len(all)-1].ID

	space := lmsys.Space{Provider: "local", Model: "use-lite", Dims: 512}
	require.NoError(t, db.CreateRun(ctx, lmsys.Run{ID: cRun, Algorithm: "kmeans", NumClusters: 3, Description: "Test run", Space: space, Status: lmsys.RunCompleted,
		NumQueries: 31, Parameters: map[string]any{"n_clusters": 3}, CreatedAt: time.Date(2025, 10, 10, 12, 0, 0, 0, time.UTC)}))
	require.NoError(t, db.CreateRun(ctx, lmsys.Run{ID: cRun2, Algorithm: "hdbscan", NumClusters: 2, Space: space, Status: lmsys.RunFailed, Error: "too few queries",
		CreatedAt: time.Date(2025, 10, 11, 12, 0, 0, 0, time.UTC)}))
	require.NoError(t, db.CreateRun(ctx, lmsys.Run{ID: cEmptyRun, Algorithm: "test", NumClusters: 2, Space: space, Status: lmsys.RunCompleted,
		CreatedAt: time.Date(2025, 10, 9, 12, 0, 0, 0, time.UTC)}))
	require.NoError(t, db.SaveAssignments(ctx, as))

	gen := time.Date(2025, 10, 10, 13, 0, 0, 0, time.UTC)
	require.NoError(t, db.SaveSummaryRun(ctx, lmsys.SummaryRun{SummaryRunID: cSum, RunID: cRun, Alias: "v1", Model: "offline/c-tf-idf", CreatedAt: gen}))
	require.NoError(t, db.SaveSummaries(ctx, []lmsys.Summary{
		{RunID: cRun, ClusterID: 0, SummaryRunID: cSum, Alias: "v1", Title: "Python Programming", Description: "Questions about Python", Summary: "People ask about Python.",
			NumQueries: 5, RepresentativeQueries: []string{"What is Python?"}, Model: "offline/c-tf-idf", GeneratedAt: gen},
		{RunID: cRun, ClusterID: 1, SummaryRunID: cSum, Alias: "v1", Title: "Alarms", Description: "Setting alarms", NumQueries: 10,
			RepresentativeQueries: []string{"set alarms for 5 am tomorrow"}, Model: "offline/c-tf-idf", GeneratedAt: gen},
	}))

	// Hierarchies: leaves 0, 1, 2 under 100 under 200 (their stored sizes are stale on
	// purpose: counts come from the assignments), an older one, and one of a run without queries.
	p100, p200 := 100, 200
	leaf := func(h string, c int, parent *int, at time.Time) lmsys.HierarchyNode {
		return lmsys.HierarchyNode{HierarchyRunID: h, RunID: cRun, ClusterID: c, ParentClusterID: parent, Level: 0, ChildrenIDs: []int{}, Title: fmt.Sprintf("Leaf Cluster %d", c), NumQueries: 1, CreatedAt: at}
	}
	newer, older := time.Date(2025, 10, 10, 14, 0, 0, 0, time.UTC), time.Date(2025, 10, 10, 12, 30, 0, 0, time.UTC)
	require.NoError(t, db.SaveHierarchy(ctx, []lmsys.HierarchyNode{
		leaf(cHier, 0, &p100, newer), leaf(cHier, 1, &p100, newer), leaf(cHier, 2, &p100, newer),
		{HierarchyRunID: cHier, RunID: cRun, ClusterID: 100, ParentClusterID: &p200, Level: 1, ChildrenIDs: []int{0, 1, 2}, Title: "Mid-Level Cluster", CreatedAt: newer},
		{HierarchyRunID: cHier, RunID: cRun, ClusterID: 200, Level: 2, ChildrenIDs: []int{100}, Title: "Root Cluster", CreatedAt: newer},
	}))
	require.NoError(t, db.SaveHierarchy(ctx, []lmsys.HierarchyNode{
		leaf(cHierOld, 0, &p100, older), leaf(cHierOld, 1, &p100, older), leaf(cHierOld, 2, &p100, older),
		{HierarchyRunID: cHierOld, RunID: cRun, ClusterID: 100, Level: 1, ChildrenIDs: []int{0, 1, 2}, Title: "Everything", CreatedAt: older},
	}))
	require.NoError(t, db.SaveHierarchy(ctx, []lmsys.HierarchyNode{
		{HierarchyRunID: cHierZero, RunID: cEmptyRun, ClusterID: 0, ParentClusterID: &p100, Level: 0, ChildrenIDs: []int{}, Title: "Empty Leaf"},
		{HierarchyRunID: cHierZero, RunID: cEmptyRun, ClusterID: 100, Level: 1, ChildrenIDs: []int{0}, Title: "Empty Root"},
	}))

	// Curation: a tag and a rename of cluster 0 (audited), an orphan of cRun.
	cur := curation.New(db, curation.Options{})
	coh, quality := 4, "high"
	_, err = cur.TagCluster(ctx, cRun, 0, curation.Tag{Coherence: &coh, Quality: &quality, Flags: []string{"review"}, Notes: ptrTo("checked")}, "alice", "first look")
	require.NoError(t, err)
	_, err = cur.RenameCluster(ctx, cRun, 0, curation.Rename{Title: "Python Programming"}, "bob", "")
	require.NoError(t, err)
	orig := 0
	require.NoError(t, db.AddOrphans(ctx, []lmsys.OrphanedQuery{{RunID: cRun, QueryID: f.orphan, OriginalClusterID: &orig, Reason: "cluster deleted", OrphanedAt: gen}}))

	idx, err := semantic.OpenIndex(ctx, semantic.IndexOptions{Dir: t.TempDir()})
	require.NoError(t, err)
	h := Handler(Deps{Store: db, Search: search.New(db, idx, search.Options{TextIndex: textIndex})},
		Options{CORSOrigin: cOrigin, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	f.url = srv.URL
	return f
}

func ptrTo[T any](v T) *T { return &v }

// get sends GET path over HTTP and decodes the JSON object answered.
func (f *contractFixture) get(t *testing.T, path string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Get(f.url + path)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m), "GET %s answered %d %q", path, resp.StatusCode, b)
	return resp.StatusCode, m
}

// ok is get expecting 200.
func (f *contractFixture) ok(t *testing.T, path string) map[string]any {
	t.Helper()
	code, m := f.get(t, path)
	require.Equal(t, http.StatusOK, code, "GET %s: %v", path, m)
	return m
}

// items returns the items of a page, each an object.
func items(t *testing.T, m map[string]any) []map[string]any {
	t.Helper()
	raw, ok := m["items"].([]any)
	require.True(t, ok, "no items list in %v", m)
	out := make([]map[string]any, len(raw))
	for i, x := range raw {
		out[i] = x.(map[string]any)
	}
	return out
}

// envelope checks the PaginatedResponse fields.
func envelope(t *testing.T, m map[string]any, total, page, pages, limit int) {
	t.Helper()
	assert.EqualValues(t, total, m["total"], "total")
	assert.EqualValues(t, page, m["page"], "page")
	assert.EqualValues(t, pages, m["pages"], "pages")
	assert.EqualValues(t, limit, m["limit"], "limit")
}

// hasKeys checks that every key is present (null allowed).
func hasKeys(t *testing.T, m map[string]any, keys ...string) {
	t.Helper()
	for _, k := range keys {
		assert.Contains(t, m, k)
	}
}

// queryResponseKeys are QueryResponse's fields.
var queryResponseKeys = []string{"id", "conversation_id", "model", "query_text", "language", "timestamp", "created_at"}

// clusterSummaryKeys are ClusterSummaryResponse's fields.
var clusterSummaryKeys = []string{"run_id", "cluster_id", "title", "description", "summary", "num_queries", "representative_queries", "summary_run_id", "alias", "query_count", "percentage"}

// validationError checks a 422 with {"error": {"type": "ValidationError", …}}.
func (f *contractFixture) validationError(t *testing.T, path string) {
	t.Helper()
	code, m := f.get(t, path)
	require.Equal(t, http.StatusUnprocessableEntity, code, "GET %s: %v", path, m)
	e := m["error"].(map[string]any)
	assert.Equal(t, "ValidationError", e["type"], path)
	assert.NotEmpty(t, e["message"])
}

// notFound checks a 404 with {"detail": {"error": {"type": "NotFound", …}}}.
func (f *contractFixture) notFound(t *testing.T, path string) {
	t.Helper()
	code, m := f.get(t, path)
	require.Equal(t, http.StatusNotFound, code, "GET %s: %v", path, m)
	e := m["detail"].(map[string]any)["error"].(map[string]any)
	assert.Equal(t, "NotFound", e["type"], path)
	assert.NotEmpty(t, e["message"])
}

func TestPythonContract(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		newContractFixture(t, db, false).checkContract(t)
	})
}

// TestPythonContractTextIndex checks the searches answered from the in-memory text index.
func TestPythonContractTextIndex(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		newContractFixture(t, db, true).checkSearch(t)
	})
}

func (f *contractFixture) checkContract(t *testing.T) {
	t.Run("health", func(t *testing.T) {
		m := f.ok(t, "/api/health")
		assert.Equal(t, "ok", m["status"])
		assert.Equal(t, "lmsys-query-analysis", m["service"])
	})
	t.Run("openapi", func(t *testing.T) {
		for _, p := range []string{"/openapi.json", "/api/openapi.json"} {
			m := f.ok(t, p)
			assert.Contains(t, m["paths"], "/api/health", p)
			assert.Contains(t, m["paths"], "/api/clustering/runs", p)
		}
	})
	t.Run("runs", func(t *testing.T) {
		m := f.ok(t, "/api/clustering/runs")
		envelope(t, m, 3, 1, 1, 50)
		its := items(t, m)
		require.Len(t, its, 3)
		assert.Equal(t, []any{cRun2, cRun, cEmptyRun}, []any{its[0]["run_id"], its[1]["run_id"], its[2]["run_id"]}, "newest first")
		for _, it := range its {
			hasKeys(t, it, "run_id", "algorithm", "num_clusters", "description", "parameters", "created_at", "status")
		}
		assert.Nil(t, its[0]["description"], "unset description is null")
		assert.Equal(t, "Test run", its[1]["description"])
		assert.Equal(t, "completed", its[1]["status"])
		assert.Equal(t, "failed", its[0]["status"])
	})
	t.Run("runs filtered and paged", func(t *testing.T) {
		m := f.ok(t, "/api/clustering/runs?algorithm=kmeans")
		envelope(t, m, 1, 1, 1, 50)
		assert.Equal(t, cRun, items(t, m)[0]["run_id"])
		m = f.ok(t, "/api/clustering/runs?algorithm=nothing")
		envelope(t, m, 0, 1, 0, 50)
		m = f.ok(t, "/api/clustering/runs?page=2&limit=2")
		envelope(t, m, 3, 2, 2, 2)
		assert.Len(t, items(t, m), 1)
		m = f.ok(t, "/api/clustering/runs?page=9")
		assert.Empty(t, items(t, m), "a page past the end is empty")
	})
	t.Run("page and limit are validated", func(t *testing.T) {
		for _, q := range []string{"limit=0", "limit=101", "limit=abc", "limit=", "page=0", "page=-1", "page=x"} {
			f.validationError(t, "/api/clustering/runs?"+q)
		}
		f.validationError(t, "/api/queries?limit=101")
		f.validationError(t, "/api/hierarchy/?limit=0")
		f.validationError(t, "/api/summaries/?page=0")
		f.validationError(t, "/api/curation/runs/"+cRun+"/audit?limit=abc")
		f.validationError(t, "/api/curation/runs/"+cRun+"/orphaned?limit=1000")
		f.validationError(t, "/api/search/queries?text=python&limit=101")
		f.validationError(t, "/api/clustering/runs/"+cRun+"/clusters?page_limit=101")
		f.validationError(t, "/api/clustering/runs/"+cRun+"/clusters/0?limit=0")
	})
	t.Run("run detail", func(t *testing.T) {
		m := f.ok(t, "/api/clustering/runs/"+cRun)
		hasKeys(t, m, "run_id", "algorithm", "num_clusters", "description", "parameters", "created_at", "status", "metrics", "latest_errors")
		assert.Equal(t, "kmeans", m["algorithm"])
		assert.EqualValues(t, 3, m["num_clusters"])
		assert.Nil(t, m["latest_errors"])
		assert.EqualValues(t, 30, m["metrics"].(map[string]any)["assigned_queries"])
		m = f.ok(t, "/api/clustering/runs/"+cRun2)
		assert.Equal(t, []any{"too few queries"}, m["latest_errors"])
		f.notFound(t, "/api/clustering/runs/nonexistent")
	})
	t.Run("run status", func(t *testing.T) {
		m := f.ok(t, "/api/clustering/runs/"+cRun+"/status")
		assert.Equal(t, cRun, m["run_id"])
		assert.Equal(t, "completed", m["status"])
		assert.EqualValues(t, 30, m["processed"])
		f.notFound(t, "/api/clustering/runs/nonexistent/status")
	})
	t.Run("clusters", func(t *testing.T) {
		m := f.ok(t, "/api/clustering/runs/"+cRun+"/clusters")
		envelope(t, m, 3, 1, 1, 50)
		assert.EqualValues(t, 30, m["total_queries"])
		its := items(t, m)
		require.Len(t, its, 3)
		for _, it := range its {
			hasKeys(t, it, clusterSummaryKeys...)
		}
		for i, want := range []struct {
			id, n int
			pct   float64
		}{{2, 15, 50}, {1, 10, 33.33}, {0, 5, 16.67}} {
			assert.EqualValues(t, want.id, its[i]["cluster_id"], "largest first")
			assert.EqualValues(t, want.n, its[i]["query_count"])
			assert.EqualValues(t, want.n, its[i]["num_queries"])
			assert.InDelta(t, want.pct, its[i]["percentage"], 1e-9)
		}
		assert.Equal(t, "Python Programming", its[2]["title"])
		assert.Equal(t, "People ask about Python.", its[2]["summary"])
		assert.Equal(t, cSum, its[2]["summary_run_id"])
		assert.Equal(t, "v1", its[2]["alias"])
		assert.Equal(t, []any{"What is Python?"}, its[2]["representative_queries"])
		assert.Nil(t, its[0]["title"], "a cluster without a summary has a null title")
	})
	t.Run("clusters options", func(t *testing.T) {
		m := f.ok(t, "/api/clustering/runs/"+cRun+"/clusters?include_percentages=false")
		for _, it := range items(t, m) {
			assert.Nil(t, it["percentage"])
			assert.NotNil(t, it["query_count"])
		}
		m = f.ok(t, "/api/clustering/runs/"+cRun+"/clusters?include_counts=false&include_percentages=false")
		assert.Nil(t, m["total_queries"])
		m = f.ok(t, "/api/clustering/runs/"+cRun+"/clusters?page=2&page_limit=2")
		envelope(t, m, 3, 2, 2, 2)
		assert.Len(t, items(t, m), 1)
		m = f.ok(t, "/api/clustering/runs/"+cRun+"/clusters?limit=2")
		assert.Len(t, items(t, m), 2, "limit keeps the largest clusters")
		m = f.ok(t, "/api/clustering/runs/"+cRun+"/clusters?alias=v1")
		assert.Equal(t, "Alarms", items(t, m)[1]["title"])
		m = f.ok(t, "/api/clustering/runs/"+cRun+"/clusters?summary_run_id="+cSum)
		assert.Equal(t, cSum, m["summary_run_id"])
		m = f.ok(t, "/api/clustering/runs/"+cRun+"/clusters?summary_run_id=nope")
		envelope(t, m, 0, 1, 0, 50)
		m = f.ok(t, "/api/clustering/runs/nonexistent/clusters")
		envelope(t, m, 0, 1, 0, 50)
		assert.EqualValues(t, 0, m["total_queries"])
		f.validationError(t, "/api/clustering/runs/"+cRun+"/clusters?include_counts=maybe")
		f.validationError(t, "/api/clustering/runs/"+cRun+"/clusters?limit=0")
		f.validationError(t, "/api/clustering/runs/"+cRun+"/clusters?limit=1001")
	})
	t.Run("cluster detail", func(t *testing.T) {
		m := f.ok(t, "/api/clustering/runs/"+cRun+"/clusters/2?page=1&limit=50")
		c := m["cluster"].(map[string]any)
		hasKeys(t, c, clusterSummaryKeys...)
		assert.EqualValues(t, 2, c["cluster_id"])
		assert.EqualValues(t, 15, c["query_count"])
		assert.EqualValues(t, 50, c["percentage"])
		q := m["queries"].(map[string]any)
		envelope(t, q, 15, 1, 1, 50)
		its := items(t, q)
		require.Len(t, its, 15)
		for _, it := range its {
			hasKeys(t, it, queryResponseKeys...)
		}
		assert.EqualValues(t, f.queryIDs[2][0], its[0]["id"])
		assert.Equal(t, contractTexts(2, 0), its[0]["query_text"])
		assert.Equal(t, "conv-2-0", its[0]["conversation_id"])
		assert.Equal(t, "gpt-4", its[0]["model"])
		assert.Equal(t, "English", its[0]["language"])
		assert.NotEmpty(t, its[0]["created_at"])
		m = f.ok(t, "/api/clustering/runs/"+cRun+"/clusters/2?page=2&limit=10")
		q = m["queries"].(map[string]any)
		envelope(t, q, 15, 2, 2, 10)
		assert.Len(t, items(t, q), 5)
		m = f.ok(t, "/api/clustering/runs/"+cRun+"/clusters/0")
		assert.Equal(t, "Python Programming", m["cluster"].(map[string]any)["title"])
		f.notFound(t, "/api/clustering/runs/"+cRun+"/clusters/9999")
		f.notFound(t, "/api/clustering/runs/nonexistent/clusters/0")
		f.validationError(t, "/api/clustering/runs/"+cRun+"/clusters/abc")
		f.validationError(t, "/api/clustering/runs/"+cRun+"/clusters/0?limit=500")
	})
	t.Run("queries", func(t *testing.T) {
		m := f.ok(t, "/api/queries")
		envelope(t, m, 32, 1, 1, 100)
		for _, it := range items(t, m) {
			hasKeys(t, it, queryResponseKeys...)
		}
		m = f.ok(t, fmt.Sprintf("/api/queries?run_id=%s&cluster_id=0&page=1&limit=5", cRun))
		envelope(t, m, 5, 1, 1, 5)
		var got []int64
		for _, it := range items(t, m) {
			got = append(got, int64(it["id"].(float64)))
		}
		assert.Equal(t, f.queryIDs[0], got)
		m = f.ok(t, "/api/queries?run_id="+cRun)
		envelope(t, m, 30, 1, 1, 100)
		m = f.ok(t, "/api/queries?model=claude-1")
		envelope(t, m, 2, 1, 1, 100)
		m = f.ok(t, "/api/queries?limit=10&page=4")
		envelope(t, m, 32, 4, 4, 10)
		assert.Len(t, items(t, m), 2)
		m = f.ok(t, "/api/queries?run_id=nonexistent")
		envelope(t, m, 0, 1, 0, 100)
		var nullLang bool
		for _, it := range items(t, f.ok(t, "/api/queries?model=claude-1")) {
			nullLang = nullLang || it["language"] == nil
		}
		assert.True(t, nullLang, "an unknown language is null")
		f.validationError(t, "/api/queries?cluster_id=x&run_id="+cRun)
	})
	t.Run("hierarchy list", func(t *testing.T) {
		for _, p := range []string{"/api/hierarchy/", "/api/hierarchy"} {
			m := f.ok(t, p)
			envelope(t, m, 3, 1, 1, 50)
		}
		m := f.ok(t, "/api/hierarchy?run_id="+cRun)
		envelope(t, m, 2, 1, 1, 50)
		its := items(t, m)
		for _, it := range its {
			hasKeys(t, it, "hierarchy_run_id", "run_id", "created_at")
			assert.Equal(t, cRun, it["run_id"])
		}
		assert.Equal(t, cHier, its[0]["hierarchy_run_id"], "the latest first: the Python viewer shows items[0]")
		assert.Equal(t, cHierOld, its[1]["hierarchy_run_id"])
		m = f.ok(t, "/api/hierarchy/?run_id=nonexistent")
		envelope(t, m, 0, 1, 0, 50)
	})
	t.Run("hierarchy tree counts bottom-up", func(t *testing.T) {
		m := f.ok(t, "/api/hierarchy/"+cHier)
		assert.EqualValues(t, 30, m["total_queries"])
		nodes := map[int]map[string]any{}
		var levels []int
		for _, x := range m["nodes"].([]any) {
			n := x.(map[string]any)
			hasKeys(t, n, "hierarchy_run_id", "run_id", "cluster_id", "parent_cluster_id", "level", "children_ids", "title", "description", "query_count", "percentage")
			nodes[int(n["cluster_id"].(float64))] = n
			levels = append(levels, int(n["level"].(float64)))
		}
		assert.True(t, sort.IntsAreSorted(levels), "nodes by level, leaves first: %v", levels)
		for id, want := range map[int]int{0: 5, 1: 10, 2: 15, 100: 30, 200: 30} {
			assert.EqualValues(t, want, nodes[id]["query_count"], "node %d", id)
		}
		assert.EqualValues(t, 50, nodes[2]["percentage"])
		assert.EqualValues(t, 100, nodes[200]["percentage"])
		assert.Nil(t, nodes[200]["parent_cluster_id"])
		assert.EqualValues(t, 100, nodes[0]["parent_cluster_id"])
		assert.Equal(t, []any{float64(0), float64(1), float64(2)}, nodes[100]["children_ids"])
		assert.Equal(t, []any{}, nodes[0]["children_ids"])
		m = f.ok(t, "/api/hierarchy/"+cHier+"?include_percentages=false")
		assert.Nil(t, m["total_queries"])
		assert.Nil(t, m["nodes"].([]any)[0].(map[string]any)["percentage"])
		f.notFound(t, "/api/hierarchy/hier-nonexistent")
	})
	t.Run("hierarchy without queries", func(t *testing.T) {
		m := f.ok(t, "/api/hierarchy/"+cHierZero)
		assert.EqualValues(t, 0, m["total_queries"])
		for _, x := range m["nodes"].([]any) {
			n := x.(map[string]any)
			assert.EqualValues(t, 0, n["query_count"])
			assert.Nil(t, n["percentage"])
		}
	})
	t.Run("summaries", func(t *testing.T) {
		for _, p := range []string{"/api/summaries/", "/api/summaries", "/api/summaries/?run_id=" + cRun} {
			m := f.ok(t, p)
			envelope(t, m, 1, 1, 1, 50)
			it := items(t, m)[0]
			hasKeys(t, it, "summary_run_id", "run_id", "alias", "model", "generated_at", "status")
			assert.Equal(t, cSum, it["summary_run_id"])
			assert.Equal(t, "v1", it["alias"])
			assert.Equal(t, "completed", it["status"])
		}
		m := f.ok(t, "/api/summaries/?run_id=nonexistent")
		envelope(t, m, 0, 1, 0, 50)
		for _, p := range []string{"/api/summaries/" + cSum + "/clusters/1", "/api/summaries/" + cSum + "/clusters/1?run_id=" + cRun} {
			m = f.ok(t, p)
			hasKeys(t, m, "run_id", "cluster_id", "title", "description", "summary", "num_queries", "representative_queries", "summary_run_id", "alias")
			assert.Equal(t, "Alarms", m["title"])
		}
		f.notFound(t, "/api/summaries/"+cSum+"/clusters/2")
		f.notFound(t, "/api/summaries/nonexistent/clusters/0")
		f.notFound(t, "/api/summaries/"+cSum+"/clusters/0?run_id="+cRun2)
	})
	t.Run("metadata", func(t *testing.T) {
		keys := []string{"coherence_score", "quality", "notes", "flags", "last_edited"}
		m := f.ok(t, "/api/curation/clusters/0/metadata?run_id="+cRun)
		hasKeys(t, m, keys...)
		assert.EqualValues(t, 4, m["coherence_score"])
		assert.Equal(t, "high", m["quality"])
		assert.Equal(t, "checked", m["notes"])
		assert.Equal(t, []any{"review"}, m["flags"])
		assert.NotNil(t, m["last_edited"])
		for _, p := range []string{"/api/curation/clusters/1/metadata?run_id=" + cRun, "/api/curation/clusters/0/metadata?run_id=test-run"} {
			m = f.ok(t, p)
			for _, k := range keys {
				v, ok := m[k]
				assert.True(t, ok, "%s: %s present", p, k)
				assert.Nil(t, v, "%s: %s null", p, k)
			}
		}
		f.validationError(t, "/api/curation/clusters/0/metadata")
	})
	t.Run("history and audit", func(t *testing.T) {
		keys := []string{"timestamp", "cluster_id", "edit_type", "editor", "reason", "old_value", "new_value"}
		m := f.ok(t, "/api/curation/clusters/0/history?run_id="+cRun)
		envelope(t, m, 2, 1, 1, 50)
		its := items(t, m)
		for _, it := range its {
			hasKeys(t, it, keys...)
		}
		assert.Equal(t, []any{"rename", "tag"}, []any{its[0]["edit_type"], its[1]["edit_type"]}, "newest first")
		assert.Equal(t, "bob", its[0]["editor"])
		assert.Nil(t, its[0]["reason"])
		assert.Equal(t, "first look", its[1]["reason"])
		m = f.ok(t, "/api/curation/clusters/1/history?run_id="+cRun)
		envelope(t, m, 0, 1, 0, 50)
		f.validationError(t, "/api/curation/clusters/0/history")
		m = f.ok(t, "/api/curation/runs/"+cRun+"/audit")
		envelope(t, m, 2, 1, 1, 50)
		assert.Equal(t, "rename", items(t, m)[0]["edit_type"])
		m = f.ok(t, "/api/curation/runs/"+cRun+"/audit?page=2&limit=1")
		envelope(t, m, 2, 2, 2, 1)
		assert.Equal(t, "tag", items(t, m)[0]["edit_type"])
		m = f.ok(t, "/api/curation/runs/nonexistent/audit")
		envelope(t, m, 0, 1, 0, 50)
	})
	t.Run("orphaned", func(t *testing.T) {
		m := f.ok(t, "/api/curation/runs/"+cRun+"/orphaned")
		envelope(t, m, 1, 1, 1, 50)
		it := items(t, m)[0]
		o := it["orphan"].(map[string]any)
		hasKeys(t, o, "query_id", "original_cluster_id", "orphaned_at", "reason")
		assert.EqualValues(t, f.orphan, o["query_id"])
		assert.EqualValues(t, 0, o["original_cluster_id"])
		assert.Equal(t, "cluster deleted", o["reason"])
		q := it["query"].(map[string]any)
		hasKeys(t, q, queryResponseKeys...)
		assert.Equal(t, "orphaned question about the alarm", q["query_text"])
		m = f.ok(t, "/api/curation/runs/nonexistent/orphaned")
		envelope(t, m, 0, 1, 0, 50)
	})
	t.Run("search", f.checkSearch)
	t.Run("search clusters", func(t *testing.T) {
		for _, p := range []string{"/api/search/clusters?text=Python&mode=fulltext", "/api/search/clusters?text=python", "/api/search/clusters?text=python&run_id=" + cRun} {
			m := f.ok(t, p)
			assert.EqualValues(t, 1, m["total"], p)
			it := items(t, m)[0]
			hasKeys(t, it, "run_id", "cluster_id", "title", "description", "summary", "num_queries", "distance")
			assert.Equal(t, "Python Programming", it["title"])
			assert.EqualValues(t, 5, it["num_queries"])
		}
		m := f.ok(t, "/api/search/clusters?text=setting")
		assert.Equal(t, "Alarms", items(t, m)[0]["title"], "the description is searched too")
		m = f.ok(t, "/api/search/clusters?text=python&run_id=nonexistent")
		envelope(t, m, 0, 1, 1, 20)
		code, e := f.get(t, "/api/search/clusters?text=python&mode=semantic")
		assert.Equal(t, http.StatusBadRequest, code)
		assert.Equal(t, "ValueError", e["detail"].(map[string]any)["error"].(map[string]any)["type"])
		f.validationError(t, "/api/search/clusters")
		f.validationError(t, "/api/search/clusters?text=python&n_results=101")
	})
	t.Run("cors", func(t *testing.T) {
		req, err := http.NewRequest(http.MethodOptions, f.url+"/api/clustering/runs", nil)
		require.NoError(t, err)
		req.Header.Set("Origin", cOrigin)
		req.Header.Set("Access-Control-Request-Method", "GET")
		req.Header.Set("Access-Control-Request-Headers", "content-type")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Less(t, resp.StatusCode, 300, "preflight answered")
		assert.Equal(t, cOrigin, resp.Header.Get("Access-Control-Allow-Origin"))
		assert.Equal(t, "true", resp.Header.Get("Access-Control-Allow-Credentials"))
		assert.Contains(t, resp.Header.Get("Access-Control-Allow-Methods"), "GET")
		assert.Contains(t, strings.ToLower(resp.Header.Get("Access-Control-Allow-Headers")), "content-type")
		for origin, allowed := range map[string]bool{cOrigin: true, "http://evil.example": false} {
			req, err := http.NewRequest(http.MethodGet, f.url+"/api/clustering/runs", nil)
			require.NoError(t, err)
			req.Header.Set("Origin", origin)
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, http.StatusOK, resp.StatusCode)
			if allowed {
				assert.Equal(t, origin, resp.Header.Get("Access-Control-Allow-Origin"))
				assert.Equal(t, "true", resp.Header.Get("Access-Control-Allow-Credentials"))
			} else {
				assert.Empty(t, resp.Header.Get("Access-Control-Allow-Origin"))
			}
		}
	})
	t.Run("writes the Python tool leaves unimplemented work", func(t *testing.T) {
		resp, err := http.Post(f.url+"/api/curation/clusters/1/rename?run_id="+cRun, "application/json", strings.NewReader(`{"title": "Wake-up alarms"}`))
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		m := f.ok(t, "/api/clustering/runs/"+cRun+"/clusters/1")
		assert.Equal(t, "Wake-up alarms", m["cluster"].(map[string]any)["title"])
		m = f.ok(t, "/api/curation/runs/"+cRun+"/audit")
		envelope(t, m, 3, 1, 1, 50)
		resp, err = http.Post(f.url+"/api/curation/queries/1/move", "application/json", nil)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "a move without a run is refused, not a 501")
	})
}

// checkSearch states the query search's contract: full-text by default, paged, each
// item a query with its clusters, and at least what the Python tool's substring match
// finds for whole-word prefixes.
func (f *contractFixture) checkSearch(t *testing.T) {
	m := f.ok(t, "/api/search/queries?text=Python")
	hasKeys(t, m, "items", "total", "page", "pages", "limit", "facets", "applied_clusters")
	assert.EqualValues(t, 5, m["total"], "mode defaults to fulltext; every Python query, any case")
	for _, it := range items(t, m) {
		hasKeys(t, it, "query", "clusters", "distance")
		q := it["query"].(map[string]any)
		hasKeys(t, q, queryResponseKeys...)
		assert.Contains(t, strings.ToLower(q["query_text"].(string)), "python")
		assert.Empty(t, it["clusters"], "no run: no clusters")
	}
	// With a run: each item names its cluster.
	m = f.ok(t, "/api/search/queries?text=python&mode=fulltext&run_id="+cRun+"&page=1&limit=50")
	assert.EqualValues(t, 5, m["total"])
	for _, it := range items(t, m) {
		cs := it["clusters"].([]any)
		require.Len(t, cs, 1)
		c := cs[0].(map[string]any)
		hasKeys(t, c, "run_id", "cluster_id", "title", "confidence_score")
		assert.EqualValues(t, 0, c["cluster_id"])
		assert.Equal(t, "Python Programming", c["title"])
	}
	// At least what a substring match finds, for words the substring begins.
	for _, word := range []string{"alarm", "Alarm", "pyth", "poem", "wri", "alarms for", "时间", "旅行"} {
		want := map[int64]bool{}
		for id, text := range f.texts {
			if strings.Contains(strings.ToLower(text), strings.ToLower(word)) {
				want[id] = true
			}
		}
		m := f.ok(t, "/api/search/queries?limit=100&text="+strings.ReplaceAll(word, " ", "+"))
		got := map[int64]bool{}
		for _, it := range items(t, m) {
			got[int64(it["query"].(map[string]any)["id"].(float64))] = true
		}
		for id := range want {
			assert.True(t, got[id], "%q finds query %d %q", word, id, f.texts[id])
		}
		assert.EqualValues(t, len(got), m["total"], word)
	}
	m = f.ok(t, "/api/search/queries?text=alarm")
	assert.EqualValues(t, 12, m["total"], "alarm finds the 10 alarms and 2 alarm queries")
	// A word inside a run of Han letters is found by substring, as the Python tool finds it.
	for _, p := range []string{"/api/search/queries?text=时间", "/api/search/queries?text=时间&run_id=" + cRun} {
		m = f.ok(t, p)
		envelope(t, m, 1, 1, 1, 50)
		it := items(t, m)[0]
		assert.EqualValues(t, f.queryIDs[2][14], it["query"].(map[string]any)["id"], p)
		if strings.Contains(p, "run_id") {
			assert.EqualValues(t, 2, it["clusters"].([]any)[0].(map[string]any)["cluster_id"])
		}
	}
	m = f.ok(t, "/api/search/queries?text=写一个关于时间旅行者的故事")
	assert.EqualValues(t, 1, m["total"], "the whole run is found once: by the index, not again by substring")
	// Paging: total over every page, pages, and disjoint pages.
	p1 := f.ok(t, "/api/search/queries?text=alarm&limit=5&page=1")
	p3 := f.ok(t, "/api/search/queries?text=alarm&limit=5&page=3")
	envelope(t, p1, 12, 1, 3, 5)
	envelope(t, p3, 12, 3, 3, 5)
	assert.Len(t, items(t, p1), 5)
	assert.Len(t, items(t, p3), 2)
	seen := map[any]bool{}
	for _, it := range append(items(t, p1), items(t, p3)...) {
		id := it["query"].(map[string]any)["id"]
		assert.False(t, seen[id], "pages do not overlap")
		seen[id] = true
	}
	// A run that does not exist: an empty page; a run filter keeps its queries only.
	m = f.ok(t, "/api/search/queries?text=alarm&run_id=nonexistent")
	envelope(t, m, 0, 1, 0, 50)
	m = f.ok(t, "/api/search/queries?text=alarm&run_id="+cRun)
	assert.EqualValues(t, 10, m["total"], "the unclustered and orphaned alarm queries are outside the run")
	// Errors.
	f.validationError(t, "/api/search/queries")
	f.validationError(t, "/api/search/queries?text=python&mode=bogus")
	f.validationError(t, "/api/search/queries?text=python&top_clusters=51")
	code, e := f.get(t, "/api/search/queries?text=python&mode=semantic")
	assert.Equal(t, http.StatusBadRequest, code, "semantic search needs run_id")
	assert.Equal(t, "ValueError", e["detail"].(map[string]any)["error"].(map[string]any)["type"])
}

// TestPythonContractEditValues checks that each audited edit's old and new values carry
// the keys the Python tool's curation service records for its type (its viewer's audit
// and history panels read them), beside this library's own, on History and Audit.
func TestPythonContractEditValues(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		f := newContractFixture(t, db, false)
		ctx := context.Background()
		cur := curation.New(db, curation.Options{})
		quality := "medium"
		_, err := cur.TagCluster(ctx, cRun, 0, curation.Tag{Quality: &quality}, "carol", "")
		require.NoError(t, err)
		_, err = cur.RenameCluster(ctx, cRun, 1, curation.Rename{Title: "Wake-up alarms"}, "carol", "")
		require.NoError(t, err)
		moved := f.queryIDs[2][0]
		_, err = cur.MoveQuery(ctx, cRun, moved, 1, "carol", "")
		require.NoError(t, err)
		split := []int64{f.queryIDs[2][1], f.queryIDs[2][2]}
		res, err := cur.SplitCluster(ctx, cRun, 2, curation.Split{QueryIDs: split}, "carol", "")
		require.NoError(t, err)
		require.Len(t, res.NewClusterIDs, 1)
		part := res.NewClusterIDs[0]
		_, err = cur.MergeClusters(ctx, cRun, []int{part}, 2, "carol", "")
		require.NoError(t, err)
		_, err = cur.DeleteCluster(ctx, cRun, 1, curation.Delete{Orphan: true}, "carol", "")
		require.NoError(t, err)
		to := 2
		_, err = cur.DeleteCluster(ctx, cRun, 0, curation.Delete{MoveTo: &to}, "carol", "")
		require.NoError(t, err)
		// An edit the Python tool wrote keeps its values as they are.
		two := 2
		_, err = db.AddEdit(ctx, lmsys.Edit{RunID: cRun, ClusterID: &two, EditType: curation.TypeRename, Editor: "cli-user",
			OldValue: map[string]any{"title": "Poems", "description": "Sea poems"}, NewValue: map[string]any{"title": "Sea poems", "description": "Sea poems"}})
		require.NoError(t, err)

		m := f.ok(t, "/api/curation/runs/"+cRun+"/audit")
		its := items(t, m)
		require.Len(t, its, 10, "the fixture's tag and rename, seven edits here and the Python tool's")
		old := func(i int) map[string]any { return its[i]["old_value"].(map[string]any) }
		nv := func(i int) map[string]any { return its[i]["new_value"].(map[string]any) }
		types := make([]any, len(its))
		for i, it := range its {
			types[i] = it["edit_type"]
		}
		assert.Equal(t, []any{"rename", "delete", "delete", "merge", "split", "move_query", "rename", "tag", "rename", "tag"}, types, "newest first")

		assert.Equal(t, map[string]any{"title": "Poems", "description": "Sea poems"}, old(0), "the Python tool's edit is unchanged")
		assert.Equal(t, map[string]any{"title": "Sea poems", "description": "Sea poems"}, nv(0))

		assert.EqualValues(t, 0, old(1)["cluster_id"], "delete moving the queries")
		assert.EqualValues(t, 5, old(1)["query_count"])
		assert.Equal(t, false, nv(1)["orphaned"])
		assert.EqualValues(t, 2, nv(1)["moved_to"])

		assert.EqualValues(t, 1, old(2)["cluster_id"], "delete orphaning the queries")
		assert.EqualValues(t, 11, old(2)["query_count"])
		assert.Equal(t, true, nv(2)["orphaned"])
		assert.Contains(t, nv(2), "moved_to")
		assert.Nil(t, nv(2)["moved_to"])

		assert.EqualValues(t, []any{float64(part)}, old(3)["source_clusters"], "merge")
		assert.EqualValues(t, 2, nv(3)["target_cluster"])
		assert.EqualValues(t, 2, nv(3)["queries_moved"])

		assert.EqualValues(t, 2, old(4)["cluster_id"], "split")
		assert.ElementsMatch(t, []any{float64(split[0]), float64(split[1])}, old(4)["query_ids"])
		assert.EqualValues(t, part, nv(4)["new_cluster_id"])
		assert.EqualValues(t, 2, nv(4)["queries_moved"])

		assert.EqualValues(t, 2, old(5)["cluster_id"], "move")
		assert.EqualValues(t, moved, old(5)["query_id"])
		assert.EqualValues(t, 1, nv(5)["cluster_id"])
		assert.EqualValues(t, moved, nv(5)["query_id"])
		assert.Contains(t, nv(5), "from_clusters", "this library's keys stay beside them")

		assert.Equal(t, "Alarms", old(6)["title"], "rename")
		assert.Equal(t, "Setting alarms", old(6)["description"])
		assert.Equal(t, "Wake-up alarms", nv(6)["title"])

		assert.EqualValues(t, 4, old(7)["coherence_score"], "tag: the metadata it replaced")
		assert.Equal(t, "high", old(7)["quality"])
		assert.Equal(t, []any{"review"}, old(7)["flags"])
		assert.Equal(t, "checked", old(7)["notes"])
		assert.Equal(t, "medium", nv(7)["quality"])
		assert.NotContains(t, old(9), "quality", "a tag of a cluster without metadata replaced nothing")

		// History shows the same values.
		m = f.ok(t, "/api/curation/clusters/1/history?run_id="+cRun)
		h := items(t, m)
		require.NotEmpty(t, h)
		last := h[len(h)-1]
		assert.Equal(t, "rename", last["edit_type"])
		assert.Equal(t, "Alarms", last["old_value"].(map[string]any)["title"])
	})
}
