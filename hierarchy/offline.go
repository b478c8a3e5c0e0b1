package hierarchy

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/internal/themes"
)

// node is one node while a hierarchy is built.
type node struct {
	id       int
	level    int
	size     int
	centroid []float32
	bag      bag
	title    string
	desc     string
	keywords []string // a leaf's summary keywords (nil for parents)
	queries  []string
	// themes is the share of the node's sample texts holding each kind of request of
	// themes.All (nil until known: nodeThemes reads it from the queries then).
	themes []float64
	// langs is the share of the node's sample texts in each language (codes of
	// classify.DetectLanguage; nil when unknown).
	langs map[string]float64
	// generated marks a parent named by its kinds of request or languages rather than
	// by a phrase of its text; its parent is not named by that whole name.
	generated bool
	children  []int // indexes into the level below
	parent    int   // index into the level above, -1 until assigned
	// unassigned marks the explicit bucket of children the LLM could not place.
	unassigned bool
}

// languageSample is how many of a leaf's texts its languages are read from.
const languageSample = 40

// leafNodes turns leaves into level-0 nodes. Each leaf's term bag, kinds of request
// and languages are read from its texts on as many goroutines as there are CPUs: the
// leaves are independent, and reading 200 texts of each is most of an offline merge's
// start.
func leafNodes(leaves []Leaf) []*node {
	out := make([]*node, len(leaves))
	workers := max(1, min(runtime.GOMAXPROCS(0), len(leaves)))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(leaves); i += workers {
				l := leaves[i]
				n := &node{
					id: l.ClusterID, size: l.Size, centroid: normalized(l.Centroid), bag: leafBag(l),
					title: l.Title, desc: l.Description, keywords: l.Keywords, queries: l.Queries, parent: -1,
				}
				if len(l.Texts) > 0 {
					n.themes = themes.Shares(l.Texts)
					n.langs = themes.Languages(l.Texts, languageSample)
				}
				out[i] = n
			}
		}()
	}
	wg.Wait()
	return out
}

// normalized returns a unit-length copy of v, or nil for nil or all-zero input.
func normalized(v []float32) []float32 {
	if v == nil {
		return nil
	}
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	if s == 0 {
		return nil
	}
	inv := 1 / math.Sqrt(s)
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(float64(x) * inv)
	}
	return out
}

func dot32(a, b []float32) float64 {
	var s float32
	for i := range a {
		s += a[i] * b[i]
	}
	return float64(s)
}

// fillCentroids gives every node a centroid: the leaves keep theirs when all have one;
// otherwise, when an embedder is set, all leaves get the embedding of
// "title: description". It reports whether centroids are usable.
func fillCentroids(ctx context.Context, nodes []*node, emb lmsys.Embedder, force bool) (bool, error) {
	all := true
	for _, n := range nodes {
		if n.centroid == nil {
			all = false
			break
		}
	}
	if all && !force {
		return true, nil
	}
	if emb == nil {
		return false, nil
	}
	vecs, err := embedTexts(ctx, emb, nodeTexts(nodes))
	if err != nil {
		return false, err
	}
	for i, n := range nodes {
		n.centroid = normalized(vecs[i])
	}
	return true, nil
}

// nodeTexts returns "title: description" of each node.
func nodeTexts(nodes []*node) []string {
	out := make([]string, len(nodes))
	for i, n := range nodes {
		out[i] = strings.TrimSpace(n.title + ": " + n.desc)
	}
	return out
}

// embedTexts embeds texts and checks the embedder's answer.
func embedTexts(ctx context.Context, emb lmsys.Embedder, texts []string) ([][]float32, error) {
	vecs, err := emb.Embed(ctx, texts, lmsys.PurposeClustering)
	if err != nil {
		return nil, fmt.Errorf("hierarchy: embed cluster titles: %w", err)
	}
	if len(vecs) != len(texts) {
		return nil, fmt.Errorf("%w: hierarchy: embedder returned %d vectors for %d texts", lmsys.ErrProvider, len(vecs), len(texts))
	}
	dims := emb.Space().Dims
	for i, v := range vecs {
		if len(v) != dims && dims > 0 {
			return nil, fmt.Errorf("%w: hierarchy: embedder returned %d dimensions for text %d, its space has %d", lmsys.ErrSpaceMismatch, len(v), i, dims)
		}
	}
	return vecs, nil
}

// similarity returns the n×n matrix (1−α)·cos(centroids) + α·cos(TF-IDF of bags),
// with α = textWeight, or the text similarity alone when centroids are not usable,
// locally scaled with the localK-th neighbour when localK > 0.
func similarity(nodes []*node, textWeight float64, useCentroids bool, localK int) [][]float32 {
	n := len(nodes)
	bags := make([]bag, n)
	for i, nd := range nodes {
		bags[i] = nd.bag
	}
	tv := tfidf(bags)
	a := textWeight
	if !useCentroids {
		a = 1
	}
	sim := make([][]float32, n)
	for i := range sim {
		sim[i] = make([]float32, n)
	}
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			var s float64
			if a > 0 {
				s += a * tv[i].dot(tv[j])
			}
			if a < 1 {
				s += (1 - a) * dot32(nodes[i].centroid, nodes[j].centroid)
			}
			sim[i][j], sim[j][i] = float32(s), float32(s)
		}
	}
	if localK > 0 {
		localScale(sim, localK)
	}
	return sim
}

// localScale turns the similarities into a self-tuning Gaussian kernel (Zelnik-Manor
// and Perona's local scaling): with d = 1 − sim and σᵢ the distance from item i to its
// k-th nearest neighbour, sim(i, j) becomes exp(−d² / (σᵢσⱼ)). Dense regions then
// no longer swallow sparse ones, which keeps small topics apart.
func localScale(sim [][]float32, k int) {
	n := len(sim)
	if n < 3 {
		return
	}
	k = min(k, n-1)
	sig := make([]float64, n)
	row := make([]float32, 0, n)
	for i := range sim {
		row = row[:0]
		for j, v := range sim[i] {
			if j != i {
				row = append(row, v)
			}
		}
		sort.Slice(row, func(a, b int) bool { return row[a] > row[b] })
		sig[i] = math.Max(1-float64(row[k-1]), 1e-6)
	}
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			d := 1 - float64(sim[i][j])
			v := float32(math.Exp(-d * d / (sig[i] * sig[j])))
			sim[i][j], sim[j][i] = v, v
		}
	}
}

// groupBalanced partitions n items into k groups by agglomerative clustering on sim
// (average linkage, or Ward's when ward is set; items weighted by weight, 1 each when
// nil), never letting a group exceed capacity items (capacity grows by
// one only when no merge fits), then moves items between groups while that raises
// their average similarity to their group. Labels are 0…k−1; ties break by index so
// the result is deterministic.
func groupBalanced(sim [][]float32, k, capacity int, ward bool, weight []float64) []int {
	n := len(sim)
	labels := make([]int, n)
	if k >= n {
		for i := range labels {
			labels[i] = i
		}
		return labels
	}
	if k < 1 {
		k = 1
	}
	// s is the linkage matrix between active groups, updated by Lance–Williams.
	s := make([][]float64, n)
	for i := range s {
		s[i] = make([]float64, n)
		for j := range s[i] {
			s[i][j] = float64(sim[i][j])
			if ward {
				// Ward merges the pair of least variance increase: for unit vectors
				// the squared distance is 2 − 2·cos, halved for a single pair.
				s[i][j] = -(1 - float64(sim[i][j]))
			}
		}
	}
	size := make([]int, n)
	wt := make([]float64, n)
	for i := range wt {
		wt[i] = 1
		if weight != nil {
			wt[i] = weight[i]
		}
	}
	active := make([]bool, n)
	owner := make([]int, n)
	for i := range size {
		size[i], active[i], owner[i] = 1, true, i
	}
	best := make([]int, n)
	findBest := func(i int) {
		best[i] = -1
		for j := 0; j < n; j++ {
			if j == i || !active[j] || size[i]+size[j] > capacity {
				continue
			}
			if best[i] < 0 || s[i][j] > s[i][best[i]] {
				best[i] = j
			}
		}
	}
	for i := range best {
		findBest(i)
	}
	for groups := n; groups > k; groups-- {
		a := -1
		for i := 0; i < n; i++ {
			if active[i] && best[i] >= 0 && (a < 0 || s[i][best[i]] > s[a][best[a]]) {
				a = i
			}
		}
		if a < 0 {
			capacity++
			for i := range best {
				if active[i] {
					findBest(i)
				}
			}
			groups++
			continue
		}
		b := best[a]
		if b < a {
			a, b = b, a
		}
		na, nb := wt[a], wt[b]
		for c := 0; c < n; c++ {
			if active[c] && c != a && c != b {
				var v float64
				if ward {
					// Lance–Williams for Ward on negated squared distances.
					nc := wt[c]
					v = ((na+nc)*s[a][c] + (nb+nc)*s[b][c] - nc*s[a][b]) / (na + nb + nc)
				} else {
					v = (na*s[a][c] + nb*s[b][c]) / (na + nb)
				}
				s[a][c], s[c][a] = v, v
			}
		}
		size[a] += size[b]
		wt[a] += wt[b]
		active[b] = false
		for i := range owner {
			if owner[i] == b {
				owner[i] = a
			}
		}
		for c := 0; c < n; c++ {
			if !active[c] {
				continue
			}
			switch {
			case c == a || best[c] == a || best[c] == b:
				findBest(c)
			case size[c]+size[a] <= capacity && s[c][a] > s[c][best[c]]:
				best[c] = a
			}
		}
	}
	// Relabel groups 0…k−1 in order of their first member.
	next := 0
	id := map[int]int{}
	for i := range owner {
		g, ok := id[owner[i]]
		if !ok {
			g = next
			id[owner[i]] = g
			next++
		}
		labels[i] = g
	}
	refine(sim, labels, next, capacity)
	return labels
}

// satelliteShare is the size, relative to the mean child of a level, below which a
// child is a satellite: it is not grouped on its own but joins the group it is most
// similar to once the others are grouped, so a handful of stray queries never takes a
// parent of its own.
const satelliteShare = 0.125

// groupWithSatellites groups children into k groups like groupBalanced, leaving
// satellites (children with fewer than satelliteShare of the mean number of queries)
// out of the agglomeration and then adding each to the group of highest average
// similarity that has room, before the refinement.
func groupWithSatellites(children []*node, sim [][]float32, k, capacity int, ward bool, weight []float64) []int {
	n := len(children)
	total := 0
	for _, c := range children {
		total += c.size
	}
	limit := satelliteShare * float64(total) / float64(max(n, 1))
	var core, sats []int
	for i, c := range children {
		if float64(c.size) < limit {
			sats = append(sats, i)
		} else {
			core = append(core, i)
		}
	}
	if len(sats) == 0 || len(core) <= k {
		return groupBalanced(sim, k, capacity, ward, weight)
	}
	sub := make([][]float32, len(core))
	subW := make([]float64, len(core))
	for a, i := range core {
		sub[a] = make([]float32, len(core))
		for b, j := range core {
			sub[a][b] = sim[i][j]
		}
		subW[a] = weight[i]
	}
	coreLabels := groupBalanced(sub, k, capacity, ward, subW)
	labels := make([]int, n)
	count := make([]int, k)
	for a, i := range core {
		labels[i] = coreLabels[a]
		count[coreLabels[a]]++
	}
	// Each satellite joins the group of the core children it is most similar to on
	// average, among those with room (any group when none has room).
	avg := make([]float64, k)
	placed := make([]int, k)
	for _, i := range sats {
		clear(avg)
		for a, j := range core {
			avg[coreLabels[a]] += float64(sim[i][j])
		}
		best, bestFree := -1, -1
		for g := range avg {
			if count[g] == 0 {
				continue
			}
			avg[g] /= float64(count[g])
			if best < 0 || avg[g] > avg[best] {
				best = g
			}
			if count[g]+placed[g] < capacity && (bestFree < 0 || avg[g] > avg[bestFree]) {
				bestFree = g
			}
		}
		if bestFree >= 0 {
			best = bestFree
		}
		labels[i] = best
		placed[best]++
	}
	most := 0
	for g := range count {
		most = max(most, count[g]+placed[g])
	}
	refine(sim, labels, k, max(capacity, most))
	return labels
}

// refine moves single items to the group they are most similar to on average, while
// that raises their similarity, keeps groups non-empty and within capacity.
func refine(sim [][]float32, labels []int, k, capacity int) {
	n := len(labels)
	count := make([]int, k)
	for _, l := range labels {
		count[l]++
	}
	// sum[i][g] is the total similarity of item i to the members of group g.
	sum := make([][]float64, n)
	for i := range sum {
		sum[i] = make([]float64, k)
		for j := 0; j < n; j++ {
			if j != i {
				sum[i][labels[j]] += float64(sim[i][j])
			}
		}
	}
	avg := func(i, g int) float64 {
		m := count[g]
		if labels[i] == g {
			m--
		}
		if m <= 0 {
			return math.Inf(-1)
		}
		return sum[i][g] / float64(m)
	}
	for pass := 0; pass < 10; pass++ {
		moved := 0
		for i := 0; i < n; i++ {
			from := labels[i]
			if count[from] == 1 {
				continue
			}
			to, cur := from, avg(i, from)
			for g := 0; g < k; g++ {
				if g != from && count[g] < capacity {
					if v := avg(i, g); v > cur+1e-9 {
						to, cur = g, v
					}
				}
			}
			if to == from {
				continue
			}
			labels[i] = to
			count[from]--
			count[to]++
			for j := 0; j < n; j++ {
				if j != i {
					sum[j][from] -= float64(sim[j][i])
					sum[j][to] += float64(sim[j][i])
				}
			}
			moved++
		}
		if moved == 0 {
			break
		}
	}
}

// capacityFor returns the largest number of children a parent may get when n children
// are grouped into k parents: twice the average, at least 2.
func capacityFor(n, k int) int {
	c := int(math.Floor(2 * float64(n) / float64(k)))
	if c < 2 {
		c = 2
	}
	return c
}

// makeParents builds the parent nodes of children from group labels 0…k−1: ordered by
// descending number of queries (then smallest child id), with merged centroids and
// term bags, and sets each child's parent index.
func makeParents(children []*node, labels []int, k, level, base int) []*node {
	groups := make([][]int, k)
	for i, l := range labels {
		groups[l] = append(groups[l], i)
	}
	var kept [][]int
	for _, g := range groups {
		if len(g) > 0 {
			kept = append(kept, g)
		}
	}
	queries := func(g []int) int {
		s := 0
		for _, c := range g {
			s += children[c].size
		}
		return s
	}
	sort.SliceStable(kept, func(a, b int) bool {
		qa, qb := queries(kept[a]), queries(kept[b])
		if qa != qb {
			return qa > qb
		}
		return children[kept[a][0]].id < children[kept[b][0]].id
	})
	parents := make([]*node, len(kept))
	for p, g := range kept {
		sort.Slice(g, func(a, b int) bool {
			ca, cb := children[g[a]], children[g[b]]
			if ca.size != cb.size {
				return ca.size > cb.size
			}
			return ca.id < cb.id
		})
		par := &node{id: level*base + p, level: level, bag: bag{}, children: g, parent: -1}
		var cen []float64
		for _, c := range g {
			ch := children[c]
			ch.parent = p
			par.size += ch.size
			par.bag.addBag(ch.bag)
			if ch.centroid != nil {
				if cen == nil {
					cen = make([]float64, len(ch.centroid))
				}
				w := float64(max(ch.size, 1))
				for d, v := range ch.centroid {
					cen[d] += w * float64(v)
				}
			}
		}
		if cen != nil {
			c32 := make([]float32, len(cen))
			for d, v := range cen {
				c32[d] = float32(v)
			}
			par.centroid = normalized(c32)
		}
		par.queries = sampleQueries(children, g, 5)
		parentThemes(par, children)
		parents[p] = par
	}
	return parents
}

// sampleQueries takes queries round-robin from the children g (largest first).
func sampleQueries(children []*node, g []int, n int) []string {
	var out []string
	for round := 0; len(out) < n; round++ {
		added := false
		for _, c := range g {
			if qs := children[c].queries; round < len(qs) && len(out) < n {
				out = append(out, qs[round])
				added = true
			}
		}
		if !added {
			break
		}
	}
	return out
}

// buildOffline merges leaves level by level without an LLM.
func buildOffline(ctx context.Context, runID string, leaves []Leaf, opts Options) (Result, error) {
	start := time.Now()
	now := opts.Now()
	levels := [][]*node{leafNodes(leaves)}
	useCentroids, err := fillCentroids(ctx, levels[0], opts.Embedder, false)
	if err != nil {
		return Result{}, err
	}
	sizes := LevelSizes(len(leaves), opts)
	base := IDBase(leaves)
	rep := Report{
		RunID: runID, Method: "offline", Parameters: opts.parameters(), Leaves: len(leaves),
	}
	if !useCentroids {
		rep.Parameters["text_weight"] = 1.0
		rep.Parameters["centroids"] = "missing"
	}
	var unassigned []int
	for l := 1; l < len(sizes); l++ {
		if err := ctx.Err(); err != nil {
			return Result{}, err
		}
		children := levels[l-1]
		sim := similarity(children, opts.TextWeight, useCentroids, opts.LocalScaling)
		// Linkage weights: the square root of each child's number of queries, so large
		// clusters weigh more in the linkage without drowning small ones.
		weight := make([]float64, len(children))
		for i, c := range children {
			weight[i] = math.Sqrt(float64(max(c.size, 1)))
		}
		labels := groupWithSatellites(children, sim, sizes[l], capacityFor(len(children), sizes[l]), opts.Linkage == LinkageWard, weight)
		parents := makeParents(children, labels, sizes[l], l, base)
		nameOffline(parents, children)
		levels = append(levels, parents)
		unassigned = append(unassigned, 0)
		opts.Progress.Report("merge", int64(l), int64(len(sizes)-1))
	}
	return assemble(runID, now, levels, sizes, unassigned, rep, start)
}

// assemble turns built levels into hierarchy nodes, fills the report and validates.
func assemble(runID string, now time.Time, levels [][]*node, sizes, unassigned []int, rep Report, start time.Time) (Result, error) {
	hid := lmsys.NewHierarchyRunID(runID, now)
	var out []lmsys.HierarchyNode
	for l, nodes := range levels {
		for _, n := range nodes {
			hn := lmsys.HierarchyNode{
				HierarchyRunID: hid, RunID: runID, ClusterID: n.id, Level: l,
				Title: n.title, Description: n.desc, NumQueries: n.size, CreatedAt: now,
				ChildrenIDs: []int{},
			}
			if n.parent >= 0 && l+1 < len(levels) {
				pid := levels[l+1][n.parent].id
				hn.ParentClusterID = &pid
			}
			for _, c := range n.children {
				hn.ChildrenIDs = append(hn.ChildrenIDs, levels[l-1][c].id)
			}
			out = append(out, hn)
		}
	}
	rep.HierarchyRunID = hid
	for _, n := range levels[0] {
		rep.NumQueries += n.size
	}
	lrs := Levels(out)
	for i := range lrs {
		lrs[i].Planned = sizes[i+1]
		if i < len(unassigned) {
			lrs[i].Unassigned = unassigned[i]
		}
	}
	if rep.Levels != nil {
		for i := range lrs {
			if i < len(rep.Levels) {
				lrs[i].Candidates = rep.Levels[i].Candidates
				lrs[i].DedupedCandidates = rep.Levels[i].DedupedCandidates
				lrs[i].Reasked = rep.Levels[i].Reasked
				lrs[i].LLMCalls = rep.Levels[i].LLMCalls
				lrs[i].Failures = rep.Levels[i].Failures
			}
		}
	}
	rep.Levels = lrs
	rep.Seconds = time.Since(start).Seconds()
	if err := Validate(out); err != nil {
		return Result{}, fmt.Errorf("hierarchy: built an inconsistent hierarchy (a bug): %w", err)
	}
	return Result{Nodes: out, Report: rep}, nil
}
