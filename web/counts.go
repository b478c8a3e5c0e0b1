package web

import (
	"context"
	"sync"
	"time"

	"github.com/lmsys-go/lmsys"
)

// countCache keeps how many queries each finished run assigns. Every cluster page
// and cluster API answer shows the cluster's share of its run, and counting a
// 100,000-query run's assignments cost ~8 ms of SQLite per request: under 50 clients
// that count was three quarters of the server's CPU. An entry is trusted like a
// cached summary run (summaryTTL, and no audited edit of the run since it was read),
// and dropped by this server's own edits.
type countCache struct {
	mu sync.Mutex
	m  map[string]countEntry
}

type countEntry struct {
	n        int64
	lastEdit int64
	at       time.Time
}

func (c *countCache) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m = nil
}

// runTotal returns the number of queries the run assigns; only a finished run's
// count is cached (a running run's grows).
func (s *server) runTotal(ctx context.Context, run lmsys.Run) (int64, error) {
	count := func() (int64, error) { return s.deps.Store.CountQueries(ctx, lmsys.QueryFilter{RunID: run.ID}) }
	if run.Status != lmsys.RunCompleted {
		return count()
	}
	last, err := s.deps.Store.LatestEdit(ctx, run.ID)
	if err != nil {
		return 0, err
	}
	s.counts.mu.Lock()
	e, ok := s.counts.m[run.ID]
	s.counts.mu.Unlock()
	if ok && time.Since(e.at) < summaryTTL && e.lastEdit == last {
		return e.n, nil
	}
	n, err := count()
	if err != nil {
		return 0, err
	}
	s.counts.mu.Lock()
	if s.counts.m == nil || len(s.counts.m) > 64 {
		s.counts.m = map[string]countEntry{}
	}
	s.counts.m[run.ID] = countEntry{n: n, lastEdit: last, at: time.Now()}
	s.counts.mu.Unlock()
	return n, nil
}
