package summarize

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/internal/plural"
)

// OfflineModel is the model name recorded on summaries written by Offline.
const OfflineModel = "offline/c-tf-idf"

// Offline names clusters without a network: it scores every term and two-word phrase
// of every cluster with class-based TF-IDF over all the clusters it is given (what
// BERTopic calls c-TF-IDF), builds the title from the best-scoring phrases and words,
// and writes a description naming the dominant phrases, languages and models. It is
// deterministic: the same inputs give the same summaries.
//
// Term frequency is counted per query (a query repeating a word counts it once), so one
// long pasted text cannot take over its cluster's name.
type Offline struct {
	// Keywords is how many keywords to keep per cluster (default 10).
	Keywords int
	// Representatives is how many representative queries to keep (default 5).
	Representatives int
	// Now returns the generation time (default time.Now).
	Now func() time.Time
}

var _ lmsys.Summarizer = (*Offline)(nil)

// Model returns OfflineModel.
func (o *Offline) Model() string { return OfflineModel }

// PromptHash returns "" (the offline summarizer has no prompt).
func (o *Offline) PromptHash() string { return "" }

// Params returns the settings recorded on the summary run.
func (o *Offline) Params() map[string]any {
	return map[string]any{"method": "c-tf-idf", "keywords": o.keywords(), "representatives": o.reps()}
}

func (o *Offline) keywords() int {
	if o.Keywords > 0 {
		return o.Keywords
	}
	return 10
}

func (o *Offline) reps() int {
	if o.Representatives > 0 {
		return o.Representatives
	}
	return 5
}

// scored is one term with its c-TF-IDF score and the number of the cluster's queries
// holding it.
type scored struct {
	term   string
	phrase bool
	score  float64
	docs   int32
}

// termStats is the vocabulary shared by all clusters of one call.
type termStats struct {
	ids    map[string]int32
	terms  []string
	phrase []bool
	// total[t] is the number of (cluster, query) pairs holding term t over all clusters.
	total []float64
}

func (s *termStats) id(term string, phrase bool) int32 {
	if id, ok := s.ids[term]; ok {
		return id
	}
	id := int32(len(s.terms))
	s.ids[term] = id
	s.terms = append(s.terms, term)
	s.phrase = append(s.phrase, phrase)
	s.total = append(s.total, 0)
	return id
}

// Summarize names every cluster. Clusters without any query text get a Summary whose
// Error says so.
func (o *Offline) Summarize(ctx context.Context, clusters []lmsys.ClusterInput) ([]lmsys.Summary, error) {
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	st := &termStats{ids: make(map[string]int32, 1<<16)}
	counts := make([]map[int32]int32, len(clusters))
	sizes := make([]float64, len(clusters))
	// termDocs[c][q] lists the term ids of query q of cluster c, to measure coverage.
	var tok tokenizer
	var seen []int32 // seen[t] = stamp of the last query that held t
	stamp := int32(0)
	var phraseBuf []byte
	queryTerms := make([][][]int32, len(clusters))
	for ci, c := range clusters {
		if ci%16 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		m := make(map[int32]int32, 256)
		queryTerms[ci] = make([][]int32, len(c.Queries))
		for qi, q := range c.Queries {
			stamp++
			terms := tok.Terms(q)
			var held []int32
			add := func(id int32) {
				for int(id) >= len(seen) {
					seen = append(seen, 0)
				}
				if seen[id] == stamp {
					return
				}
				seen[id] = stamp
				m[id]++
				held = append(held, id)
			}
			for i, term := range terms {
				if term == breakTerm {
					continue
				}
				add(st.id(term, false))
				if i+1 < len(terms) && terms[i+1] != breakTerm && !isBigramTerm(term) && !isBigramTerm(terms[i+1]) && term != terms[i+1] {
					phraseBuf = append(append(append(phraseBuf[:0], term...), ' '), terms[i+1]...)
					add(st.id(string(phraseBuf), true))
				}
			}
			queryTerms[ci][qi] = held
		}
		counts[ci] = m
		for id, n := range m {
			st.total[id] += float64(n)
			sizes[ci] += float64(n)
		}
	}
	// A is the average number of term occurrences per cluster.
	var sumSizes float64
	for _, s := range sizes {
		sumSizes += s
	}
	avg := sumSizes / math.Max(1, float64(len(clusters)))

	out := make([]lmsys.Summary, len(clusters))
	gen := now().UTC()
	for ci, c := range clusters {
		s := lmsys.Summary{
			ClusterID:             c.ClusterID,
			NumQueries:            c.Size,
			RepresentativeQueries: firstN(c.Queries, o.reps()),
			Model:                 OfflineModel,
			Parameters:            map[string]any{"method": "c-tf-idf"},
			GeneratedAt:           gen,
		}
		if s.NumQueries == 0 {
			s.NumQueries = len(c.Queries)
		}
		minDocs := int32(1)
		if len(c.Queries) >= 4 {
			minDocs = 2
		}
		var ranked []scored
		for id, n := range counts[ci] {
			if n < minDocs {
				continue
			}
			tf := float64(n) / sizes[ci]
			idf := math.Log(1 + avg/st.total[id])
			ranked = append(ranked, scored{term: st.terms[id], phrase: st.phrase[id], score: tf * idf, docs: n})
		}
		if len(ranked) == 0 {
			// Too few shared terms: fall back to every term of the cluster.
			for id, n := range counts[ci] {
				tf := float64(n) / math.Max(1, sizes[ci])
				ranked = append(ranked, scored{term: st.terms[id], phrase: st.phrase[id], score: tf * math.Log(1+avg/st.total[id]), docs: n})
			}
		}
		sort.Slice(ranked, func(i, j int) bool {
			if ranked[i].score != ranked[j].score {
				return ranked[i].score > ranked[j].score
			}
			return ranked[i].term < ranked[j].term
		})
		if len(ranked) == 0 {
			s.Error = "no words to summarize: the cluster has no query text"
			s.Description = describeCounts(c)
			out[ci] = s
			continue
		}
		picked := pickTitleTerms(ranked, 3, 7)
		s.Title = titleOf(picked)
		s.Keywords = keywordsOf(ranked, o.keywords())
		s.Description = describe(picked, c)
		cov := coverage(picked, st, queryTerms[ci])
		s.Coherence = coherenceOf(cov)
		s.Mixed = cov < 0.35
		s.Parameters["coverage"] = math.Round(cov*1000) / 1000
		out[ci] = s
	}
	return out, nil
}

// pickTitleTerms takes the best-scoring terms, skipping a term whose words an earlier
// pick already holds (so "python" does not follow "python list"), up to maxTerms terms
// and about maxWords words.
func pickTitleTerms(ranked []scored, maxTerms, maxWords int) []scored {
	var picked []scored
	words := map[string]bool{}
	nWords := 0
	for _, r := range ranked {
		if len(picked) == maxTerms || nWords >= maxWords {
			break
		}
		parts := strings.Fields(r.term)
		covered := true
		for _, p := range parts {
			if !words[stem(p)] {
				covered = false
			}
		}
		if covered {
			continue
		}
		// A phrase scoring far below the best pick adds noise, not meaning.
		if len(picked) > 0 && r.score < picked[0].score*0.25 {
			break
		}
		// Drop an earlier single word that this phrase contains.
		kept := picked[:0]
		for _, p := range picked {
			if !p.phrase && r.phrase && containsWord(parts, stem(p.term)) {
				nWords--
				continue
			}
			kept = append(kept, p)
		}
		picked = append(kept, r)
		for _, p := range parts {
			words[stem(p)] = true
		}
		nWords += len(parts)
	}
	return picked
}

// containsWord reports whether one of parts has the stem w.
func containsWord(parts []string, w string) bool {
	for _, p := range parts {
		if stem(p) == w {
			return true
		}
	}
	return false
}

// stem folds the plural of a Latin-script word onto its singular ("alarms" → "alarm",
// "lights" → "light") so a title does not list both; other words are kept.
func stem(w string) string {
	if len(w) >= 4 && w[len(w)-1] == 's' && w[len(w)-2] != 's' && w[len(w)-2] != 'u' && w[len(w)-2] != 'i' {
		return w[:len(w)-1]
	}
	return w
}

// titleOf joins the picked terms: "Python list, dictionary, sort".
func titleOf(picked []scored) string {
	terms := make([]string, len(picked))
	for i, p := range picked {
		terms[i] = p.term
	}
	return clipWords(capitalize(strings.Join(terms, ", ")), 10)
}

func capitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

func clipWords(s string, n int) string {
	f := strings.Fields(s)
	if len(f) <= n {
		return s
	}
	return strings.TrimRight(strings.Join(f[:n], " "), ",")
}

// keywordsOf returns up to n terms, phrases and words interleaved by score.
func keywordsOf(ranked []scored, n int) []string {
	out := make([]string, 0, n)
	for _, r := range ranked {
		if len(out) == n {
			break
		}
		out = append(out, r.term)
	}
	return out
}

// coverage is the share of the cluster's queries holding at least one picked term.
func coverage(picked []scored, st *termStats, queries [][]int32) float64 {
	if len(queries) == 0 {
		return 0
	}
	want := map[int32]bool{}
	for _, p := range picked {
		want[st.ids[p.term]] = true
	}
	n := 0
	for _, q := range queries {
		for _, id := range q {
			if want[id] {
				n++
				break
			}
		}
	}
	return float64(n) / float64(len(queries))
}

// coherenceOf maps coverage to the 1–5 scale the LLM summarizer uses: a cluster whose
// queries all share its title terms scores 5, one where few do scores 1.
func coherenceOf(cov float64) int {
	c := int(math.Ceil(cov * 5))
	return max(1, min(5, c))
}

// describe writes two sentences: what the queries are about, and who asked them.
func describe(picked []scored, c lmsys.ClusterInput) string {
	terms := make([]string, len(picked))
	for i, p := range picked {
		terms[i] = "“" + p.term + "”"
	}
	first := "Queries about " + joinAnd(terms)
	if len(c.Queries) > 0 {
		first += ", such as “" + clipRunes(oneLine(c.Queries[0]), 90) + "”"
	}
	return first + ". " + describeCounts(c)
}

// describeCounts writes the sentence about size, languages and models.
func describeCounts(c lmsys.ClusterInput) string {
	n := c.Size
	if n == 0 {
		n = len(c.Queries)
	}
	var b strings.Builder
	b.WriteString(plural.Count(n, "query", "queries"))
	if langs := topShares(c.Languages, 2); langs != "" {
		b.WriteString(", mostly in " + langs)
	}
	if models := topShares(c.Models, 2); models != "" {
		b.WriteString(", sent to " + models)
	}
	b.WriteByte('.')
	return b.String()
}

// topShares renders the k largest counts as "English (80%) and Chinese (12%)".
func topShares(m map[string]int, k int) string {
	type kv struct {
		k string
		v int
	}
	var all []kv
	total := 0
	for key, v := range m {
		if key == "" || v <= 0 {
			continue
		}
		all = append(all, kv{key, v})
		total += v
	}
	if total == 0 {
		return ""
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].v != all[j].v {
			return all[i].v > all[j].v
		}
		return all[i].k < all[j].k
	})
	var parts []string
	for i := 0; i < len(all) && i < k; i++ {
		parts = append(parts, fmt.Sprintf("%s (%d%%)", all[i].k, int(math.Round(100*float64(all[i].v)/float64(total)))))
	}
	return joinAnd(parts)
}

func joinAnd(xs []string) string {
	switch len(xs) {
	case 0:
		return ""
	case 1:
		return xs[0]
	}
	return strings.Join(xs[:len(xs)-1], ", ") + " and " + xs[len(xs)-1]
}

func firstN(xs []string, n int) []string {
	if len(xs) > n {
		xs = xs[:n]
	}
	return append([]string(nil), xs...)
}

// oneLine collapses white space runs to single spaces.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// clipRunes shortens s to n runes, adding "…" when it cut.
func clipRunes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := 0
	for k := range s {
		if i == n {
			return strings.TrimSpace(s[:k]) + "…"
		}
		i++
	}
	return s
}
