package search

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/internal/vec"
)

// ClusterSearchOptions configures SearchClusters.
type ClusterSearchOptions struct {
	// RunID names the run (required); its space picks the collection.
	RunID string
	// TopK is the number of clusters returned (20).
	TopK int
	// SummaryRef names the summary run by id or alias; empty means the latest, which
	// is the one the index holds. Another summary run is searched exactly over its
	// summaries' vectors (embedded once and cached in the store).
	SummaryRef string
	// ClusterIDs, when not nil, restricts the search to these clusters.
	ClusterIDs []int
}

// ClusterResults is the answer of SearchClusters, in the seed tool's JSON shape.
type ClusterResults struct {
	Text    string       `json:"text"`
	RunID   string       `json:"run_id"`
	Results []ClusterHit `json:"results"`
}

// ClusterHit is one cluster found; title, description and size come from the store.
type ClusterHit struct {
	ClusterID   int     `json:"cluster_id"`
	Distance    float32 `json:"distance"`
	Title       string  `json:"title"`
	Description string  `json:"description"`
	NumQueries  int     `json:"num_queries"`
}

// SearchClusters returns the run's clusters whose summaries are nearest text, nearest
// first. A run without summaries is an error wrapping lmsys.ErrNotFound.
func (s *Service) SearchClusters(ctx context.Context, text string, o ClusterSearchOptions) (ClusterResults, error) {
	text, err := checkText(text)
	if err != nil {
		return ClusterResults{}, err
	}
	run, err := s.runSpace(ctx, o.RunID)
	if err != nil {
		return ClusterResults{}, err
	}
	if o.TopK < 0 {
		return ClusterResults{}, fmt.Errorf("%w: top-k must be positive, got %d", lmsys.ErrInvalidInput, o.TopK)
	}
	if o.TopK == 0 {
		o.TopK = 20
	}
	if err := s.ensureFresh(ctx, run); err != nil {
		return ClusterResults{}, err
	}
	q, err := s.embedText(ctx, run.Space, text)
	if err != nil {
		return ClusterResults{}, err
	}
	hits, err := s.searchClusters(ctx, run, q, o)
	if err != nil {
		return ClusterResults{}, err
	}
	return ClusterResults{Text: text, RunID: run.ID, Results: hits}, nil
}

// searchClusters ranks the run's summaries against the embedded search text q.
func (s *Service) searchClusters(ctx context.Context, run lmsys.Run, q []float32, o ClusterSearchOptions) ([]ClusterHit, error) {
	ss, err := s.latestSummaries(ctx, run.ID, o.SummaryRef)
	if err != nil {
		return nil, err
	}
	if len(ss) == 0 {
		return nil, fmt.Errorf("cluster summaries of run %q (run `lmsys summarize %s` first): %w", run.ID, run.ID, lmsys.ErrNotFound)
	}
	if o.ClusterIDs != nil {
		keep := map[int]bool{}
		for _, c := range o.ClusterIDs {
			keep[c] = true
		}
		out := ss[:0:0]
		for _, sm := range ss {
			if keep[sm.ClusterID] {
				out = append(out, sm)
			}
		}
		ss = out
	}
	hits := []ClusterHit{}
	if len(ss) == 0 {
		return hits, nil
	}
	byID := make(map[int]lmsys.Summary, len(ss))
	for _, sm := range ss {
		byID[sm.ClusterID] = sm
	}
	latest, err := s.db.ResolveSummaryRun(ctx, run.ID, "")
	if err != nil {
		return nil, err
	}
	hit := func(c int, d float32) ClusterHit {
		sm := byID[c]
		return ClusterHit{ClusterID: c, Distance: d, Title: sm.Title, Description: sm.Description, NumQueries: sm.NumQueries}
	}
	if ss[0].SummaryRunID != latest {
		// Not the indexed summary run: rank its (cached) vectors exactly.
		vs, err := s.summaryVectors(ctx, run.Space, ss)
		if err != nil {
			return nil, err
		}
		for i, sm := range ss {
			hits = append(hits, hit(sm.ClusterID, float32(vec.CosineDistance(q, vs[i]))))
		}
		sort.SliceStable(hits, func(i, j int) bool {
			if hits[i].Distance != hits[j].Distance {
				return hits[i].Distance < hits[j].Distance
			}
			return hits[i].ClusterID < hits[j].ClusterID
		})
		return hits[:min(o.TopK, len(hits))], nil
	}
	ids := make([]string, len(ss))
	for i, sm := range ss {
		ids[i] = clusterItemID(run.ID, sm.ClusterID)
	}
	coll := run.Space.Collection(KindSummaries)
	k := min(o.TopK, len(ids))
	var found []lmsys.Hit
	for attempt := 0; ; attempt++ {
		found, err = s.index.Search(ctx, coll, q, k, lmsys.Filter{IDs: ids})
		if err != nil && !errors.Is(err, lmsys.ErrNotFound) {
			return nil, fmt.Errorf("search: clusters of %s: %w", run.ID, err)
		}
		if attempt > 0 || (err == nil && len(found) == k && indexedAsStored(found, byID, run.Space)) {
			break
		}
		// The store changed since the summaries were indexed (a new summary run, an edit
		// made elsewhere): bring them in step, then search again.
		if err := s.ReindexClusters(ctx, run.ID, nil); err != nil {
			return nil, err
		}
	}
	if err != nil {
		return nil, fmt.Errorf("search: %s is not indexed (run `lmsys verify sync %s --repair`): %w", coll, run.ID, err)
	}
	for _, h := range found {
		c, err := strconv.Atoi(h.Metadata["cluster_id"])
		if err != nil {
			continue
		}
		if _, ok := byID[c]; ok {
			hits = append(hits, hit(c, h.Distance))
		}
	}
	return hits, nil
}

// indexedAsStored reports whether every hit's indexed copy matches the store's summary.
func indexedAsStored(hits []lmsys.Hit, byID map[int]lmsys.Summary, space lmsys.Space) bool {
	for _, h := range hits {
		c, err := strconv.Atoi(h.Metadata["cluster_id"])
		if err != nil {
			return false
		}
		sm, ok := byID[c]
		if !ok || !sameMeta(h.Metadata, summaryMetadata(sm, space)) {
			return false
		}
	}
	return true
}
