package clustering

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/internal/vec"
)

// HDBSCAN is hierarchical density-based clustering (Campello, Moulavi and Sander
// 2013; the algorithm of the Python hdbscan library): core distances from k nearest
// neighbours, a minimum spanning tree of the mutual-reachability graph (Prim's
// algorithm over the dense graph, distances computed on the fly), the single-linkage
// hierarchy, its condensed tree for MinClusterSize, and flat clusters chosen by
// excess of mass or as leaves. Rows that fall in no cluster are noise, label −1.
// Distances are Euclidean; for unit-normalised embeddings they order pairs as cosine
// distance does. The MST costs O(n²·d) time and O(n·d) memory, fine up to ~50k rows;
// PCADims makes it cheaper and density estimates sharper.
type HDBSCAN struct {
	// MinClusterSize is the smallest group counted as a cluster (default 5, at least 2).
	MinClusterSize int
	// MinSamples is the neighbourhood size of the core distance, the row itself
	// included (default MinClusterSize). Larger values declare more rows noise.
	MinSamples int
	// ClusterSelectionEpsilon merges selected clusters born at a distance below it
	// into their ancestors (0 disables).
	ClusterSelectionEpsilon float64
	// Leaf selects the leaves of the condensed tree instead of the excess-of-mass
	// clusters: smaller, more homogeneous clusters.
	Leaf bool
	// AllowSingleCluster lets the root of the condensed tree be selected.
	AllowSingleCluster bool
	// PCADims, when > 0 and below the dimension, first projects the rows onto their
	// first PCADims principal components.
	PCADims int
	// ReassignNoise gives every noise row the cluster of its nearest cluster centroid
	// (in the clustering space); see HDBSCANResult.Reassigned.
	ReassignNoise bool
	// Workers is the number of goroutines (default GOMAXPROCS).
	Workers int
	// Progress, when set, receives reports from the MST stage.
	Progress lmsys.ProgressFunc
}

// CondensedEdge is one edge of the condensed cluster tree: Child (a row id below N, or
// a cluster id ≥ N) leaves cluster Parent at density Lambda = 1/distance, taking Size
// rows with it. The root cluster has id N.
type CondensedEdge struct {
	Parent, Child int
	Lambda        float64
	Size          int
}

// HDBSCANResult is an HDBSCAN partition with its tree and scores.
type HDBSCANResult struct {
	lmsys.Partition
	// Probabilities holds each row's membership strength in its cluster (0 for noise
	// and for reassigned rows): λ(row) / λmax(cluster), capped at 1.
	Probabilities []float32
	// Reassigned marks noise rows given a cluster by ReassignNoise. Their Confidence
	// is the nearest/second-nearest centroid margin (see KMeans) times 1 − GLOSH.
	Reassigned []bool
	// Noise is the number of noise rows before reassignment.
	Noise int
	// Stability holds the excess-of-mass stability of each selected cluster.
	Stability []float64
	// Tree is the condensed tree; N the number of rows (the root cluster's id).
	Tree []CondensedEdge
	N    int
}

// Cluster implements lmsys.Clusterer.
func (h *HDBSCAN) Cluster(ctx context.Context, vectors [][]float32) (lmsys.Partition, error) {
	data, n, d, err := flatten(vectors)
	if err != nil {
		return lmsys.Partition{}, err
	}
	res, err := h.ClusterMatrix(ctx, data, n, d)
	if err != nil {
		return lmsys.Partition{}, err
	}
	return res.Partition, nil
}

// ClusterMatrix clusters the n rows of the row-major n×d matrix data, which it does
// not modify.
func (h *HDBSCAN) ClusterMatrix(ctx context.Context, data []float32, n, d int) (*HDBSCANResult, error) {
	mcs := h.MinClusterSize
	if mcs == 0 {
		mcs = 5
	}
	if mcs < 2 {
		return nil, fmt.Errorf("hdbscan: min cluster size %d must be at least 2: %w", mcs, lmsys.ErrInvalidInput)
	}
	ms := h.MinSamples
	if ms == 0 {
		ms = mcs
	}
	if ms < 1 {
		return nil, fmt.Errorf("hdbscan: min samples %d must be at least 1: %w", ms, lmsys.ErrInvalidInput)
	}
	if h.ClusterSelectionEpsilon < 0 || math.IsNaN(h.ClusterSelectionEpsilon) {
		return nil, fmt.Errorf("hdbscan: cluster selection epsilon %g must be ≥ 0: %w", h.ClusterSelectionEpsilon, lmsys.ErrInvalidInput)
	}
	if _, err := checkMatrix(data, n, d); err != nil {
		return nil, fmt.Errorf("hdbscan: %w", err)
	}
	data = data[:n*d]
	workers := vec.Workers(h.Workers)
	x, xd := data, d
	if h.PCADims > 0 && h.PCADims < d {
		p, err := FitPCA(ctx, data, n, d, h.PCADims)
		if err != nil {
			return nil, fmt.Errorf("hdbscan: %w", err)
		}
		x, xd = p.Transform(data, n), h.PCADims
	}
	res := &HDBSCANResult{N: n}
	labels := make([]int, n)
	probs := make([]float32, n)
	outlier := make([]float32, n)
	if n < 2 {
		for i := range labels {
			labels[i] = -1
		}
		res.Labels, res.Confidence, res.Outlier, res.Probabilities = labels, probs, outlier, probs
		res.Reassigned = make([]bool, n)
		res.Noise = n
		return res, nil
	}
	ms = min(ms, n)
	core, err := coreDistances(ctx, x, n, xd, ms, workers)
	if err != nil {
		return nil, fmt.Errorf("hdbscan: core distances: %w", err)
	}
	edges, err := primMST(ctx, x, n, xd, core, workers, h.Progress)
	if err != nil {
		return nil, fmt.Errorf("hdbscan: spanning tree: %w", err)
	}
	hier := singleLinkage(edges, n)
	tree := condense(hier, n, mcs)
	res.Tree = tree
	sel := selectClusters(tree, n, h.Leaf, h.AllowSingleCluster, h.ClusterSelectionEpsilon)
	k := sel.label(tree, n, h.AllowSingleCluster, h.ClusterSelectionEpsilon, labels, probs, outlier)
	res.Stability = sel.stabilities
	for _, l := range labels {
		if l < 0 {
			res.Noise++
		}
	}
	conf := slices.Clone(probs)
	res.Reassigned = make([]bool, n)
	if h.ReassignNoise && k > 0 && res.Noise > 0 {
		if err := reassign(ctx, x, n, xd, k, labels, conf, outlier, res.Reassigned, workers); err != nil {
			return nil, fmt.Errorf("hdbscan: reassigning noise: %w", err)
		}
	}
	res.Labels, res.Confidence, res.Outlier, res.Probabilities = labels, conf, outlier, probs
	res.Centroids = centroids(data, n, d, labels, k)
	return res, nil
}

// centroids returns the mean row of each of the k clusters (noise ignored).
func centroids(data []float32, n, d int, labels []int, k int) [][]float32 {
	sums := make([]float64, k*d)
	counts := make([]int, k)
	for i, l := range labels {
		if l < 0 {
			continue
		}
		counts[l]++
		for j, v := range data[i*d : (i+1)*d] {
			sums[l*d+j] += float64(v)
		}
	}
	flat := make([]float32, k*d)
	for c := 0; c < k; c++ {
		if counts[c] > 0 {
			for j := 0; j < d; j++ {
				flat[c*d+j] = float32(sums[c*d+j] / float64(counts[c]))
			}
		}
	}
	return rows(flat, k, d)
}

// reassign gives each noise row the label of the nearest cluster centroid, with the
// confidence margin·(1 − outlier).
func reassign(ctx context.Context, x []float32, n, d, k int, labels []int, conf, outlier []float32, reassigned []bool, workers int) error {
	cents := centroids(x, n, d, labels, k)
	flat := make([]float32, 0, k*d)
	for _, c := range cents {
		flat = append(flat, c...)
	}
	var noise []int
	for i, l := range labels {
		if l < 0 {
			noise = append(noise, i)
		}
	}
	m := len(noise)
	q := make([]float32, m*d)
	for j, i := range noise {
		copy(q[j*d:(j+1)*d], x[i*d:(i+1)*d])
	}
	idx := make([]int32, m)
	d1 := make([]float32, m)
	d2 := make([]float32, m)
	if err := vec.NewPanel(flat, k, d).Nearest(ctx, q, m, nil, idx, d1, d2, workers); err != nil {
		return err
	}
	for j, i := range noise {
		labels[i] = int(idx[j])
		conf[i] = margin(d1[j], d2[j]) * (1 - outlier[i])
		reassigned[i] = true
	}
	return nil
}

// coreDistances returns, for each row, the Euclidean distance to its ms-th nearest
// row counting itself (so ms = 1 gives 0), computed blockwise against all rows.
func coreDistances(ctx context.Context, x []float32, n, d, ms int, workers int) ([]float64, error) {
	core := make([]float64, n)
	if ms <= 1 {
		return core, nil
	}
	panel := vec.NewPanel(x, n, d)
	bufs := make([][]float32, vec.Workers(workers))
	for w := range bufs {
		bufs[w] = make([]float32, ms)
	}
	err := panel.Distances(ctx, x, n, panel.Norms(), workers, func(b *vec.Block) error {
		top := bufs[b.Worker]
		for i := b.I0; i < b.I1; i++ {
			row := b.Row(i)
			// top holds the ms smallest squared distances seen, ascending; the row
			// itself is at distance 0.
			top[0] = 0
			cnt := 1
			for j, v := range row {
				if j == i {
					continue
				}
				if cnt == ms && v >= top[ms-1] {
					continue
				}
				p := cnt
				if cnt < ms {
					cnt++
				} else {
					p = ms - 1
				}
				for p > 0 && top[p-1] > v {
					top[p] = top[p-1]
					p--
				}
				top[p] = v
			}
			core[i] = math.Sqrt(float64(top[cnt-1]))
		}
		return nil
	})
	return core, err
}

// mstEdge is one edge of the minimum spanning tree.
type mstEdge struct {
	a, b int32
	w    float64
}

// primMST returns the n−1 edges of a minimum spanning tree of the complete graph on
// the rows weighted by mutual reachability max(core[a], core[b], ‖a − b‖), by Prim's
// algorithm with distances computed on the fly. Two facts keep it fast: the rows not
// yet in the tree are kept contiguous (a permuted copy of x), so each step is one
// streaming pass of dot products split over workers; and a row whose best edge has
// fallen to its own core distance can never improve, so it leaves the scanned range
// for a min-heap and costs nothing more until it is picked.
func primMST(ctx context.Context, x []float32, n, d int, core []float64, workers int, progress lmsys.ProgressFunc) ([]mstEdge, error) {
	xp := slices.Clone(x[:n*d])
	norms := make([]float32, n)
	vec.RowSqNorms(norms, xp, d)
	cp := slices.Clone(core)
	id := make([]int32, n)
	best := make([]float64, n)
	from := make([]int32, n)
	for i := range id {
		id[i] = int32(i)
		best[i] = math.Inf(1)
	}
	dots := make([]float32, n)
	edges := make([]mstEdge, 0, n-1)
	swap := func(a, b int) {
		if a == b {
			return
		}
		ra, rb := xp[a*d:(a+1)*d], xp[b*d:(b+1)*d]
		for j := range ra {
			ra[j], rb[j] = rb[j], ra[j]
		}
		norms[a], norms[b] = norms[b], norms[a]
		cp[a], cp[b] = cp[b], cp[a]
		id[a], id[b] = id[b], id[a]
		best[a], best[b] = best[b], best[a]
		from[a], from[b] = from[b], from[a]
	}
	var sat satHeap
	// Start from row 0: move it out of the active range [0, a).
	a := n - 1
	swap(0, a)
	cur := int32(0)
	q := x[0:d]
	qn, qc := norms[a], cp[a]
	workers = vec.Workers(workers)
	scan := func(j0, j1 int) {
		if j0 >= j1 {
			return
		}
		vec.DotRows(dots[j0:j1], q, xp[j0*d:j1*d])
		for j := j0; j < j1; j++ {
			if best[j] <= qc {
				continue
			}
			d2 := float64(qn + norms[j] - 2*dots[j])
			dist := 0.0
			if d2 > 0 {
				dist = math.Sqrt(d2)
			}
			if mr := max(dist, qc, cp[j]); mr < best[j] {
				best[j] = mr
				from[j] = cur
			}
		}
	}
	var wg sync.WaitGroup
	for step := 0; step < n-1; step++ {
		if step%256 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			progress.Report("hdbscan spanning tree", int64(step), int64(n-1))
		}
		if workers == 1 || a < primParallelMin {
			scan(0, a)
		} else {
			chunk := (a + workers - 1) / workers
			for w := 1; w < workers; w++ {
				wg.Add(1)
				go func(w int) {
					defer wg.Done()
					scan(w*chunk, min((w+1)*chunk, a))
				}(w)
			}
			scan(0, min(chunk, a))
			wg.Wait()
		}
		// Move saturated rows to the heap and find the best active row.
		bj, bw := -1, math.Inf(1)
		for j := 0; j < a; {
			if best[j] <= cp[j] {
				sat.push(satItem{w: best[j], id: id[j], from: from[j]})
				a--
				swap(j, a)
				continue
			}
			if best[j] < bw {
				bj, bw = j, best[j]
			}
			j++
		}
		if len(sat) > 0 && (bj < 0 || sat[0].w <= bw) {
			it := sat.pop()
			edges = append(edges, mstEdge{a: it.from, b: it.id, w: it.w})
			cur = it.id
			q = x[int(cur)*d : int(cur+1)*d]
			qn, qc = vec.SqNorm(q), core[cur]
			continue
		}
		edges = append(edges, mstEdge{a: from[bj], b: id[bj], w: bw})
		a--
		swap(bj, a)
		cur = id[a]
		q = x[int(cur)*d : int(cur+1)*d]
		qn, qc = norms[a], cp[a]
	}
	return edges, nil
}

// primParallelMin is the number of active rows below which a Prim step runs on one
// goroutine (splitting costs more than it saves).
var primParallelMin = 1024

// satItem is a row whose best edge into the tree can no longer improve.
type satItem struct {
	w        float64
	id, from int32
}

// satHeap is a binary min-heap of satItems by weight (ties by id, for determinism).
type satHeap []satItem

func (h satHeap) less(i, j int) bool {
	return h[i].w < h[j].w || h[i].w == h[j].w && h[i].id < h[j].id
}

func (h *satHeap) push(it satItem) {
	*h = append(*h, it)
	s := *h
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if !s.less(i, p) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

func (h *satHeap) pop() satItem {
	s := *h
	top := s[0]
	last := len(s) - 1
	s[0] = s[last]
	s = s[:last]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(s) && s.less(l, m) {
			m = l
		}
		if r < len(s) && s.less(r, m) {
			m = r
		}
		if m == i {
			break
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
	*h = s
	return top
}

// linkNode is one merge of the single-linkage hierarchy: clusters Left and Right
// (row ids below n, merge ids n+i for the i-th merge) join at distance Dist.
type linkNode struct {
	left, right int
	dist        float64
	size        int
}

// singleLinkage turns MST edges into the single-linkage merge sequence.
func singleLinkage(edges []mstEdge, n int) []linkNode {
	slices.SortStableFunc(edges, func(a, b mstEdge) int {
		switch {
		case a.w < b.w:
			return -1
		case a.w > b.w:
			return 1
		}
		return 0
	})
	parent := make([]int, 2*n-1)
	size := make([]int, 2*n-1)
	for i := range parent {
		parent[i] = i
		if i < n {
			size[i] = 1
		}
	}
	find := func(x int) int {
		r := x
		for parent[r] != r {
			r = parent[r]
		}
		for parent[x] != r {
			parent[x], x = r, parent[x]
		}
		return r
	}
	hier := make([]linkNode, 0, n-1)
	next := n
	for _, e := range edges {
		ra, rb := find(int(e.a)), find(int(e.b))
		s := size[ra] + size[rb]
		hier = append(hier, linkNode{left: ra, right: rb, dist: e.w, size: s})
		parent[ra], parent[rb] = next, next
		size[next] = s
		next++
	}
	return hier
}

// condense walks the hierarchy from the root and keeps only splits into two parts of
// at least mcs rows; smaller parts fall out of their cluster as single rows.
func condense(hier []linkNode, n, mcs int) []CondensedEdge {
	root := 2*n - 2
	sizeOf := func(node int) int {
		if node < n {
			return 1
		}
		return hier[node-n].size
	}
	relabel := make([]int, 2*n-1)
	relabel[root] = n
	next := n + 1
	var out []CondensedEdge
	var stack []int
	fallOut := func(node, cluster int, lambda float64) {
		stack = append(stack[:0], node)
		for len(stack) > 0 {
			v := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if v < n {
				out = append(out, CondensedEdge{Parent: cluster, Child: v, Lambda: lambda, Size: 1})
				continue
			}
			stack = append(stack, hier[v-n].left, hier[v-n].right)
		}
	}
	queue := []int{root}
	for len(queue) > 0 {
		node := queue[0]
		queue = queue[1:]
		if node < n {
			continue
		}
		h := hier[node-n]
		lambda := math.Inf(1)
		if h.dist > 0 {
			lambda = 1 / h.dist
		}
		c := relabel[node]
		ls, rs := sizeOf(h.left), sizeOf(h.right)
		switch {
		case ls >= mcs && rs >= mcs:
			relabel[h.left] = next
			out = append(out, CondensedEdge{Parent: c, Child: next, Lambda: lambda, Size: ls})
			next++
			relabel[h.right] = next
			out = append(out, CondensedEdge{Parent: c, Child: next, Lambda: lambda, Size: rs})
			next++
			queue = append(queue, h.left, h.right)
		case ls < mcs && rs < mcs:
			fallOut(h.left, c, lambda)
			fallOut(h.right, c, lambda)
		case ls < mcs:
			relabel[h.right] = c
			fallOut(h.left, c, lambda)
			queue = append(queue, h.right)
		default:
			relabel[h.left] = c
			fallOut(h.right, c, lambda)
			queue = append(queue, h.left)
		}
	}
	return out
}

// selection is the outcome of choosing flat clusters from a condensed tree.
type selection struct {
	nClusters   int
	parent      []int // parent cluster of each cluster (index id−n), −1 for the root
	birth       []float64
	stability   []float64
	children    [][]int
	selected    []bool
	stabilities []float64 // of the selected clusters, by output label
}

// selectClusters computes stabilities and picks clusters by excess of mass (or the
// leaves), then applies the epsilon merge.
func selectClusters(tree []CondensedEdge, n int, leaf, allowSingle bool, eps float64) *selection {
	nc := 1
	for _, e := range tree {
		if e.Child >= n {
			nc = max(nc, e.Child-n+1)
		}
	}
	s := &selection{nClusters: nc, parent: make([]int, nc), birth: make([]float64, nc),
		stability: make([]float64, nc), children: make([][]int, nc), selected: make([]bool, nc)}
	s.parent[0] = -1
	for _, e := range tree {
		if e.Child >= n {
			c := e.Child - n
			s.parent[c] = e.Parent - n
			s.birth[c] = e.Lambda
			s.children[e.Parent-n] = append(s.children[e.Parent-n], c)
		}
	}
	for _, e := range tree {
		p := e.Parent - n
		s.stability[p] += (e.Lambda - s.birth[p]) * float64(e.Size)
	}
	stab := slices.Clone(s.stability)
	if !leaf {
		last := 1
		if allowSingle {
			last = 0
		}
		for c := nc - 1; c >= last; c-- {
			s.selected[c] = true
		}
		for c := nc - 1; c >= last; c-- {
			var sub float64
			for _, ch := range s.children[c] {
				sub += stab[ch]
			}
			if sub > stab[c] {
				s.selected[c] = false
				stab[c] = sub
			} else {
				s.unselectDescendants(c)
			}
		}
	} else {
		for c := 0; c < nc; c++ {
			s.selected[c] = c > 0 && len(s.children[c]) == 0
		}
	}
	if eps > 0 {
		s.epsilonSearch(eps, allowSingle)
	}
	return s
}

func (s *selection) unselectDescendants(c int) {
	stack := slices.Clone(s.children[c])
	for len(stack) > 0 {
		v := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		s.selected[v] = false
		stack = append(stack, s.children[v]...)
	}
}

// epsilonSearch replaces each selected cluster born at a distance below eps by its
// nearest ancestor born at a distance above eps (the root only with allowSingle).
func (s *selection) epsilonSearch(eps float64, allowSingle bool) {
	var chosen []int
	for c := range s.selected {
		if s.selected[c] {
			chosen = append(chosen, c)
		}
	}
	processed := make([]bool, s.nClusters)
	final := make([]bool, s.nClusters)
	for _, c := range chosen {
		if 1/s.birth[c] >= eps {
			final[c] = true
			continue
		}
		if processed[c] {
			continue
		}
		up := c
		for {
			p := s.parent[up]
			if p <= 0 {
				if p == 0 && allowSingle {
					up = 0
				}
				break
			}
			up = p
			if 1/s.birth[p] > eps {
				break
			}
		}
		final[up] = true
		stack := slices.Clone(s.children[up])
		for len(stack) > 0 {
			v := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			processed[v] = true
			stack = append(stack, s.children[v]...)
		}
	}
	// A cluster kept earlier may have been swallowed by a later ancestor.
	for c := range final {
		if final[c] && c > 0 {
			for p := s.parent[c]; p >= 0; p = s.parent[p] {
				if final[p] {
					final[c] = false
					break
				}
			}
		}
	}
	s.selected = final
}

// label writes labels, membership probabilities and GLOSH outlier scores, and
// returns the number of clusters. Selected clusters are numbered in id order.
func (s *selection) label(tree []CondensedEdge, n int, allowSingle bool, eps float64, labels []int, probs, outlier []float32) int {
	out := make([]int, s.nClusters)
	k := 0
	for c := range out {
		out[c] = -1
		if s.selected[c] {
			out[c] = k
			s.stabilities = append(s.stabilities, s.stability[c])
			k++
		}
	}
	// owner[c] is the selected cluster c lies in (itself or its nearest selected
	// ancestor), or −1; parents have smaller ids than children.
	owner := make([]int, s.nClusters)
	for c := range owner {
		switch {
		case s.selected[c]:
			owner[c] = c
		case c == 0:
			owner[c] = -1
		default:
			owner[c] = owner[s.parent[c]]
		}
	}
	// Largest λ leaving each cluster directly, and within its whole subtree.
	deaths := make([]float64, s.nClusters)
	for _, e := range tree {
		p := e.Parent - n
		deaths[p] = max(deaths[p], e.Lambda)
	}
	sub := slices.Clone(deaths)
	for c := s.nClusters - 1; c > 0; c-- {
		p := s.parent[c]
		sub[p] = max(sub[p], sub[c])
	}
	for _, e := range tree {
		if e.Child >= n {
			continue
		}
		i, c := e.Child, e.Parent-n
		labels[i] = -1
		probs[i] = 0
		if lm := sub[c]; lm > 0 && !math.IsInf(e.Lambda, 1) && !math.IsInf(lm, 1) {
			outlier[i] = float32((lm - e.Lambda) / lm)
		} else {
			outlier[i] = 0
		}
		o := owner[c]
		if o < 0 {
			continue
		}
		if o == 0 {
			// The root is selected (AllowSingleCluster): rows that left it early are noise.
			keep := false
			if eps > 0 {
				keep = e.Lambda >= 1/eps
			} else {
				keep = e.Lambda >= deaths[0]
			}
			if !keep || !allowSingle {
				continue
			}
		}
		labels[i] = out[o]
		lm := deaths[o]
		if lm == 0 || math.IsInf(e.Lambda, 1) || math.IsInf(lm, 1) {
			probs[i] = 1
		} else {
			probs[i] = float32(min(e.Lambda, lm) / lm)
		}
	}
	return k
}
