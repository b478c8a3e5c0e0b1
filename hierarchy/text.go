package hierarchy

import (
	"math"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// stopwords are English function words and chat filler that carry no topic.
var stopwords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`
a about above after again against all also am an and any are as at be because been before being below
between both but by can could did do does doing done down during each either else etc even ever every
few for from further get gets getting got had has have having he her here hers herself him himself his
how i if in into is it its itself just let like make me more most much must my myself need no nor not
now of off on once one only or other our ours ourselves out over own please same she should so some
such than that the their theirs them themselves then there these they this those through to too under
until up upon us use used using very via want was way we well were what when where whether which while
who whom whose why will with within without would yes yet you your yours yourself yourselves
cluster clusters query queries user users ask asks asking asked request requests requesting related
various include includes including`) {
		m[w] = true
	}
	return m
}()

// tokens appends the lower-cased words of s (letters and digits, at least two
// characters, not all digits, not stopwords) to dst.
func tokens(dst []string, s string) []string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, " ")
	}
	start := -1
	flush := func(end int) {
		if start < 0 {
			return
		}
		w := strings.ToLower(s[start:end])
		start = -1
		if utf8.RuneCountInString(w) < 2 || stopwords[w] {
			return
		}
		digits := true
		for _, r := range w {
			if !unicode.IsDigit(r) {
				digits = false
				break
			}
		}
		if !digits {
			dst = append(dst, w)
		}
	}
	for i, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if start < 0 {
				start = i
			}
			continue
		}
		if r == '\'' || r == '’' {
			// "what's" → "what": drop the clitic with the word boundary.
			flush(i)
			continue
		}
		flush(i)
	}
	flush(len(s))
	return dst
}

// bag is a weighted multiset of terms (unigrams and "a b" bigrams).
type bag map[string]float64

// addText adds the unigrams and bigrams of s with weight w.
func (b bag) addText(s string, w float64) {
	ts := tokens(nil, s)
	for i, t := range ts {
		b[t] += w
		if i > 0 {
			b[ts[i-1]+" "+t] += w * 0.5
		}
	}
}

// addBag adds every term of o to b.
func (b bag) addBag(o bag) {
	for t, w := range o {
		b[t] += w
	}
}

// sampleTermWeight is the weight in a leaf's bag of a term that every sampled text
// holds; a term held by a share s of the texts weighs s·sampleTermWeight.
const sampleTermWeight = 20

// leafBag builds the term bag of a leaf from its summary (the title and keywords count
// twice, the description and the representative queries once) and, when the leaf
// carries sampled texts, from the share of those texts holding each term (a text
// repeating a term counts it once), so a leaf's terms weigh what they weigh in its
// queries rather than in the few that were picked to represent it.
func leafBag(l Leaf) bag {
	b := bag{}
	b.addText(l.Title, 2)
	for _, k := range l.Keywords {
		b.addText(k, 2)
	}
	b.addText(l.Description, 1)
	for _, q := range l.Queries {
		b.addText(q, 1)
	}
	if len(l.Texts) == 0 {
		return b
	}
	held := bag{}
	one := bag{}
	for _, t := range l.Texts {
		clear(one)
		one.addText(t, 1)
		for term := range one {
			held[term]++
		}
	}
	w := sampleTermWeight / float64(len(l.Texts))
	for term, n := range held {
		b[term] += n * w
	}
	return b
}

// sparse is a sorted sparse vector.
type sparse struct {
	idx []int32
	val []float32
}

func (a sparse) dot(b sparse) float64 {
	var s float64
	i, j := 0, 0
	for i < len(a.idx) && j < len(b.idx) {
		switch {
		case a.idx[i] == b.idx[j]:
			s += float64(a.val[i]) * float64(b.val[j])
			i++
			j++
		case a.idx[i] < b.idx[j]:
			i++
		default:
			j++
		}
	}
	return s
}

// tfidf turns bags into L2-normalised TF-IDF vectors with sublinear term frequency
// and smoothed inverse document frequency. Terms found in one bag only are kept:
// they cannot raise any similarity but keep the norms honest.
func tfidf(bags []bag) []sparse {
	df := map[string]int{}
	for _, b := range bags {
		for t := range b {
			df[t]++
		}
	}
	terms := make([]string, 0, len(df))
	for t := range df {
		terms = append(terms, t)
	}
	sort.Strings(terms)
	index := make(map[string]int32, len(terms))
	for i, t := range terms {
		index[t] = int32(i)
	}
	n := float64(len(bags))
	out := make([]sparse, len(bags))
	for i, b := range bags {
		v := sparse{idx: make([]int32, 0, len(b)), val: make([]float32, 0, len(b))}
		for t := range b {
			v.idx = append(v.idx, index[t])
		}
		sort.Slice(v.idx, func(a, c int) bool { return v.idx[a] < v.idx[c] })
		var norm float64
		for _, id := range v.idx {
			t := terms[id]
			w := (1 + math.Log(1+b[t])) * (math.Log((1+n)/(1+float64(df[t]))) + 1)
			v.val = append(v.val, float32(w))
			norm += w * w
		}
		if norm > 0 {
			inv := 1 / math.Sqrt(norm)
			for k := range v.val {
				v.val[k] = float32(float64(v.val[k]) * inv)
			}
		}
		out[i] = v
	}
	return out
}

// scoredTerm is a term with its c-TF-IDF score.
type scoredTerm struct {
	term  string
	score float64
}

// ctfidf ranks the terms of each class bag by class-based TF-IDF (BERTopic's
// formulation): tf(t, c) / |c| · log(1 + A / f(t)), with A the average class size in
// term weight and f(t) the term's total weight over all classes. It returns the top
// terms of each class, best first, ties broken alphabetically.
func ctfidf(classes []bag, top int) [][]scoredTerm {
	freq := map[string]float64{}
	var total float64
	sizes := make([]float64, len(classes))
	for i, b := range classes {
		for t, w := range b {
			freq[t] += w
			sizes[i] += w
		}
		total += sizes[i]
	}
	avg := total / math.Max(1, float64(len(classes)))
	out := make([][]scoredTerm, len(classes))
	for i, b := range classes {
		st := make([]scoredTerm, 0, len(b))
		for t, w := range b {
			if sizes[i] == 0 {
				continue
			}
			st = append(st, scoredTerm{t, w / sizes[i] * math.Log(1+avg/freq[t])})
		}
		sort.Slice(st, func(a, c int) bool {
			if st[a].score != st[c].score {
				return st[a].score > st[c].score
			}
			return st[a].term < st[c].term
		})
		out[i] = pickTerms(st, top)
	}
	return out
}

// pickTerms keeps the first top terms, skipping a unigram already inside a chosen
// bigram and a bigram sharing a word with a chosen term, so names do not repeat words.
func pickTerms(st []scoredTerm, top int) []scoredTerm {
	chosen := map[string]bool{}
	var out []scoredTerm
	for _, s := range st {
		if len(out) == top {
			break
		}
		if a, b, ok := strings.Cut(s.term, " "); ok {
			if a == b || chosen[a] || chosen[b] {
				continue
			}
		} else if chosen[s.term] {
			continue
		}
		chosen[s.term] = true
		if a, b, ok := strings.Cut(s.term, " "); ok {
			chosen[a], chosen[b] = true, true
		}
		out = append(out, s)
	}
	return out
}

// titleCase upper-cases the first letter of each word.
func titleCase(s string) string {
	words := strings.Fields(s)
	for i, w := range words {
		r, n := utf8.DecodeRuneInString(w)
		words[i] = string(unicode.ToUpper(r)) + w[n:]
	}
	return strings.Join(words, " ")
}

// Keywords returns the n most distinctive terms of each class of texts by class-based
// TF-IDF against the other classes: unigrams and bigrams of words of at least two
// letters, English stopwords removed, best first. Callers without a summarizer use it
// to give leaves keywords and titles.
func Keywords(classes [][]string, n int) [][]string {
	bags := make([]bag, len(classes))
	for i, texts := range classes {
		bags[i] = bag{}
		for _, t := range texts {
			bags[i].addText(t, 1)
		}
	}
	top := ctfidf(bags, n)
	out := make([][]string, len(classes))
	for i, ts := range top {
		out[i] = make([]string, len(ts))
		for j, t := range ts {
			out[i][j] = t.term
		}
	}
	return out
}
