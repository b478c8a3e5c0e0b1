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
	// Each pair's distance comes once (the upper triangle, half the products) and is
	// offered to both ends. Every worker keeps its own candidates for all the points,
	// so nothing is shared; they are merged at the end. The nearest under the order
	// (distance, index) are one set whatever order the candidates come in, so the
	// graph does not depend on the number of workers. A point is its own first
	// neighbour, ties or not, and its candidates are the k − 1 others.
	workers = vec.Workers(workers)
	sets := make([]candidateSet, workers)
	for w := range sets {
		sets[w] = newCandidateSet(n, k-1)
	}
	var mu sync.Mutex // progress functions need not be safe for concurrent use
	done := 0
	err := panel.SelfDistances(ctx, flat, workers, func(b *vec.Block) error {
		hs := &sets[b.Worker]
		for i := b.I0; i < b.I1; i++ {
			for t, x := range b.Row(i) {
				j := b.J0 + t
				if j == i {
					continue
				}
				if x <= hs.bound[i] {
					hs.offer(i, j, x)
				}
				if j >= b.I1 && x <= hs.bound[j] {
					hs.offer(j, i, x)
				}
			}
		}
		mu.Lock()
		done += b.I1 - b.I0
		progress.Report("layout neighbours", int64(done), int64(n))
		mu.Unlock()
		return nil
	})
	if err != nil {
		return nb, err
	}
	parallelRange(workers, n, func(lo, hi int) {
		var all []candidate
		for i := lo; i < hi; i++ {
			all = all[:0]
			for w := range sets {
				all = append(all, sets[w].kept[i]...)
			}
			slices.Sort(all)
			row, dist := nb.idx[i*k:(i+1)*k], nb.dist[i*k:(i+1)*k]
			row[0], dist[0] = int32(i), 0
			for t := 1; t < k; t++ {
				row[t], dist[t] = -1, float32(math.Inf(1))
				if t-1 < len(all) {
					j, d := all[t-1].split()
					row[t], dist[t] = j, float32(math.Sqrt(float64(d)))
				}
			}
		}
	})
	return nb, nil
}

// candidateSet is one worker's candidates for every point: at most k + k/2 each, cut
// to the k nearest whenever that fills (a selection in place, O(k)), with bound[i]
// the distance of the farthest kept after a cut (+Inf before the first): a
// candidate beyond it cannot be among the k nearest. That costs O(1) a candidate
// taken, where a heap costs O(log k).
type candidateSet struct {
	k     int
	kept  [][]candidate
	bound []float32
}

func newCandidateSet(n, k int) candidateSet {
	c := k + max(k/2, 1)
	hs := candidateSet{k: k, kept: make([][]candidate, n), bound: make([]float32, n)}
	store := make([]candidate, n*c)
	for i := range hs.kept {
		hs.kept[i] = store[i*c : i*c : (i+1)*c]
		hs.bound[i] = float32(math.Inf(1))
	}
	return hs
}

func (hs *candidateSet) offer(i, j int, d float32) {
	h := append(hs.kept[i], newCandidate(j, d))
	if len(h) == cap(h) {
		selectSmallest(h, hs.k)
		h = h[:hs.k]
		if hs.k > 0 {
			_, hs.bound[i] = slices.Max(h).split()
		}
	}
	hs.kept[i] = h
}

// selectSmallest moves the k smallest of c to its front, in no order (Hoare's
// selection, the pivot a median of three).
func selectSmallest(c []candidate, k int) {
	lo, hi := 0, len(c)-1
	for lo < hi && k > lo && k <= hi {
		mid := lo + (hi-lo)/2
		if c[mid] < c[lo] {
			c[mid], c[lo] = c[lo], c[mid]
		}
		if c[hi] < c[lo] {
			c[hi], c[lo] = c[lo], c[hi]
		}
		if c[hi] < c[mid] {
			c[hi], c[mid] = c[mid], c[hi]
		}
		pivot := c[mid]
		i, j := lo, hi
		for i <= j {
			for c[i] < pivot {
				i++
			}
			for c[j] > pivot {
				j--
			}
			if i <= j {
				c[i], c[j] = c[j], c[i]
				i++
				j--
			}
		}
		// Now c[lo..j] ≤ pivot ≤ c[i..hi], with j < i.
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return
		}
	}
}

// candidate is a point j at squared distance d ≥ 0, as the bits of d above j, so
// that candidates order by distance, then by index, as integers.
type candidate uint64

func newCandidate(j int, d float32) candidate {
	return candidate(uint64(math.Float32bits(max(d, 0)))<<32 | uint64(uint32(j)))
}

func (c candidate) split() (int32, float32) {
	return int32(uint32(c)), math.Float32frombits(uint32(c >> 32))
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
