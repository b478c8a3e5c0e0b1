package semantic

import (
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/lmsys-go/lmsys/internal/vec"
)

// graph is one collection's hierarchical navigable small world graph (Malkov and
// Yashunin, "Efficient and robust approximate nearest neighbor search using
// Hierarchical Navigable Small World graphs", 2016/2018) over the rows of items.
//
// Layer 0 links are kept in one flat slice, m0+1 slots per node (a count, then up
// to m0 neighbours); the rare nodes on higher layers own a slice of m+1 slots per
// extra layer. Link slots are read with atomic loads so that a parallel build can
// read a list while another goroutine rewrites it under that node's lock; readers
// may see a list mid-rewrite, which only means a slightly different walk.
type graph struct {
	m, m0, efc int
	ml         float64
	s          *items
	levels     []uint8
	links0     []uint32
	lmap       *vecMapping // the mapping links0 lives in (see items.growVecs); nil on the heap
	upper      [][]uint32
	entry      int64 // -1 while empty
	maxLevel   int
	epMu       sync.Mutex
	locks      [1024]sync.Mutex // striped per-node locks for parallel inserts
	rng        *rand.Rand
	pool       sync.Pool // *scratch
}

// maxLevels caps node levels; with m ≥ 2 a level above 31 has probability < 2^-31.
const maxLevels = 32

func newGraph(s *items, m, efc int, seed uint64) *graph {
	g := &graph{m: m, m0: 2 * m, efc: efc, ml: 1 / math.Log(float64(m)), s: s, entry: -1,
		rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
	g.pool.New = func() any { return &scratch{} }
	return g
}

// scratch is one goroutine's reusable search state, so searches do not allocate.
type scratch struct {
	visited []uint32
	gen     uint32
	cand    maxHeap
	res     topK
	buf     []scored
	eps     []scored
	own     []scored
	pbuf    []scored // addLink's buffers
	psel    []scored
}

func (sc *scratch) begin(n int) {
	if len(sc.visited) < n {
		sc.visited = make([]uint32, n+n/4+16)
		sc.gen = 0
	}
	sc.gen++
	if sc.gen == 0 {
		clear(sc.visited)
		sc.gen = 1
	}
}

// maxHeap holds candidates best (most similar) first.
type maxHeap []scored

func (h *maxHeap) push(c scored) {
	*h = append(*h, c)
	a := *h
	i := len(a) - 1
	for i > 0 {
		p := (i - 1) / 2
		if a[p].sim >= a[i].sim {
			break
		}
		a[i], a[p] = a[p], a[i]
		i = p
	}
}

func (h *maxHeap) pop() scored {
	a := *h
	top := a[0]
	n := len(a) - 1
	a[0] = a[n]
	a = a[:n]
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && a[r].sim > a[l].sim {
			m = r
		}
		if a[i].sim >= a[m].sim {
			break
		}
		a[i], a[m] = a[m], a[i]
		i = m
	}
	*h = a
	return top
}

func (g *graph) randomLevel() int {
	u := 1 - g.rng.Float64() // (0, 1]
	l := int(-math.Log(u) * g.ml)
	return min(l, maxLevels-1)
}

// onLevel reports whether node w exists on level l. A concurrent insert that prunes
// a neighbour list rewrites it in place and zeroes its tail, so a reader holding the
// old count can read a slot that is momentarily 0: node 0, which may not exist above
// level 0. Readers skip such slots instead of indexing a level the node lacks.
func (g *graph) onLevel(w uint32, l int) bool {
	return l == 0 || (int(w) < len(g.levels) && int(g.levels[w]) >= l)
}

// links returns node v's slots at level l: [count, neighbours...].
func (g *graph) links(v uint32, l int) []uint32 {
	if l == 0 {
		w := g.m0 + 1
		return g.links0[int(v)*w : int(v)*w+w : int(v)*w+w]
	}
	w := g.m + 1
	return g.upper[v][(l-1)*w : l*w : l*w]
}

// grow makes room for the graph nodes of rows len(levels)..s.len()-1, assigning their levels.
func (g *graph) grow() {
	n := g.s.len()
	// Room for as many nodes as the items have room for rows: exactly the expected
	// total when the caller announced it, instead of growing by a quarter per batch
	// with the old and new arrays both alive.
	rows := n
	if g.s.dims > 0 {
		rows = max(n, cap(g.s.vecs)/g.s.dims)
	}
	if cap(g.levels) < n {
		g.levels = slices.Grow(g.levels, rows-len(g.levels))
		g.upper = slices.Grow(g.upper, rows-len(g.upper))
	}
	if w := g.m0 + 1; cap(g.links0) < n*w {
		c := rows * w
		if rows == n { // no room known beyond these nodes: grow geometrically
			c = max(c, 2*cap(g.links0))
		}
		g.growLinks(c)
	}
	for v := len(g.levels); v < n; v++ {
		l := g.randomLevel()
		g.levels = append(g.levels, uint8(l))
		if l > 0 {
			g.upper = append(g.upper, make([]uint32, l*(g.m+1)))
		} else {
			g.upper = append(g.upper, nil)
		}
	}
	g.links0 = g.links0[:n*(g.m0+1)]
}

// growLinks moves the layer-0 links to storage with room for at least c slots:
// mapped memory, like the vectors, once they are large (132 MB at a million nodes).
func (g *graph) growLinks(c int) {
	var m *vecMapping
	g.links0, m = growMapped(g.links0, c, g.lmap)
	if m != g.lmap && m != nil {
		runtime.AddCleanup(g, (*vecMapping).release, m)
	}
	g.lmap = m
}

// insertPending links every row not yet in the graph, on up to workers goroutines.
func (g *graph) insertPending(workers int) {
	start := len(g.levels)
	g.grow()
	n := len(g.levels)
	if start == n {
		return
	}
	if g.entry < 0 {
		g.insert(uint32(start), g.scratch())
		start++
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	if workers == 1 || n-start < 256 {
		sc := g.scratch()
		for v := start; v < n; v++ {
			g.insert(uint32(v), sc)
		}
		g.pool.Put(sc)
		return
	}
	var next atomic.Int64
	next.Store(int64(start))
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			sc := g.scratch()
			defer g.pool.Put(sc)
			for {
				v := next.Add(1) - 1
				if v >= int64(n) {
					return
				}
				g.insert(uint32(v), sc)
			}
		})
	}
	wg.Wait()
}

func (g *graph) scratch() *scratch { return g.pool.Get().(*scratch) }

func (g *graph) entryPoint() (int64, int) {
	g.epMu.Lock()
	defer g.epMu.Unlock()
	return g.entry, g.maxLevel
}

// insert links node v into the graph: greedy descent from the entry point to v's
// level, then on each lower level a beam search of width efConstruction whose
// result, thinned by the neighbour-selection heuristic, becomes v's links; each
// chosen neighbour links back, re-thinning its own list when it overflows.
func (g *graph) insert(v uint32, sc *scratch) {
	L := int(g.levels[v])
	g.epMu.Lock()
	if g.entry < 0 {
		g.entry, g.maxLevel = int64(v), L
		g.epMu.Unlock()
		return
	}
	ep, maxL := g.entry, g.maxLevel
	// A node that raises the top level holds the entry lock for its whole insert
	// (as hnswlib does), so two such nodes never race to become the entry point.
	if L <= maxL {
		g.epMu.Unlock()
	} else {
		defer g.epMu.Unlock()
	}
	q := g.s.row(v)
	cur := scored{vec.Dot(q, g.s.row(uint32(ep))), uint32(ep)}
	for l := maxL; l > L; l-- {
		cur = g.greedy(q, cur, l)
	}
	sc.eps = append(sc.eps[:0], cur)
	for l := min(L, maxL); l >= 0; l-- {
		g.searchLayer(q, sc.eps, g.efc, l, sc, nil)
		cands := append(sc.buf[:0], sc.res.sorted()...)
		sc.buf = cands
		// A new node takes M links on every layer, as in the paper and hnswlib (layer 0
		// lists grow to M0 as later nodes link back); taking M0 on layer 0, as FAISS
		// does, measured lower recall at small efSearch and 1.7x the build CPU here.
		sel := g.heuristic(cands, g.m, sc.own[:0])
		sc.own = sel
		own := g.links(v, l)
		lk := &g.locks[v%uint32(len(g.locks))]
		lk.Lock()
		for i, c := range sel {
			atomic.StoreUint32(&own[1+i], c.id)
		}
		atomic.StoreUint32(&own[0], uint32(len(sel)))
		lk.Unlock()
		sc.eps = append(sc.eps[:0], cands...)
		for _, c := range sel {
			g.addLink(c.id, v, c.sim, l, sc)
		}
	}
	if L > maxL {
		g.entry, g.maxLevel = int64(v), L
	}
}

// addLink adds v to u's list at level l (sim is their similarity), pruning the list
// with the heuristic when it is full.
func (g *graph) addLink(u, v uint32, sim float32, l int, sc *scratch) {
	maxN := g.m
	if l == 0 {
		maxN = g.m0
	}
	lk := &g.locks[u%uint32(len(g.locks))]
	lk.Lock()
	defer lk.Unlock()
	lst := g.links(u, l)
	cnt := int(atomic.LoadUint32(&lst[0]))
	for i := 1; i <= cnt; i++ {
		if atomic.LoadUint32(&lst[i]) == v {
			return
		}
	}
	if cnt < maxN {
		atomic.StoreUint32(&lst[1+cnt], v)
		atomic.StoreUint32(&lst[0], uint32(cnt+1))
		return
	}
	uv := g.s.row(u)
	cands := sc.pbuf[:0]
	for i := 1; i <= cnt; i++ {
		w := atomic.LoadUint32(&lst[i])
		cands = append(cands, scored{vec.Dot(uv, g.s.row(w)), w})
	}
	cands = append(cands, scored{sim, v})
	slices.SortFunc(cands, func(a, b scored) int {
		switch {
		case a.sim > b.sim:
			return -1
		case a.sim < b.sim:
			return 1
		}
		return 0
	})
	sel := g.heuristic(cands, maxN, sc.psel[:0])
	for i, c := range sel {
		atomic.StoreUint32(&lst[1+i], c.id)
	}
	atomic.StoreUint32(&lst[0], uint32(len(sel)))
	for i := len(sel) + 1; i <= cnt; i++ {
		atomic.StoreUint32(&lst[i], 0) // keep unused slots zero, so saved files are canonical
	}
	sc.pbuf, sc.psel = cands, sel
}

// heuristic is the paper's SELECT-NEIGHBORS-HEURISTIC without extension: walking the
// candidates best first, it keeps one only if it is more similar to the base than
// to every candidate already kept, which spreads links across directions.
func (g *graph) heuristic(cands []scored, m int, out []scored) []scored {
	if len(cands) <= m {
		return append(out, cands...)
	}
	for _, c := range cands {
		if len(out) >= m {
			break
		}
		cv := g.s.row(c.id)
		good := true
		for _, r := range out {
			if vec.Dot(cv, g.s.row(r.id)) > c.sim {
				good = false
				break
			}
		}
		if good {
			out = append(out, c)
		}
	}
	return out
}

// greedy walks level l from cur to a local maximum of similarity to q.
func (g *graph) greedy(q []float32, cur scored, l int) scored {
	for changed := true; changed; {
		changed = false
		lst := g.links(cur.id, l)
		cnt := int(atomic.LoadUint32(&lst[0]))
		for i := 1; i <= cnt; i++ {
			w := atomic.LoadUint32(&lst[i])
			if !g.onLevel(w, l) {
				continue
			}
			if s := vec.Dot(q, g.s.row(w)); s > cur.sim {
				cur = scored{s, w}
				changed = true
			}
		}
	}
	return cur
}

// searchLayer is the paper's SEARCH-LAYER: a best-first walk of level l from eps
// keeping the ef most similar nodes found (in sc.res). With accept set, only
// accepted nodes enter the result, but every node is walked through.
func (g *graph) searchLayer(q []float32, eps []scored, ef, l int, sc *scratch, accept func(uint32) bool) {
	sc.begin(len(g.levels))
	gen := sc.gen
	sc.cand = sc.cand[:0]
	sc.res.reset(ef)
	for _, e := range eps {
		if sc.visited[e.id] == gen {
			continue
		}
		sc.visited[e.id] = gen
		sc.cand.push(e)
		if accept == nil || accept(e.id) {
			sc.res.push(e.sim, e.id)
		}
	}
	for len(sc.cand) > 0 {
		c := sc.cand.pop()
		if len(sc.res.items) >= ef && c.sim < sc.res.threshold() {
			break
		}
		lst := g.links(c.id, l)
		cnt := int(atomic.LoadUint32(&lst[0]))
		for i := 1; i <= cnt; i++ {
			w := atomic.LoadUint32(&lst[i])
			if sc.visited[w] == gen || !g.onLevel(w, l) {
				continue
			}
			sc.visited[w] = gen
			s := vec.Dot(q, g.s.row(w))
			if len(sc.res.items) < ef || s > sc.res.threshold() {
				sc.cand.push(scored{s, w})
				if accept == nil || accept(w) {
					sc.res.push(s, w)
				}
			}
		}
	}
}

// search returns up to k accepted nodes most similar to the normalised q, best first.
func (g *graph) search(q []float32, k, ef int, accept func(uint32) bool) []scored {
	ep, maxL := g.entryPoint()
	if ep < 0 {
		return nil
	}
	sc := g.scratch()
	defer g.pool.Put(sc)
	cur := scored{vec.Dot(q, g.s.row(uint32(ep))), uint32(ep)}
	for l := maxL; l > 0; l-- {
		cur = g.greedy(q, cur, l)
	}
	sc.eps = append(sc.eps[:0], cur)
	g.searchLayer(q, sc.eps, max(ef, k), 0, sc, accept)
	res := sc.res.sorted()
	if len(res) > k {
		res = res[:k]
	}
	return append([]scored(nil), res...)
}
