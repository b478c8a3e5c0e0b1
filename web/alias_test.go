package web

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestListsKeepTheirOldKeys: every list answer carries the Python tool's "items" and,
// with the same content, the key this API used before.
func TestListsKeepTheirOldKeys(t *testing.T) {
	h := shared.handler(Options{})
	for _, tc := range []struct{ path, key string }{
		{"/api/clustering/runs", "runs"},
		{"/api/clustering/runs/" + shared.runID + "/clusters", "clusters"},
		{"/api/queries?limit=5", "queries"},
		{"/api/search/queries?text=python&run_id=" + shared.runID, "results"},
		{"/api/hierarchy?run_id=" + shared.runID, "hierarchies"},
		{"/api/summaries?run_id=" + shared.runID, "summary_runs"},
		{"/api/curation/runs/" + shared.runID + "/audit", "edits"},
		{"/api/curation/runs/" + shared.runID + "/orphaned", "orphaned"},
	} {
		t.Run(tc.key, func(t *testing.T) {
			code, body := call(t, h, http.MethodGet, tc.path, nil, "")
			require.Equal(t, http.StatusOK, code, string(body))
			var m map[string]json.RawMessage
			require.NoError(t, json.Unmarshal(body, &m))
			require.Contains(t, m, "items")
			require.Contains(t, m, tc.key)
			assert.JSONEq(t, string(m["items"]), string(m[tc.key]))
		})
	}
}
