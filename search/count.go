package search

import (
	"context"
	"sync"
	"time"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/fulltext"
)

// memberTTL bounds how long a run's cached membership is trusted without a check.
const memberTTL = 5 * time.Second

// runSet is the cluster of each query a run assigns (by query id: cluster + 2, so 0
// is "not a member" and 1 noise), with what it was read at: the run's newest edit
// (moves, deletes and merges are audited edits) and the time (late assignments of new
// queries are not edits; memberTTL bounds how long they go unseen).
type runSet struct {
	cluster  []int32
	lastEdit int64
	at       time.Time
}

func (m *runSet) has(id int64) bool {
	return id >= 0 && id < int64(len(m.cluster)) && m.cluster[id] != 0
}

// clusterOf returns the query's cluster and whether it is a member of the run.
func (m *runSet) clusterOf(id int64) (int, bool) {
	if !m.has(id) {
		return 0, false
	}
	return int(m.cluster[id]) - 2, true
}

type memberCache struct {
	mu sync.Mutex
	m  map[string]*runSet
	// refresh lets one search re-read a stale set while the others wait for it,
	// instead of every concurrent search reading the run's assignments at once.
	refresh sync.Mutex
}

// runMembers returns the run's members, reading them again when the run has an edit
// newer than the cached set or the set is older than memberTTL.
func (s *Service) runMembers(ctx context.Context, runID string) (*runSet, error) {
	if m, err := s.cachedMembers(ctx, runID); m != nil || err != nil {
		return m, err
	}
	s.members.refresh.Lock()
	defer s.members.refresh.Unlock()
	if m, err := s.cachedMembers(ctx, runID); m != nil || err != nil {
		return m, err // another search refreshed it meanwhile
	}
	last, err := s.db.LatestEdit(ctx, runID)
	if err != nil {
		return nil, err
	}
	as, err := s.db.Assignments(ctx, runID, nil)
	if err != nil {
		return nil, err
	}
	fresh := &runSet{lastEdit: last, at: time.Now()}
	maxID := int64(-1)
	for _, a := range as {
		maxID = max(maxID, a.QueryID)
	}
	fresh.cluster = make([]int32, maxID+1)
	for _, a := range as {
		if a.QueryID >= 0 {
			fresh.cluster[a.QueryID] = int32(a.ClusterID) + 2
		}
	}
	s.members.mu.Lock()
	if s.members.m == nil || len(s.members.m) > 16 {
		s.members.m = map[string]*runSet{}
	}
	s.members.m[runID] = fresh
	s.members.mu.Unlock()
	return fresh, nil
}

// cachedMembers returns the run's cached set when it is still good, else nil.
func (s *Service) cachedMembers(ctx context.Context, runID string) (*runSet, error) {
	s.members.mu.Lock()
	m := s.members.m[runID]
	s.members.mu.Unlock()
	if m == nil || time.Since(m.at) >= memberTTL {
		return nil, nil
	}
	last, err := s.db.LatestEdit(ctx, runID)
	if err != nil || last != m.lastEdit {
		return nil, err
	}
	return m, nil
}

// CountText counts the queries holding every word of text (as prefixes, as full-text
// searches match them), of the run when runID is set: the total of a paged full-text
// search. With Options.TextIndex it counts in the in-memory index against a cached
// set of the run's members, instead of asking the store, whose full-text count of a
// common word cost ~12 ms of SQLite per search at 100,000 queries.
func (s *Service) CountText(ctx context.Context, text, runID string) (int64, error) {
	if s.opts.TextIndex {
		ix, err := s.readyText(ctx)
		if err != nil {
			return 0, err
		}
		if ix != nil {
			return s.countIndexed(ctx, ix, text, runID)
		}
	}
	return s.db.CountText(ctx, text, lmsys.QueryFilter{RunID: runID})
}

func (s *Service) countIndexed(ctx context.Context, ix *fulltext.Index, text, runID string) (int64, error) {
	if runID == "" {
		return int64(ix.Count(text, nil)), nil
	}
	m, err := s.runMembers(ctx, runID)
	if err != nil {
		return 0, err
	}
	return int64(ix.Count(text, m.has)), nil
}
