package classify_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/internal/testdb"
	"github.com/lmsys-go/lmsys/store"
	"github.com/stretchr/testify/require"
)

var time0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func readFile(p string) ([]byte, error) { return os.ReadFile(p) }

// testStore is a real store that counts SaveLabels calls.
type testStore struct {
	*store.DB
	mu    sync.Mutex
	saves int
}

func (s *testStore) SaveLabels(ctx context.Context, ls []lmsys.Label) error {
	s.mu.Lock()
	s.saves++
	s.mu.Unlock()
	return s.DB.SaveLabels(ctx, ls)
}

func (s *testStore) saved() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.saves
}

// newStore loads convs into a fresh SQLite store; their QueryID must be 1…n in
// order, which the store's ids then equal. Queries of even id are in dataset "even",
// the others in "odd".
func newStore(t testing.TB, convs []lmsys.Conversation) *testStore {
	t.Helper()
	return fill(t, testdb.SQLite(t), convs)
}

func fill(t testing.TB, db *store.DB, convs []lmsys.Conversation) *testStore {
	t.Helper()
	ctx := context.Background()
	dss := map[string]lmsys.Dataset{}
	for _, name := range []string{"odd", "even"} {
		ds, err := db.EnsureDataset(ctx, lmsys.Dataset{Name: name, Source: "test"})
		require.NoError(t, err)
		dss[name] = ds
	}
	for i, c := range convs {
		require.Equal(t, int64(i+1), c.QueryID, "fixture ids are 1…n")
		name := "odd"
		if c.QueryID%2 == 0 {
			name = "even"
		}
		q := lmsys.Query{DatasetID: dss[name].ID, ConversationID: fmt.Sprintf("c%d", c.QueryID), Text: c.Messages[c.FirstUser()].Content,
			Conversation: c.Messages, ConversationCut: c.Truncated}
		n, err := db.InsertQueries(ctx, []lmsys.Query{q})
		require.NoError(t, err)
		require.Equal(t, 1, n)
	}
	qs, err := db.ListQueries(ctx, lmsys.QueryFilter{})
	require.NoError(t, err)
	for _, q := range qs {
		require.Equal(t, fmt.Sprintf("c%d", q.ID), q.ConversationID, "store ids follow the fixture")
	}
	return &testStore{DB: db}
}

// cluster puts the queries of ids into cluster c of clustering run "run-1".
func cluster(t testing.TB, st *testStore, members map[int][]int64) {
	t.Helper()
	ctx := context.Background()
	if _, err := st.GetRun(ctx, "run-1"); err != nil {
		require.NoError(t, st.CreateRun(ctx, lmsys.Run{ID: "run-1", Algorithm: "kmeans", NumClusters: len(members), Status: lmsys.RunCompleted, CreatedAt: time0}))
	}
	var as []lmsys.Assignment
	for c, ids := range members {
		for _, id := range ids {
			as = append(as, lmsys.Assignment{RunID: "run-1", QueryID: id, ClusterID: c})
		}
	}
	require.NoError(t, st.SaveAssignments(ctx, as))
}
