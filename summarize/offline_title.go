package summarize

import (
	"context"
	"math"
	"sort"
	"strings"
	"unicode"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/internal/segment"
	"github.com/lmsys-go/lmsys/internal/stopwords"
)

// title is a proposed name and the phrases it is made of.
type title struct {
	text  string
	parts []*candidate
	value float64
}

const (
	// titlePhrases and titleWords are how many of a cluster's best phrases (of two or
	// more content words) and single words a title is made from.
	titlePhrases = 5
	titleWords   = 4
	// titleMaxWords is the longest title of two joined parts.
	titleMaxWords = 6
	// pairCost is what a title of two parts must gain, in estimated search precision,
	// over one phrase alone: one phrase reads better.
	pairCost = 0.1
	// scoreWeight weighs a title's phrase score (c-TF-IDF and relevance) against how
	// well it finds its cluster.
	scoreWeight = 0.2
)

// titles picks each cluster's title among its best phrase, the phrase joined by the
// language's "and" to a word or phrase that finds more of the cluster, and, when no
// phrase of two content words is shared, a longer phrase from the queries holding the
// best word. Two bare words joined by "and" ("Code and output"), a keyword list in
// disguise, are the last resort. Titles are estimated by how well they would find their
// cluster as a search query: with the searcher when there is one (one Embed call for
// all), else by the share of the cluster's queries holding a part's content words.
func (o *Offline) titles(ctx context.Context, clusters []lmsys.ClusterInput, ranked [][]*candidate, per []clusterPhrases, surfaces surfaceCounts, srch *searcher) ([]title, error) {
	opts := make([][]title, len(ranked))
	for ci, cs := range ranked {
		if len(cs) == 0 {
			continue
		}
		score(cs)
		opts[ci] = titleOptions(cs, clusters[ci], andLanguage(clusters[ci].Languages), surfaces, newLangOf(clusters[ci].Queries, per[ci].queries))
	}
	if srch != nil {
		var texts []string
		for _, os := range opts {
			for _, t := range os {
				texts = append(texts, t.text)
			}
		}
		if len(texts) > 0 {
			vecs, err := o.embed(ctx, texts)
			if err != nil {
				return nil, err
			}
			at := 0
			for ci, os := range opts {
				vs := make([][]float32, len(os))
				for i := range os {
					vs[i] = srch.row(vecs[at])
					at++
				}
				for i, e := range srch.estimate(ci, vs) {
					os[i].value = e
				}
			}
		}
	} else {
		for ci, os := range opts {
			for i := range os {
				os[i].value = coverage(os[i].parts, per[ci].queries)
			}
		}
	}
	out := make([]title, len(ranked))
	for ci, os := range opts {
		best := -1
		bv := math.Inf(-1)
		for i, t := range os {
			v := t.value - pairCost*float64(len(t.parts)-1)
			for _, p := range t.parts {
				v += scoreWeight * p.score / float64(len(t.parts))
			}
			if bare(t) {
				v -= 1
			}
			if v > bv {
				best, bv = i, v
			}
		}
		if best >= 0 {
			out[ci] = os[best]
		}
	}
	return out, nil
}

// bare reports whether t is single words joined by "and".
func bare(t title) bool {
	if len(t.parts) < 2 {
		return false
	}
	for _, p := range t.parts {
		if p.words > 1 {
			return false
		}
	}
	return true
}

// titleOptions proposes the titles of one cluster from its scored candidates cs.
func titleOptions(cs []*candidate, c lmsys.ClusterInput, lang string, surfaces surfaceCounts, langOf *langOf) []title {
	var out []title
	words, phrases := splitBest(cs, titleWords, titlePhrases)
	if len(phrases) == 0 && len(words) > 0 {
		phrases = longPhrases(c.Queries, words[0])
	}
	one := func(p *candidate) title {
		return title{text: segment.Capitalize(surfaces.phrase(p.key)), parts: []*candidate{p}}
	}
	two := func(a, b *candidate) (title, bool) {
		x, y := surfaces.phrase(a.key), surfaces.phrase(b.key)
		if scriptOf(x) != scriptOf(y) || !langOf.same(a.key, b.key) {
			return title{}, false
		}
		return title{text: segment.Capitalize(x + " " + segment.And(lang, x) + " " + y), parts: []*candidate{a, b}}, true
	}
	add := func(t title, ok bool) {
		if ok {
			out = append(out, t)
		}
	}
	for _, p := range phrases {
		out = append(out, one(p))
	}
	seconds := append(append([]*candidate(nil), words...), phrases...)
	for i, p := range phrases[:min(3, len(phrases))] {
		used := map[string]bool{}
		markUsed(p.key, used)
		for _, q := range seconds {
			if q == p || overlaps(q.key, used) || p.words+q.words+1 > titleMaxWords {
				continue
			}
			if q.content >= 2 && indexOf(phrases, q) < i {
				continue // the pair in the other order is proposed already
			}
			if q.score > p.score {
				add(two(q, p))
			} else {
				add(two(p, q))
			}
		}
	}
	if len(out) == 0 && len(words) > 0 {
		out = append(out, one(words[0]))
		for _, w := range words[1:] {
			if !overlaps(w.key, map[string]bool{stem(words[0].key): true}) {
				add(two(words[0], w))
				break
			}
		}
	}
	return out
}

func indexOf(cs []*candidate, c *candidate) int {
	for i, x := range cs {
		if x == c {
			return i
		}
	}
	return -1
}

// longPhrase bounds the phrases longPhrases proposes.
const (
	longPhraseWords = 6
	longPhraseStops = 3
	longPhrases3    = 3
)

// longPhrases returns up to three phrases of the queries that hold the word w: spans of
// two to longPhraseWords words with at most longPhraseStops function words, starting
// and ending on a content word, those most queries hold first (then the shorter). A
// cluster whose queries share no phrase of two content words is named by one of them
// rather than by two bare words.
func longPhrases(queries []string, w *candidate) []*candidate {
	docs := map[string]int32{}
	var ws []segment.Word
	for _, q := range queries {
		ws = segment.Words(ws[:0], q)
		seen := map[string]bool{}
		segment.Spans(ws, longPhraseWords, longPhraseStops, func(i, j int) {
			if j-i < 2 {
				return
			}
			norms := make([]string, 0, j-i)
			has := false
			for _, x := range ws[i:j] {
				norms = append(norms, x.Norm)
				has = has || x.Norm == w.key
			}
			k := strings.Join(norms, " ")
			if !has || seen[k] {
				return
			}
			seen[k] = true
			docs[k]++
		})
	}
	var out []*candidate
	for k, n := range docs {
		words, content := segment.PhraseLen(k)
		out = append(out, &candidate{key: k, words: words, content: content, docs: n, score: w.score})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].docs != out[j].docs {
			return out[i].docs > out[j].docs
		}
		if out[i].words != out[j].words {
			return out[i].words < out[j].words
		}
		return out[i].key < out[j].key
	})
	return out[:min(len(out), longPhrases3)]
}

// andLanguage is the language whose "and" joins two title parts: the cluster's
// dominant language when it holds most of its queries, else English ("").
func andLanguage(langs map[string]int) string {
	total := 0
	for _, n := range langs {
		total += n
	}
	l := dominant(langs)
	if total == 0 || float64(langs[l]) < 0.6*float64(total) {
		return ""
	}
	return l
}

// scriptOf names the script of the first letter of s: two title parts are joined only
// when they are written in one script.
func scriptOf(s string) string {
	for _, r := range s {
		if !unicode.IsLetter(r) {
			continue
		}
		for _, name := range []string{"Latin", "Cyrillic", "Greek", "Arabic", "Hebrew", "Hangul", "Han", "Hiragana", "Katakana", "Thai", "Devanagari"} {
			if unicode.Is(unicode.Scripts[name], r) {
				if name == "Hiragana" || name == "Katakana" {
					return "Japanese"
				}
				return name
			}
		}
		return "other"
	}
	return ""
}

// langOf guesses the language of a phrase from the function words of the cluster's
// queries that hold it, so the two parts of a title are of one language.
type langOf struct {
	texts   []string
	content [][]string // each query's content words
	guess   map[int]string
	memo    map[string]string
}

func newLangOf(texts []string, content [][]string) *langOf {
	return &langOf{texts: texts, content: content, guess: map[int]string{}, memo: map[string]string{}}
}

// langQueries is how many of a phrase's queries its language is guessed from.
const langQueries = 8

// of returns the language most of the (first langQueries) queries holding every
// content word of key are in, "" when unknown.
func (l *langOf) of(key string) string {
	if g, ok := l.memo[key]; ok {
		return g
	}
	var need []string
	for _, w := range strings.Split(key, " ") {
		if !segment.IsStop(w) {
			need = append(need, w)
		}
	}
	votes := map[string]int{}
	seen := 0
	for qi, ws := range l.content {
		if seen == langQueries || qi >= len(l.texts) {
			break
		}
		if !holdsAll(ws, need) {
			continue
		}
		seen++
		g, ok := l.guess[qi]
		if !ok {
			var norms []string
			for _, w := range segment.Words(nil, l.texts[qi]) {
				if w.Stop {
					norms = append(norms, w.Norm)
				}
			}
			g = stopwords.Guess(norms)
			l.guess[qi] = g
		}
		if g != "" {
			votes[g]++
		}
	}
	g := dominant(votes)
	l.memo[key] = g
	return g
}

// same reports whether phrases a and b are of one language (or either is unknown).
func (l *langOf) same(a, b string) bool {
	x, y := l.of(a), l.of(b)
	return x == "" || y == "" || x == y
}

func holdsAll(ws, need []string) bool {
	for _, n := range need {
		found := false
		for _, w := range ws {
			if w == n {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
