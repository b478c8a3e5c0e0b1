package web

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/lmsys-go/lmsys"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLabelRoutes labels a fixture run's queries (every query of the largest
// cluster refused, the rest complied with; one label a script) and reads both
// pivots back over the API and in the viewer.
func TestLabelRoutes(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	db := f.ws.Store
	sizes, big, as := largestCluster(t, f)
	cr := lmsys.ClassificationRun{ID: "classify-refusal-web", TemplateID: "refusal@1", TemplateHash: "h", ResultKey: "builtin:refusal@1",
		Provider: "builtin", Model: "refusal", Facets: []string{"refusal"}}
	require.NoError(t, db.CreateClassificationRun(ctx, cr))
	var ls []lmsys.Label
	for i, a := range as {
		v := "complied"
		switch {
		case a.ClusterID == big:
			v = "refused"
		case i == 1:
			v = "<script>alert(1)</script>"
		}
		ls = append(ls, lmsys.Label{QueryID: a.QueryID, Facet: "refusal", Value: v, ClassificationRunID: cr.ID, ResultKey: cr.ResultKey})
	}
	require.NoError(t, db.SaveLabels(ctx, ls))
	h := f.handler(Options{})

	code, m := callJSON(t, h, "GET", "/api/labels", nil, "")
	require.Equal(t, http.StatusOK, code)
	assert.Equal(t, []any{map[string]any{"facet": "refusal", "labels": float64(len(as))}}, m["facets"])

	code, m = callJSON(t, h, "GET", "/api/classifications", nil, "")
	require.Equal(t, http.StatusOK, code)
	assert.EqualValues(t, 1, m["total"])
	code, m = callJSON(t, h, "GET", "/api/classifications/"+cr.ID, nil, "")
	require.Equal(t, http.StatusOK, code)
	assert.Equal(t, cr.ResultKey, m["result_key"])
	code, _ = callJSON(t, h, "GET", "/api/classifications/nope", nil, "")
	assert.Equal(t, http.StatusNotFound, code)

	code, m = callJSON(t, h, "GET", fmt.Sprintf("/api/clustering/runs/%s/clusters/%d/labels", f.runID, big), nil, "")
	require.Equal(t, http.StatusOK, code)
	facets := m["facets"].([]any)
	require.Len(t, facets, 1)
	in := facets[0].(map[string]any)["cluster"].([]any)
	assert.Equal(t, map[string]any{"label": "refused", "count": float64(sizes[big]), "share": 1.0}, in[0])
	code, _ = callJSON(t, h, "GET", fmt.Sprintf("/api/clustering/runs/%s/clusters/9999/labels", f.runID), nil, "")
	assert.Equal(t, http.StatusNotFound, code)

	code, m = callJSON(t, h, "GET", "/api/analysis/runs/"+f.runID+"/labels/refusal?top=3", nil, "")
	require.Equal(t, http.StatusOK, code)
	refused := m["clusters_by_label"].(map[string]any)["refused"].([]any)
	require.Len(t, refused, 1)
	assert.EqualValues(t, big, refused[0].(map[string]any)["cluster_id"])
	assert.LessOrEqual(t, len(m["clusters_by_label"].(map[string]any)["complied"].([]any)), 3)
	code, _ = callJSON(t, h, "GET", "/api/analysis/runs/"+f.runID+"/labels/nope", nil, "")
	assert.Equal(t, http.StatusNotFound, code)

	code, m = callJSON(t, h, "GET", "/api/analysis/runs/"+f.runID+"/facets?by=refusal&sort=lift", nil, "")
	require.Equal(t, http.StatusOK, code)
	over := m["facets"].([]any)[0].(map[string]any)["over_represented"].([]any)
	require.NotEmpty(t, over)
	assert.Equal(t, "refused", over[0].(map[string]any)["value"])
	code, _ = callJSON(t, h, "GET", "/api/analysis/runs/"+f.runID+"/facets?by=refusal&sort=size", nil, "")
	assert.Equal(t, http.StatusBadRequest, code)

	// Lists and searches filter by a label.
	code, m = callJSON(t, h, "GET", "/api/queries?run_id="+f.runID+"&label=refusal%3Drefused", nil, "")
	require.Equal(t, http.StatusOK, code)
	assert.EqualValues(t, sizes[big], m["total"])
	code, _ = callJSON(t, h, "GET", "/api/queries?label=refused", nil, "")
	assert.Equal(t, http.StatusBadRequest, code)
	code, m = callJSON(t, h, "GET", "/api/search/queries?mode=fulltext&text=a&run_id="+f.runID+"&label=refusal%3Drefused&limit=100", nil, "")
	require.Equal(t, http.StatusOK, code, m)
	items := m["items"].([]any)
	require.NotEmpty(t, items)
	for _, it := range items {
		assert.EqualValues(t, big, it.(map[string]any)["cluster_id"])
	}
	code, _ = callJSON(t, h, "GET", "/api/search/queries?mode=fulltext&text=a&label=refusal", nil, "")
	assert.Equal(t, http.StatusBadRequest, code)

	code, b := call(t, h, "GET", "/search?mode=fulltext&text=a&run_id="+f.runID+"&label=refusal%3Drefused", nil, "")
	require.Equal(t, http.StatusOK, code)
	assert.Contains(t, string(b), `value="refusal=refused"`, "the search page keeps its label filter")
	assert.NotContains(t, string(b), `class="error"`)

	// The viewer: the cluster page shows the distribution, the label page the clusters.
	code, b = call(t, h, "GET", fmt.Sprintf("/clusters/%s/%d", f.runID, big), nil, "")
	require.Equal(t, http.StatusOK, code)
	assert.Contains(t, string(b), `id="labels"`)
	assert.Contains(t, string(b), "/runs/"+f.runID+"/labels/refusal")
	code, b = call(t, h, "GET", "/runs/"+f.runID+"/labels/refusal", nil, "")
	require.Equal(t, http.StatusOK, code)
	assert.Contains(t, string(b), fmt.Sprintf(`/clusters/%s/%d"`, f.runID, big))
	assert.NotContains(t, string(b), "<script>alert(1)")
	assert.Contains(t, string(b), "&lt;script&gt;alert(1)&lt;/script&gt;")
	code, _ = call(t, h, "GET", "/runs/"+f.runID+"/labels/nope", nil, "")
	assert.Equal(t, http.StatusNotFound, code)
	// Labels written by another process (a newer configuration) are read on the next
	// view, though the server keeps label counts between views.
	cr2 := cr
	cr2.ID, cr2.ResultKey = "classify-refusal-web2", "builtin:refusal@2"
	require.NoError(t, db.CreateClassificationRun(ctx, cr2))
	var ls2 []lmsys.Label
	for _, a := range as {
		ls2 = append(ls2, lmsys.Label{QueryID: a.QueryID, Facet: "refusal", Value: "complied", ClassificationRunID: cr2.ID, ResultKey: cr2.ResultKey})
	}
	require.NoError(t, db.SaveLabels(ctx, ls2))
	code, m = callJSON(t, h, "GET", fmt.Sprintf("/api/clustering/runs/%s/clusters/%d/labels", f.runID, big), nil, "")
	require.Equal(t, http.StatusOK, code)
	dist := m["facets"].([]any)[0].(map[string]any)
	assert.Equal(t, []any{map[string]any{"label": "complied", "count": float64(sizes[big]), "share": 1.0}}, dist["cluster"])
	assert.Equal(t, []any{map[string]any{"label": "complied", "count": float64(len(as)), "share": 1.0}}, dist["run"])
	// So is an edit of the cluster.
	var moved int64
	other := -1
	for c := range sizes {
		if c != big {
			other = c
		}
	}
	for _, a := range as {
		if a.ClusterID == big {
			moved = a.QueryID
			break
		}
	}
	code, _ = callJSON(t, h, "POST", fmt.Sprintf("/api/curation/queries/%d/move", moved), map[string]any{"run_id": f.runID, "to_cluster_id": other}, "")
	require.Equal(t, http.StatusOK, code)
	code, m = callJSON(t, h, "GET", fmt.Sprintf("/api/clustering/runs/%s/clusters/%d/labels", f.runID, big), nil, "")
	require.Equal(t, http.StatusOK, code)
	dist = m["facets"].([]any)[0].(map[string]any)
	assert.Equal(t, []any{map[string]any{"label": "complied", "count": float64(sizes[big] - 1), "share": 1.0}}, dist["cluster"])
}

// TestListFacetRoutes labels a fixture run's queries with a list facet (the largest
// cluster's queries "English, French" or "French" in turn, the others "English")
// and reads it back: each item counts once per query, shares are of queries and sum
// past 1, the label filter keeps the queries whose list holds the item, and the
// pages say the facet is a list.
func TestListFacetRoutes(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	db := f.ws.Store
	sizes, big, as := largestCluster(t, f)
	cr := lmsys.ClassificationRun{ID: "classify-clio-web", TemplateID: "clio-1", TemplateHash: "h", ResultKey: "llm:clio",
		Provider: "openai", Model: "openai/x", Facets: []string{"languages"}, Parameters: map[string]any{lmsys.ListFacetsParameter: []string{"languages"}}}
	require.NoError(t, db.CreateClassificationRun(ctx, cr))
	var ls []lmsys.Label
	both, english := 0, 0
	for _, a := range as {
		v := "English"
		if a.ClusterID == big {
			v = "French"
			if both*2 < sizes[big]-1 {
				v = "English, French"
				both++
			}
		}
		if v != "French" {
			english++
		}
		ls = append(ls, lmsys.Label{QueryID: a.QueryID, Facet: "languages", Value: v, ClassificationRunID: cr.ID, ResultKey: cr.ResultKey})
	}
	require.NoError(t, db.SaveLabels(ctx, ls))
	require.Positive(t, both)
	h := f.handler(Options{})

	code, m := callJSON(t, h, "GET", "/api/labels", nil, "")
	require.Equal(t, http.StatusOK, code)
	assert.Equal(t, []any{map[string]any{"facet": "languages", "labels": float64(len(as)), "list": true}}, m["facets"], "labelled queries, and a list")

	code, m = callJSON(t, h, "GET", fmt.Sprintf("/api/clustering/runs/%s/clusters/%d/labels", f.runID, big), nil, "")
	require.Equal(t, http.StatusOK, code)
	dist := m["facets"].([]any)[0].(map[string]any)
	assert.Equal(t, "languages", dist["facet"])
	assert.Equal(t, true, dist["list"])
	n := float64(sizes[big])
	assert.Equal(t, []any{
		map[string]any{"label": "French", "count": n, "share": 1.0},
		map[string]any{"label": "English", "count": float64(both), "share": float64(both) / n},
	}, dist["cluster"], "shares of the cluster's queries, summing past 1")
	assert.Equal(t, []any{
		map[string]any{"label": "English", "count": float64(english), "share": float64(english) / float64(len(as))},
		map[string]any{"label": "French", "count": n, "share": n / float64(len(as))},
	}, dist["run"])

	code, m = callJSON(t, h, "GET", "/api/analysis/runs/"+f.runID+"/labels/languages?top=3", nil, "")
	require.Equal(t, http.StatusOK, code)
	assert.Equal(t, true, m["list"])
	assert.EqualValues(t, len(as), m["total_queries"])
	french := m["clusters_by_label"].(map[string]any)["French"].([]any)
	require.Len(t, french, 1)
	assert.EqualValues(t, big, french[0].(map[string]any)["cluster_id"])
	assert.EqualValues(t, 1, french[0].(map[string]any)["share"])

	for _, tc := range []struct {
		label string
		total int
	}{
		{"languages%3DFrench", sizes[big]},
		{"languages%3DEnglish", english},
		{"languages%3DEngl", 0},
		{"languages%3DEnglish%2C%20French", both},
	} {
		code, m = callJSON(t, h, "GET", "/api/queries?run_id="+f.runID+"&label="+tc.label, nil, "")
		require.Equal(t, http.StatusOK, code, tc.label)
		assert.EqualValues(t, tc.total, m["total"], tc.label)
	}

	code, b := call(t, h, "GET", fmt.Sprintf("/clusters/%s/%d", f.runID, big), nil, "")
	require.Equal(t, http.StatusOK, code)
	assert.Contains(t, string(b), "languages is a list: each item counts once")
	code, b = call(t, h, "GET", "/runs/"+f.runID+"/labels/languages", nil, "")
	require.Equal(t, http.StatusOK, code)
	assert.Contains(t, string(b), "languages is a list: each item counts once")
}

// largestCluster returns the fixture run's cluster sizes, its largest cluster (the
// lowest id among equal sizes) and the run's assignments.
func largestCluster(t *testing.T, f *fixture) (map[int]int, int, []lmsys.Assignment) {
	t.Helper()
	ctx := context.Background()
	sizes, err := f.ws.Store.ClusterSizes(ctx, f.runID)
	require.NoError(t, err)
	big := -1
	for c, n := range sizes {
		if big < 0 || n > sizes[big] || n == sizes[big] && c < big {
			big = c
		}
	}
	as, err := f.ws.Store.Assignments(ctx, f.runID, nil)
	require.NoError(t, err)
	return sizes, big, as
}
