package mcpserver_test

import (
	"context"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/llm"
	"github.com/lmsys-go/lmsys/llm/llmtest"
	"github.com/lmsys-go/lmsys/mcpserver"
)

const clioReply = `{"request": "Get help with a task.", "task": "coding", "languages": ["en"], "concerning": 1, "frustration": 1, "assistant_errors": "none"}`

func TestClassify(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	fake := llmtest.OpenAI(llmtest.Text(clioReply))
	t.Cleanup(fake.Close)
	srv := mcpserver.New(mcpserver.Deps{Store: f.ws.Store, Search: f.svc, LLM: func(model string, opts ...llm.Option) (*llm.Client, error) {
		return llm.Open(model, append(opts, llm.WithBaseURL(fake.BaseURL()), llm.WithAPIKey("test-key"), llm.WithCache(f.ws.Store.LLMCache()))...)
	}}, mcpserver.Options{MaxCost: 1, Logger: quiet})
	cs, err := mcpserver.Connect(ctx, srv)
	require.NoError(t, err)
	t.Cleanup(func() { cs.Close() })
	run, small := f.runID, f.clusters[len(f.clusters)-1]
	sizes, err := f.ws.Store.ClusterSizes(ctx, run)
	require.NoError(t, err)

	runCases(t, cs, []toolCase{
		{name: "builtins offline", tool: "classify", args: map[string]any{"builtin": []string{"refusal", "code"}}, check: func(t *testing.T, m map[string]any) {
			assert.Equal(t, "offline built-in", m["classifier"])
			rs := items(t, m, "results")
			require.Len(t, rs, 2)
			r := rs[0].(map[string]any)
			assert.Equal(t, "completed", r["classification_run"].(map[string]any)["status"])
			assert.EqualValues(t, 393, r["classified"])
		}},
		{name: "builtins again skip what is labelled", tool: "classify", args: map[string]any{"builtin": []string{"refusal"}}, check: func(t *testing.T, m map[string]any) {
			r := items(t, m, "results")[0].(map[string]any)
			assert.EqualValues(t, 0, r["classified"])
			assert.EqualValues(t, 393, r["skipped"])
		}},
		{name: "the labels are facets", tool: "facets", args: map[string]any{"run_id": run, "by": []string{"refusal"}}, check: func(t *testing.T, m map[string]any) {
			fs := items(t, m, "facets")
			assert.EqualValues(t, 393, fs[0].(map[string]any)["total_queries"])
		}},
		{name: "none", tool: "classify", args: map[string]any{}, wantErr: "builtin: give exactly one of builtin, facets and template"},
		{name: "two kinds", tool: "classify", args: map[string]any{"builtin": []string{"code"}, "facets": "clio"}, wantErr: "give exactly one of"},
		{name: "unknown builtin", tool: "classify", args: map[string]any{"builtin": []string{"sentiment"}}, wantErr: "/properties/builtin/items: enum: sentiment does not equal any of: [refusal pushback code language turns length]"},
		{name: "builtin with a model", tool: "classify", args: map[string]any{"builtin": []string{"code"}, "model": "openai/gpt-4o-mini"}, wantErr: "model: built-in classifiers run offline"},
		{name: "llm without a model", tool: "classify", args: map[string]any{"facets": "clio", "max_cost": 0.5}, wantErr: "model: required with facets"},
		{name: "llm without a cost cap", tool: "classify", args: map[string]any{"facets": "clio", "model": "openai/gpt-4o-mini"}, wantErr: "max_cost: required with facets: a positive cost cap in US dollars"},
		{name: "cost cap over the ceiling", tool: "classify", args: map[string]any{"facets": "clio", "model": "openai/gpt-4o-mini", "max_cost": 5}, wantErr: "max_cost: 5 is over this server's ceiling of 1 US dollars"},
		{name: "bad template", tool: "classify", args: map[string]any{"template": "name: x\nfacets: nope", "model": "openai/gpt-4o-mini", "max_cost": 0.5}, wantErr: "template: "},
		{name: "bad model", tool: "classify", args: map[string]any{"facets": "clio", "model": "gpt-4o-mini", "max_cost": 0.5}, wantErr: "model: "},
		{name: "clusters without a run", tool: "classify", args: map[string]any{"builtin": []string{"code"}, "cluster_ids": []int{1}}, wantErr: "cluster_ids: needs run_id"},
		{name: "unknown cluster", tool: "classify", args: map[string]any{"builtin": []string{"code"}, "run_id": run, "cluster_ids": []int{404}}, wantErr: "cluster_ids: run " + run + " has no cluster 404"},
		{name: "concurrency out of range", tool: "classify", args: map[string]any{"builtin": []string{"code"}, "concurrency": 100}, wantErr: "concurrency: 100 is out of range: give 1 to 32"},
		{name: "llm dry run plans without calling", tool: "classify", args: map[string]any{"facets": "clio", "model": "openai/gpt-4o-mini", "run_id": run, "cluster_ids": []int{small}, "dry_run": true},
			check: func(t *testing.T, m map[string]any) {
				plan := items(t, m, "results")[0].(map[string]any)["plan"].(map[string]any)
				assert.EqualValues(t, sizes[small], plan["to_classify"])
				assert.Greater(t, plan["estimate"].(map[string]any)["estimated_cost"], 0.0)
				assert.Zero(t, fake.Calls())
			}},
		{name: "llm facets of one cluster", tool: "classify", args: map[string]any{"facets": "clio", "model": "openai/gpt-4o-mini", "max_cost": 0.5, "run_id": run, "cluster_ids": []int{small}},
			check: func(t *testing.T, m map[string]any) {
				assert.Equal(t, "openai/gpt-4o-mini, text scrubbed", m["classifier"])
				r := items(t, m, "results")[0].(map[string]any)
				assert.EqualValues(t, sizes[small], r["classified"])
				assert.Equal(t, "completed", r["classification_run"].(map[string]any)["status"])
				assert.Equal(t, sizes[small], fake.Calls())
			}},
	})

	// The labels landed in the store as `lmsys classify` leaves them.
	cs2, err := f.ws.Store.LabelCounts(ctx, lmsys.LabelFilter{Facet: "task", RunID: run})
	require.NoError(t, err)
	assert.Equal(t, []lmsys.Count{{Key: "coding", Count: int64(sizes[small])}}, cs2)
	runs, err := f.ws.Store.ClassificationRuns(ctx)
	require.NoError(t, err)
	assert.Len(t, runs, 4, "refusal, code, refusal again, clio")
}

func TestClassifyProgress(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	progress := make(chan *mcp.ProgressNotificationParams, 1024)
	c := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "v0"}, &mcp.ClientOptions{
		ProgressNotificationHandler: func(_ context.Context, req *mcp.ProgressNotificationClientRequest) { progress <- req.Params },
	})
	ct, st := mcp.NewInMemoryTransports()
	_, err := f.server(mcpserver.Options{}).Connect(ctx, st, nil)
	require.NoError(t, err)
	cs, err := c.Connect(ctx, ct, nil)
	require.NoError(t, err)
	defer cs.Close()
	params := &mcp.CallToolParams{Name: "classify", Arguments: map[string]any{"builtin": []string{"length"}}}
	params.SetProgressToken("tok-1")
	res, err := cs.CallTool(ctx, params)
	require.NoError(t, err)
	require.False(t, res.IsError, text(t, res))
	p := <-progress // the first report; the server sends them before its answer
	assert.Equal(t, "tok-1", p.ProgressToken)
	assert.EqualValues(t, 393, p.Total)
}
