package summarize

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
	"github.com/lmsys-go/lmsys/classify"
	"github.com/lmsys-go/lmsys/internal/plural"
	"github.com/lmsys-go/lmsys/internal/segment"
	"github.com/lmsys-go/lmsys/internal/themes"
	"github.com/lmsys-go/lmsys/internal/vec"
)

// OfflineModel is the model name recorded on summaries written by Offline.
const OfflineModel = "offline/c-tf-idf"

// Offline names clusters without a network. Its candidates are phrases of one to four
// words that really occur in a cluster's queries, never starting or ending with a
// function word of any of thirty languages (Chinese and Japanese segmented into
// words). It scores them with class-based TF-IDF over all the clusters it is given
// (BERTopic's c-TF-IDF) and re-ranks the best: when Embedder is set, by how well each
// would find its cluster as a search query among the queries of the cluster's nearest
// clusters (KeyBERT-like, against the neighbours), else by how many of the cluster's
// queries hold it. The title is the best phrase of two or more content words, or that
// phrase joined by "and" to a word or phrase of the same language when that finds
// clearly more of the cluster, or a longer phrase of the queries when the cluster
// shares no short one; it is capitalised as a title of its language. Keywords are
// picked by maximal marginal relevance, so no keyword repeats a word of the title or
// of another keyword. The description is built from the phrases, the cluster's share
// of the queries, its languages and a representative query. It is deterministic: the
// same inputs (and embedder) give the same summaries.
//
// Document frequency is counted per query (a query repeating a phrase counts it
// once), so one long pasted text cannot take over its cluster's name.
type Offline struct {
	// Keywords is how many keywords to keep per cluster (default 10).
	Keywords int
	// Representatives is how many representative queries to keep (default 5).
	Representatives int
	// Embedder, when set, re-ranks candidate phrases and titles by how well they find
	// their cluster's first queries (those nearest its centroid) among those of its
	// nearest clusters. Run sets it to the run's own embedder when that is a local one
	// and this is nil.
	Embedder lmsys.Embedder
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
	p := map[string]any{"method": offlineMethod, "keywords": o.keywords(), "representatives": o.reps()}
	if o.Embedder != nil {
		p["rerank_space"] = o.Embedder.Space().Name()
	}
	return p
}

// offlineMethod names the method on summaries and summary runs.
const offlineMethod = "c-tf-idf phrases, mmr"

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

const (
	// candidatesPerCluster is how many of a cluster's best c-TF-IDF phrases are
	// re-ranked.
	candidatesPerCluster = 30
	// centroidQueries is how many of a cluster's queries (nearest its centroid first)
	// make the centroid the phrases are compared with, each clipped to centroidRunes.
	centroidQueries = 12
	centroidRunes   = 300
	// sampleQueries is how many of each cluster's queries (nearest its centroid first)
	// a candidate phrase is searched against, with those of the cluster's
	// neighbourClusters nearest clusters.
	sampleQueries     = 20
	neighbourClusters = 8
	// marginWeight weighs a phrase's centroid margin against its search precision.
	marginWeight = 0.5
	// mmrLambda weighs relevance against redundancy when keywords are picked.
	mmrLambda = 0.7
)

// candidate is one phrase of one cluster.
type candidate struct {
	key     string // the words' Norm joined by spaces
	words   int    // words in the phrase
	content int    // of which not function words
	docs    int32  // queries of the cluster holding it
	ctfidf  float64
	rel     float64 // closeness to the centroid (or coverage), in [0, 1]
	score   float64
	vec     []float32
}

// clusterPhrases is what the first pass keeps of one cluster.
type clusterPhrases struct {
	counts  map[string]int32
	queries [][]string // each query's distinct content words (Norm), for coverage
	size    float64
}

// Summarize names every cluster. Clusters without any query text get a Summary whose
// Error says so.
func (o *Offline) Summarize(ctx context.Context, clusters []lmsys.ClusterInput) ([]lmsys.Summary, error) {
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	per, surfaces, err := countPhrases(ctx, clusters)
	if err != nil {
		return nil, err
	}
	total := map[string]float64{}
	for ci := range per {
		for k, n := range per[ci].counts {
			total[k] += float64(n)
		}
	}
	var sum float64
	for _, p := range per {
		sum += p.size
	}
	avg := sum / math.Max(1, float64(len(clusters)))

	// Rank each cluster's phrases by c-TF-IDF; keep the best for re-ranking.
	ranked := make([][]*candidate, len(clusters))
	for ci, c := range clusters {
		minDocs := int32(1)
		if len(c.Queries) >= 4 {
			minDocs = 2
		}
		var cs []*candidate
		for pass := 0; pass < 2 && len(cs) == 0; pass++ {
			for k, n := range per[ci].counts {
				if pass == 0 && n < minDocs {
					continue
				}
				words, content := segment.PhraseLen(k)
				cs = append(cs, &candidate{key: k, words: words, content: content, docs: n,
					ctfidf: float64(n) / math.Max(1, per[ci].size) * math.Log(1+avg/total[k])})
			}
		}
		sort.Slice(cs, func(i, j int) bool {
			if cs[i].ctfidf != cs[j].ctfidf {
				return cs[i].ctfidf > cs[j].ctfidf
			}
			return cs[i].key < cs[j].key
		})
		// The best single words and, apart, the best phrases of several content words:
		// words score higher by c-TF-IDF, yet a title is a phrase.
		singles, multi := splitBest(cs, candidatesPerCluster, candidatesPerCluster)
		ranked[ci] = append(singles, multi...)
	}
	srch, err := o.relevance(ctx, clusters, ranked, surfaces)
	if err != nil {
		return nil, err
	}
	picks, err := o.titles(ctx, clusters, ranked, per, surfaces, srch)
	if err != nil {
		return nil, err
	}

	var allQueries int
	for _, c := range clusters {
		allQueries += sizeOf(c)
	}
	out := make([]lmsys.Summary, len(clusters))
	gen := now().UTC()
	clumpUsed := map[string]bool{}
	for ci, c := range clusters {
		s := lmsys.Summary{
			ClusterID:             c.ClusterID,
			NumQueries:            sizeOf(c),
			RepresentativeQueries: firstN(c.Queries, o.reps()),
			Model:                 OfflineModel,
			Parameters:            map[string]any{"method": offlineMethod},
			GeneratedAt:           gen,
		}
		cs := ranked[ci]
		if len(cs) == 0 {
			s.Error = "no words to summarize: the cluster has no query text"
			s.Description = describeCounts(c)
			out[ci] = s
			continue
		}
		title := picks[ci]
		used := map[string]bool{}
		for _, p := range title.parts {
			markUsed(p.key, used)
		}
		keywords := pickKeywords(cs, used, o.keywords())
		s.Title = title.text
		for _, k := range keywords {
			s.Keywords = append(s.Keywords, surfaces.phrase(k.key))
		}
		if len(s.Keywords) < 3 {
			// Nothing else is shared: the title's own words are the keywords.
			for _, p := range title.parts {
				for _, w := range strings.Split(p.key, " ") {
					if !segment.IsStop(w) && len(s.Keywords) < o.keywords() {
						s.Keywords = append(s.Keywords, surfaces.word(w))
					}
				}
			}
		}
		cov := coverage(append(title.parts, keywords[:min(3, len(keywords))]...), per[ci].queries)
		s.Description = describe(title.text, s.Keywords, c, allQueries, len(clusters))
		if len(per[ci].queries) >= clumpMin && coverage(title.parts, per[ci].queries) < clumpCoverage {
			if kinds := themes.Shares(c.Queries); title.value < clumpFinds || noTopic(kinds) {
				if t, d := clumpTitle(c, kinds); t != "" && !clumpUsed[t] {
					clumpUsed[t] = true // a second such cluster keeps its phrase
					s.Title = t
					s.Description = d + " " + describe("", nil, c, allQueries, len(clusters))
				}
			}
		}
		s.Coherence = coherenceOf(cov)
		s.Mixed = cov < 0.35
		s.Parameters["coverage"] = math.Round(cov*1000) / 1000
		out[ci] = s
	}
	return out, nil
}

func sizeOf(c lmsys.ClusterInput) int {
	if c.Size > 0 {
		return c.Size
	}
	return len(c.Queries)
}

// countPhrases runs phrasesOf on every cluster, on as many goroutines as there are
// CPUs (at most four), each with its own surface counts, summed at the end.
func countPhrases(ctx context.Context, clusters []lmsys.ClusterInput) ([]clusterPhrases, surfaceCounts, error) {
	per := make([]clusterPhrases, len(clusters))
	workers := max(1, min(4, runtime.GOMAXPROCS(0), len(clusters)))
	parts := make([]surfaceCounts, workers)
	var wg sync.WaitGroup
	for w := range workers {
		parts[w] = surfaceCounts{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			var words []segment.Word
			for ci := w; ci < len(clusters); ci += workers {
				if ctx.Err() != nil {
					return
				}
				per[ci] = phrasesOf(clusters[ci].Queries, &words, parts[w])
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	surfaces := parts[0]
	for _, p := range parts[1:] {
		for norm, m := range p {
			to := surfaces[norm]
			if to == nil {
				to = map[string]int{}
				surfaces[norm] = to
			}
			for sf, n := range m {
				to[sf] += n
			}
		}
	}
	return per, surfaces, nil
}

// phrasesOf counts, per query, the candidate phrases of the queries: first the content
// words, then the phrases all of whose content words at least two queries hold (one,
// for clusters of fewer than four queries), which keeps the phrase table small on
// long texts.
func phrasesOf(queries []string, buf *[]segment.Word, surfaces surfaceCounts) clusterPhrases {
	p := clusterPhrases{counts: map[string]int32{}, queries: make([][]string, len(queries))}
	perQuery := make([][]segment.Word, len(queries))
	wordDocs := map[string]int32{}
	seen := map[string]bool{}
	for qi, q := range queries {
		ws := segment.Words((*buf)[:0], q)
		*buf = ws
		clear(seen)
		for _, w := range ws {
			if w.IsBreak() || w.Stop || seen[w.Norm] {
				continue
			}
			seen[w.Norm] = true
			wordDocs[w.Norm]++
			p.queries[qi] = append(p.queries[qi], w.Norm)
		}
		perQuery[qi] = append([]segment.Word(nil), ws...)
		surfaces.add(ws)
	}
	minDocs := int32(1)
	if len(queries) >= 4 {
		minDocs = 2
	}
	var key []byte
	var often []bool
	for _, ws := range perQuery {
		clear(seen)
		often = often[:0]
		for _, w := range ws {
			often = append(often, wordDocs[w.Norm] >= minDocs)
		}
		segment.Phrases(ws, func(i int) bool { return often[i] }, func(i, j int) {
			key = key[:0]
			for k := i; k < j; k++ {
				if k > i {
					key = append(key, ' ')
				}
				key = append(key, ws[k].Norm...)
			}
			if !seen[string(key)] {
				k := string(key)
				seen[k] = true
				p.counts[k]++
			}
		})
		// Rare words still count as single words, so a small cluster has a name.
		for _, w := range ws {
			if !w.IsBreak() && !w.Stop && wordDocs[w.Norm] < minDocs && !seen[w.Norm] {
				seen[w.Norm] = true
				p.counts[w.Norm]++
			}
		}
	}
	for _, n := range wordDocs {
		p.size += float64(n)
	}
	return p
}

// relevance sets every candidate's rel. When o.Embedder is set (one Embed call for
// all phrases and sample queries), it is how well a search with the phrase as the
// query would find its cluster: of the sample queries of the cluster and of its
// nearest clusters, the share of the phrase's nearest (as many as the cluster has
// samples) that are the cluster's own, plus a fraction of how much nearer the phrase
// is to its cluster's centroid than to the nearest other centroid (which orders
// phrases that find equally many). Without an embedder it is the share of the
// cluster's queries holding the phrase.
func (o *Offline) relevance(ctx context.Context, clusters []lmsys.ClusterInput, ranked [][]*candidate, surfaces surfaceCounts) (*searcher, error) {
	if o.Embedder == nil {
		for ci, cs := range ranked {
			n := math.Max(1, float64(len(clusters[ci].Queries)))
			for _, c := range cs {
				c.rel = float64(c.docs) / n
			}
		}
		return nil, nil
	}
	var texts []string
	for ci, cs := range ranked {
		for _, c := range cs {
			texts = append(texts, surfaces.phrase(c.key))
		}
		for _, q := range firstN(clusters[ci].Queries, sampleQueries) {
			texts = append(texts, clipRunes(oneLine(q), centroidRunes))
		}
	}
	if len(texts) == 0 {
		return nil, nil
	}
	vecs, err := o.embed(ctx, texts)
	if err != nil {
		return nil, err
	}
	d := 0
	for _, v := range vecs {
		d = max(d, len(v))
	}
	nc := len(ranked)
	srch := &searcher{d: d, cens: make([]float32, nc*d), samples: make([][]float32, nc), others: make([][]int, nc)}
	at := 0
	for ci, cs := range ranked {
		for _, c := range cs {
			c.vec = srch.row(vecs[at])
			at++
		}
		nq := len(firstN(clusters[ci].Queries, sampleQueries))
		srch.samples[ci] = make([]float32, 0, nq*d)
		cen := srch.cens[ci*d : (ci+1)*d]
		for k := 0; k < nq; k++ {
			r := srch.row(vecs[at+k])
			srch.samples[ci] = append(srch.samples[ci], r...)
			if k < centroidQueries {
				vec.Axpy(1, r, cen)
			}
		}
		vec.Normalize(cen)
		at += nq
	}
	// Each cluster's nearest others by centroid: those a search with its title competes
	// with.
	cc := make([]float32, nc*nc)
	vec.MatMulT(cc, srch.cens, nc, srch.cens, nc, d)
	for ci := range ranked {
		others := make([]int, 0, nc-1)
		for cj := 0; cj < nc; cj++ {
			if cj != ci && len(srch.samples[cj]) > 0 {
				others = append(others, cj)
			}
		}
		sort.Slice(others, func(a, b int) bool {
			if cc[ci*nc+others[a]] != cc[ci*nc+others[b]] {
				return cc[ci*nc+others[a]] > cc[ci*nc+others[b]]
			}
			return others[a] < others[b]
		})
		srch.others[ci] = others[:min(len(others), neighbourClusters)]
	}
	for ci, cs := range ranked {
		vs := make([][]float32, len(cs))
		for i, c := range cs {
			vs[i] = c.vec
		}
		for i, r := range srch.estimate(ci, vs) {
			cs[i].rel = r
		}
	}
	return srch, nil
}

// embed embeds texts with o.Embedder, checking it returned one vector per text.
func (o *Offline) embed(ctx context.Context, texts []string) ([][]float32, error) {
	vecs, err := o.Embedder.Embed(ctx, texts, lmsys.PurposeClustering)
	if err != nil {
		return nil, fmt.Errorf("summarize: offline re-ranking with %s: %w", o.Embedder.Space().Name(), err)
	}
	if len(vecs) != len(texts) {
		return nil, fmt.Errorf("summarize: offline re-ranking: %s returned %d vectors for %d texts", o.Embedder.Space().Name(), len(vecs), len(texts))
	}
	return vecs, nil
}

// searcher estimates how well a text, used as a search query, finds a cluster's
// queries among those of its nearest clusters.
type searcher struct {
	d       int
	cens    []float32   // unit centroids, one row per cluster
	samples [][]float32 // each cluster's unit sample vectors, row-major
	others  [][]int     // each cluster's nearest other clusters
}

// row returns v as a unit vector of the searcher's width (zero when it is not).
func (s *searcher) row(v []float32) []float32 {
	out := make([]float32, s.d)
	if len(v) == s.d {
		copy(out, v)
		vec.Normalize(out)
	}
	return out
}

// estimate scores each unit vector of vs as a search for cluster ci: of the samples
// of ci and of its nearest clusters, the share of the vector's nearest (as many as ci
// has samples) that are ci's own, plus marginWeight times how much nearer the vector
// is to ci's centroid than to the nearest other centroid (which orders vectors that
// find equally many).
func (s *searcher) estimate(ci int, vs [][]float32) []float64 {
	out := make([]float64, len(vs))
	d := s.d
	own := len(s.samples[ci]) / d
	if len(vs) == 0 || own == 0 {
		return out
	}
	pool := append([]float32(nil), s.samples[ci]...)
	for _, cj := range s.others[ci] {
		pool = append(pool, s.samples[cj]...)
	}
	np := len(pool) / d
	q := make([]float32, len(vs)*d)
	for i, v := range vs {
		copy(q[i*d:], v)
	}
	sims := make([]float32, len(vs)*np)
	vec.MatMulT(sims, q, len(vs), pool, np, d)
	top := make([]float32, np)
	for i, v := range vs {
		ss := sims[i*np : (i+1)*np]
		copy(top, ss)
		sort.Slice(top, func(a, b int) bool { return top[a] > top[b] })
		thr := top[min(own, np)-1]
		hits := 0
		for k := 0; k < own; k++ {
			if ss[k] >= thr {
				hits++
			}
		}
		other := -1.0
		for _, cj := range s.others[ci] {
			other = math.Max(other, dot(v, s.cens[cj*d:(cj+1)*d]))
		}
		margin := dot(v, s.cens[ci*d:(ci+1)*d])
		if other > -1 {
			margin -= other
		}
		out[i] = float64(min(hits, own))/float64(own) + marginWeight*margin
	}
	return out
}

func dot(a, b []float32) float64 {
	if len(a) != len(b) {
		return 0
	}
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

// score combines each candidate's c-TF-IDF (relative to the cluster's best) with its
// relevance (scaled to [0, 1] over the cluster's candidates, from 0 or below), equally.
func score(cs []*candidate) {
	maxT, minR, maxR := 0.0, math.Inf(1), math.Inf(-1)
	for _, c := range cs {
		maxT = math.Max(maxT, c.ctfidf)
		minR = math.Min(minR, c.rel)
		maxR = math.Max(maxR, c.rel)
	}
	minR = math.Min(minR, 0)
	for _, c := range cs {
		c.score = (1 - relWeight) * c.ctfidf / math.Max(maxT, 1e-12)
		if maxR > minR {
			c.score += relWeight * (c.rel - minR) / (maxR - minR)
		}
	}
	sort.SliceStable(cs, func(i, j int) bool {
		if cs[i].score != cs[j].score {
			return cs[i].score > cs[j].score
		}
		return cs[i].key < cs[j].key
	})
}

// splitBest returns, in cs's order, the first nWords candidates of one content word
// and the first nPhrases of two or more.
func splitBest(cs []*candidate, nWords, nPhrases int) (words, phrases []*candidate) {
	for _, c := range cs {
		if c.content >= 2 {
			if len(phrases) < nPhrases {
				phrases = append(phrases, c)
			}
		} else if len(words) < nWords {
			words = append(words, c)
		}
	}
	return words, phrases
}

// markUsed records the content words of a phrase key (plurals folded) in used.
func markUsed(key string, used map[string]bool) {
	for _, w := range strings.Split(key, " ") {
		if !segment.IsStop(w) {
			used[stem(w)] = true
		}
	}
}

func overlaps(key string, used map[string]bool) bool {
	for _, w := range strings.Split(key, " ") {
		if !segment.IsStop(w) && used[stem(w)] {
			return true
		}
	}
	return false
}

// pickKeywords picks up to n keywords by maximal marginal relevance: each next one
// maximises λ·score − (1−λ)·(its greatest embedding similarity to those picked),
// and none repeats a content word of the title or of an earlier keyword.
func pickKeywords(cs []*candidate, used map[string]bool, n int) []*candidate {
	var picked []*candidate
	left := append([]*candidate(nil), cs...)
	for len(picked) < n {
		bi, bv := -1, math.Inf(-1)
		for i, c := range left {
			if c == nil || overlaps(c.key, used) {
				continue
			}
			red := 0.0
			for _, p := range picked {
				red = math.Max(red, dot(c.vec, p.vec))
			}
			v := mmrLambda*c.score - (1-mmrLambda)*red
			if v > bv {
				bi, bv = i, v
			}
		}
		if bi < 0 {
			break
		}
		c := left[bi]
		left[bi] = nil
		picked = append(picked, c)
		markUsed(c.key, used)
	}
	return picked
}

// stem folds the plural of a Latin-script word onto its singular ("alarms" → "alarm",
// "lights" → "light") so a title and its keywords do not list both; other words are
// kept.
func stem(w string) string {
	if len(w) >= 4 && w[len(w)-1] == 's' && w[len(w)-2] != 's' && w[len(w)-2] != 'u' && w[len(w)-2] != 'i' {
		return w[:len(w)-1]
	}
	return w
}

// surfaceCounts counts how each word is written where case says something about it
// (not at the start of a text or sentence), so "python" is written "Python" and "sql"
// "SQL" when the queries mostly write them so.
type surfaceCounts map[string]map[string]int

func (s surfaceCounts) add(ws []segment.Word) {
	for _, w := range ws {
		if w.IsBreak() || w.Stop || w.Surface == w.Norm && w.Start {
			continue
		}
		if w.Start {
			// At a sentence start only an all-capitals or inner-capital form is telling.
			if !segment.InnerCapital(w.Surface) {
				continue
			}
		}
		m := s[w.Norm]
		if m == nil {
			m = map[string]int{}
			s[w.Norm] = m
		}
		m[w.Surface]++
	}
}

// word returns the commonest way of writing norm (ties: the lower-case form, then
// alphabetically).
func (s surfaceCounts) word(norm string) string {
	best, bn := norm, s[norm][norm]
	for sf, n := range s[norm] {
		if n > bn || n == bn && sf != best && best != norm && sf < best {
			best, bn = sf, n
		}
	}
	return best
}

// phrase writes a phrase key as text.
func (s surfaceCounts) phrase(key string) string {
	ws := strings.Split(key, " ")
	for i, w := range ws {
		ws[i] = s.word(w)
	}
	return segment.Join(ws)
}

// dominant returns the language with the most queries ("" when none is known).
func dominant(langs map[string]int) string {
	best, bn := "", 0
	for l, n := range langs {
		if n > bn || n == bn && l < best {
			best, bn = l, n
		}
	}
	return best
}

// coverage is the share of the cluster's queries holding every content word of at
// least one of the phrases.
func coverage(phrases []*candidate, queries [][]string) float64 {
	if len(queries) == 0 {
		return 0
	}
	var need [][]string
	for _, p := range phrases {
		var ws []string
		for _, w := range strings.Split(p.key, " ") {
			if !segment.IsStop(w) {
				ws = append(ws, w)
			}
		}
		need = append(need, ws)
	}
	n := 0
	for _, q := range queries {
		for _, ws := range need {
			if holdsAll(q, ws) {
				n++
				break
			}
		}
	}
	return float64(n) / float64(len(queries))
}

const (
	// clumpMin and clumpCoverage: a cluster of at least clumpMin sample queries whose
	// best title is held by fewer than clumpCoverage of them shares no topic, and is
	// named by its language instead (clumpTitle).
	clumpMin      = 6
	clumpCoverage = 0.15
	// clumpFinds and clumpOneKind: a title that finds its cluster this well as a search
	// query (its estimated precision) is kept when one kind of request other than
	// greetings holds clumpOneKind of the queries: the cluster has a topic its phrase
	// misses. Without one the phrase finds the cluster only by its language.
	clumpFinds   = 0.5
	clumpOneKind = 0.35
	// clumpKind is the share of its queries that must be greetings for such a cluster
	// to be named so, and clumpLanguage the share of one language for the cluster to
	// be named in it.
	clumpKind     = 0.5
	clumpLanguage = 0.6
)

// clumpTitle names a cluster whose queries share no phrase and that is not mostly in
// English: by its language ("Peticiones variadas en español") or languages ("Mixed
// requests in Chinese and Japanese"), since an English-first encoder puts text of one
// language on unrelated topics together. Greetings and tests, in any language, are
// "Chit-chat and test messages". It returns "" otherwise, and else a sentence on the kinds
// of request the cluster holds for the description.
// shares is the share of the cluster's queries of each kind (themes.Shares).
func clumpTitle(c lmsys.ClusterInput, shares []float64) (string, string) {
	kinds := themes.Top(shares, 0.1, 3)
	langs := clusterLanguages(c)
	codes := themes.Ranked(langs, 0.15, 2)
	var parts []string
	for _, k := range kinds {
		parts = append(parts, fmt.Sprintf("%s %d%%", strings.ToLower(themes.All[k].Name), int(math.Round(100*shares[k]))))
	}
	d := "Its queries share no topic"
	if len(parts) > 0 {
		d += "; kinds of request: " + strings.Join(parts, ", ")
	}
	d += "."
	if len(kinds) > 0 && shares[kinds[0]] >= clumpKind && themes.All[kinds[0]].Alone != "" {
		return themes.Title(kinds[0]), d // greetings and tests, in any language
	}
	switch {
	case len(codes) == 0 || codes[0] == "en":
		// Mostly English text of no shared topic keeps its best phrase: the phrase
		// still finds more of it than a kind of request does.
		return "", ""
	case langs[codes[0]] >= clumpLanguage:
		return themes.LanguageTitle(codes[0]), d
	}
	return themes.LanguageTitle(codes...), d
}

// noTopic reports whether no kind of request holds clumpOneKind of a cluster's queries
// (sh, as themes.Shares gives them), or the commonest is greetings and tests.
func noTopic(sh []float64) bool {
	top := themes.Top(sh, 0, 1)
	return len(top) == 0 || sh[top[0]] < clumpOneKind || themes.All[top[0]].Alone != ""
}

// clusterLanguages returns the share of a cluster's queries in each language: from
// its language column when it has one, else detected in its sample queries.
func clusterLanguages(c lmsys.ClusterInput) map[string]float64 {
	total := 0
	out := map[string]float64{}
	for name, n := range c.Languages {
		if code := classify.LanguageCode(name); code != "" && code != classify.Undetermined && n > 0 {
			out[code] += float64(n)
			total += n
		}
	}
	if total == 0 {
		return themes.Languages(c.Queries, 50)
	}
	for k := range out {
		out[k] /= float64(total)
	}
	return out
}

// coherenceOf maps coverage to the 1–5 scale the LLM summarizer uses: a cluster whose
// queries all share its title terms scores 5, one where few do scores 1.
func coherenceOf(cov float64) int {
	c := int(math.Ceil(cov * 5))
	return max(1, min(5, c))
}

// describe writes two sentences: what the cluster is about (its title and two more
// keywords) with its share of the queries, languages and models; then a typical
// query. Without a title it starts from the count.
func describe(titleText string, keywords []string, c lmsys.ClusterInput, allQueries, nClusters int) string {
	var b strings.Builder
	b.WriteString(titleText)
	if len(keywords) > 0 {
		b.WriteString(", with " + joinAnd(keywords[:min(2, len(keywords))]))
	}
	n := sizeOf(c)
	if titleText != "" {
		b.WriteString(": ")
		b.WriteString(plural.Count(n, "query", "queries"))
	} else {
		b.WriteString(segment.Capitalize(plural.Count(n, "query", "queries")))
	}
	if nClusters > 1 && allQueries > 0 {
		fmt.Fprintf(&b, " (%s of those summarised)", percent(n, allQueries))
	}
	if langs := topShares(c.Languages, 2); langs != "" {
		b.WriteString(", mostly in " + langs)
	}
	if models := topShares(c.Models, 2); models != "" {
		b.WriteString(", sent to " + models)
	}
	b.WriteByte('.')
	if len(c.Queries) > 0 {
		b.WriteString(" A typical one: “" + clipRunes(oneLine(c.Queries[0]), 90) + "”")
	}
	return b.String()
}

func percent(n, total int) string {
	p := 100 * float64(n) / float64(total)
	if p < 1 {
		return fmt.Sprintf("%.1f%%", p)
	}
	return fmt.Sprintf("%d%%", int(math.Round(p)))
}

// describeCounts writes the sentence about size, languages and models.
func describeCounts(c lmsys.ClusterInput) string {
	var b strings.Builder
	b.WriteString(plural.Count(sizeOf(c), "query", "queries"))
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

// relWeight is the share of a candidate's score that its relevance makes up, against
// its c-TF-IDF. Measured with `bench titles` (README): more weight on how well a phrase
// would find its own cluster raises title precision@20.
const relWeight = 0.9
