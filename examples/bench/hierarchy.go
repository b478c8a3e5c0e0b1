package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/hierarchy"
)

func init() {
	subcommands["hierarchy"] = subcommand{
		summary: "hierarchy merge: offline wall time (200 clusters → 3 levels), slurp parent purity, LLM merge against a slow fake",
		run:     runHierarchyBench,
	}
}

func runHierarchyBench(ctx context.Context, args []string, r *reporter) error {
	fs := flag.NewFlagSet("hierarchy", flag.ContinueOnError)
	data := fs.String("slurp", "../shared/data/slurp/normalized.jsonl", "slurp normalized.jsonl (label, scenario)")
	textWeight := fs.Float64("text-weight", 0, "offline merge text weight (0 = default)")
	leavesMode := fs.String("leaves", "oracle", "slurp leaves: oracle (one per intent label) or kmeans")
	linkage := fs.String("linkage", "", "offline merge linkage: average or ward")
	reps := fs.Int("reps", 3, "repetitions of the 200-cluster offline merge")
	if err := fs.Parse(args); err != nil {
		return err
	}
	rows, err := readSlurp(*data)
	if err != nil {
		return err
	}
	// Slurp purity: leaves of intents merged into as many parents as scenarios.
	leaves, scen := slurpLeaves(rows, *leavesMode, 81)
	opts := hierarchy.Options{TargetLevels: 2, TopClusters: 18, TextWeight: *textWeight, Linkage: *linkage}
	t0 := time.Now()
	res, err := hierarchy.Build(ctx, "slurp", leaves, opts)
	if err != nil {
		return err
	}
	if os.Getenv("SHOW") != "" {
		for _, n := range res.Nodes {
			if n.Level == 1 {
				fmt.Printf("%s (%d):", n.Title, n.NumQueries)
				for _, c := range n.ChildrenIDs {
					for s := range scen[c] {
						fmt.Printf(" %s", s)
						break
					}
					fmt.Printf("/%s", leaves[c].Title)
				}
				fmt.Println()
			}
		}
	}
	r.Row("case", "slurp-purity", "leaves", len(leaves), "leaf_mode", *leavesMode, "parents", res.Report.Levels[0].Nodes,
		"purity", parentPurity(res.Nodes, scen), "leaf_purity", leafPurity(scen), "seconds", since(t0))

	// Offline merge of 200 clusters into 3 levels.
	leaves200, _ := slurpLeaves(rows, "kmeans", 200)
	var best float64 = math.Inf(1)
	for i := 0; i < *reps; i++ {
		t := time.Now()
		res, err = hierarchy.Build(ctx, "bench", leaves200, hierarchy.Options{TargetLevels: 3, MergeRatio: 0.2})
		if err != nil {
			return err
		}
		best = math.Min(best, since(t))
	}
	r.Row("case", "offline-200x3", "leaves", len(leaves200), "levels", fmt.Sprint(hierarchy.LevelSizes(200, hierarchy.Options{})),
		"best_seconds", best, "reps", *reps)
	return nil
}

type slurpRow struct {
	Text     string `json:"text"`
	Label    string `json:"label"`
	Scenario string `json:"scenario"`
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

// hashEmbed is a simple lexical embedding: hashed unigrams and bigrams, sublinear tf,
// normalised. It stands in until USE-lite lands.
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

// slurpLeaves groups rows into leaf clusters (by intent label, or by k-means of the
// lexical embedding) and summarises each like an offline summarizer would: c-TF-IDF
// keywords, a title from the top three, representative queries nearest the centroid.
// It returns, per leaf id, the scenario counts of its queries.
func slurpLeaves(rows []slurpRow, mode string, k int) ([]hierarchy.Leaf, map[int]map[string]int) {
	const dims = 512
	vecs := make([][]float32, len(rows))
	for i, row := range rows {
		vecs[i] = hashEmbed(row.Text, dims)
	}
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
		labels = lloyd(vecs, k, 20)
	}
	members := make([][]int, k)
	for i, l := range labels {
		members[l] = append(members[l], i)
	}
	texts := make([][]string, k)
	scen := map[int]map[string]int{}
	for c, ms := range members {
		scen[c] = map[string]int{}
		for _, i := range ms {
			texts[c] = append(texts[c], rows[i].Text)
			scen[c][rows[i].Scenario]++
		}
	}
	kw := hierarchy.Keywords(texts, 10)
	var leaves []hierarchy.Leaf
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
		near := append([]int(nil), ms...)
		score := func(i int) float64 {
			var s float64
			for d, x := range vecs[i] {
				s += float64(x * cen[d])
			}
			return s
		}
		sort.Slice(near, func(a, b int) bool { return score(near[a]) > score(near[b]) })
		var qs []string
		seen := map[string]bool{}
		for _, i := range near {
			if len(qs) == 8 {
				break
			}
			if !seen[rows[i].Text] {
				seen[rows[i].Text] = true
				qs = append(qs, rows[i].Text)
			}
		}
		title := strings.Join(kw[c][:min(3, len(kw[c]))], ", ")
		leaves = append(leaves, hierarchy.Leaf{
			ClusterID: c, Size: len(ms), Title: title, Keywords: kw[c], Queries: qs, Centroid: cen,
			Description: "Queries about " + strings.Join(kw[c], ", ") + ".",
		})
	}
	return leaves, scen
}

// lloyd is a plain k-means (k-means++ seeding, spherical updates) used until the
// clustering package lands.
func lloyd(vecs [][]float32, k, iters int) []int {
	rng := rand.New(rand.NewPCG(7, 7))
	dims := len(vecs[0])
	cents := [][]float32{append([]float32(nil), vecs[rng.IntN(len(vecs))]...)}
	d2 := make([]float64, len(vecs))
	for i := range d2 {
		d2[i] = math.Inf(1)
	}
	dist := func(a, b []float32) float64 {
		var s float64
		for d := range a {
			s += float64(a[d] * b[d])
		}
		return 2 - 2*s
	}
	for len(cents) < k {
		var total float64
		last := cents[len(cents)-1]
		for i, v := range vecs {
			d2[i] = math.Min(d2[i], dist(v, last))
			total += d2[i]
		}
		x := rng.Float64() * total
		pick := len(vecs) - 1
		for i := range vecs {
			x -= d2[i]
			if x <= 0 {
				pick = i
				break
			}
		}
		cents = append(cents, append([]float32(nil), vecs[pick]...))
	}
	labels := make([]int, len(vecs))
	for it := 0; it < iters; it++ {
		for i, v := range vecs {
			best, bd := 0, math.Inf(1)
			for c, cen := range cents {
				if d := dist(v, cen); d < bd {
					best, bd = c, d
				}
			}
			labels[i] = best
		}
		sums := make([][]float32, k)
		for c := range sums {
			sums[c] = make([]float32, dims)
		}
		for i, v := range vecs {
			for d, x := range v {
				sums[labels[i]][d] += x
			}
		}
		for c := range cents {
			var s float64
			for _, x := range sums[c] {
				s += float64(x * x)
			}
			if s > 0 {
				cents[c] = unit(sums[c])
			}
		}
	}
	return labels
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
