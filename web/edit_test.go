package web

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/lmsys-go/lmsys/curation"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEditsAndJobs drives every write endpoint on a fixture of its own.
func TestEditsAndJobs(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	const tok = "tok"
	h := f.handler(Options{Token: tok, PublicRead: true, Editor: "tester"})
	run := f.runID
	post := func(path string, body any) map[string]any {
		t.Helper()
		code, m := callJSON(t, h, "POST", path, body, tok)
		require.Contains(t, []int{200, 201}, code, "POST %s: %v", path, m)
		return m
	}
	editID := func(m map[string]any) int64 { return int64(m["edit"].(map[string]any)["id"].(float64)) }

	_, cl := callJSON(t, h, "GET", "/api/clustering/runs/"+run+"/clusters", nil, "")
	clusters := cl["items"].([]any)
	cid := func(i int) int { return int(clusters[i].(map[string]any)["cluster_id"].(float64)) }
	a, b, c, d := cid(0), cid(1), cid(2), cid(3)

	// A first search indexes the run.
	code0, _ := callJSON(t, h, "GET", "/api/search/clusters?mode=semantic&run_id="+run+"&text=email", nil, "")
	require.Equal(t, 200, code0)
	// Rename (run id in the query), then see it in the cluster and audit.
	m := post(fmt.Sprintf("/api/curation/clusters/%d/rename?run_id=%s", a, run), map[string]any{"title": "Renamed <b>by</b> test", "reason": "clearer"})
	renameID := editID(m)
	assert.Equal(t, "tester", m["edit"].(map[string]any)["editor"])
	_, det := callJSON(t, h, "GET", fmt.Sprintf("/api/clustering/runs/%s/clusters/%d", run, a), nil, "")
	assert.Equal(t, "Renamed <b>by</b> test", det["summary"].(map[string]any)["title"])
	// A rename by another process (its own Curator, no hook into this server) shows at once:
	// the cached summaries are dropped when the run has a newer audited edit.
	_, err := curation.New(f.ws.Store, curation.Options{}).RenameCluster(context.Background(), run, a, curation.Rename{Title: "Renamed elsewhere"}, "cli", "")
	require.NoError(t, err)
	_, det = callJSON(t, h, "GET", fmt.Sprintf("/api/clustering/runs/%s/clusters/%d", run, a), nil, "")
	assert.Equal(t, "Renamed elsewhere", det["summary"].(map[string]any)["title"])
	m = post(fmt.Sprintf("/api/curation/clusters/%d/rename?run_id=%s", a, run), map[string]any{"title": "Renamed <b>by</b> test", "reason": "clearer"})
	assert.Equal(t, "rename", m["edit"].(map[string]any)["edit_type"])
	// The cluster search index followed the rename (the OnChange re-index): in sync.
	_, v := callJSON(t, h, "GET", "/api/verify/runs/"+run, nil, "")
	assert.Equal(t, true, v["in_sync"], "%v", v)

	// Tag and flag (run id in the body); flag twice is refused.
	post(fmt.Sprintf("/api/curation/clusters/%d/tag", a), map[string]any{"run_id": run, "coherence": 4, "quality": "high", "notes": "ok"})
	post(fmt.Sprintf("/api/curation/clusters/%d/flag", a), map[string]any{"run_id": run, "flag": "review"})
	code, _ := callJSON(t, h, "POST", fmt.Sprintf("/api/curation/clusters/%d/flag", a), map[string]any{"run_id": run, "flag": "review"}, tok)
	assert.Equal(t, 400, code)
	_, meta := callJSON(t, h, "GET", fmt.Sprintf("/api/curation/clusters/%d/metadata?run_id=%s", a, run), nil, "")
	assert.EqualValues(t, 4, meta["coherence_score"])
	assert.Equal(t, []any{"review"}, meta["flags"])

	// Move one query, then several.
	_, qs := callJSON(t, h, "GET", fmt.Sprintf("/api/queries?run_id=%s&cluster_id=%d", run, b), nil, "")
	qrows := qs["items"].([]any)
	q0 := int64(qrows[0].(map[string]any)["query_id"].(float64))
	q1 := int64(qrows[1].(map[string]any)["query_id"].(float64))
	q2 := int64(qrows[2].(map[string]any)["query_id"].(float64))
	post(fmt.Sprintf("/api/curation/queries/%d/move", q0), map[string]any{"run_id": run, "to_cluster_id": a})
	post("/api/curation/queries/move?run_id="+run, map[string]any{"query_ids": []int64{q1, q2}, "to_cluster_id": a})
	_, view := callJSON(t, h, "GET", fmt.Sprintf("/api/queries/%d", q0), nil, "")
	assert.EqualValues(t, a, view["clusters"].([]any)[0].(map[string]any)["cluster_id"])

	// Merge c into a; split a by k-means; delete d orphaning its queries; reassign them.
	post("/api/curation/clusters/merge", map[string]any{"run_id": run, "source_cluster_ids": []int{c}, "target_cluster_id": a})
	m = post(fmt.Sprintf("/api/curation/clusters/%d/split?run_id=%s", a, run), map[string]any{"k": 2})
	assert.NotEmpty(t, m["new_cluster_ids"])
	post(fmt.Sprintf("/api/curation/clusters/%d/delete?run_id=%s", d, run), map[string]any{"orphan": true, "reason": "junk"})
	_, orph := callJSON(t, h, "GET", "/api/curation/runs/"+run+"/orphaned", nil, "")
	require.NotEmpty(t, orph["items"])
	assert.Contains(t, orph["items"].([]any)[0].(map[string]any), "orphan")
	assert.Contains(t, orph["items"].([]any)[0].(map[string]any), "query")
	post("/api/curation/runs/"+run+"/orphaned/reassign", map[string]any{"to_cluster_id": b})
	_, orph = callJSON(t, h, "GET", "/api/curation/runs/"+run+"/orphaned", nil, "")
	assert.Empty(t, orph["items"])

	// Undo of the rename conflicts with later edits of the same cluster; the newest undoes.
	code, m = callJSON(t, h, "POST", "/api/curation/runs/"+run+"/undo", map[string]any{"edit_id": renameID}, tok)
	assert.Equal(t, 409, code, "%v", m)
	assert.Equal(t, "conflict", m["code"])
	_, audit := callJSON(t, h, "GET", "/api/curation/runs/"+run+"/audit", nil, "")
	edits := audit["items"].([]any)
	last := int64(edits[0].(map[string]any)["id"].(float64)) // newest first
	post("/api/curation/runs/"+run+"/undo", map[string]any{"edit_id": last, "reason": "oops"})
	_, orph = callJSON(t, h, "GET", "/api/curation/runs/"+run+"/orphaned", nil, "")
	assert.NotEmpty(t, orph["items"], "undoing the reassign brings the orphans back")

	// The audit log lists every type, filters by type, and the history of a names its edits.
	_, audit = callJSON(t, h, "GET", "/api/curation/runs/"+run+"/audit", nil, "")
	types := map[string]bool{}
	for _, e := range audit["items"].([]any) {
		types[e.(map[string]any)["edit_type"].(string)] = true
	}
	for _, ty := range []string{"rename", "tag", "flag", "move_query", "merge", "split", "delete", "reassign_orphans", "undo"} {
		assert.True(t, types[ty], "audit lacks %s", ty)
	}
	_, only := callJSON(t, h, "GET", "/api/curation/runs/"+run+"/audit?type=rename&editor=tester", nil, "")
	assert.Len(t, only["items"], 2, "two renames by tester (one by cli)")
	_, hist := callJSON(t, h, "GET", fmt.Sprintf("/api/curation/clusters/%d/history?run_id=%s", a, run), nil, "")
	assert.NotEmpty(t, hist["items"])

	// The audit page shows the rename, escaped.
	code2, page := call(t, h, "GET", "/runs/"+run+"/audit", nil, "")
	assert.Equal(t, 200, code2)
	assert.Contains(t, string(page), "renamed to &#34;Renamed &lt;b&gt;by&lt;/b&gt; test&#34;")
	assert.NotContains(t, string(page), "<b>by</b>")

	// Reads running alongside edits (the summary cache is shared): run with -race.
	var wg sync.WaitGroup
	for g := 0; g < 6; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				code, _ := call(t, h, "GET", fmt.Sprintf("/clusters/%s/%d", run, []int{a, b}[(g+i)%2]), nil, "")
				assert.Equal(t, 200, code)
			}
		}(g)
	}
	for i := 0; i < 3; i++ {
		post(fmt.Sprintf("/api/curation/clusters/%d/tag?run_id=%s", b, run), map[string]any{"notes": fmt.Sprint("note ", i)})
	}
	wg.Wait()

	// Long jobs: clustering, summaries, hierarchy, verify/sync.
	m = post("/api/clustering/kmeans", map[string]any{"n_clusters": 5, "seed": 7, "description": "from the API"})
	run2 := m["run_id"].(string)
	assert.EqualValues(t, 5, m["num_clusters"])
	assert.Equal(t, "completed", m["status"])
	m = post("/api/clustering/kmeans", map[string]any{"n_clusters": 4, "algorithm": "minibatch", "mb_batch_size": 64, "chunk_size": 128})
	assert.Equal(t, "completed", m["status"])
	m = post("/api/clustering/hdbscan", map[string]any{"min_cluster_size": 5, "pca_dims": 10, "reassign_noise": true})
	assert.Equal(t, "completed", m["status"])
	m = post("/api/summaries/?run_id="+run2, map[string]any{"alias": "v1"})
	sr := m["summary_run"].(map[string]any)
	assert.Equal(t, "v1", sr["alias"])
	assert.EqualValues(t, 5, m["summarized"])
	_, cl2 := callJSON(t, h, "GET", "/api/clustering/runs/"+run2+"/clusters?alias=v1", nil, "")
	assert.Equal(t, sr["summary_run_id"], cl2["summary_run_id"])
	m = post("/api/hierarchy/", map[string]any{"run_id": run2, "target_levels": 2, "merge_ratio": 0.5})
	hid := m["hierarchy_run_id"].(string)
	_, hd := callJSON(t, h, "GET", "/api/hierarchy/"+hid, nil, "")
	assert.EqualValues(t, 5, hd["totals"].(map[string]any)["leaves"])
	m = post("/api/verify/runs/"+run2+"/sync", nil)
	assert.Equal(t, true, m["repaired"])
	_, v = callJSON(t, h, "GET", "/api/verify/runs/"+run2, nil, "")
	assert.Equal(t, true, v["in_sync"], "%v", v)
}
