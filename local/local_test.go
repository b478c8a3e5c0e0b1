package local_test

import (
	"context"
	"testing"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/dataset/demo"
	"github.com/lmsys-go/lmsys/local"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPipelineResumes runs the whole offline analysis of the demo set, then runs it
// again as a resumed job would: nothing is loaded, embedded, clustered, summarised
// or merged twice.
func TestPipelineResumes(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "")
	ctx := context.Background()
	dir := t.TempDir()
	ws, err := local.Open(ctx, local.Config{Dir: dir, EmbeddingModel: "local/lexical"})
	require.NoError(t, err)
	defer ws.Close()

	var stages []string
	p := ws.Pipeline(local.Analysis{Source: local.DemoSource(), K: 12})
	p.OnStage = func(r lmsys.StageReport) {
		if r.Elapsed > 0 {
			stages = append(stages, r.Stage)
		}
	}
	st, err := p.Run(ctx, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"load", "embed", "cluster", "summarize", "merge", "index"}, stages)
	assert.Equal(t, "demo", st.Dataset)
	require.NotEmpty(t, st.RunID)
	require.NotEmpty(t, st.SummaryRunID)
	require.NotEmpty(t, st.HierarchyRunID)

	n, err := ws.Store.CountQueries(ctx, lmsys.QueryFilter{Dataset: "demo"})
	require.NoError(t, err)
	assert.Equal(t, int64(len(demo.Queries())), n)
	sums, err := ws.Store.Summaries(ctx, st.RunID, "")
	require.NoError(t, err)
	assert.Len(t, sums, 12)
	for _, s := range sums {
		assert.NotEmpty(t, s.Title)
	}
	nodes, err := ws.Store.Hierarchy(ctx, st.HierarchyRunID)
	require.NoError(t, err)
	assert.Greater(t, len(nodes), 12)

	again, err := ws.Pipeline(local.Analysis{Source: local.DemoSource(), K: 12}).Run(ctx, nil)
	require.NoError(t, err)
	assert.Equal(t, st.RunID, again.RunID, "the finished run is reused")
	assert.Equal(t, st.SummaryRunID, again.SummaryRunID)
	assert.Equal(t, st.HierarchyRunID, again.HierarchyRunID)
	assert.Contains(t, again.Results["load"], "0 new queries")
	assert.Contains(t, again.Results["embed"], "0 embedded")
	runs, err := ws.Store.ListRuns(ctx)
	require.NoError(t, err)
	assert.Len(t, runs, 1)
}
