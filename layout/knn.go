package layout

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/errgroup"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/internal/vec"
	"github.com/lmsys-go/lmsys/semantic"
)

// exactLimit is the largest number of points whose neighbours are found exactly
// (every distance, through the blocked distance kernel); beyond it an HNSW graph
// answers, whose cost grows as n log n instead of n².
const exactLimit = 50000

// knn holds each point's k nearest neighbours (itself first) and their Euclidean
// distances, row-major.
type knn struct {
	n, k int
	idx  []int32
	dist []float32
}

func neighbours(ctx context.Context, vectors [][]float32, k, workers int, progress lmsys.ProgressFunc) (*knn, error) {
	n, d := len(vectors), len(vectors[0])
	nb := &knn{n: n, k: k, idx: make([]int32, n*k), dist: make([]float32, n*k)}
	progress.Report("layout neighbours", 0, int64(n))
	if n > exactLimit {
		return nb, approxNeighbours(ctx, vectors, nb, workers, progress)
	}
	flat := make([]float32, n*d)
	for i, v := range vectors {
		copy(flat[i*d:], v)
	}
	panel := vec.NewPanel(flat, n, d)
	type cand struct {
		j int32
		d float32
	}
	bufs := make([][]cand, vec.Workers(workers))
	err := panel.Distances(ctx, flat, n, panel.Norms(), workers, func(b *vec.Block) error {
		buf := bufs[b.Worker]
		for i := b.I0; i < b.I1; i++ {
			row := b.Row(i)
			buf = buf[:0]
			// Keep the k smallest with a bounded insertion (k is small).
			for j, x := range row {
				if len(buf) == k && x >= buf[k-1].d {
					continue
				}
				if j == i {
					x = -1 // a point is its own first neighbour, ties or not
				}
				at := len(buf)
				if at < k {
					buf = append(buf, cand{})
				} else {
					at = k - 1
				}
				for at > 0 && buf[at-1].d > x {
					buf[at] = buf[at-1]
					at--
				}
				buf[at] = cand{int32(j), x}
			}
			for t, c := range buf {
				nb.idx[i*k+t] = c.j
				nb.dist[i*k+t] = float32(math.Sqrt(math.Max(0, float64(c.d))))
			}
		}
		bufs[b.Worker] = buf
		progress.Report("layout neighbours", int64(b.I1), int64(n))
		return nil
	})
	return nb, err
}

// approxNeighbours answers from an HNSW graph of the vectors.
func approxNeighbours(ctx context.Context, vectors [][]float32, nb *knn, workers int, progress lmsys.ProgressFunc) error {
	// The graph is built on one goroutine: a parallel build links nodes in the order
	// the goroutines reach them, and the map would differ from run to run.
	h := semantic.NewHNSW(semantic.HNSWOptions{Workers: 1})
	items := make([]lmsys.Vector, len(vectors))
	for i, v := range vectors {
		items[i] = lmsys.Vector{ID: strconv.Itoa(i), Values: v}
	}
	if err := h.Upsert(ctx, "layout", items); err != nil {
		return fmt.Errorf("layout: neighbour graph: %w", err)
	}
	// Searches only read the graph: rows are shared out in blocks over the workers,
	// and each row's answer is the same whichever goroutine asks.
	k := nb.k
	var next, done atomic.Int64
	var mu sync.Mutex // progress functions need not be safe for concurrent use
	const block = 256
	g, gctx := errgroup.WithContext(ctx)
	for range vec.Workers(workers) {
		g.Go(func() error {
			for {
				from := int(next.Add(block)) - block
				if from >= len(vectors) {
					return nil
				}
				if err := gctx.Err(); err != nil {
					return err
				}
				for i := from; i < min(from+block, len(vectors)); i++ {
					hits, err := h.Search(gctx, "layout", vectors[i], k, lmsys.Filter{})
					if err != nil {
						return fmt.Errorf("layout: neighbours of %d: %w", i, err)
					}
					row := nb.idx[i*k : (i+1)*k]
					dist := nb.dist[i*k : (i+1)*k]
					for t := range row {
						row[t], dist[t] = -1, float32(math.Inf(1))
					}
					row[0], dist[0] = int32(i), 0
					t := 1
					for _, hit := range hits {
						j, _ := strconv.Atoi(hit.ID)
						if j == i || t >= k {
							continue
						}
						row[t] = int32(j)
						dist[t] = float32(math.Sqrt(math.Max(0, 2*float64(hit.Distance)))) // cosine distance of unit vectors
						t++
					}
				}
				mu.Lock()
				progress.Report("layout neighbours", done.Add(int64(min(block, len(vectors)-from))), int64(len(vectors)))
				mu.Unlock()
			}
		})
	}
	return g.Wait()
}

// sortEdges orders the graph's edges by (head, tail).
func sortEdges(g *graph) {
	order := make([]int, len(g.head))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		if g.head[a] != g.head[b] {
			return int(g.head[a] - g.head[b])
		}
		return int(g.tail[a] - g.tail[b])
	})
	head, tail, weight := make([]int32, len(order)), make([]int32, len(order)), make([]float64, len(order))
	for t, e := range order {
		head[t], tail[t], weight[t] = g.head[e], g.tail[e], g.weight[e]
	}
	g.head, g.tail, g.weight = head, tail, weight
}
