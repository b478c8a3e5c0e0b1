package search

import (
	"context"
	"fmt"
)

// TextHitsFromIndex runs a full-text search of a whole run (all queries when runID
// is empty) through the in-memory text index only, and reports whether the index
// could answer it (false: the run is too small a part of the matches).
func (s *Service) TextHitsFromIndex(ctx context.Context, text, runID string, n int) (ids []int64, scores []float64, ok bool, err error) {
	ix, err := s.readyText(ctx)
	if err != nil {
		return nil, nil, false, err
	}
	if ix == nil {
		return nil, nil, false, fmt.Errorf("text index busy")
	}
	hits, _, ok, err := s.indexTextHits(ctx, ix, text, runID, n)
	for _, h := range hits {
		ids = append(ids, h.id)
		scores = append(scores, h.value)
	}
	return ids, scores, ok, err
}

// TextHitsFromStore is TextHitsFromIndex through the store's full-text index.
func (s *Service) TextHitsFromStore(ctx context.Context, text, runID string, n int) (ids []int64, scores []float64, err error) {
	saved := s.opts.TextIndex
	s.opts.TextIndex = false
	defer func() { s.opts.TextIndex = saved }()
	hits, _, err := s.textHits(ctx, text, runID, n, nil)
	for _, h := range hits {
		ids = append(ids, h.id)
		scores = append(scores, h.value)
	}
	return ids, scores, err
}

// TextIndexDocs returns the number of queries in the in-memory text index.
func (s *Service) TextIndexDocs() int { return s.textIndex().Len() }
