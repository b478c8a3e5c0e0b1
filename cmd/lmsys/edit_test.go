package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const editRun = "kmeans-3-20260101-000000"

// editCLI runs the command line and returns exit code, stdout and stderr.
func editCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

// editFixture is a database with 12 queries in 3 clusters of run editRun, cached
// embeddings (each cluster two tight halves), a summary run and a two-level hierarchy.
func editFixture(t *testing.T) (string, *store.DB, map[int][]int64) {
	t.Helper()
	ctx := context.Background()
	path, db := tempDB(t, 12)
	qs, err := db.ListQueries(ctx, lmsys.QueryFilter{})
	require.NoError(t, err)
	space := lmsys.Space{Provider: "test", Model: "fake", Dims: 6}
	require.NoError(t, db.CreateRun(ctx, lmsys.Run{ID: editRun, Algorithm: "kmeans", NumClusters: 3, Space: space, Status: lmsys.RunCompleted}))
	members := map[int][]int64{}
	var as []lmsys.Assignment
	embs := map[string][]float32{}
	for i, q := range qs {
		c := i / 4
		members[c] = append(members[c], q.ID)
		as = append(as, lmsys.Assignment{RunID: editRun, QueryID: q.ID, ClusterID: c, Confidence: 0.9})
		v := make([]float32, 6)
		v[c] = 1
		v[3+c] = float32(1 - 2*(i%2)) // two halves per cluster
		embs[lmsys.TextHash(q.Text)] = v
	}
	require.NoError(t, db.SaveAssignments(ctx, as))
	require.NoError(t, db.PutEmbeddings(ctx, space, embs))
	titles := []string{"Greetings", "Various topics", "Math homework"}
	var ss []lmsys.Summary
	var nodes []lmsys.HierarchyNode
	root := 1_000_000
	for c, title := range titles {
		ss = append(ss, lmsys.Summary{RunID: editRun, ClusterID: c, SummaryRunID: "summary-test-1", Title: title, NumQueries: 4, Coherence: c + 1, Model: "test"})
		nodes = append(nodes, lmsys.HierarchyNode{HierarchyRunID: "hier-1", RunID: editRun, ClusterID: c, ParentClusterID: &root, Title: title, NumQueries: 4})
	}
	nodes = append(nodes, lmsys.HierarchyNode{HierarchyRunID: "hier-1", RunID: editRun, ClusterID: root, Level: 1, ChildrenIDs: []int{0, 1, 2}, Title: "All", NumQueries: 12})
	require.NoError(t, db.SaveSummaries(ctx, ss))
	require.NoError(t, db.SaveHierarchy(ctx, nodes))
	return path, db, members
}

// editResult decodes the JSON of a mutating command.
func editResult(t *testing.T, out string) map[string]any {
	t.Helper()
	var res map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &res), out)
	return res
}

func TestEditCommands(t *testing.T) {
	path, db, members := editFixture(t)
	ctx := context.Background()
	base := []string{"--db-path", path, "edit"}
	ed := func(args ...string) (int, string, string) {
		t.Helper()
		return editCLI(t, append(append([]string{}, base...), args...)...)
	}
	q0 := fmt.Sprint(members[0][0])

	code, out, errOut := ed("move-query", editRun, "--query-id", q0, "--to-cluster", "1", "--editor", "alice", "--reason", "fits 1", "--json")
	require.Equal(t, 0, code, errOut)
	res := editResult(t, out)
	e := res["edit"].(map[string]any)
	assert.Equal(t, "move_query", e["edit_type"])
	assert.Equal(t, "alice", e["editor"])
	assert.Equal(t, "fits 1", e["reason"])
	moveID := int64(e["id"].(float64))
	assert.Equal(t, []any{float64(0), float64(1)}, res["changed_clusters"])

	code, out, errOut = ed("move-queries", editRun, "--query-ids", fmt.Sprintf("%d, %d", members[2][0], members[2][1]), "--to-cluster", "0")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "moved queries")
	assert.Contains(t, out, "Undo with: lmsys edit undo "+editRun)

	code, out, errOut = ed("view-query", q0, "--json")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, `"cluster_id": 1`)
	code, out, _ = ed("view-query", q0)
	require.Equal(t, 0, code)
	assert.Contains(t, out, "Various topics")

	code, out, errOut = ed("rename-cluster", editRun, "--cluster-id", "1", "--title", "Small talk", "--description", "chit-chat")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, `renamed cluster 1 to "Small talk"`)
	h, err := db.Hierarchy(ctx, "hier-1")
	require.NoError(t, err)
	for _, n := range h {
		if n.ClusterID == 1 {
			assert.Equal(t, "Small talk", n.Title)
		}
	}

	code, _, errOut = ed("tag-cluster", editRun, "--cluster-id", "2", "--coherence", "2", "--quality", "low", "--flags", "needs-review,odd", "--notes", "hm")
	require.Equal(t, 0, code, errOut)
	code, _, errOut = ed("flag-cluster", editRun, "--cluster-id", "2", "--flag", "incoherent")
	require.Equal(t, 0, code, errOut)
	m, err := db.ClusterMetadata(ctx, editRun, 2)
	require.NoError(t, err)
	assert.Equal(t, []string{"needs-review", "odd", "incoherent"}, m.Flags)

	code, out, errOut = ed("select-bad-clusters", editRun, "--generic-titles", "--flag", "incoherent", "--ids-only")
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, "2\n", out, "cluster 1 was renamed, cluster 2 is flagged")
	code, out, _ = ed("select-bad-clusters", editRun, "--min-coherence", "3", "--json")
	require.Equal(t, 0, code)
	assert.Contains(t, out, `"cluster_ids": [`)
	code, out, _ = ed("select-bad-clusters", editRun, "--max-size", "3")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "IDs: 2")
	code, out, errOut = ed("select-bad-clusters", editRun, "--max-silhouette", "2", "--json")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, `"silhouette"`)

	code, out, errOut = ed("split-cluster", editRun, "--cluster-id", "0", "--k", "2", "--json")
	require.Equal(t, 0, code, errOut)
	res = editResult(t, out)
	assert.Equal(t, []any{float64(3)}, res["new_cluster_ids"])
	// Split again by ids whichever part has at least two queries.
	from := 3
	part, err := db.Assignments(ctx, editRun, &from)
	require.NoError(t, err)
	if len(part) < 2 {
		from = 0
		part, err = db.Assignments(ctx, editRun, &from)
		require.NoError(t, err)
	}
	code, out, errOut = ed("split-cluster", editRun, "--cluster-id", fmt.Sprint(from), "--query-ids", fmt.Sprint(part[0].QueryID))
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "New clusters: 4")

	code, out, errOut = ed("merge-clusters", editRun, "--source", "4", "--target", "3")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "merged clusters 4 into 3")

	code, out, errOut = ed("delete-cluster", editRun, "--cluster-id", "3", "--orphan", "--reason", "noise")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "orphaning its")
	code, out, _ = ed("orphaned", editRun)
	require.Equal(t, 0, code)
	assert.Contains(t, out, "noise")
	code, out, errOut = ed("orphaned", editRun, "--reassign-to", "0", "--json")
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, "reassign_orphans", editResult(t, out)["edit"].(map[string]any)["edit_type"])
	code, out, _ = ed("orphaned", editRun, "--json")
	require.Equal(t, 0, code)
	assert.JSONEq(t, "[]", out)

	code, out, errOut = ed("delete-cluster", editRun, "--cluster-id", "2", "--move-to", "1")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "moving its")

	code, out, _ = ed("history", editRun, "--cluster-id", "1", "--json")
	require.Equal(t, 0, code)
	var hist []map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &hist))
	assert.Len(t, hist, 3, "move in, rename, delete of 2 into 1")
	code, out, _ = ed("history", editRun, "--cluster-id", "1")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "Small talk")

	code, out, _ = ed("audit", editRun, "--type", "move_query", "--editor", "alice", "--json")
	require.Equal(t, 0, code)
	var aud []map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &aud))
	assert.Len(t, aud, 1)
	code, out, _ = ed("audit", editRun, "--since", "2000-01-01")
	require.Equal(t, 0, code)
	assert.Equal(t, 12, strings.Count(out, "\n"), "header and 11 edits:\n%s", out)
	code, out, _ = ed("audit", editRun, "--since", "2999-01-01")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "No edits match.")
	// The default editor is the OS user.
	assert.Contains(t, out+mustAudit(t, ed), editOSUser())

	// Undo: refused while later edits depend on the move, then fine for the last edit.
	code, _, errOut = ed("undo", editRun, "--edit-id", fmt.Sprint(moveID))
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "conflict")
	code, out, errOut = ed("audit", editRun, "--json")
	require.Equal(t, 0, code, errOut)
	require.NoError(t, json.Unmarshal([]byte(out), &aud))
	last := int64(aud[len(aud)-1]["id"].(float64))
	code, out, errOut = ed("undo", editRun, "--edit-id", fmt.Sprint(last), "--reason", "too hasty")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, fmt.Sprintf("undid edit %d (delete)", last))
	sizes, err := db.ClusterSizes(ctx, editRun)
	require.NoError(t, err)
	assert.Contains(t, sizes, 2, "cluster 2 is back")
}

func mustAudit(t *testing.T, ed func(args ...string) (int, string, string)) string {
	t.Helper()
	code, out, errOut := ed("audit", editRun)
	require.Equal(t, 0, code, errOut)
	return out
}

func TestEditUsageAndErrors(t *testing.T) {
	path, _, members := editFixture(t)
	q := fmt.Sprint(members[0][0])
	usage := [][]string{
		{"move-query", editRun, "--to-cluster", "1"},
		{"move-query", editRun, "--query-id", "x", "--to-cluster", "1"},
		{"move-queries", editRun, "--query-ids", "1,x", "--to-cluster", "1"},
		{"move-queries", editRun, "--query-ids", ",", "--to-cluster", "1"},
		{"rename-cluster", editRun, "--cluster-id", "1"},
		{"merge-clusters", editRun, "--source", "1"},
		{"split-cluster", editRun, "--cluster-id", "1"},
		{"split-cluster", editRun, "--cluster-id", "1", "--k", "2", "--query-ids", q},
		{"split-cluster", editRun, "--cluster-id", "1", "--k", "1"},
		{"delete-cluster", editRun, "--cluster-id", "1"},
		{"delete-cluster", editRun, "--cluster-id", "1", "--orphan", "--move-to", "2"},
		{"tag-cluster", editRun, "--cluster-id", "1"},
		{"tag-cluster", editRun, "--cluster-id", "1", "--coherence", "9"},
		{"tag-cluster", editRun, "--cluster-id", "1", "--quality", "superb"},
		{"flag-cluster", editRun, "--cluster-id", "1"},
		{"history", editRun},
		{"audit", editRun, "--since", "yesterday"},
		{"audit", editRun, "--type", "explode"},
		{"orphaned", editRun, "--query-ids", "1"},
		{"select-bad-clusters", editRun},
		{"undo", editRun},
		{"view-query", "abc"},
		{"move-query"},
	}
	for _, args := range usage {
		code, _, errOut := editCLI(t, append([]string{"--db-path", path, "edit"}, args...)...)
		assert.Equal(t, 2, code, "%v: %s", args, errOut)
	}
	failures := map[string][]string{
		`run "nope"`:   {"move-query", "nope", "--query-id", q, "--to-cluster", "1"},
		"cluster 9":    {"move-query", editRun, "--query-id", q, "--to-cluster", "9"},
		"query 99999":  {"move-queries", editRun, "--query-ids", q + ",99999", "--to-cluster", "1"},
		"edit 777":     {"undo", editRun, "--edit-id", "777"},
		"query 424242": {"view-query", "424242"},
	}
	for want, args := range failures {
		code, _, errOut := editCLI(t, append([]string{"--db-path", path, "edit"}, args...)...)
		assert.Equal(t, 1, code, "%v", args)
		assert.Contains(t, errOut, want, "%v", args)
	}
	code, out, _ := editCLI(t, "--db-path", path, "edit", "audit", editRun, "--json")
	require.Equal(t, 0, code)
	assert.JSONEq(t, "[]", out, "failed commands record nothing")
}

// FuzzEditParseIDs checks the id-list parser never panics, and that what it accepts
// prints back to the same ids.
func FuzzEditParseIDs(f *testing.F) {
	for _, s := range []string{"1,2,3", " 4 , 5", ",", "", "x", "-1", "99999999999999999999", "1,,2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ids, err := editParseIDs64("--query-ids", s)
		if err != nil {
			return
		}
		again, err := editParseIDs64("--query-ids", strings.Trim(strings.ReplaceAll(fmt.Sprint(ids), " ", ","), "[]"))
		require.NoError(t, err)
		require.Equal(t, ids, again)
	})
}
