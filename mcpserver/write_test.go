package mcpserver_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/mcpserver"
	"github.com/lmsys-go/lmsys/store"
)

// readTestSources returns the package's test files, concatenated.
func readTestSources(t *testing.T) string {
	t.Helper()
	files, err := filepath.Glob("*_test.go")
	require.NoError(t, err)
	var b strings.Builder
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		b.Write(data)
	}
	return b.String()
}

func TestWritesRefusedWithoutAllowWrites(t *testing.T) {
	f := shared
	cs := f.session(t, mcpserver.Options{})
	before, err := f.ws.Store.Summaries(context.Background(), f.runID, "")
	require.NoError(t, err)
	for _, name := range mcpserver.WriteTools() {
		res := call(t, cs, name, map[string]any{"run_id": f.runID, "cluster_id": f.clusters[0], "title": "renamed"})
		assert.True(t, res.IsError, name)
		assert.Contains(t, text(t, res), name+" edits the store and this server is read-only: start it with `lmsys mcp --allow-writes`", name)
	}
	after, err := f.ws.Store.Summaries(context.Background(), f.runID, "")
	require.NoError(t, err)
	assert.Equal(t, before, after, "nothing was written")
	edits, err := f.ws.Store.Edits(context.Background(), store.EditFilter{RunID: f.runID})
	require.NoError(t, err)
	assert.Empty(t, edits)
}

func TestWritesAudited(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	cs := f.session(t, mcpserver.Options{AllowWrites: true, Editor: "agent:triage"})
	run, big, second, small := f.runID, f.clusters[0], f.clusters[1], f.clusters[len(f.clusters)-1]
	qs, err := f.ws.Store.ListQueries(ctx, lmsys.QueryFilter{RunID: run, ClusterID: &big, Limit: 3})
	require.NoError(t, err)
	q0, q1, q2 := qs[0].ID, qs[1].ID, qs[2].ID
	renameID := 0.0
	runCases(t, cs, []toolCase{
		{name: "rename", tool: "rename_cluster", args: map[string]any{"run_id": run, "cluster_id": big, "title": "Coding help", "reason": "clearer"},
			check: func(t *testing.T, m map[string]any) {
				e := m["edit"].(map[string]any)
				assert.Equal(t, "agent:triage", e["editor"])
				assert.Equal(t, "rename", e["edit_type"])
				assert.Equal(t, "clearer", e["reason"])
				assert.Contains(t, m["changed_clusters"], float64(big))
				renameID = e["id"].(float64)
			}},
		{name: "nothing to rename to", tool: "rename_cluster", args: map[string]any{"run_id": run, "cluster_id": big}, wantErr: "title: give a title or a description"},
		{name: "unknown run", tool: "rename_cluster", args: map[string]any{"run_id": "nope", "cluster_id": big, "title": "x"}, wantErr: `run_id: no clustering run "nope"`},

		{name: "move", tool: "move_queries", args: map[string]any{"run_id": run, "query_ids": []int64{q0}, "to_cluster_id": second}},
		{name: "no queries", tool: "move_queries", args: map[string]any{"run_id": run, "query_ids": []int64{}, "to_cluster_id": second}, wantErr: "query_ids: give 1 to 1000 query ids, got 0"},
		{name: "unknown target", tool: "move_queries", args: map[string]any{"run_id": run, "query_ids": []int64{q0}, "to_cluster_id": 555}, wantErr: "to_cluster_id: run " + run + " has no cluster 555"},

		{name: "tag", tool: "tag_cluster", args: map[string]any{"run_id": run, "cluster_id": big, "coherence": 4, "quality": "high"}},
		{name: "coherence out of range", tool: "tag_cluster", args: map[string]any{"run_id": run, "cluster_id": big, "coherence": 9}, wantErr: "coherence: 9 is out of range: give 1 to 5"},
		{name: "bad quality", tool: "tag_cluster", args: map[string]any{"run_id": run, "cluster_id": big, "quality": "great"}, wantErr: "/properties/quality: enum"},

		{name: "flag", tool: "flag_cluster", args: map[string]any{"run_id": run, "cluster_id": big, "flag": "needs_review"}},
		{name: "empty flag", tool: "flag_cluster", args: map[string]any{"run_id": run, "cluster_id": big, "flag": " "}, wantErr: "flag: empty"},

		{name: "split by queries", tool: "split_cluster", args: map[string]any{"run_id": run, "cluster_id": big, "query_ids": []int64{q1, q2}},
			check: func(t *testing.T, m map[string]any) { assert.Len(t, m["new_cluster_ids"], 1) }},
		{name: "split both ways", tool: "split_cluster", args: map[string]any{"run_id": run, "cluster_id": big, "query_ids": []int64{q1}, "k": 2}, wantErr: "k: give query_ids or k, exactly one"},

		{name: "merge", tool: "merge_clusters", args: map[string]any{"run_id": run, "source_cluster_ids": []int{small}, "target_cluster_id": second}},
		{name: "merge into itself", tool: "merge_clusters", args: map[string]any{"run_id": run, "source_cluster_ids": []int{second}, "target_cluster_id": second}, wantErr: "source_cluster_ids: the target"},
		{name: "merge a deleted cluster", tool: "merge_clusters", args: map[string]any{"run_id": run, "source_cluster_ids": []int{small}, "target_cluster_id": second}, wantErr: "source_cluster_ids: run " + run + " has no cluster"},

		{name: "delete, orphaning", tool: "delete_cluster", args: map[string]any{"run_id": run, "cluster_id": f.clusters[2], "orphan": true}},
		{name: "delete neither way", tool: "delete_cluster", args: map[string]any{"run_id": run, "cluster_id": f.clusters[3]}, wantErr: "orphan: give orphan: true or move_to, exactly one"},

		{name: "reassign the orphans", tool: "reassign_orphans", args: map[string]any{"run_id": run, "to_cluster_id": second}},
		{name: "reassign to nowhere", tool: "reassign_orphans", args: map[string]any{"run_id": run, "to_cluster_id": 999}, wantErr: "to_cluster_id: run " + run + " has no cluster 999"},

		{name: "unknown edit", tool: "undo_edit", args: map[string]any{"run_id": run, "edit_id": 9999}, wantErr: "edit_id: "},
		{name: "edit id missing", tool: "undo_edit", args: map[string]any{"run_id": run}, wantErr: `missing properties: ["edit_id"]`},
	})

	// Every edit is audited under the server's editor, newest first. The audit rows
	// hold the edits' old values (a deleted cluster's centroid …), so the list is cut
	// to the byte cap and read by following its continuation.
	edits := collect(t, cs, "list_edits", map[string]any{"run_id": run, "limit": 100}, "items")
	require.Len(t, edits, 8)
	for i, e := range edits {
		assert.Equal(t, "agent:triage", e.(map[string]any)["editor"])
		assert.EqualValues(t, 8-i, e.(map[string]any)["id"], "newest first, none missed or repeated")
	}
	assert.Equal(t, "reassign_orphans", edits[0].(map[string]any)["edit_type"])
	m := ok(t, cs, "list_edits", map[string]any{"run_id": run, "type": "rename"})
	require.Len(t, items(t, m, "items"), 1)

	// The audit rows in the store, as `lmsys edit audit` reads them.
	stored, err := f.ws.Store.Edits(ctx, store.EditFilter{RunID: run})
	require.NoError(t, err)
	require.Len(t, stored, 8)
	for _, e := range stored {
		assert.Equal(t, "agent:triage", e.Editor)
	}

	// The rename shows in the read tools.
	m = ok(t, cs, "inspect_cluster", map[string]any{"run_id": run, "cluster_id": big, "limit": 1})
	assert.Equal(t, "Coding help", m["cluster"].(map[string]any)["title"])

	// Undo refuses an edit that later ones depend on, and takes back the last one.
	res := call(t, cs, "undo_edit", map[string]any{"run_id": run, "edit_id": renameID})
	assert.True(t, res.IsError)
	assert.Contains(t, text(t, res), "cannot undo edit 1 (rename): later edit 5 (split by agent:triage")
	undo := ok(t, cs, "undo_edit", map[string]any{"run_id": run, "edit_id": 8, "reason": "keep them orphaned"})
	assert.Equal(t, "agent:triage", undo["edit"].(map[string]any)["editor"])
	assert.Equal(t, "undo", undo["edit"].(map[string]any)["edit_type"])
	orphans, err := f.ws.Store.Orphans(ctx, run)
	require.NoError(t, err)
	assert.NotEmpty(t, orphans, "the reassigned queries are orphans again")
}
