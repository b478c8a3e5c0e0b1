package web

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/store"
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

// labelCache keeps each run's label counts per facet and each
// viewed cluster's label distributions. Every cluster page shows the cluster's labels
// beside its run's: at 100,000 queries and seven facets that was seven counts over
// the whole run, a scan of every label and seven member-by-member counts per view
// (5.8 pages/s under 50 clients). Entries are dropped when the store's LabelVersion
// changes, after labelTTL, and on this server's own edits; run and cluster entries
// are also keyed by the run's newest audited edit.
type labelCache struct {
	mu       sync.Mutex
	version  string
	at       time.Time
	runs     map[string]store.Distribution
	clusters map[string]ClusterLabels
}

// labelTTL bounds how long cached label counts are trusted without a change of the
// store's LabelVersion.
const labelTTL = time.Minute

func (c *labelCache) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.version, c.runs, c.clusters = "", nil, nil
}

// current reports whether the cache holds version and is young enough, clearing it
// otherwise and taking version as its own.
func (c *labelCache) current(version string) bool {
	if c.version == version && time.Since(c.at) < labelTTL {
		return true
	}
	c.version, c.at, c.runs, c.clusters = version, time.Now(), nil, nil
	return false
}

// labelStamp returns what every cached label count is keyed by: the store's
// LabelVersion and the run's newest audited edit.
func (s *server) labelStamp(ctx context.Context, runID string) (string, int64, error) {
	v, err := s.deps.Store.LabelVersion(ctx)
	if err != nil {
		return "", 0, err
	}
	last, err := s.deps.Store.LatestEdit(ctx, runID)
	if err != nil {
		return "", 0, err
	}
	return v, last, nil
}

// cachedLabels returns the entry key of the cache map field picks while the cache
// holds version v; otherwise it computes the entry and keeps it (the map is emptied
// past limit entries).
func cachedLabels[T any](c *labelCache, field func(*labelCache) *map[string]T, v, key string, limit int, compute func() (T, error)) (T, error) {
	c.mu.Lock()
	if c.current(v) {
		if e, ok := (*field(c))[key]; ok {
			c.mu.Unlock()
			return e, nil
		}
	}
	c.mu.Unlock()
	e, err := compute()
	if err != nil {
		return e, err
	}
	c.mu.Lock()
	if c.version == v {
		if m := field(c); *m == nil || len(*m) > limit {
			*m = map[string]T{}
		}
		(*field(c))[key] = e
	}
	c.mu.Unlock()
	return e, nil
}

// runLabelCounts returns the label distribution of facet among a run's queries
// (Store.LabelDistribution with the run alone), cached under the stamp v, last.
func (s *server) runLabelCounts(ctx context.Context, runID, facet, v string, last int64) (store.Distribution, error) {
	return cachedLabels(&s.labels, func(c *labelCache) *map[string]store.Distribution { return &c.runs }, v,
		fmt.Sprintf("%s\x00%s\x00%d", runID, facet, last), 256, func() (store.Distribution, error) {
			return s.deps.Store.LabelDistribution(ctx, lmsys.LabelFilter{Facet: facet, RunID: runID})
		})
}
