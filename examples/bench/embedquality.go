package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/clustering"
	"github.com/lmsys-go/lmsys/embed"
	"github.com/lmsys-go/lmsys/embed/lexical"
	"github.com/lmsys-go/lmsys/embed/uselite"
)

func init() {
	subcommands["mixedlang"] = subcommand{
		summary: "do non-English queries collapse into one cluster? k-means over each local embedder on a mixed-script corpus",
		run:     runMixedLang,
	}
	subcommands["embed-nmi"] = subcommand{
		summary: "clustering quality of local embedders: NMI/ARI of spherical k-means (k = labels) on labelled JSONL sets",
		run:     runEmbedNMI,
	}
}

// eqRow is one line of a normalized.jsonl data set.
type eqRow struct {
	Text     string `json:"text"`
	Label    string `json:"label"`
	Language string `json:"language"`
}

func eqRead(path string) ([]eqRow, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []eqRow
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for line := 1; sc.Scan(); line++ {
		var r eqRow
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		out = append(out, r)
	}
	return out, sc.Err()
}

// eqScripts are the scripts a text's letters are counted in.
var eqScripts = []struct {
	name string
	tab  *unicode.RangeTable
}{
	{"latin", unicode.Latin}, {"han", unicode.Han}, {"kana", unicode.Hiragana}, {"kana", unicode.Katakana},
	{"hangul", unicode.Hangul}, {"arabic", unicode.Arabic}, {"cyrillic", unicode.Cyrillic},
	{"greek", unicode.Greek}, {"hebrew", unicode.Hebrew}, {"devanagari", unicode.Devanagari}, {"thai", unicode.Thai},
}

// dominantScript names the script of most of a text's letters; Han with any kana is
// "japanese", Han alone "chinese".
func dominantScript(text string) string {
	counts := map[string]int{}
	total := 0
	for _, r := range text {
		if !unicode.IsLetter(r) {
			continue
		}
		total++
		for _, s := range eqScripts {
			if unicode.Is(s.tab, r) {
				counts[s.name]++
				break
			}
		}
	}
	if total == 0 {
		return "none"
	}
	best, n := "other", 0
	for s, c := range counts {
		if c > n || (c == n && s < best) {
			best, n = s, c
		}
	}
	switch {
	case best == "han" && counts["kana"] > 0, best == "kana":
		return "japanese"
	case best == "han":
		return "chinese"
	}
	return best
}

// eqMemo caches an embedder's vectors by text, so that variants built on USE-lite
// do not pay for it twice.
type eqMemo struct {
	e    lmsys.Embedder
	seen map[string][]float32
}

func (m *eqMemo) Space() lmsys.Space { return m.e.Space() }

func (m *eqMemo) Embed(ctx context.Context, texts []string, p lmsys.Purpose) ([][]float32, error) {
	var miss []string
	for _, t := range texts {
		if _, ok := m.seen[t]; !ok {
			miss = append(miss, t)
		}
	}
	if len(miss) > 0 {
		vecs, err := m.e.Embed(ctx, miss, p)
		if err != nil {
			return nil, err
		}
		for i, t := range miss {
			m.seen[t] = vecs[i]
		}
	}
	out := make([][]float32, len(texts))
	for i, t := range texts {
		out[i] = m.seen[t]
	}
	return out, nil
}

var eqUSE *eqMemo

// eqEmbedder opens a model string. Besides embed.Open's models it accepts
// "local/hybrid@W" (the script-adaptive hybrid with lexical base weight W) and
// "concat@W" (USE-lite and lexical concatenated with fixed lexical weight W).
func eqEmbedder(model string) (lmsys.Embedder, error) {
	if eqUSE == nil {
		u, err := uselite.New()
		if err != nil {
			return nil, err
		}
		eqUSE = &eqMemo{e: u, seen: map[string][]float32{}}
	}
	if model == "local/use-lite" {
		return eqUSE, nil
	}
	name, w, ok := strings.Cut(model, "@")
	if !ok || (name != "local/hybrid" && name != "concat") {
		return embed.Open(model)
	}
	weight, err := strconv.ParseFloat(w, 64)
	if err != nil || weight <= 0 || weight >= 1 {
		return nil, fmt.Errorf("lexical weight %q: want 0 < w < 1", w)
	}
	l, err := lexical.New(lexical.Options{Dims: embed.HybridLexicalDims})
	if err != nil {
		return nil, err
	}
	if name == "concat" {
		return embed.Concat(lmsys.Space{}, embed.Part{Embedder: eqUSE, Weight: 1 - weight}, embed.Part{Embedder: l, Weight: weight})
	}
	return embed.NewScriptHybrid(lmsys.Space{}, eqUSE, l, weight)
}

// eqEmbedAll embeds texts in batches into one row-major matrix.
func eqEmbedAll(ctx context.Context, e lmsys.Embedder, texts []string) ([]float32, float64, error) {
	d := e.Space().Dims
	data := make([]float32, 0, len(texts)*d)
	t0 := time.Now()
	for lo := 0; lo < len(texts); lo += 512 {
		vecs, err := e.Embed(ctx, texts[lo:min(lo+512, len(texts))], lmsys.PurposeClustering)
		if err != nil {
			return nil, 0, err
		}
		for _, v := range vecs {
			data = append(data, v...)
		}
	}
	return data, since(t0), nil
}

func eqKMeans(ctx context.Context, data []float32, n, d, k int, seed uint64, nInit int) ([]int, error) {
	km := &clustering.KMeans{K: k, Seed: seed, Spherical: true, NInit: nInit}
	res, err := km.ClusterMatrix(ctx, data, n, d)
	if err != nil {
		return nil, err
	}
	return res.Labels, nil
}

func eqDot(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

func runMixedLang(ctx context.Context, args []string, r *reporter) error {
	fs := flag.NewFlagSet("mixedlang", flag.ContinueOnError)
	in := fs.String("in", "", "JSONL file with a \"text\" field, mixed languages (required)")
	models := fs.String("models", "local/use-lite,local/lexical,local/hybrid", "comma-separated models (local/hybrid@W: lexical weight W)")
	k := fs.Int("k", 50, "k-means clusters")
	seeds := fs.Int("seeds", 3, "k-means runs with different seeds; figures are their mean")
	nInit := fs.Int("n-init", 1, "k-means inits per run")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := needInput("in", *in, "a JSONL file with a \"text\" field"); err != nil {
		return err
	}
	rows, err := eqRead(*in)
	if err != nil {
		return err
	}
	texts := make([]string, len(rows))
	scripts := make([]string, len(rows))
	var foreign []int // rows mainly in a non-Latin script
	byScript := map[string]int{}
	for i, row := range rows {
		texts[i] = row.Text
		scripts[i] = dominantScript(row.Text)
		if scripts[i] != "latin" && scripts[i] != "none" {
			foreign = append(foreign, i)
			byScript[scripts[i]]++
		}
	}
	keys := make([]string, 0, len(byScript))
	for s, c := range byScript {
		keys = append(keys, fmt.Sprintf("%s:%d", s, c))
	}
	sort.Strings(keys)
	r.Row("corpus", *in, "rows", len(rows), "non_latin", len(foreign), "scripts", strings.Join(keys, ","))
	for _, model := range strings.Split(*models, ",") {
		e, err := eqEmbedder(strings.TrimSpace(model))
		if err != nil {
			return err
		}
		d := e.Space().Dims
		data, secs, err := eqEmbedAll(ctx, e, texts)
		if err != nil {
			return err
		}
		vec := func(i int) []float32 { return data[i*d : (i+1)*d] }
		// How close are non-Latin queries of different scripts, and of the same script?
		var crossSum, sameSum float64
		var crossN, sameN int
		for a := 0; a < len(foreign); a++ {
			for b := a + 1; b < len(foreign); b++ {
				c := eqDot(vec(foreign[a]), vec(foreign[b]))
				if scripts[foreign[a]] == scripts[foreign[b]] {
					sameSum, sameN = sameSum+c, sameN+1
				} else {
					crossSum, crossN = crossSum+c, crossN+1
				}
			}
		}
		var distinct, largest, scriptsInLargest, pureShare, nmi float64
		for s := 0; s < *seeds; s++ {
			labels, err := eqKMeans(ctx, data, len(texts), d, *k, uint64(s+1), *nInit)
			if err != nil {
				return err
			}
			perCluster := map[int]map[string]int{}
			size := map[int]int{}
			for _, i := range foreign {
				m := perCluster[labels[i]]
				if m == nil {
					m = map[string]int{}
					perCluster[labels[i]] = m
				}
				m[scripts[i]]++
				size[labels[i]]++
			}
			big, bigID := 0, -1
			pure := 0
			for c, m := range perCluster {
				if size[c] > big {
					big, bigID = size[c], c
				}
				top := 0
				for _, n := range m {
					top = max(top, n)
				}
				pure += top
			}
			distinct += float64(len(perCluster))
			largest += float64(big) / float64(len(foreign))
			scriptsInLargest += float64(len(perCluster[bigID]))
			pureShare += float64(pure) / float64(len(foreign))
			sub := make([]int, len(foreign))
			truth := make([]string, len(foreign))
			for j, i := range foreign {
				sub[j], truth[j] = labels[i], scripts[i]
			}
			sc, err := clustering.Evaluate(truth, sub)
			if err != nil {
				return err
			}
			nmi += sc.NMI
		}
		ns := float64(*seeds)
		r.Row("model", e.Space().String(), "k", *k, "embed_s", secs,
			"foreign_clusters", distinct/ns, "largest_share", largest/ns, "scripts_in_largest", scriptsInLargest/ns,
			"script_purity", pureShare/ns, "script_nmi", nmi/ns,
			"cos_same_script", sameSum/float64(max(sameN, 1)), "cos_cross_script", crossSum/float64(max(crossN, 1)))
	}
	return nil
}

func runEmbedNMI(ctx context.Context, args []string, r *reporter) error {
	fs := flag.NewFlagSet("embed-nmi", flag.ContinueOnError)
	sets := fs.String("sets", "", "comma-separated labelled JSONL files, e.g. hwu64 and slurp normalized.jsonl (required)")
	models := fs.String("models", "local/use-lite,local/lexical,local/hybrid", "comma-separated models (local/hybrid@W: lexical weight W)")
	seeds := fs.Int("seeds", 3, "k-means runs with different seeds; figures are their mean")
	nInit := fs.Int("n-init", 1, "k-means inits per run")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := needInput("sets", *sets, "comma-separated labelled JSONL files"); err != nil {
		return err
	}
	for _, path := range strings.Split(*sets, ",") {
		rows, err := eqRead(strings.TrimSpace(path))
		if err != nil {
			return err
		}
		texts := make([]string, 0, len(rows))
		labels := make([]string, 0, len(rows))
		distinct := map[string]bool{}
		for _, row := range rows {
			if row.Label == "" {
				continue
			}
			texts = append(texts, row.Text)
			labels = append(labels, row.Label)
			distinct[row.Label] = true
		}
		k := len(distinct)
		for _, model := range strings.Split(*models, ",") {
			e, err := eqEmbedder(strings.TrimSpace(model))
			if err != nil {
				return err
			}
			data, secs, err := eqEmbedAll(ctx, e, texts)
			if err != nil {
				return err
			}
			var nmi, ari float64
			for s := 0; s < *seeds; s++ {
				pred, err := eqKMeans(ctx, data, len(texts), e.Space().Dims, k, uint64(s+1), *nInit)
				if err != nil {
					return err
				}
				sc, err := clustering.Evaluate(labels, pred)
				if err != nil {
					return err
				}
				nmi += sc.NMI
				ari += sc.ARI
			}
			r.Row("set", path, "model", e.Space().String(), "n", len(texts), "k", k,
				"nmi", nmi/float64(*seeds), "ari", ari/float64(*seeds), "embed_s", secs,
				"queries_per_s", float64(len(texts))/secs)
		}
	}
	return nil
}
