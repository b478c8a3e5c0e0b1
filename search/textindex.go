package search

import (
	"context"
	"fmt"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/fulltext"
)

// textIndex returns the current in-memory text index.
func (s *Service) textIndex() *fulltext.Index {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.text
}

// WarmTextIndex brings the in-memory text index up to date with the store (building it
// on first use: 1–2 s per 100,000 short queries), so that the next full-text
// search does not fall back to the store's index. Servers call it in the background
// at start. Without Options.TextIndex it does nothing.
func (s *Service) WarmTextIndex(ctx context.Context) error {
	if !s.opts.TextIndex {
		return nil
	}
	s.textSync.Lock()
	defer s.textSync.Unlock()
	return s.syncTextLocked(ctx)
}

// readyText returns the in-memory text index when it is up to date with the store. When
// it is not, it syncs it — unless another search is already doing so, and then it
// returns nil so the caller uses the store's index meanwhile instead of waiting.
func (s *Service) readyText(ctx context.Context) (*fulltext.Index, error) {
	lastID, lastHash, err := s.db.LastQuery(ctx)
	if err != nil {
		return nil, err
	}
	ix := s.textIndex()
	if id, h := ix.Last(); id == lastID && h == lastHash {
		return ix, nil
	}
	if !s.textSync.TryLock() {
		return nil, nil
	}
	defer s.textSync.Unlock()
	if err := s.syncTextLocked(ctx); err != nil {
		return nil, err
	}
	return s.textIndex(), nil
}

// syncTextLocked adds the queries newer than the index's last one, or rebuilds the
// index when the queries table was replaced (the last indexed query is gone or has
// another text). The caller holds s.textSync.
func (s *Service) syncTextLocked(ctx context.Context) error {
	ix := s.textIndex()
	if id, h := ix.Last(); id > 0 {
		cur, err := s.db.QueryTextHash(ctx, id)
		if err != nil {
			return err
		}
		if cur != h {
			ix = fulltext.New() // built aside, swapped in when complete
		}
	}
	after, _ := ix.Last()
	const batch = 5000
	docs := make([]fulltext.Doc, 0, batch)
	flush := func() {
		ix.Add(docs)
		docs = docs[:0]
	}
	err := s.db.ScanQueryTexts(ctx, after, batch, func(id int64, text, h string) error {
		docs = append(docs, fulltext.Doc{ID: id, Text: text, Fingerprint: h})
		if len(docs) == batch {
			flush()
		}
		return ctx.Err()
	})
	if err != nil {
		return fmt.Errorf("search: text index: %w", err)
	}
	flush()
	s.mu.Lock()
	s.text = ix
	s.mu.Unlock()
	return nil
}

// indexTextHits answers textHits for a whole run (or all queries) from the in-memory
// index, which ranks only the run's members (held in memory with their clusters, see
// runMembers). ok is always true when err is nil: the store is never needed.
func (s *Service) indexTextHits(ctx context.Context, ix *fulltext.Index, text, runID string, n int) (out []scoredID, member map[int64]int, ok bool, err error) {
	words := 0
	fulltext.Tokenize(text, func([]byte) { words++ })
	if words == 0 {
		return nil, nil, false, fmt.Errorf("%w: full-text search %q has no words", lmsys.ErrInvalidInput, text)
	}
	if runID == "" {
		hits := ix.Search(text, n, nil)
		out = make([]scoredID, len(hits))
		for i, h := range hits {
			out[i] = scoredID{h.ID, h.Score}
		}
		return out, nil, true, nil
	}
	// The run's members and their clusters are held in memory (runMembers): the search
	// keeps to the run as it ranks, and the hits' clusters cost no store round trip.
	m, err := s.runMembers(ctx, runID)
	if err != nil {
		return nil, nil, false, err
	}
	hits := ix.Search(text, n, m.has)
	out = make([]scoredID, len(hits))
	member = make(map[int64]int, len(hits))
	for i, h := range hits {
		out[i] = scoredID{h.ID, h.Score}
		member[h.ID], _ = m.clusterOf(h.ID)
	}
	return out, member, true, nil
}
