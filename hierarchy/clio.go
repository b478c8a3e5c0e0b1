package hierarchy

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"

	"golang.org/x/sync/errgroup"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/clustering"
	"github.com/lmsys-go/lmsys/internal/scrub"
	"github.com/lmsys-go/lmsys/llm"
)

// Completer asks a language model for a JSON answer. CompleteJSON sends the system
// and user prompts, decodes the reply into out and calls validate (when not nil); an
// implementation asks again when the reply does not decode or validate, and gives up
// with an error wrapping llm.ErrInvalidReply. *llm.Client satisfies it.
type Completer interface {
	CompleteJSON(ctx context.Context, system, prompt string, out any, validate func() error) (llm.Usage, error)
}

// DuplicateSimilarity is the cosine similarity of the "name: description" embeddings
// above which two candidate parents are merged without asking the LLM.
const DuplicateSimilarity = 0.92

const systemPrompt = "You organise clusters of user requests to an AI assistant into a clear taxonomy, " +
	"the way a careful analyst would. Names are specific and descriptive (at most ten words), never vague " +
	"catch-alls like \"Miscellaneous\" or \"General\". You answer with one JSON object and nothing else."

// category is a parent proposed or renamed by the LLM.
type category struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

type categoriesReply struct {
	Categories []category `json:"categories"`
}

type assignReply struct {
	Parent string `json:"parent"`
}

// clio runs the LLM method over the levels.
type clio struct {
	opts  Options
	mu    sync.Mutex
	usage llm.Usage
	calls map[string]int
	fails []string
}

func (c *clio) ask(ctx context.Context, step, prompt string, out any, validate func() error) error {
	if !c.opts.NoScrub {
		prompt = scrub.Text(prompt)
	}
	u, err := c.opts.LLM.CompleteJSON(ctx, systemPrompt, prompt, out, validate)
	c.mu.Lock()
	c.usage = c.usage.Add(u)
	c.calls[step]++
	c.mu.Unlock()
	return err
}

func (c *clio) fail(format string, a ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.fails) < 50 {
		c.fails = append(c.fails, fmt.Sprintf(format, a...))
	}
}

// giveUp reports whether err only means the model never gave a valid answer, which the
// method survives (the child goes to Unassigned, the name stays); any other error
// (network, quota, cancellation) stops the merge.
func giveUp(err error) bool { return errors.Is(err, llm.ErrInvalidReply) }

func buildClio(ctx context.Context, runID string, leaves []Leaf, opts Options) (Result, error) {
	if opts.Embedder == nil {
		return Result{}, fmt.Errorf("%w: the LLM merge needs an embedder for cluster titles", lmsys.ErrInvalidInput)
	}
	if opts.Model == "" {
		if m, ok := opts.LLM.(interface{ Model() string }); ok {
			opts.Model = m.Model()
		}
	}
	start := time.Now()
	now := opts.Now()
	c := &clio{opts: opts}
	levels := [][]*node{leafNodes(leaves)}
	sizes := LevelSizes(len(leaves), opts)
	base := IDBase(leaves)
	rep := Report{RunID: runID, Method: "llm", Model: opts.Model, Parameters: opts.parameters(), Leaves: len(leaves)}
	var unassigned []int
	for l := 1; l < len(sizes); l++ {
		children := levels[l-1]
		if len(children) <= 1 {
			sizes = sizes[:l]
			break
		}
		k := min(sizes[l], len(children)-1)
		sizes[l] = k
		c.calls = map[string]int{}
		c.fails = nil
		parents, lr, err := c.level(ctx, l, children, k, base)
		if err != nil {
			return Result{}, fmt.Errorf("hierarchy: level %d: %w", l, err)
		}
		lr.LLMCalls = c.calls
		rep.Levels = append(rep.Levels, lr)
		unassigned = append(unassigned, lr.Unassigned)
		levels = append(levels, parents)
		for _, n := range c.calls {
			rep.LLMCalls += n
		}
		opts.Progress.Report("merge", int64(l), int64(len(sizes)-1))
	}
	res, err := assemble(runID, now, levels, sizes, unassigned, rep, start)
	if err != nil {
		return Result{}, err
	}
	res.Report.Usage = &c.usage
	return res, nil
}

// level builds the parents of children with the LLM.
func (c *clio) level(ctx context.Context, l int, children []*node, k, base int) ([]*node, LevelReport, error) {
	lr := LevelReport{Level: l}
	// Children to place: everything but a carried-up Unassigned bucket.
	var live []int
	carried := -1
	for i, ch := range children {
		if ch.unassigned {
			carried = i
			continue
		}
		live = append(live, i)
	}
	liveNodes := make([]*node, len(live))
	for i, ci := range live {
		liveNodes[i] = children[ci]
	}
	if len(liveNodes) > 0 {
		if _, err := fillCentroids(ctx, liveNodes, c.opts.Embedder, true); err != nil {
			return nil, lr, err
		}
	}
	var cands []category
	if len(liveNodes) > 0 {
		var err error
		cands, err = c.propose(ctx, l, liveNodes, k)
		if err != nil {
			return nil, lr, err
		}
		lr.Candidates = len(cands)
		cands, err = c.dedupe(ctx, cands, k)
		if err != nil {
			return nil, lr, err
		}
		lr.DedupedCandidates = len(cands)
	}
	assign := make([]int, len(children))
	for i := range assign {
		assign[i] = -1
	}
	if len(cands) > 0 {
		var reasked atomic.Int64
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(c.opts.Concurrency)
		for _, ci := range live {
			g.Go(func() error {
				p, err := c.assign(gctx, l, ci, children[ci], cands, &reasked)
				if err != nil {
					return err
				}
				assign[ci] = p
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			return nil, lr, err
		}
		lr.Reasked = int(reasked.Load())
	}
	// Group the children by parent; parents that received nothing are dropped.
	groups := map[int][]int{}
	var unplaced []int
	for i := range children {
		if assign[i] < 0 {
			unplaced = append(unplaced, i)
			continue
		}
		groups[assign[i]] = append(groups[assign[i]], i)
	}
	lr.Unassigned = len(unplaced)
	if carried >= 0 {
		lr.Unassigned-- // the carried bucket is not a child the LLM failed to place
	}
	var parents []*node
	var names []category
	for p, g := range groups {
		parents = append(parents, &node{level: l, children: g, parent: -1})
		names = append(names, cands[p])
	}
	for i, p := range parents {
		for _, ci := range p.children {
			p.size += children[ci].size
		}
		p.title, p.desc = names[i].Name, names[i].Description
	}
	order := make([]int, len(parents))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool {
		pa, pb := parents[order[a]], parents[order[b]]
		if pa.size != pb.size {
			return pa.size > pb.size
		}
		return pa.title < pb.title
	})
	sorted := make([]*node, 0, len(parents)+1)
	for _, o := range order {
		sorted = append(sorted, parents[o])
	}
	if len(unplaced) > 0 {
		u := &node{level: l, children: unplaced, parent: -1, unassigned: true, title: UnassignedTitle}
		for _, ci := range unplaced {
			u.size += children[ci].size
		}
		sorted = append(sorted, u)
	}
	for i, p := range sorted {
		p.id = l*base + i
		sort.SliceStable(p.children, func(a, b int) bool {
			ca, cb := children[p.children[a]], children[p.children[b]]
			if ca.size != cb.size {
				return ca.size > cb.size
			}
			return ca.id < cb.id
		})
		for _, ci := range p.children {
			children[ci].parent = i
		}
		p.queries = sampleQueries(children, p.children, 5)
		if p.unassigned {
			p.desc = fmt.Sprintf("%d clusters (%d queries) the model could not place in any parent category.", len(p.children), p.size)
		}
	}
	if err := c.rename(ctx, sorted, children); err != nil {
		return nil, lr, err
	}
	lr.Failures = c.fails
	return sorted, lr, nil
}

// neighbourhoods groups live children into k-means neighbourhoods averaging
// NeighborhoodSize members and returns, per neighbourhood, its members and the m
// nearest children outside it.
func (c *clio) neighbourhoods(ctx context.Context, l int, nodes []*node) (members, context [][]int, err error) {
	n := len(nodes)
	nb := int(math.Round(float64(n) / float64(c.opts.NeighborhoodSize)))
	if nb < 1 {
		nb = 1
	}
	labels := make([]int, n)
	if nb > 1 {
		vecs := make([][]float32, n)
		for i, nd := range nodes {
			vecs[i] = nd.centroid
		}
		km := clustering.KMeans{K: nb, Seed: uint64(c.opts.Seed) + uint64(l), Spherical: true}
		part, err := km.Cluster(ctx, vecs)
		if err != nil {
			return nil, nil, fmt.Errorf("neighbourhoods: %w", err)
		}
		labels = part.Labels
	}
	members = make([][]int, nb)
	for i, lab := range labels {
		if lab >= 0 && lab < nb {
			members[lab] = append(members[lab], i)
		} else {
			members[0] = append(members[0], i)
		}
	}
	var kept [][]int
	for _, m := range members {
		if len(m) > 0 {
			kept = append(kept, m)
		}
	}
	members = kept
	context = make([][]int, len(members))
	dims := len(nodes[0].centroid)
	for g, m := range members {
		if c.opts.ContextClusters == 0 || len(m) == n {
			continue
		}
		cen := make([]float32, dims)
		in := map[int]bool{}
		for _, i := range m {
			in[i] = true
			for d, v := range nodes[i].centroid {
				cen[d] += v
			}
		}
		var out []int
		for i := range nodes {
			if !in[i] {
				out = append(out, i)
			}
		}
		sort.SliceStable(out, func(a, b int) bool {
			return dot32(nodes[out[a]].centroid, cen) > dot32(nodes[out[b]].centroid, cen)
		})
		context[g] = out[:min(c.opts.ContextClusters, len(out))]
	}
	return members, context, nil
}

// countRange is Clio's allowed range of proposals for a share of desired parents.
func countRange(desired float64) (lo, hi int) {
	lo = max(1, int(math.Floor(0.5*desired)))
	hi = max(lo, int(math.Ceil(1.5*desired)))
	return lo, hi
}

func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= n {
		return s
	}
	for n > 0 && (s[n]&0xC0) == 0x80 {
		n--
	}
	return s[:n] + "…"
}

func describe(b *strings.Builder, n *node) {
	fmt.Fprintf(b, "- %s", clip(n.title, 200))
	if n.desc != "" {
		fmt.Fprintf(b, ": %s", clip(n.desc, 400))
	}
	b.WriteByte('\n')
}

// propose asks the LLM for candidate parents per neighbourhood.
func (c *clio) propose(ctx context.Context, l int, nodes []*node, k int) ([]category, error) {
	members, context, err := c.neighbourhoods(ctx, l, nodes)
	if err != nil {
		return nil, err
	}
	out := make([][]category, len(members))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(c.opts.Concurrency)
	for nb := range members {
		g.Go(func() error {
			lo, hi := countRange(float64(k) * float64(len(members[nb])) / float64(len(nodes)))
			var b strings.Builder
			b.WriteString("Here are clusters of user requests, each with its title and description:\n<clusters>\n")
			for _, i := range members[nb] {
				describe(&b, nodes[i])
			}
			b.WriteString("</clusters>\n")
			if len(context[nb]) > 0 {
				b.WriteString("\nFor context only, these neighbouring clusters belong to other groups; do not create categories just for them:\n<context>\n")
				for _, i := range context[nb] {
					describe(&b, nodes[i])
				}
				b.WriteString("</context>\n")
			}
			fmt.Fprintf(&b, "\nPropose between %d and %d broader parent categories that together cover every cluster in <clusters>. "+
				"Each category has a specific name of at most ten words and a one-sentence description of what its requests have in common.\n"+
				`Reply as JSON: {"categories": [{"name": "...", "description": "..."}]}`, lo, hi)
			var reply categoriesReply
			err := c.ask(gctx, "propose", b.String(), &reply, func() error {
				return checkCategories(reply.Categories, lo, hi)
			})
			switch {
			case err == nil:
				out[nb] = reply.Categories
			case giveUp(err):
				c.fail("level %d neighbourhood %d: no valid proposal: %v", l, nb, err)
			default:
				return err
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	var all []category
	for _, cs := range out {
		all = append(all, cs...)
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("%w: %w: the model proposed no valid parent category for any neighbourhood", lmsys.ErrProvider, llm.ErrInvalidReply)
	}
	return all, nil
}

// checkCategories validates a list of proposed categories.
func checkCategories(cs []category, lo, hi int) error {
	if len(cs) < lo || len(cs) > hi {
		return fmt.Errorf("%d categories given, between %d and %d are required", len(cs), lo, hi)
	}
	seen := map[string]bool{}
	for i, c := range cs {
		key := nameKey(c.Name)
		switch {
		case key == "":
			return fmt.Errorf("category %d has no name", i+1)
		case len(c.Name) > 200:
			return fmt.Errorf("category %d has a name of %d characters; keep it under ten words", i+1, len(c.Name))
		case seen[key]:
			return fmt.Errorf("category %q is listed twice", c.Name)
		case key == nameKey(UnassignedTitle):
			return fmt.Errorf("%q is reserved; name a real category", c.Name)
		}
		seen[key] = true
	}
	return nil
}

// nameKey normalises a category name for comparison: lower case, letters and digits
// only, words separated by one space.
func nameKey(s string) string {
	return strings.Join(strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}), " ")
}

// dedupe merges candidates with the same name, then those whose embeddings are nearly
// identical, then asks the LLM to merge overlapping candidates within groups of
// similar ones, until about k remain.
func (c *clio) dedupe(ctx context.Context, cands []category, k int) ([]category, error) {
	cands = dedupeExact(cands)
	if len(cands) <= 1 {
		return cands, nil
	}
	texts := make([]string, len(cands))
	for i, cd := range cands {
		texts[i] = strings.TrimSpace(cd.Name + ": " + cd.Description)
	}
	vecs, err := embedTexts(ctx, c.opts.Embedder, texts)
	if err != nil {
		return nil, err
	}
	for i := range vecs {
		vecs[i] = normalized(vecs[i])
	}
	// Near-identical candidates: keep the first of each connected group.
	keep := make([]bool, len(cands))
	var kc []category
	var kv [][]float32
	for i := range cands {
		keep[i] = true
		for j := range kc {
			if vecs[i] != nil && kv[j] != nil && dot32(vecs[i], kv[j]) >= DuplicateSimilarity {
				keep[i] = false
				break
			}
		}
		if keep[i] {
			kc = append(kc, cands[i])
			kv = append(kv, vecs[i])
		}
	}
	cands, vecs = kc, kv
	if len(cands) <= k {
		return cands, nil
	}
	// Rounds of LLM deduplication over groups of similar candidates, until at most
	// 1.5·k remain (Clio's tolerance) or a round stops shrinking the list.
	for round := 0; round < 3 && len(cands) > k; round++ {
		before := len(cands)
		next, err := c.dedupeGroups(ctx, round, cands, vecs, k)
		if err != nil {
			return nil, err
		}
		cands = next
		if len(cands) <= (3*k+1)/2 || len(cands) >= before {
			break
		}
		texts := make([]string, len(cands))
		for i, cd := range cands {
			texts[i] = strings.TrimSpace(cd.Name + ": " + cd.Description)
		}
		if vecs, err = embedTexts(ctx, c.opts.Embedder, texts); err != nil {
			return nil, err
		}
		for i := range vecs {
			vecs[i] = normalized(vecs[i])
		}
	}
	return cands, nil
}

// dedupeGroups splits candidates into groups of similar ones (at most
// NeighborhoodSize each) and asks the LLM, in parallel, to merge each group towards
// its share of k.
func (c *clio) dedupeGroups(ctx context.Context, round int, cands []category, vecs [][]float32, k int) ([]category, error) {
	ng := int(math.Ceil(float64(len(cands)) / float64(c.opts.NeighborhoodSize)))
	labels := make([]int, len(cands))
	if ng > 1 && vecs[0] != nil {
		km := clustering.KMeans{K: ng, Seed: uint64(c.opts.Seed) + 99 + uint64(round), Spherical: true}
		part, err := km.Cluster(ctx, vecs)
		if err != nil {
			return nil, fmt.Errorf("group candidates: %w", err)
		}
		labels = part.Labels
	}
	groups := make([][]category, max(ng, 1))
	for i, lab := range labels {
		if lab < 0 || lab >= len(groups) {
			lab = 0
		}
		groups[lab] = append(groups[lab], cands[i])
	}
	out := make([][]category, len(groups))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(c.opts.Concurrency)
	for gi, grp := range groups {
		if len(grp) <= 1 {
			out[gi] = grp
			continue
		}
		g.Go(func() error {
			target := float64(k) * float64(len(grp)) / float64(len(cands))
			lo, hi := countRange(target)
			hi = min(hi, len(grp))
			lo = min(lo, hi)
			var b strings.Builder
			b.WriteString("These candidate parent categories were proposed separately for different parts of the data, so some overlap or say the same thing in other words:\n<candidates>\n")
			for _, cd := range grp {
				fmt.Fprintf(&b, "- %s: %s\n", clip(cd.Name, 200), clip(cd.Description, 400))
			}
			fmt.Fprintf(&b, "</candidates>\n\nMerge duplicates and near-duplicates so that every remaining category is distinct, and return between %d and %d categories (about %.0f) that together cover all the candidates. "+
				`Reply as JSON: {"categories": [{"name": "...", "description": "..."}]}`, lo, hi, math.Max(1, math.Round(target)))
			var reply categoriesReply
			err := c.ask(gctx, "dedupe", b.String(), &reply, func() error {
				return checkCategories(reply.Categories, lo, hi)
			})
			switch {
			case err == nil:
				out[gi] = reply.Categories
			case giveUp(err):
				c.fail("dedupe group %d: no valid answer, kept its %d candidates: %v", gi, len(grp), err)
				out[gi] = grp
			default:
				return err
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	var all []category
	for _, cs := range out {
		all = append(all, cs...)
	}
	return dedupeExact(all), nil
}

// dedupeExact drops candidates whose normalised name was seen before.
func dedupeExact(cands []category) []category {
	seen := map[string]bool{}
	var out []category
	for _, cd := range cands {
		key := nameKey(cd.Name)
		if key == "" || seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, category{Name: strings.TrimSpace(cd.Name), Description: strings.TrimSpace(cd.Description)})
	}
	return out
}

// matchCategory resolves an answer to a category index: an exact name, the same
// normalised name, or a unique close fuzzy match (similarity ≥ 0.85). It returns -1
// for an explicit "none" and an error for anything else.
func matchCategory(answer string, cands []category) (int, error) {
	a := strings.TrimSpace(answer)
	key := nameKey(a)
	switch key {
	case "":
		return 0, errors.New(`the "parent" field is empty; give the exact name of one category, or "none"`)
	case "none", "unassigned", "no category", "none of them", "none of the above":
		return -1, nil
	}
	for i, cd := range cands {
		if cd.Name == a {
			return i, nil
		}
	}
	for i, cd := range cands {
		if nameKey(cd.Name) == key {
			return i, nil
		}
	}
	best, bestSim, second := -1, 0.0, 0.0
	for i, cd := range cands {
		s := similarityRatio(key, nameKey(cd.Name))
		if s > bestSim {
			best, bestSim, second = i, s, bestSim
		} else if s > second {
			second = s
		}
	}
	if best >= 0 && bestSim >= 0.85 && bestSim-second > 0.05 {
		return best, nil
	}
	return 0, fmt.Errorf("%q is not one of the listed categories; answer with one exact name from the list, or \"none\"", clip(a, 100))
}

// similarityRatio is 1 − Levenshtein(a, b) / max(len(a), len(b)) over runes.
func similarityRatio(a, b string) float64 {
	ra, rb := []rune(a), []rune(b)
	if len(ra) == 0 && len(rb) == 0 {
		return 1
	}
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return 1 - float64(prev[len(rb)])/float64(max(len(ra), len(rb)))
}

// assign asks which category child fits, showing the categories in an order shuffled
// per child. It returns the category index or -1 when the model says none fits or
// never gives a valid answer.
func (c *clio) assign(ctx context.Context, l, ci int, child *node, cands []category, reasked *atomic.Int64) (int, error) {
	order := make([]int, len(cands))
	for i := range order {
		order[i] = i
	}
	rng := rand.New(rand.NewPCG(uint64(c.opts.Seed), uint64(l)<<32|uint64(ci)))
	rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	var b strings.Builder
	b.WriteString("Assign this cluster of user requests to the one parent category that fits it best.\n\n<cluster>\n")
	fmt.Fprintf(&b, "Title: %s\n", clip(child.title, 200))
	if child.desc != "" {
		fmt.Fprintf(&b, "Description: %s\n", clip(child.desc, 600))
	}
	if len(child.queries) > 0 {
		b.WriteString("Example requests:\n")
		for _, q := range child.queries[:min(3, len(child.queries))] {
			fmt.Fprintf(&b, "- %s\n", clip(q, 200))
		}
	}
	b.WriteString("</cluster>\n\n<categories>\n")
	for _, o := range order {
		fmt.Fprintf(&b, "- %s: %s\n", cands[o].Name, clip(cands[o].Description, 300))
	}
	b.WriteString("</categories>\n\nReply as JSON with the exact name of one category: {\"parent\": \"...\"}. " +
		"If none of them fits at all, reply {\"parent\": \"none\"}.")
	var reply assignReply
	idx := -1
	err := c.ask(ctx, "assign", b.String(), &reply, func() error {
		i, err := matchCategory(reply.Parent, cands)
		if err != nil {
			reasked.Add(1)
			return err
		}
		idx = i
		return nil
	})
	switch {
	case err == nil:
		return idx, nil
	case giveUp(err):
		c.fail("level %d: cluster %d %q: no valid assignment, placed in %s: %v", l, child.id, clip(child.title, 60), UnassignedTitle, err)
		return -1, nil
	default:
		return 0, err
	}
}

// rename asks the LLM to name each parent from the children it received; a parent
// whose renaming fails keeps its candidate name.
func (c *clio) rename(ctx context.Context, parents []*node, children []*node) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(c.opts.Concurrency)
	for _, p := range parents {
		if p.unassigned {
			continue
		}
		g.Go(func() error {
			var b strings.Builder
			fmt.Fprintf(&b, "These clusters of user requests were grouped under the category %q:\n<clusters>\n", clip(p.title, 200))
			for _, ci := range p.children[:min(20, len(p.children))] {
				describe(&b, children[ci])
			}
			if len(p.children) > 20 {
				fmt.Fprintf(&b, "- … and %d smaller clusters\n", len(p.children)-20)
			}
			b.WriteString("</clusters>\n")
			if len(p.queries) > 0 {
				b.WriteString("\nExample requests:\n")
				for _, q := range p.queries {
					fmt.Fprintf(&b, "- %s\n", clip(q, 200))
				}
			}
			b.WriteString("\nName the category so that it describes exactly these clusters: a specific name of at most ten words and a one- or two-sentence description. " +
				`Reply as JSON: {"name": "...", "description": "..."}`)
			var reply category
			err := c.ask(gctx, "rename", b.String(), &reply, func() error {
				switch k := nameKey(reply.Name); {
				case k == "":
					return errors.New(`"name" is empty`)
				case len(reply.Name) > 200:
					return fmt.Errorf("the name has %d characters; keep it under ten words", len(reply.Name))
				case k == nameKey(UnassignedTitle):
					return fmt.Errorf("%q is reserved", reply.Name)
				}
				return nil
			})
			switch {
			case err == nil:
				p.title, p.desc = strings.TrimSpace(reply.Name), strings.TrimSpace(reply.Description)
			case giveUp(err):
				c.fail("rename %q: no valid answer, kept the candidate name: %v", clip(p.title, 60), err)
			default:
				return err
			}
			return nil
		})
	}
	return g.Wait()
}
