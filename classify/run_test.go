package classify_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/classify"
	"github.com/lmsys-go/lmsys/internal/testdb"
	"github.com/lmsys-go/lmsys/llm/llmtest"
	"github.com/lmsys-go/lmsys/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// turnsClassifier is an offline classifier for the runner's tests: it labels a
// conversation by its number of messages.
type turnsClassifier struct{ calls atomic.Int64 }

func (c *turnsClassifier) Template() lmsys.ClassificationTemplate {
	return lmsys.ClassificationTemplate{ID: "test-turns", Name: "test-turns", Source: "builtin", Content: "turns", Hash: "h1"}
}

func (c *turnsClassifier) Facets() []classify.Facet {
	return []classify.Facet{{Name: "turn_count", Labels: []string{"one", "many"}}}
}

func (c *turnsClassifier) ResultKey() string { return "test-turns-v1" }

func (c *turnsClassifier) Classify(_ context.Context, cv lmsys.Conversation) ([]classify.Answer, classify.Cost, error) {
	c.calls.Add(1)
	v := "many"
	if len(cv.Messages) == 1 {
		v = "one"
	}
	return []classify.Answer{{Facet: "turn_count", Value: v}}, classify.Cost{}, nil
}

func labelled(t *testing.T, st classify.Store, key string) []int64 {
	t.Helper()
	ls, err := st.Labels(context.Background(), lmsys.LabelFilter{ResultKey: key})
	require.NoError(t, err)
	var ids []int64
	for _, l := range ls {
		ids = append(ids, l.QueryID)
	}
	return ids
}

func TestRunScopes(t *testing.T) {
	for _, tc := range []struct {
		name  string
		scope classify.Scope
		want  []int64
		rec   map[string]any
	}{
		{"all", classify.Scope{}, []int64{1, 2, 3, 4, 5, 6, 7, 8}, nil},
		{"dataset", classify.Scope{Dataset: "even"}, []int64{2, 4, 6, 8}, map[string]any{"dataset": "even"}},
		{"run", classify.Scope{RunID: "run-1"}, []int64{1, 2, 3, 5, 7}, map[string]any{"run_id": "run-1"}},
		{"clusters", classify.Scope{RunID: "run-1", ClusterIDs: []int{0, 2}}, []int64{1, 2, 7},
			map[string]any{"run_id": "run-1", "cluster_ids": []any{0.0, 2.0}}},
		{"queries", classify.Scope{QueryIDs: []int64{3, 8}}, []int64{3, 8}, map[string]any{"query_ids": []any{3.0, 8.0}}},
		{"run and dataset", classify.Scope{RunID: "run-1", Dataset: "odd"}, []int64{1, 3, 5, 7}, map[string]any{"run_id": "run-1", "dataset": "odd"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := newStore(t, conversations(8))
			cluster(t, st, map[int][]int64{0: {1, 2}, 1: {3, 5}, 2: {7}})
			c := &turnsClassifier{}
			res, err := classify.Run(context.Background(), st, c, classify.Options{Scope: tc.scope})
			require.NoError(t, err)
			assert.Equal(t, tc.want, labelled(t, st, c.ResultKey()))
			assert.Equal(t, int64(len(tc.want)), res.Run.TotalQueries)
			assert.Equal(t, int64(len(tc.want)), res.Classified)
			assert.Equal(t, "builtin", res.Run.Provider)
			assert.Equal(t, "builtin/test-turns", res.Run.Model)
			assert.Equal(t, classify.Cost{}, res.Cost)
			stored, err := st.GetClassificationRun(context.Background(), res.Run.ID)
			require.NoError(t, err)
			assert.Equal(t, tc.rec, stored.Scope)
		})
	}
}

func TestRunRejectsBadScope(t *testing.T) {
	st := newStore(t, conversations(2))
	c := &turnsClassifier{}
	_, err := classify.Run(context.Background(), st, c, classify.Options{Scope: classify.Scope{ClusterIDs: []int{1}}})
	assert.ErrorIs(t, err, lmsys.ErrInvalidInput)
	_, err = classify.Run(context.Background(), st, c, classify.Options{Scope: classify.Scope{RunID: "no-such-run"}})
	assert.ErrorIs(t, err, lmsys.ErrNotFound)
	_, err = classify.Run(context.Background(), st, c, classify.Options{MaxCost: -1})
	assert.ErrorIs(t, err, lmsys.ErrInvalidInput)
	_, err = classify.Run(context.Background(), st, c, classify.Options{ID: "x"})
	require.NoError(t, err)
	_, err = classify.Run(context.Background(), st, c, classify.Options{ID: "x"})
	assert.ErrorIs(t, err, lmsys.ErrInvalidInput, "an explicit id is never reused")
	assert.Equal(t, int64(2), c.calls.Load())
}

func TestRunPlainRows(t *testing.T) {
	// A row loaded without a conversation reaches the classifier as one user message.
	db := testdb.SQLite(t)
	ctx := context.Background()
	ds, err := db.EnsureDataset(ctx, lmsys.Dataset{Name: "plain", Source: "test"})
	require.NoError(t, err)
	_, err = db.InsertQueries(ctx, []lmsys.Query{{DatasetID: ds.ID, ConversationID: "p1", Text: "just text"}})
	require.NoError(t, err)
	c := &turnsClassifier{}
	_, err = classify.Run(ctx, db, c, classify.Options{})
	require.NoError(t, err)
	ls, err := db.Labels(ctx, lmsys.LabelFilter{ResultKey: c.ResultKey()})
	require.NoError(t, err)
	require.Len(t, ls, 1)
	assert.Equal(t, "one", ls[0].Value)
}

// TestRunBothStores runs the Clio facets and a resume on SQLite and PostgreSQL.
func TestRunBothStores(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		srv := llmtest.OpenAI(func(r llmtest.Request) llmtest.Reply { return llmtest.Reply{Text: clioReply(convOf(r.User))} })
		defer srv.Close()
		st := fill(t, db, conversations(10))
		cl := clioClassifier(t, srv, classify.LLMOptions{})
		_, err := classify.Run(context.Background(), st, cl, classify.Options{Scope: classify.Scope{Dataset: "odd"}})
		require.NoError(t, err)
		res, err := classify.Run(context.Background(), st, cl, classify.Options{})
		require.NoError(t, err)
		assert.Equal(t, int64(5), res.Skipped)
		assert.Equal(t, int64(5), res.Classified)
		assert.Equal(t, 10, srv.Calls())
		facets, err := st.LabelFacets(context.Background())
		require.NoError(t, err)
		require.Len(t, facets, 6)
		for _, f := range facets {
			assert.Equal(t, int64(10), f.Count, f.Key)
		}
		runs, err := st.ClassificationRuns(context.Background())
		require.NoError(t, err)
		require.Len(t, runs, 2)
		assert.True(t, strings.HasPrefix(runs[0].ID, "classify-clio-"))
	})
}

// failingStore fails SaveLabels from its n-th call on.
type failingStore struct {
	*testStore
	n     int
	calls int
}

func (s *failingStore) SaveLabels(ctx context.Context, ls []lmsys.Label) error {
	s.calls++
	if s.calls >= s.n {
		return errors.New("disk full")
	}
	return s.testStore.SaveLabels(ctx, ls)
}

func TestRunSaveFailureStopsRun(t *testing.T) {
	st := &failingStore{testStore: newStore(t, conversations(40)), n: 3}
	c := &turnsClassifier{}
	res, err := classify.Run(context.Background(), st, c, classify.Options{Concurrency: 2, SaveEvery: 5})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "disk full")
	assert.Equal(t, lmsys.ClassificationFailed, res.Run.Status)
	assert.Equal(t, int64(10), res.Classified, "only what was saved counts")
	assert.Equal(t, int64(10), res.Run.ProcessedQueries)
	assert.Len(t, labelled(t, st, c.ResultKey()), 10)
	stored, err := st.GetClassificationRun(context.Background(), res.Run.ID)
	require.NoError(t, err)
	assert.Equal(t, lmsys.ClassificationFailed, stored.Status)
}
