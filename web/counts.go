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

// cachedClusterLabels returns count(ctx, runID, clusterID) from the cache, counting
// and keeping it when it is not there.
func (s *server) cachedClusterLabels(ctx context.Context, runID string, clusterID int,
	count func(context.Context, string, int) (ClusterLabels, error)) (ClusterLabels, error) {
	v, err := s.deps.Store.LabelVersion(ctx)
	if err != nil {
		return ClusterLabels{}, err
	}
	last, err := s.deps.Store.LatestEdit(ctx, runID)
	if err != nil {
		return ClusterLabels{}, err
	}
	key := fmt.Sprintf("%s\x00%d\x00%d", runID, clusterID, last)
	s.labels.mu.Lock()
	if s.labels.current(v) {
		if cl, ok := s.labels.clusters[key]; ok {
			s.labels.mu.Unlock()
			return cl, nil
		}
	}
	s.labels.mu.Unlock()
	cl, err := count(ctx, runID, clusterID)
	if err != nil {
		return ClusterLabels{}, err
	}
	s.labels.mu.Lock()
	if s.labels.version == v {
		if s.labels.clusters == nil || len(s.labels.clusters) > 4096 {
			s.labels.clusters = map[string]ClusterLabels{}
		}
		s.labels.clusters[key] = cl
	}
	s.labels.mu.Unlock()
	return cl, nil
}

// runLabelCounts returns the label distribution of facet among a run's queries
// (Store.LabelDistribution with the run alone), cached.
func (s *server) runLabelCounts(ctx context.Context, runID, facet string) (store.Distribution, error) {
	v, err := s.deps.Store.LabelVersion(ctx)
	if err != nil {
		return store.Distribution{}, err
	}
	last, err := s.deps.Store.LatestEdit(ctx, runID)
	if err != nil {
		return store.Distribution{}, err
	}
	key := fmt.Sprintf("%s\x00%s\x00%d", runID, facet, last)
	s.labels.mu.Lock()
	if s.labels.current(v) {
		if cs, ok := s.labels.runs[key]; ok {
			s.labels.mu.Unlock()
			return cs, nil
		}
	}
	s.labels.mu.Unlock()
	cs, err := s.deps.Store.LabelDistribution(ctx, lmsys.LabelFilter{Facet: facet, RunID: runID})
	if err != nil {
		return store.Distribution{}, err
	}
	s.labels.mu.Lock()
	if s.labels.version == v {
		if s.labels.runs == nil || len(s.labels.runs) > 256 {
			s.labels.runs = map[string]store.Distribution{}
		}
		s.labels.runs[key] = cs
	}
	s.labels.mu.Unlock()
	return cs, nil
}
