package main

import (
	"context"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/internal/segment"
	"github.com/lmsys-go/lmsys/summarize"
)

func init() {
	subcommands["titles"] = subcommand{
		summary: "offline cluster titles: share of bare keyword lists, function-word edges, duplicates, title precision@20 on k-means runs",
		run:     runTitles,
	}
}

// titleSet is one corpus the titles bench names.
type titleSet struct {
	name string
	rows []eqRow
}

func runTitles(ctx context.Context, args []string, r *reporter) error {
	fs := flag.NewFlagSet("titles", flag.ContinueOnError)
	sets := fs.String("sets", "", "comma-separated normalized.jsonl files, each named and clustered on its own")
	mixed := fs.String("mixed", "", "comma-separated JSONL files to build one mixed set from: their non-Latin-script rows first, then others, up to -mixed-per rows each")
	mixedPer := fs.Int("mixed-per", 300, "rows taken from each -mixed file")
	limit := fs.Int("limit", 3000, "rows read from each -sets file at most (a seeded sample beyond that)")
	model := fs.String("embed", "local/use-lite", "embedder of the runs (local/use-lite, local/hybrid, local/lexical)")
	perCluster := fs.Int("per-cluster", 50, "average cluster size: k = rows / per-cluster, within [4, 100]")
	maxQueries := fs.Int("max-queries", 100, "queries per cluster given to the summarizer, nearest the centroid first")
	rerank := fs.Bool("rerank", true, "re-rank candidate phrases with the run's embedder")
	examples := fs.Int("examples", 10, "example titles printed per set (largest clusters)")
	seed := fs.Uint64("seed", 7, "k-means and sampling seed")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the summarizer calls to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *sets == "" && *mixed == "" {
		return fmt.Errorf("titles: give -sets and/or -mixed")
	}
	var all []titleSet
	for _, p := range splitList(*sets) {
		rows, err := eqRead(p)
		if err != nil {
			return err
		}
		all = append(all, titleSet{name: setName(p), rows: sampleRows(rows, *limit, *seed)})
	}
	if m := splitList(*mixed); len(m) > 0 {
		var rows []eqRow
		for _, p := range m {
			rs, err := eqRead(p)
			if err != nil {
				return err
			}
			sort.SliceStable(rs, func(i, j int) bool {
				return (dominantScript(rs[i].Text) != "latin") && (dominantScript(rs[j].Text) == "latin")
			})
			rows = append(rows, rs[:min(len(rs), *mixedPer)]...)
		}
		all = append(all, titleSet{name: "mixed", rows: rows})
	}
	emb, err := eqEmbedder(*model)
	if err != nil {
		return err
	}
	stop, err := startCPUProfile(*cpuProfile)
	if err != nil {
		return err
	}
	defer stop()
	for _, set := range all {
		if err := titlesOnSet(ctx, r, set, emb, *perCluster, *maxQueries, *rerank, *examples, *seed); err != nil {
			return fmt.Errorf("%s: %w", set.name, err)
		}
	}
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// setName names a data set by its directory ("…/hwu64/normalized.jsonl" → "hwu64").
func setName(path string) string {
	if base := filepath.Base(path); base == "normalized.jsonl" || base == "demo.jsonl" {
		return filepath.Base(filepath.Dir(path))
	}
	return strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
}

func sampleRows(rows []eqRow, n int, seed uint64) []eqRow {
	if len(rows) <= n {
		return rows
	}
	rng := rand.New(rand.NewPCG(seed, 3))
	idx := rng.Perm(len(rows))[:n]
	sort.Ints(idx)
	out := make([]eqRow, n)
	for i, j := range idx {
		out[i] = rows[j]
	}
	return out
}

func titlesOnSet(ctx context.Context, r *reporter, set titleSet, emb lmsys.Embedder, perCluster, maxQueries int, rerank bool, examples int, seed uint64) error {
	texts := make([]string, len(set.rows))
	for i, row := range set.rows {
		texts[i] = row.Text
	}
	d := emb.Space().Dims
	data, _, err := eqEmbedAll(ctx, emb, texts)
	if err != nil {
		return err
	}
	n := len(texts)
	k := max(4, min(100, n/max(1, perCluster)))
	labels, err := eqKMeans(ctx, data, n, d, k, seed, 1)
	if err != nil {
		return err
	}
	vec := func(i int) []float32 { return data[i*d : (i+1)*d] }
	members := make([][]int, k)
	for i, l := range labels {
		members[l] = append(members[l], i)
	}
	var inputs []lmsys.ClusterInput
	for c, ms := range members {
		if len(ms) == 0 {
			continue
		}
		cen := make([]float32, d)
		for _, i := range ms {
			for j, x := range vec(i) {
				cen[j] += x
			}
		}
		sort.SliceStable(ms, func(a, b int) bool { return eqDot(vec(ms[a]), cen) > eqDot(vec(ms[b]), cen) })
		seen := map[string]bool{}
		in := lmsys.ClusterInput{ClusterID: c, Size: len(ms), Languages: map[string]int{}}
		for _, i := range ms {
			if lang := set.rows[i].Language; lang != "" {
				in.Languages[lang]++
			}
			if t := texts[i]; !seen[t] && len(in.Queries) < maxQueries {
				seen[t] = true
				in.Queries = append(in.Queries, t)
			}
		}
		inputs = append(inputs, in)
	}
	o := &summarize.Offline{}
	if rerank {
		setRerank(o, emb)
	}
	t0 := time.Now()
	sums, err := o.Summarize(ctx, inputs)
	if err != nil {
		return err
	}
	secs := since(t0)
	titles := make([]string, len(sums))
	for i, s := range sums {
		titles[i] = s.Title
	}
	tvecs, err := emb.Embed(ctx, titles, lmsys.PurposeQuery)
	if err != nil {
		return err
	}
	var list, edge, dup int
	seen := map[string]bool{}
	var prec float64
	precs := make([]float64, len(sums))
	for i, s := range sums {
		if keywordList(s.Title) {
			list++
		}
		if functionEdge(s.Title) {
			edge++
		}
		key := strings.ToLower(s.Title)
		if seen[key] {
			dup++
		}
		seen[key] = true
		precs[i] = precisionAt(20, tvecs[i], data, d, labels, inputs[i].ClusterID)
		prec += precs[i]
	}
	m := float64(len(sums))
	r.Row("set", set.name, "rows", n, "clusters", len(sums), "embed", emb.Space().Name(), "rerank", rerank,
		"keyword_list", float64(list)/m, "function_edge", edge, "duplicates", float64(dup)/m,
		"precision20", prec/m, "summarize_s", secs)
	order := make([]int, len(sums))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return inputs[order[a]].Size > inputs[order[b]].Size })
	for _, i := range order[:min(examples, len(order))] {
		r.Row("set", set.name, "size", inputs[i].Size, "precision20", precs[i], "title", sums[i].Title, "keywords", strings.Join(sums[i].Keywords[:min(4, len(sums[i].Keywords))], "; "))
	}
	return nil
}

// keywordList reports whether a title is a bare list of keywords: terms separated by
// commas ("List, python, sort"), one word alone, or two single words joined by "and"
// in any language ("Code and output", "Poem y words").
func keywordList(title string) bool {
	if strings.Contains(title, ", ") || strings.Contains(title, "、") || strings.Contains(title, "，") {
		return true
	}
	var ws []segment.Word
	for _, w := range segment.Words(nil, title) {
		if !w.IsBreak() {
			ws = append(ws, w)
		}
	}
	return len(ws) <= 1 || len(ws) == 3 && andWords[ws[1].Norm]
}

// andWords are the words for "and" that segment.And joins two title parts with.
var andWords = map[string]bool{"and": true, "y": true, "et": true, "und": true, "e": true, "en": true, "i": true,
	"ve": true, "dan": true, "và": true, "и": true, "和": true, "と": true, "및": true, "و": true}

// functionEdge reports whether a title starts or ends with a function word of the
// stop-word lists.
func functionEdge(title string) bool {
	ws := segment.Words(nil, title)
	var first, last *segment.Word
	for i := range ws {
		if ws[i].IsBreak() {
			continue
		}
		if first == nil {
			first = &ws[i]
		}
		last = &ws[i]
	}
	return first != nil && (segment.IsStop(first.Norm) || segment.IsStop(last.Norm))
}

// precisionAt searches the run's queries with the title's vector and returns the share
// of the top k (k at most the cluster's size) that belong to the titled cluster.
func precisionAt(k int, q []float32, data []float32, d int, labels []int, cluster int) float64 {
	n := len(labels)
	size := 0
	type hit struct {
		i int
		s float64
	}
	hits := make([]hit, n)
	for i := 0; i < n; i++ {
		hits[i] = hit{i, eqDot(q, data[i*d:(i+1)*d])}
		if labels[i] == cluster {
			size++
		}
	}
	sort.Slice(hits, func(a, b int) bool {
		if hits[a].s != hits[b].s {
			return hits[a].s > hits[b].s
		}
		return hits[a].i < hits[b].i
	})
	k = min(k, size)
	if k == 0 {
		return math.NaN()
	}
	in := 0
	for _, h := range hits[:k] {
		if labels[h.i] == cluster {
			in++
		}
	}
	return float64(in) / float64(k)
}
