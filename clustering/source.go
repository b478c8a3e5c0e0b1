package clustering

import (
	"context"
	"slices"

	"github.com/lmsys-go/lmsys"
)

// StoreSource returns the Source that streams the embeddings in space of the queries
// selected by f from an embedding store, in query-id order.
func StoreSource(s lmsys.EmbeddingStore, space lmsys.Space, f lmsys.QueryFilter) Source {
	return SourceFunc(func(ctx context.Context, batch int, fn func(ids []int64, vecs [][]float32) error) error {
		return s.ScanQueryVectors(ctx, space, f, batch, fn)
	})
}

// RankOutliers returns the indices of the rows of p most likely to be outliers, at
// most limit of them (all when limit ≤ 0): noise rows (label −1) first, then by
// decreasing Outlier score when p has one, otherwise by increasing Confidence; ties
// keep row order.
func RankOutliers(p lmsys.Partition, limit int) []int {
	n := len(p.Labels)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	score := func(i int) float64 {
		s := 0.0
		if p.Labels[i] < 0 {
			s += 2
		}
		switch {
		case len(p.Outlier) == n:
			s += float64(p.Outlier[i])
		case len(p.Confidence) == n:
			s += 1 - float64(p.Confidence[i])
		}
		return s
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		sa, sb := score(a), score(b)
		switch {
		case sa > sb:
			return -1
		case sa < sb:
			return 1
		}
		return 0
	})
	if limit > 0 && limit < n {
		idx = idx[:limit]
	}
	return idx
}
