package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/clustering"
	"github.com/lmsys-go/lmsys/dataset"
	"github.com/lmsys-go/lmsys/embed"
	"github.com/lmsys-go/lmsys/embed/uselite"
	"github.com/lmsys-go/lmsys/hierarchy"
	"github.com/lmsys-go/lmsys/llm"
	"github.com/lmsys-go/lmsys/llm/llmtest"
	"github.com/lmsys-go/lmsys/local"
	"github.com/lmsys-go/lmsys/summarize"
)

func init() {
	subcommands["hierarchy"] = subcommand{
		summary: "hierarchy merge: offline wall time (200 clusters → 3 levels), slurp parent purity, LLM merge against a slow fake",
		run:     runHierarchyBench,
	}
}

func runHierarchyBench(ctx context.Context, args []string, r *reporter) error {
	fs := flag.NewFlagSet("hierarchy", flag.ContinueOnError)
	data := fs.String("slurp", "", "SLURP normalized.jsonl with label and scenario fields (required)")
	textWeight := fs.Float64("text-weight", 0, "offline merge text weight (0 = default)")
	leavesMode := fs.String("leaves", "product", "slurp leaves: product (lmsys analyze's own path: load, embed, 81 k-means clusters, offline summaries into a temporary store, then hierarchy.Run), kmeans (the same clusters summarised in memory, close to the product but not the same sample of queries; -texts applies) or oracle (one leaf per intent label)")
	embedder := fs.String("embed", "uselite", "slurp query embedding: uselite (the product's default, local/use-lite), hybrid (local/hybrid) or hash (hashed lexical features)")
	cache := fs.String("emb-cache", "auto", "file caching the slurp embeddings (auto: slurp-<embed>.f32 in the system temporary directory; empty: none)")
	texts := fs.Bool("texts", true, "kmeans and oracle leaves: give leaves a sample of their query texts (Leaf.Texts), as hierarchy.Run does for the offline merge")
	linkage := fs.String("linkage", "", "offline merge linkage: ward (default) or average")
	local := fs.Int("local-scaling", 0, "offline merge local scaling k (0: default, -1: off)")
	llmDelay := fs.Duration("llm-delay", 200*time.Millisecond, "reply delay of the fake LLM")
	concurrency := fs.Int("concurrency", 10, "LLM calls in flight")
	show := fs.Bool("show", false, "print the slurp parents with their leaves' majority scenarios")
	seed := fs.Uint64("seed", 7, "k-means seed of the slurp leaves")
	seedList := fs.String("seeds", "", "comma-separated k-means seeds: one slurp-purity row each and their mean (overrides -seed for purity)")
	reps := fs.Int("reps", 3, "repetitions of the 200-cluster offline merge")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := needInput("slurp", *data, "the SLURP normalized.jsonl file"); err != nil {
		return err
	}
	rows, err := readSlurp(*data)
	if err != nil {
		return err
	}
	if *cache == "auto" {
		*cache = filepath.Join(os.TempDir(), "slurp-"+*embedder+".f32")
	}
	slurpTexts = *texts
	// Slurp purity: leaves of intents merged into as many parents as scenarios.
	vecs, err := slurpVectors(ctx, rows, *embedder, *cache)
	if err != nil {
		return err
	}
	opts := hierarchy.Options{TargetLevels: 2, TopClusters: 18, TextWeight: *textWeight, Linkage: *linkage, LocalScaling: *local}
	defer closeSlurpProducts()
	if *seedList == "" && *leavesMode == "product" {
		*seedList = fmt.Sprint(*seed)
	}
	if *seedList != "" {
		var sum float64
		var n int
		for _, f := range strings.Split(*seedList, ",") {
			var sd uint64
			if _, err := fmt.Sscan(strings.TrimSpace(f), &sd); err != nil {
				return fmt.Errorf("-seeds: %q is not a seed: %w", f, err)
			}
			var scen map[int]map[string]int
			var res hierarchy.Result
			if *leavesMode == "product" {
				res, scen, err = slurpProduct(ctx, *data, rows, *embedder, sd, opts)
				if err != nil {
					return err
				}
			} else {
				var leaves []hierarchy.Leaf
				leaves, scen, err = slurpLeaves(ctx, rows, vecs, *leavesMode, 81, sd)
				if err != nil {
					return err
				}
				res, err = hierarchy.Build(ctx, "slurp", leaves, opts)
				if err != nil {
					return err
				}
			}
			p := parentPurity(res.Nodes, scen)
			sum += p
			n++
			r.Row("case", "slurp-purity", "seed", sd, "embed", *embedder, "texts", *texts, "leaves", res.Report.Leaves, "leaf_mode", *leavesMode,
				"parents", res.Report.Levels[0].Nodes, "purity", p, "leaf_purity", leafPurity(scen))
		}
		r.Row("case", "slurp-purity-mean", "seeds", *seedList, "embed", *embedder, "texts", *texts, "leaf_mode", *leavesMode, "purity", sum/float64(max(n, 1)))
	}
	if *leavesMode != "product" || *show {
		if err := slurpSingle(ctx, r, rows, vecs, *leavesMode, *seed, opts, *show); err != nil {
			return err
		}
	}
	return hierarchyTimings(ctx, r, rows, vecs, *seed, *reps, *llmDelay, *concurrency)
}

// slurpSingle merges the slurp leaves of one k-means seed (kmeans or oracle; product
// is shown with kmeans leaves) and reports their purity, printing the parents when
// show is set.
func slurpSingle(ctx context.Context, r *reporter, rows []slurpRow, vecs [][]float32, mode string, seed uint64, opts hierarchy.Options, show bool) error {
	if mode == "product" {
		mode = "kmeans"
	}
	leaves, scen, err := slurpLeaves(ctx, rows, vecs, mode, 81, seed)
	if err != nil {
		return err
	}
	t0 := time.Now()
	res, err := hierarchy.Build(ctx, "slurp", leaves, opts)
	if err != nil {
		return err
	}
	if show {
		for _, n := range res.Nodes {
			if n.Level == 1 {
				fmt.Printf("%s (%d):", n.Title, n.NumQueries)
				for _, c := range n.ChildrenIDs {
					best, bc := "", -1
					for s, x := range scen[c] {
						if x > bc || x == bc && s < best {
							best, bc = s, x
						}
					}
					fmt.Printf(" %s", best)
					fmt.Printf("/%s", leaves[c].Title)
				}
				fmt.Println()
			}
		}
	}
	r.Row("case", "slurp-purity", "seed", seed, "leaves", len(leaves), "leaf_mode", mode, "parents", res.Report.Levels[0].Nodes,
		"purity", parentPurity(res.Nodes, scen), "leaf_purity", leafPurity(scen), "seconds", since(t0))
	return nil
}

// hierarchyTimings measures the offline merge of 200 slurp clusters into 3 levels
// (best of reps) and, unless llmDelay is negative, the LLM merge of the same clusters
// against a fake answering after llmDelay.
func hierarchyTimings(ctx context.Context, r *reporter, rows []slurpRow, vecs [][]float32, seed uint64, reps int, llmDelay time.Duration, concurrency int) error {
	if reps <= 0 && llmDelay < 0 {
		return nil
	}
	// Offline merge of 200 clusters into 3 levels.
	leaves200, _, err := slurpLeaves(ctx, rows, vecs, "kmeans", 200, seed)
	if err != nil {
		return err
	}
	var res hierarchy.Result
	var best float64 = math.Inf(1)
	for i := 0; i < reps; i++ {
		t := time.Now()
		res, err = hierarchy.Build(ctx, "bench", leaves200, hierarchy.Options{TargetLevels: 3, MergeRatio: 0.2})
		if err != nil {
			return err
		}
		best = math.Min(best, since(t))
	}
	r.Row("case", "offline-200x3", "leaves", len(leaves200), "levels", fmt.Sprint(hierarchy.LevelSizes(200, hierarchy.Options{})),
		"best_seconds", best, "reps", reps)

	// LLM merge of the same 200 clusters against a fake OpenAI answering in llmDelay.
	if llmDelay < 0 {
		return nil
	}
	srv := llmtest.OpenAI(fakeTaxonomist(llmDelay))
	defer srv.Close()
	client, err := llm.Open("openai/gpt-4o-mini", llm.WithBaseURL(srv.BaseURL()), llm.WithAPIKey("sk-bench"),
		llm.WithConcurrency(concurrency))
	if err != nil {
		return err
	}
	emb, err := uselite.New()
	if err != nil {
		return err
	}
	t1 := time.Now()
	res, err = hierarchy.Build(ctx, "bench", leaves200, hierarchy.Options{TargetLevels: 3, MergeRatio: 0.2, LLM: client,
		Embedder: emb, Concurrency: concurrency})
	if err != nil {
		return err
	}
	wall := since(t1)
	for _, lr := range res.Report.Levels {
		r.Row("case", "llm-200x3", "level", lr.Level, "nodes", lr.Nodes, "unassigned", lr.Unassigned,
			"propose", lr.LLMCalls["propose"], "dedupe", lr.LLMCalls["dedupe"], "assign", lr.LLMCalls["assign"],
			"rename", lr.LLMCalls["rename"], "reasked", lr.Reasked)
	}
	r.Row("case", "llm-200x3", "seconds", wall, "llm_calls", res.Report.LLMCalls, "http_requests", srv.Calls(),
		"delay_ms", llmDelay.Milliseconds(), "concurrency", concurrency)
	return nil
}

var (
	benchLineRe = regexp.MustCompile(`(?m)^- ([^:\n]+)`)
	benchRange  = regexp.MustCompile(`between (\d+) and (\d+)`)
	benchTitle  = regexp.MustCompile(`(?m)^Title: (.+)$`)
	benchAbout  = regexp.MustCompile(`\(about (\d+)\)`)
	benchOld    = regexp.MustCompile(`category "([^"]+)"`)
)

// fakeTaxonomist answers each step of the Clio method plausibly after delay:
// categories from the clusters' leading title words, assignments by word overlap.
func fakeTaxonomist(delay time.Duration) llmtest.Handler {
	section := func(s, tag string) string {
		_, after, _ := strings.Cut(s, "<"+tag+">")
		body, _, _ := strings.Cut(after, "</"+tag+">")
		return body
	}
	names := func(s string) []string {
		var out []string
		for _, m := range benchLineRe.FindAllStringSubmatch(s, -1) {
			out = append(out, strings.TrimSpace(m[1]))
		}
		return out
	}
	reply := func(v any) llmtest.Reply {
		b, _ := json.Marshal(v)
		return llmtest.Reply{Text: string(b), Delay: delay}
	}
	type cat struct {
		Name        string `json:"name"`
		Description string `json:"description"`
	}
	propose := func(titles []string, lo, hi int) []cat {
		seen := map[string]bool{}
		var cats []cat
		for _, t := range titles {
			k := ""
			for _, w := range strings.Fields(strings.ToLower(t)) {
				if w = strings.Trim(w, ",.;:"); w != "" && w != "requests" && w != "about" {
					k = w
					break
				}
			}
			if k == "" {
				continue
			}
			if !seen[k] && len(cats) < hi {
				seen[k] = true
				cats = append(cats, cat{Name: "Requests about " + k, Description: "Users asking about " + k + "."})
			}
		}
		for i := 0; len(cats) < lo; i++ {
			cats = append(cats, cat{Name: fmt.Sprintf("Other requests %d", i+1), Description: "Other requests."})
		}
		return cats
	}
	return func(req llmtest.Request) llmtest.Reply {
		p := req.User
		rng := benchRange.FindStringSubmatch(p)
		switch {
		case strings.Contains(p, "<candidates>"):
			var lo, hi int
			fmt.Sscan(rng[1], &lo)
			fmt.Sscan(rng[2], &hi)
			about := hi
			if m := benchAbout.FindStringSubmatch(p); m != nil {
				fmt.Sscan(m[1], &about)
			}
			about = max(lo, min(hi, about))
			var cats []cat
			for _, n := range names(section(p, "candidates")) {
				if len(cats) < about {
					cats = append(cats, cat{Name: n, Description: "Merged."})
				}
			}
			return reply(map[string]any{"categories": cats})
		case strings.Contains(p, "Propose between"):
			var lo, hi int
			fmt.Sscan(rng[1], &lo)
			fmt.Sscan(rng[2], &hi)
			return reply(map[string]any{"categories": propose(names(section(p, "clusters")), lo, hi)})
		case strings.Contains(p, "<categories>"):
			title := strings.ToLower(benchTitle.FindStringSubmatch(p)[1])
			best, score := "", -1
			for _, c := range names(section(p, "categories")) {
				n := 0
				for _, w := range strings.Fields(strings.ToLower(c)) {
					if strings.Contains(title, w) {
						n++
					}
				}
				if n > score {
					best, score = c, n
				}
			}
			return reply(map[string]string{"parent": best})
		case strings.Contains(p, "were grouped under the category"):
			old := benchOld.FindStringSubmatch(p)[1]
			return reply(cat{Name: old, Description: "Renamed from its children."})
		}
		return llmtest.Reply{Status: 400, Text: "unexpected prompt"}
	}
}

type slurpRow struct {
	ID       string `json:"id"`
	Text     string `json:"text"`
	Label    string `json:"label"`
	Scenario string `json:"scenario"`
	Language string `json:"language"`
}

func readSlurp(path string) ([]slurpRow, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var rows []slurpRow
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var row slurpRow
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		rows = append(rows, row)
	}
	return rows, sc.Err()
}

// slurpVectors embeds the slurp texts with USE-lite or local/hybrid (cached in a raw
// float32 file) or with hashEmbed.
func slurpVectors(ctx context.Context, rows []slurpRow, kind, cache string) ([][]float32, error) {
	texts := make([]string, len(rows))
	for i, r := range rows {
		texts[i] = r.Text
	}
	if kind == "hash" {
		out := make([][]float32, len(texts))
		for i, t := range texts {
			out[i] = hashEmbed(t, 512)
		}
		return out, nil
	}
	var m lmsys.Embedder
	switch kind {
	case "uselite":
		u, err := uselite.New()
		if err != nil {
			return nil, err
		}
		m = u
	case "hybrid":
		h, err := embed.Hybrid(0)
		if err != nil {
			return nil, err
		}
		m = h
	default:
		return nil, fmt.Errorf("-embed %q: want uselite, hybrid or hash", kind)
	}
	dims := m.Space().Dims
	if cache != "" {
		if data, err := os.ReadFile(cache); err == nil && len(data) == 4*dims*len(texts) {
			out := make([][]float32, len(texts))
			for i := range out {
				out[i] = make([]float32, dims)
				for d := range out[i] {
					out[i][d] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*(i*dims+d):]))
				}
			}
			return out, nil
		}
	}
	t0 := time.Now()
	out, err := m.Embed(ctx, texts, lmsys.PurposeClustering)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(os.Stderr, "embedded %d slurp texts with %s in %.1fs\n", len(texts), m.Space(), since(t0))
	if cache != "" {
		buf := make([]byte, 0, 4*dims*len(texts))
		for _, v := range out {
			for _, x := range v {
				buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(x))
			}
		}
		if err := os.WriteFile(cache, buf, 0o644); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// hashEmbed is a simple lexical embedding: hashed unigrams and bigrams, sublinear tf,
// normalised.
func hashEmbed(text string, dims int) []float32 {
	v := make([]float32, dims)
	words := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
	})
	add := func(s string, w float32) {
		h := fnv.New64a()
		h.Write([]byte(s))
		x := h.Sum64()
		sign := float32(1)
		if x>>63 == 1 {
			sign = -1
		}
		v[x%uint64(dims)] += sign * w
	}
	for i, w := range words {
		add(w, 1)
		if i > 0 {
			add(words[i-1]+" "+w, 0.7)
		}
	}
	return unit(v)
}

func unit(v []float32) []float32 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	if s > 0 {
		inv := float32(1 / math.Sqrt(s))
		for i := range v {
			v[i] *= inv
		}
	}
	return v
}

// slurpTexts makes slurpLeaves fill Leaf.Texts (the -texts flag).
var slurpTexts = true

// slurpLeaves groups rows into leaf clusters (by intent label, or by spherical k-means
// of the embeddings as lmsys analyze does) and builds each leaf as hierarchy.Run would
// from the store: the product's offline summarizer names it (title, description,
// keywords, representative queries nearest the centroid) and, unless -texts=false, it
// carries a sample of its query texts. It returns, per leaf id, the scenario counts of
// its queries.
func slurpLeaves(ctx context.Context, rows []slurpRow, vecs [][]float32, mode string, k int, seed uint64) ([]hierarchy.Leaf, map[int]map[string]int, error) {
	dims := len(vecs[0])
	labels := make([]int, len(rows))
	switch mode {
	case "oracle":
		ids := map[string]int{}
		var names []string
		for _, row := range rows {
			if _, ok := ids[row.Label]; !ok {
				ids[row.Label] = 0
				names = append(names, row.Label)
			}
		}
		sort.Strings(names)
		for i, n := range names {
			ids[n] = i
		}
		for i, row := range rows {
			labels[i] = ids[row.Label]
		}
		k = len(names)
	default:
		km := clustering.KMeans{K: k, Seed: seed, Spherical: true, NInit: 3}
		part, err := km.Cluster(ctx, vecs)
		if err != nil {
			return nil, nil, err
		}
		labels = part.Labels
	}
	members := make([][]int, k)
	for i, l := range labels {
		members[l] = append(members[l], i)
	}
	scen := map[int]map[string]int{}
	for c, ms := range members {
		scen[c] = map[string]int{}
		for _, i := range ms {
			scen[c][rows[i].Scenario]++
		}
	}
	// Summarise as the product does (summarize.Prepare, then the offline summarizer):
	// up to 50 distinct texts per cluster, a seeded sample when there are more, nearest
	// the centroid first.
	var ids []int
	var inputs []lmsys.ClusterInput
	var cents [][]float32
	for c, ms := range members {
		if len(ms) == 0 {
			continue
		}
		cen := make([]float32, dims)
		for _, i := range ms {
			for d, x := range vecs[i] {
				cen[d] += x
			}
		}
		unit(cen)
		var distinct []int
		seen := map[string]bool{}
		for _, i := range ms {
			if !seen[rows[i].Text] {
				seen[rows[i].Text] = true
				distinct = append(distinct, i)
			}
		}
		if len(distinct) > 50 {
			rng := rand.New(rand.NewPCG(42, uint64(c)))
			rng.Shuffle(len(distinct), func(a, b int) { distinct[a], distinct[b] = distinct[b], distinct[a] })
			distinct = distinct[:50]
		}
		score := func(i int) float64 {
			var s float64
			for d, x := range vecs[i] {
				s += float64(x * cen[d])
			}
			return s
		}
		sort.SliceStable(distinct, func(a, b int) bool { return score(distinct[a]) > score(distinct[b]) })
		in := lmsys.ClusterInput{ClusterID: c, Size: len(ms), Languages: map[string]int{}}
		for _, i := range ms {
			if rows[i].Language != "" {
				in.Languages[rows[i].Language]++
			}
		}
		for _, i := range distinct {
			in.Queries = append(in.Queries, rows[i].Text)
		}
		ids = append(ids, c)
		inputs = append(inputs, in)
		cents = append(cents, cen)
	}
	sums, err := (&summarize.Offline{}).Summarize(ctx, inputs)
	if err != nil {
		return nil, nil, err
	}
	var leaves []hierarchy.Leaf
	for j, c := range ids {
		s := sums[j]
		l := hierarchy.Leaf{ClusterID: c, Size: len(members[c]), Title: s.Title, Description: s.Description,
			Keywords: s.Keywords, Queries: s.RepresentativeQueries, Centroid: cents[j]}
		if slurpTexts {
			// What hierarchy.LoadLeaves reads: the first distinct texts in id order.
			seen := map[string]bool{}
			for _, i := range members[c] {
				if len(l.Texts) == hierarchy.TextSample {
					break
				}
				if !seen[rows[i].Text] {
					seen[rows[i].Text] = true
					l.Texts = append(l.Texts, rows[i].Text)
				}
			}
		}
		leaves = append(leaves, l)
	}
	return leaves, scen, nil
}

// slurpProducts caches one workspace per embedding model: loading and embedding are
// done once, each seed adds a clustering run.
var slurpProducts = map[string]*local.Workspace{}

// closeSlurpProducts closes the workspaces of slurpProduct and removes their files.
func closeSlurpProducts() {
	for m, ws := range slurpProducts {
		ws.Close()
		os.RemoveAll(ws.Dir)
		delete(slurpProducts, m)
	}
}

// slurpProduct measures the product's own path on slurp: lmsys analyze's pipeline
// (load, embed with the named local model, spherical k-means into 81 clusters with
// seed, the offline summarizer) into a temporary store, then hierarchy.Run with opts,
// which loads the leaves (summaries, centroids, sampled texts) from the store. It
// returns the hierarchy and, per cluster id, the scenario counts of its queries.
func slurpProduct(ctx context.Context, path string, rows []slurpRow, kind string, seed uint64, opts hierarchy.Options) (hierarchy.Result, map[int]map[string]int, error) {
	model := map[string]string{"uselite": "local/use-lite", "hybrid": "local/hybrid"}[kind]
	if model == "" {
		return hierarchy.Result{}, nil, fmt.Errorf("-leaves product: -embed %q is not a local model (uselite or hybrid)", kind)
	}
	ws := slurpProducts[model]
	var src dataset.Source
	if ws == nil {
		dir, err := os.MkdirTemp("", "bench-slurp-")
		if err != nil {
			return hierarchy.Result{}, nil, err
		}
		ws, err = local.Open(ctx, local.Config{Dir: dir, EmbeddingModel: model})
		if err != nil {
			return hierarchy.Result{}, nil, err
		}
		slurpProducts[model] = ws
		fsrc, err := dataset.OpenFile(path, dataset.Mapping{Text: "text", ID: "id"})
		if err != nil {
			return hierarchy.Result{}, nil, err
		}
		src = fsrc
	}
	// The pipeline up to the summaries; the merge is hierarchy.Run's below, with opts.
	p := ws.Pipeline(local.Analysis{Source: src, DatasetName: "slurp", K: 81, Seed: seed, Offline: true})
	p.Stages = slices.DeleteFunc(p.Stages, func(s lmsys.Stage) bool { return s.Name() == "merge" })
	st, err := p.Run(ctx, nil)
	if err != nil {
		return hierarchy.Result{}, nil, err
	}
	res, err := hierarchy.Run(ctx, ws.Store, st.RunID, opts)
	if err != nil {
		return hierarchy.Result{}, nil, err
	}
	scenOf := make(map[string]string, len(rows))
	for _, r := range rows {
		scenOf[r.ID] = r.Scenario
	}
	qs, err := ws.Store.ListQueries(ctx, lmsys.QueryFilter{Dataset: "slurp"})
	if err != nil {
		return hierarchy.Result{}, nil, err
	}
	conv := make(map[int64]string, len(qs))
	for _, q := range qs {
		conv[q.ID] = q.ConversationID
	}
	as, err := ws.Store.Assignments(ctx, st.RunID, nil)
	if err != nil {
		return hierarchy.Result{}, nil, err
	}
	scen := map[int]map[string]int{}
	for _, a := range as {
		if scen[a.ClusterID] == nil {
			scen[a.ClusterID] = map[string]int{}
		}
		scen[a.ClusterID][scenOf[conv[a.QueryID]]]++
	}
	return res, scen, nil
}

// parentPurity is the query-weighted purity of the level-1 parents against scenario.
func parentPurity(nodes []lmsys.HierarchyNode, scen map[int]map[string]int) float64 {
	var hit, total int
	for _, n := range nodes {
		if n.Level != 1 {
			continue
		}
		counts := map[string]int{}
		for _, c := range n.ChildrenIDs {
			for s, x := range scen[c] {
				counts[s] += x
				total += x
			}
		}
		m := 0
		for _, x := range counts {
			m = max(m, x)
		}
		hit += m
	}
	if total == 0 {
		return 0
	}
	return float64(hit) / float64(total)
}

// leafPurity is the query-weighted purity of the leaves themselves: the ceiling of
// parentPurity.
func leafPurity(scen map[int]map[string]int) float64 {
	var hit, total int
	for _, counts := range scen {
		m := 0
		for _, x := range counts {
			m = max(m, x)
			total += x
		}
		hit += m
	}
	return float64(hit) / float64(max(total, 1))
}
