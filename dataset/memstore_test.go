package dataset

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/lmsys-go/lmsys"
)

// memStore is an in-memory lmsys.QueryStore for loader tests.
type memStore struct {
	mu       sync.Mutex
	datasets []lmsys.Dataset
	queries  []lmsys.Query
	keys     map[string]bool
	batches  []int
	// failAfter makes InsertQueries fail once this many batches were inserted (0: never).
	failAfter int
}

func newMemStore() *memStore { return &memStore{keys: map[string]bool{}} }

func (m *memStore) EnsureDataset(_ context.Context, d lmsys.Dataset) (lmsys.Dataset, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, x := range m.datasets {
		if x.Name == d.Name {
			return x, nil
		}
	}
	d.ID = int64(len(m.datasets) + 1)
	m.datasets = append(m.datasets, d)
	return d, nil
}

func (m *memStore) InsertQueries(_ context.Context, qs []lmsys.Query) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failAfter > 0 && len(m.batches) >= m.failAfter {
		return 0, fmt.Errorf("disk full")
	}
	n := 0
	for _, q := range qs {
		k := fmt.Sprint(q.DatasetID, "\x00", q.ConversationID)
		if m.keys[k] {
			continue
		}
		m.keys[k] = true
		q.ID = int64(len(m.queries) + 1)
		m.queries = append(m.queries, q)
		n++
	}
	m.batches = append(m.batches, len(qs))
	return n, nil
}

func (m *memStore) GetQuery(_ context.Context, id int64) (lmsys.Query, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if id < 1 || int(id) > len(m.queries) {
		return lmsys.Query{}, fmt.Errorf("query %d: %w", id, lmsys.ErrNotFound)
	}
	return m.queries[id-1], nil
}

func (m *memStore) match(q lmsys.Query, f lmsys.QueryFilter) bool {
	if f.Dataset != "" {
		ok := false
		for _, d := range m.datasets {
			ok = ok || (d.Name == f.Dataset && d.ID == q.DatasetID)
		}
		if !ok {
			return false
		}
	}
	return (f.Model == "" || q.Model == f.Model) && (f.Language == "" || q.Language == f.Language) &&
		(f.Contains == "" || strings.Contains(strings.ToLower(q.Text), strings.ToLower(f.Contains))) && q.ID > f.AfterID
}

func (m *memStore) ListQueries(_ context.Context, f lmsys.QueryFilter) ([]lmsys.Query, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []lmsys.Query
	for _, q := range m.queries {
		if m.match(q, f) {
			out = append(out, q)
		}
	}
	if f.Offset > 0 {
		out = out[min(f.Offset, len(out)):]
	}
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out, nil
}

func (m *memStore) CountQueries(ctx context.Context, f lmsys.QueryFilter) (int64, error) {
	f.Limit, f.Offset = 0, 0
	qs, err := m.ListQueries(ctx, f)
	return int64(len(qs)), err
}

func (m *memStore) ScanQueries(ctx context.Context, f lmsys.QueryFilter, batch int, fn func([]lmsys.Query) error) error {
	qs, err := m.ListQueries(ctx, f)
	if err != nil {
		return err
	}
	for len(qs) > 0 {
		n := min(batch, len(qs))
		if err := fn(qs[:n]); err != nil {
			return err
		}
		qs = qs[n:]
	}
	return nil
}

func (m *memStore) Status(context.Context) (lmsys.Status, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := lmsys.Status{TotalQueries: int64(len(m.queries))}
	langs := map[string]int64{}
	for _, q := range m.queries {
		langs[q.Language]++
	}
	for k, v := range langs {
		st.Languages = append(st.Languages, lmsys.Count{Key: k, Count: v})
	}
	sort.Slice(st.Languages, func(i, j int) bool { return st.Languages[i].Key < st.Languages[j].Key })
	return st, nil
}

func (m *memStore) Clear(context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.datasets, m.queries, m.keys = nil, nil, map[string]bool{}
	return nil
}

func (m *memStore) texts() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]string, len(m.queries))
	for i, q := range m.queries {
		out[i] = q.Text
	}
	return out
}

var _ lmsys.QueryStore = (*memStore)(nil)
