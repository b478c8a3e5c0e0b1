package classify_test

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"

	"github.com/lmsys-go/lmsys"
)

// memStore is an in-memory ConversationStore and LabelStore for the runner's tests.
type memStore struct {
	mu        sync.Mutex
	convs     []lmsys.Conversation // in id order
	dataset   map[int64]string
	members   map[int64]int // query → cluster of run "run-1"
	templates map[string]lmsys.ClassificationTemplate
	runs      map[string]lmsys.ClassificationRun
	labels    map[string]lmsys.Label // key: result key, query, facet
	saves     int
}

func newMemStore(convs []lmsys.Conversation) *memStore {
	s := &memStore{convs: convs, dataset: map[int64]string{}, members: map[int64]int{},
		templates: map[string]lmsys.ClassificationTemplate{}, runs: map[string]lmsys.ClassificationRun{}, labels: map[string]lmsys.Label{}}
	sort.Slice(s.convs, func(i, j int) bool { return s.convs[i].QueryID < s.convs[j].QueryID })
	return s
}

func (s *memStore) match(f lmsys.QueryFilter, id int64) bool {
	if f.Dataset != "" && s.dataset[id] != f.Dataset {
		return false
	}
	if f.RunID != "" {
		c, ok := s.members[id]
		if f.RunID != "run-1" || !ok || (f.ClusterID != nil && *f.ClusterID != c) {
			return false
		}
	}
	if len(f.IDs) > 0 && !slices.Contains(f.IDs, id) {
		return false
	}
	return id > f.AfterID
}

func (s *memStore) GetConversation(_ context.Context, id int64) (lmsys.Conversation, error) {
	for _, c := range s.convs {
		if c.QueryID == id {
			return c, nil
		}
	}
	return lmsys.Conversation{}, fmt.Errorf("query %d: %w", id, lmsys.ErrNotFound)
}

func (s *memStore) ScanConversations(ctx context.Context, f lmsys.QueryFilter, batch int, fn func([]lmsys.Conversation) error) error {
	buf := make([]lmsys.Conversation, 0, batch)
	for _, c := range s.convs {
		if !s.match(f, c.QueryID) {
			continue
		}
		buf = append(buf, c)
		if len(buf) == batch {
			if err := fn(buf); err != nil {
				return err
			}
			// Reuse the batch, as the real store may: callers must copy what they keep.
			for i := range buf {
				buf[i] = lmsys.Conversation{QueryID: -99}
			}
			buf = buf[:0]
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	if len(buf) > 0 {
		return fn(buf)
	}
	return nil
}

func (s *memStore) CountQueries(_ context.Context, f lmsys.QueryFilter) (int64, error) {
	var n int64
	for _, c := range s.convs {
		if s.match(f, c.QueryID) {
			n++
		}
	}
	return n, nil
}

func (s *memStore) SaveTemplate(_ context.Context, t lmsys.ClassificationTemplate) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.templates[t.ID] = t
	return nil
}

func (s *memStore) Templates(context.Context) ([]lmsys.ClassificationTemplate, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []lmsys.ClassificationTemplate
	for _, t := range s.templates {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (s *memStore) CreateClassificationRun(_ context.Context, r lmsys.ClassificationRun) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.runs[r.ID]; ok {
		return fmt.Errorf("run %s exists", r.ID)
	}
	s.runs[r.ID] = r
	return nil
}

func (s *memStore) UpdateClassificationRun(_ context.Context, r lmsys.ClassificationRun) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.runs[r.ID]; !ok {
		return fmt.Errorf("run %s: %w", r.ID, lmsys.ErrNotFound)
	}
	s.runs[r.ID] = r
	return nil
}

func (s *memStore) GetClassificationRun(_ context.Context, id string) (lmsys.ClassificationRun, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.runs[id]
	if !ok {
		return r, fmt.Errorf("classification run %s: %w", id, lmsys.ErrNotFound)
	}
	return r, nil
}

func (s *memStore) ClassificationRuns(context.Context) ([]lmsys.ClassificationRun, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []lmsys.ClassificationRun
	for _, r := range s.runs {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.After(out[j].CreatedAt) })
	return out, nil
}

func (s *memStore) SaveLabels(_ context.Context, ls []lmsys.Label) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.saves++
	for _, l := range ls {
		s.labels[fmt.Sprintf("%s|%d|%s", l.ResultKey, l.QueryID, l.Facet)] = l
	}
	return nil
}

func (s *memStore) LabeledQueryIDs(_ context.Context, key string, ids []int64) (map[int64]bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[int64]bool{}
	for _, l := range s.labels {
		if l.ResultKey == key && slices.Contains(ids, l.QueryID) {
			out[l.QueryID] = true
		}
	}
	return out, nil
}

func (s *memStore) Labels(_ context.Context, f lmsys.LabelFilter) ([]lmsys.Label, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []lmsys.Label
	for _, l := range s.labels {
		if (f.Facet == "" || l.Facet == f.Facet) && (f.ResultKey == "" || l.ResultKey == f.ResultKey) &&
			(len(f.QueryIDs) == 0 || slices.Contains(f.QueryIDs, l.QueryID)) {
			out = append(out, l)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].QueryID != out[j].QueryID {
			return out[i].QueryID < out[j].QueryID
		}
		return out[i].Facet < out[j].Facet
	})
	return out, nil
}

func (s *memStore) LabelFacets(context.Context) ([]lmsys.Count, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := map[string]int64{}
	for _, l := range s.labels {
		m[l.Facet]++
	}
	var out []lmsys.Count
	for k, v := range m {
		out = append(out, lmsys.Count{Key: k, Count: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}
