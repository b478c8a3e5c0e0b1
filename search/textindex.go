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
// index. Hits outside the run are dropped, asking for more candidates while they
// crowd out the run's; ok is false when the run is too small a part of the matches
// for that to pay, and the caller should ask the store instead.
func (s *Service) indexTextHits(ctx context.Context, ix *fulltext.Index, text, runID string, n int) (out []scoredID, member map[int64]int, ok bool, err error) {
	words := 0
	fulltext.Tokenize(text, func([]byte) { words++ })
	if words == 0 {
		return nil, nil, false, fmt.Errorf("%w: full-text search %q has no words", lmsys.ErrInvalidInput, text)
	}
	for want := n; ; want *= 4 {
		hits := ix.Search(text, want, nil)
		if runID == "" {
			out = make([]scoredID, len(hits))
			for i, h := range hits {
				out[i] = scoredID{h.ID, h.Score}
			}
			return out, nil, true, nil
		}
		ids := make([]int64, len(hits))
		for i, h := range hits {
			ids[i] = h.ID
		}
		member, err = clusterOf(ctx, s.db, runID, ids)
		if err != nil {
			return nil, nil, false, err
		}
		out = out[:0]
		for _, h := range hits {
			if _, in := member[h.ID]; in && len(out) < n {
				out = append(out, scoredID{h.ID, h.Score})
			}
		}
		if len(out) == n || len(hits) < want {
			return out, member, true, nil
		}
		if want >= 16*n {
			return nil, nil, false, nil
		}
	}
}
