package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/internal/testdb"
	"github.com/lmsys-go/lmsys/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestConversations(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ds, err := db.EnsureDataset(ctx, lmsys.Dataset{Name: "chats", Source: "test"})
		require.NoError(t, err)
		long := strings.Repeat("a pasted log line that repeats itself\n", 20000) // ~760 kB: compressed
		chat := []lmsys.Message{
			{Role: lmsys.RoleSystem, Content: "You are helpful."},
			{Role: lmsys.RoleUser, Content: "How do I pick a lock?"},
			{Role: lmsys.RoleAssistant, Content: "I'm sorry, I can't help with that."},
			{Role: lmsys.RoleUser, Content: "It's my own lock!\x00 \xff"},
		}
		qs := []lmsys.Query{
			{DatasetID: ds.ID, ConversationID: "a", Text: "How do I pick a lock?", Conversation: chat},
			{DatasetID: ds.ID, ConversationID: "b", Text: "plain text row"},
			{DatasetID: ds.ID, ConversationID: "c", Text: "summarise this", Conversation: []lmsys.Message{
				{Role: lmsys.RoleUser, Content: "summarise this"}, {Role: lmsys.RoleAssistant, Content: long}}, ConversationCut: "too many turns"},
		}
		n, err := db.InsertQueries(ctx, qs)
		require.NoError(t, err)
		require.Equal(t, 3, n)
		// A re-run inserts nothing and keeps the conversations as they were.
		qs[0].Conversation = []lmsys.Message{{Role: lmsys.RoleUser, Content: "changed"}}
		n, err = db.InsertQueries(ctx, qs)
		require.NoError(t, err)
		require.Zero(t, n)

		all, err := db.ListQueries(ctx, lmsys.QueryFilter{})
		require.NoError(t, err)
		require.Len(t, all, 3)
		got, err := db.GetConversation(ctx, all[0].ID)
		require.NoError(t, err)
		require.Len(t, got.Messages, 4)
		assert.Equal(t, chat[:3], got.Messages[:3])
		assert.Equal(t, "It's my own lock! \uFFFD", got.Messages[3].Content, "text is repaired as query text is")
		assert.Equal(t, 1, got.FirstUser())

		_, err = db.GetConversation(ctx, all[1].ID)
		require.ErrorIs(t, err, lmsys.ErrNotFound)
		assert.Contains(t, err.Error(), "plain-text")
		_, err = db.GetConversation(ctx, 999999)
		require.ErrorIs(t, err, lmsys.ErrNotFound)

		big, err := db.GetConversation(ctx, all[2].ID)
		require.NoError(t, err)
		assert.Equal(t, long, big.Messages[1].Content)
		assert.Equal(t, "too many turns", big.Truncated)

		stats, err := db.ConversationStats(ctx)
		require.NoError(t, err)
		assert.EqualValues(t, 2, stats.Conversations)
		assert.EqualValues(t, 6, stats.Turns)
		assert.Less(t, stats.StoredBytes, stats.TextBytes/10, "long repetitive text is stored compressed")
		assert.Equal(t, map[string]int64{"too many turns": 1}, stats.Truncated)

		var seen []lmsys.Conversation
		require.NoError(t, db.ScanConversations(ctx, lmsys.QueryFilter{}, 2, func(cs []lmsys.Conversation) error {
			for _, c := range cs {
				seen = append(seen, lmsys.Conversation{QueryID: c.QueryID, Messages: append([]lmsys.Message(nil), c.Messages...)})
			}
			return nil
		}))
		require.Len(t, seen, 3)
		assert.Equal(t, []lmsys.Message{{Role: lmsys.RoleUser, Content: "plain text row"}}, seen[1].Messages, "a plain row reads as one user turn")
		assert.Len(t, seen[0].Messages, 4)

		// Clear removes conversations with their queries.
		require.NoError(t, db.Clear(ctx))
		stats, err = db.ConversationStats(ctx)
		require.NoError(t, err)
		assert.Zero(t, stats.Conversations)
	})
}

// A conversation's body leaves out the query text only when its query row holds
// that text: a query row that is older, or that an earlier row with the same
// conversation id inserted, gets the whole body.
func TestConversationsOfOtherQueryRows(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ds, err := db.EnsureDataset(ctx, lmsys.Dataset{Name: "chats", Source: "test"})
		require.NoError(t, err)
		chat := func(id, first string) lmsys.Query {
			return lmsys.Query{DatasetID: ds.ID, ConversationID: id, Text: first, Conversation: []lmsys.Message{
				{Role: lmsys.RoleUser, Content: first}, {Role: lmsys.RoleAssistant, Content: strings.Repeat("an answer ", 100)}}}
		}
		// "old" was loaded without its conversation (a database from before conversations).
		_, err = db.InsertQueries(ctx, []lmsys.Query{{DatasetID: ds.ID, ConversationID: "old", Text: "the old text"}})
		require.NoError(t, err)
		n, err := db.InsertQueries(ctx, []lmsys.Query{
			chat("old", "the new text"),
			{DatasetID: ds.ID, ConversationID: "dup", Text: "a plain row first"},
			chat("dup", "then a chat with its id"),
			chat("fresh", "a fresh chat"),
		})
		require.NoError(t, err)
		require.Equal(t, 2, n)
		all, err := db.ListQueries(ctx, lmsys.QueryFilter{})
		require.NoError(t, err)
		require.Len(t, all, 3)
		want := map[string]string{"old": "the new text", "dup": "then a chat with its id", "fresh": "a fresh chat"}
		texts := map[string]string{"old": "the old text", "dup": "a plain row first", "fresh": "a fresh chat"}
		for _, q := range all {
			assert.Equal(t, texts[q.ConversationID], q.Text)
			c, err := db.GetConversation(ctx, q.ID)
			require.NoError(t, err, q.ConversationID)
			require.Len(t, c.Messages, 2, q.ConversationID)
			assert.Equal(t, want[q.ConversationID], c.Messages[0].Content, q.ConversationID)
		}
	})
}

func TestLabels(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		_, ids := seed(t, db, 6)
		tpl := lmsys.ClassificationTemplate{ID: "refusal@1", Name: "refusal", Version: "1", Source: "builtin", Content: "rules", Hash: "h1"}
		require.NoError(t, db.SaveTemplate(ctx, tpl))
		tpl.Description = "now described"
		require.NoError(t, db.SaveTemplate(ctx, tpl))
		tpls, err := db.Templates(ctx)
		require.NoError(t, err)
		require.Len(t, tpls, 1)
		assert.Equal(t, "now described", tpls[0].Description)
		require.ErrorIs(t, db.SaveTemplate(ctx, lmsys.ClassificationTemplate{Name: "x"}), lmsys.ErrInvalidInput)

		r := lmsys.ClassificationRun{ID: "classify-refusal-1", TemplateID: tpl.ID, TemplateHash: "h1", ResultKey: "builtin:refusal@1",
			Provider: "builtin", Model: "refusal", Facets: []string{"refusal"}, Scope: map[string]any{"dataset": "ds"}}
		require.NoError(t, db.CreateClassificationRun(ctx, r))
		require.Error(t, db.CreateClassificationRun(ctx, r), "ids are unique")

		var ls []lmsys.Label
		for i, id := range ids {
			v := "complied"
			if i%3 == 0 {
				v = "refused"
			}
			ls = append(ls, lmsys.Label{QueryID: id, Facet: "refusal", Value: v, ClassificationRunID: r.ID, ResultKey: r.ResultKey})
		}
		require.NoError(t, db.SaveLabels(ctx, ls[:4]))
		done, err := db.LabeledQueryIDs(ctx, r.ResultKey, ids)
		require.NoError(t, err)
		assert.Len(t, done, 4)
		// Saving again (a resumed run) replaces, never duplicates.
		require.NoError(t, db.SaveLabels(ctx, ls))
		got, err := db.Labels(ctx, lmsys.LabelFilter{Facet: "refusal"})
		require.NoError(t, err)
		assert.Len(t, got, 6)
		counts, err := db.LabelCounts(ctx, lmsys.LabelFilter{Facet: "refusal"})
		require.NoError(t, err)
		assert.Equal(t, []lmsys.Count{{Key: "complied", Count: 4}, {Key: "refused", Count: 2}}, counts)

		// Half-formed labels are refused whole.
		bad := append([]lmsys.Label{ls[0]}, lmsys.Label{QueryID: ids[0], Facet: "refusal", Value: "x"})
		require.ErrorIs(t, db.SaveLabels(ctx, bad), lmsys.ErrInvalidInput)

		// A newer configuration answering the same facet becomes the one read.
		r2 := r
		r2.ID, r2.ResultKey, r2.CreatedAt = "classify-refusal-2", "builtin:refusal@2", r.CreatedAt
		require.NoError(t, db.CreateClassificationRun(ctx, r2))
		require.NoError(t, db.SaveLabels(ctx, []lmsys.Label{{QueryID: ids[1], Facet: "refusal", Value: "partial", ClassificationRunID: r2.ID, ResultKey: r2.ResultKey}}))
		got, err = db.Labels(ctx, lmsys.LabelFilter{Facet: "refusal"})
		require.NoError(t, err)
		require.Len(t, got, 1)
		assert.Equal(t, "partial", got[0].Value)
		got, err = db.Labels(ctx, lmsys.LabelFilter{Facet: "refusal", ResultKey: r.ResultKey, QueryIDs: ids[:2]})
		require.NoError(t, err)
		assert.Len(t, got, 2)
		facets, err := db.LabelFacets(ctx)
		require.NoError(t, err)
		assert.Equal(t, []lmsys.Count{{Key: "refusal", Count: 1}}, facets)
		_, err = db.Labels(ctx, lmsys.LabelFilter{Facet: "nope"})
		require.ErrorIs(t, err, lmsys.ErrNotFound)

		// Members of a clustering run.
		run := lmsys.Run{ID: "kmeans-2-20260101-000000", Algorithm: "kmeans", NumClusters: 2, Space: lmsys.Space{Provider: "local", Model: "lexical", Dims: 4}}
		require.NoError(t, db.CreateRun(ctx, run))
		require.NoError(t, db.SaveAssignments(ctx, []lmsys.Assignment{{RunID: run.ID, QueryID: ids[0], ClusterID: 0}, {RunID: run.ID, QueryID: ids[3], ClusterID: 1}}))
		counts, err = db.LabelCounts(ctx, lmsys.LabelFilter{Facet: "refusal", ResultKey: r.ResultKey, RunID: run.ID, ClusterID: ptr(1)})
		require.NoError(t, err)
		assert.Equal(t, []lmsys.Count{{Key: "refused", Count: 1}}, counts)

		// Any listing filters by a label (the newest configuration's).
		n, err := db.CountQueries(ctx, lmsys.QueryFilter{Label: "refusal=partial"})
		require.NoError(t, err)
		assert.EqualValues(t, 1, n)
		qs, err := db.ListQueries(ctx, lmsys.QueryFilter{Label: "refusal=partial", RunID: run.ID})
		require.NoError(t, err)
		assert.Empty(t, qs, "the partial one is not a member of the run")
		n, err = db.CountQueries(ctx, lmsys.QueryFilter{Label: "refusal=refused"})
		require.NoError(t, err)
		assert.Zero(t, n, "refusals of the older configuration are not read")

		// Run records round-trip, with their counters.
		r.Status, r.ProcessedQueries, r.TotalQueries, r.Calls, r.Cost = lmsys.ClassificationCompleted, 6, 6, 0, 0
		require.NoError(t, db.UpdateClassificationRun(ctx, r))
		back, err := db.GetClassificationRun(ctx, r.ID)
		require.NoError(t, err)
		assert.Equal(t, lmsys.ClassificationCompleted, back.Status)
		assert.EqualValues(t, 6, back.ProcessedQueries)
		assert.Equal(t, []string{"refusal"}, back.Facets)
		assert.Equal(t, "ds", back.Scope["dataset"])
		runs, err := db.ClassificationRuns(ctx)
		require.NoError(t, err)
		assert.Len(t, runs, 2)
		_, err = db.GetClassificationRun(ctx, "missing")
		require.ErrorIs(t, err, lmsys.ErrNotFound)
		require.ErrorIs(t, db.UpdateClassificationRun(ctx, lmsys.ClassificationRun{ID: "missing"}), lmsys.ErrNotFound)
	})
}

func TestClusterLabelCountsAndLabelVersion(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		_, ids := seed(t, db, 6)
		run := lmsys.Run{ID: "kmeans-2-20260101-000000", Algorithm: "kmeans", NumClusters: 2, Space: lmsys.Space{Provider: "local", Model: "lexical", Dims: 4}}
		require.NoError(t, db.CreateRun(ctx, run))
		var as []lmsys.Assignment
		for i, id := range ids {
			as = append(as, lmsys.Assignment{RunID: run.ID, QueryID: id, ClusterID: i % 2})
		}
		require.NoError(t, db.SaveAssignments(ctx, as))
		v0, err := db.LabelVersion(ctx)
		require.NoError(t, err)
		counts, err := db.ClusterLabelCounts(ctx, run.ID, 0)
		require.NoError(t, err)
		assert.Empty(t, counts, "no labels yet")

		label := func(r lmsys.ClassificationRun, facet string, value func(i int) string) {
			var ls []lmsys.Label
			for i, id := range ids {
				ls = append(ls, lmsys.Label{QueryID: id, Facet: facet, Value: value(i), ClassificationRunID: r.ID, ResultKey: r.ResultKey})
			}
			require.NoError(t, db.SaveLabels(ctx, ls))
		}
		r1 := lmsys.ClassificationRun{ID: "c1", TemplateID: "refusal@1", TemplateHash: "h", ResultKey: "builtin:refusal@1",
			Provider: "builtin", Model: "refusal", Facets: []string{"refusal"}}
		require.NoError(t, db.CreateClassificationRun(ctx, r1))
		v1, err := db.LabelVersion(ctx)
		require.NoError(t, err)
		assert.NotEqual(t, v0, v1, "a new classification run changes the version")
		label(r1, "refusal", func(i int) string { return map[bool]string{true: "refused", false: "complied"}[i < 3] })
		v2, err := db.LabelVersion(ctx)
		require.NoError(t, err)
		assert.NotEqual(t, v1, v2, "new labels change the version")
		r1.ProcessedQueries = 6
		require.NoError(t, db.UpdateClassificationRun(ctx, r1))
		v3, err := db.LabelVersion(ctx)
		require.NoError(t, err)
		assert.NotEqual(t, v2, v3, "a run's counters change the version")

		r2 := lmsys.ClassificationRun{ID: "c2", TemplateID: "length@1", TemplateHash: "h", ResultKey: "builtin:length@1",
			Provider: "builtin", Model: "length", Facets: []string{"length"}}
		require.NoError(t, db.CreateClassificationRun(ctx, r2))
		label(r2, "length", func(i int) string { return "short" })
		// An older configuration of refusal is not read once a newer one answers it.
		r3 := r1
		r3.ID, r3.ResultKey = "c3", "builtin:refusal@2"
		require.NoError(t, db.CreateClassificationRun(ctx, r3))
		label(r3, "refusal", func(i int) string { return map[bool]string{true: "partial", false: "complied"}[i == 0] })

		for cluster := range 2 {
			got, err := db.ClusterLabelCounts(ctx, run.ID, cluster)
			require.NoError(t, err)
			for _, facet := range []string{"refusal", "length"} {
				want, err := db.LabelCounts(ctx, lmsys.LabelFilter{Facet: facet, RunID: run.ID, ClusterID: ptr(cluster)})
				require.NoError(t, err)
				assert.Equal(t, want, got[facet], "cluster %d facet %s", cluster, facet)
			}
			assert.Len(t, got, 2)
		}
		got, err := db.ClusterLabelCounts(ctx, run.ID, 0)
		require.NoError(t, err)
		assert.Equal(t, []lmsys.Count{{Key: "complied", Count: 2}, {Key: "partial", Count: 1}}, got["refusal"])
		got, err = db.ClusterLabelCounts(ctx, run.ID, 7)
		require.NoError(t, err)
		assert.Empty(t, got, "an empty cluster has no labels")
	})
}
