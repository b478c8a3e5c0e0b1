package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/lmsys-go/lmsys/curation"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestClusterShareFollowsEdits: the run total behind a cluster's percentage is cached,
// and an edit that changes it, made by another process straight on the store, shows
// in the next answer.
func TestClusterShareFollowsEdits(t *testing.T) {
	f := newFixture(t)
	h := f.handler(Options{})
	share := func(cluster int) float64 {
		t.Helper()
		code, body := call(t, h, http.MethodGet, fmt.Sprintf("/api/clustering/runs/%s/clusters/%d", f.runID, cluster), nil, "")
		require.Equal(t, http.StatusOK, code, string(body))
		var d struct {
			Cluster struct {
				Percentage float64 `json:"percentage"`
				QueryCount int     `json:"query_count"`
			} `json:"cluster"`
		}
		require.NoError(t, json.Unmarshal(body, &d))
		return d.Cluster.Percentage
	}
	before := share(0)
	assert.Equal(t, before, share(0), "a second read answers from the cache")
	// Another process orphans cluster 1's queries: the run assigns fewer queries, so
	// cluster 0's share of it grows.
	other := curation.New(f.ws.Store, curation.Options{})
	_, err := other.DeleteCluster(context.Background(), f.runID, 1, curation.Delete{Orphan: true}, "someone-else", "")
	require.NoError(t, err)
	assert.Greater(t, share(0), before)
}
