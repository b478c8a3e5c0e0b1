package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/dataset/demo"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// demoRun loads the demo set, clusters it with the lexical embedder and returns the
// database path and run id.
func demoRun(t *testing.T) (string, string) {
	t.Helper()
	path, db := tempDB(t, 0)
	ds, err := db.EnsureDataset(context.Background(), lmsys.Dataset{Name: "demo"})
	require.NoError(t, err)
	qs := demo.Queries()
	for i := range qs {
		qs[i].DatasetID = ds.ID
	}
	_, err = db.InsertQueries(context.Background(), qs)
	require.NoError(t, err)
	code, out, errOut := cli(t, "--db-path", path, "cluster", "kmeans", "--n-clusters", "12", "--embedding-model", "local/lexical", "--json")
	require.Equal(t, 0, code, errOut)
	var run lmsys.Run
	require.NoError(t, json.Unmarshal([]byte(out), &run))
	return path, run.ID
}

func TestFacetsTrendsAssignCommands(t *testing.T) {
	path, runID := demoRun(t)
	code, out, errOut := cli(t, "--db-path", path, "facets", runID, "--by", "language,model,topic", "--json")
	require.Equal(t, 0, code, errOut)
	var f struct {
		Facets []struct {
			Field   string `json:"field"`
			Total   int64  `json:"total_queries"`
			Overall []struct {
				Key string `json:"key"`
			} `json:"overall"`
		} `json:"facets"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &f))
	require.Len(t, f.Facets, 3)
	assert.Equal(t, "English", f.Facets[0].Overall[0].Key)
	assert.Equal(t, int64(len(demo.Queries())), f.Facets[0].Total)

	code, out, _ = cli(t, "--db-path", path, "facets", runID, "--cluster-id", "0", "--by", "language")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "Cluster 0")

	code, out, errOut = cli(t, "--db-path", path, "trends", runID, "--period", "week", "--json")
	require.Equal(t, 0, code, errOut)
	var tr struct {
		Periods []string `json:"periods"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &tr))
	assert.GreaterOrEqual(t, len(tr.Periods), 8)
	code, out, errOut = cli(t, "--db-path", path, "trends", runID, "--compare", tr.Periods[0]+","+tr.Periods[len(tr.Periods)-1])
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "Risers")
	code, _, _ = cli(t, "--db-path", path, "trends", runID, "--compare", "2026-09")
	assert.Equal(t, 2, code)
	code, _, errOut = cli(t, "--db-path", path, "trends", runID, "--compare", "2026-09,2026-W01")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "differ")

	newLogs := filepath.Join(t.TempDir(), "new.jsonl")
	require.NoError(t, os.WriteFile(newLogs, []byte(`{"id": "n1", "prompt": "write a python function to reverse a list"}
{"id": "n2", "prompt": "translate good morning into spanish"}
`), 0o644))
	code, out, errOut = cli(t, "--db-path", path, "assign", runID, "--source", newLogs, "--text-field", "prompt", "--json")
	require.Equal(t, 0, code, errOut)
	var as struct {
		Assign struct {
			Assigned   int `json:"assigned"`
			NotFitting int `json:"not_fitting"`
		} `json:"assign"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &as))
	assert.Equal(t, 2, as.Assign.Assigned+as.Assign.NotFitting)
	code, _, _ = cli(t, "--db-path", path, "assign", runID)
	assert.Equal(t, 2, code)
	code, _, errOut = cli(t, "--db-path", path, "facets", "no-such-run")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "no-such-run")
}
