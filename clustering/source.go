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

// scanAhead scans src with src.Scan on a goroutine of its own and calls fn on this
// one, so that the next batch is read while fn works on the last: two copies of a
// batch alternate between them. The first error of fn or of the scan stops both and
// is returned (fn's first).
func scanAhead(ctx context.Context, src Source, batch int, fn func(ids []int64, vecs [][]float32) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type buffer struct {
		ids  []int64
		flat []float32
		vecs [][]float32
	}
	free := make(chan *buffer, 2)
	full := make(chan *buffer, 2)
	free <- &buffer{}
	free <- &buffer{}
	scanned := make(chan error, 1)
	go func() {
		defer close(full)
		scanned <- src.Scan(ctx, batch, func(ids []int64, vecs [][]float32) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			var b *buffer
			select {
			case b = <-free:
			case <-ctx.Done():
				return ctx.Err()
			}
			b.ids = append(b.ids[:0], ids...)
			b.flat = b.flat[:0]
			for _, v := range vecs {
				b.flat = append(b.flat, v...)
			}
			b.vecs = b.vecs[:0]
			o := 0
			for _, v := range vecs {
				b.vecs = append(b.vecs, b.flat[o:o+len(v):o+len(v)])
				o += len(v)
			}
			full <- b // never blocks: there are two buffers and room for two
			return nil
		})
	}()
	var err error
	for b := range full {
		if err == nil {
			if err = fn(b.ids, b.vecs); err != nil {
				cancel()
			}
		}
		free <- b
	}
	if serr := <-scanned; err == nil {
		err = serr
	}
	return err
}
