// Package fulltext is an in-memory BM25 index of query texts, for servers that answer
// many full-text searches.
//
// The store answers full-text searches with SQLite FTS5 (or PostgreSQL's text search),
// which is persistent and needs no warm-up, but ranks by calling bm25() for every
// matching row: a common word in 100,000 queries matches 10,000 of them and costs
// ~5 ms of CPU per search, so 50 concurrent clients queue for seconds. This index keeps
// the postings in memory and ranks them in a tight loop (~0.1 ms for the same search).
// It scores with the same formula and constants as FTS5's bm25() (k1 = 1.2,
// b = 0.75, idf = ln((N − n + 0.5)/(n + 0.5)), at least 1e-6) and tokenises like its
// unicode61 tokenizer with remove_diacritics 2, so both paths rank alike.
//
// Documents are added in increasing id order (queries' ids); a search matches
// documents containing every word of the text, each word as a prefix ("alarm" also
// matches "alarms"), as an FTS5 prefix query "alarm"* does: a word's frequency in a
// document counts every token it begins, and its idf the documents holding one.
package fulltext

import (
	"container/heap"
	"math"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// BM25 constants, as FTS5's bm25().
const (
	k1 = 1.2
	b  = 0.75
)

// Hit is one search result; higher Score is better.
type Hit struct {
	ID    int64
	Score float64
}

// postings are the documents (ordinals, ascending) holding one term and the term's
// frequency in each.
type postings struct {
	docs []uint32
	tfs  []uint8
}

// Index is an in-memory BM25 index. It is safe for concurrent use: searches run in
// parallel, additions exclusively.
type Index struct {
	mu       sync.RWMutex
	terms    map[string]int32 // term → index in lists
	lists    []postings
	ids      []int64  // ordinal → document id
	lens     []uint16 // ordinal → tokens in the document (saturating)
	totalLen int64
	lastHash string // caller's fingerprint of the last document added

	// scratch for Add, guarded by mu (write): term frequencies of one document.
	counts map[int32]int
	order  []int32

	// sorted holds the terms in order, for prefix lookups; rebuilt by the first search
	// after an Add (sortMu guards it while searches share mu).
	sortMu sync.Mutex
	sorted []string
	// unions caches prefixPostings' merged lists of prefixes that begin several
	// terms ("a" begins thousands): a server asked the same words again reuses them
	// instead of merging the lists on every search. Add empties it; sortMu guards it.
	unions map[string]*postings
}

// maxUnions bounds the cached prefix unions.
const maxUnions = 256

// New returns an empty index.
func New() *Index {
	return &Index{terms: map[string]int32{}, counts: map[int32]int{}}
}

// Len returns the number of documents.
func (ix *Index) Len() int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return len(ix.ids)
}

// Last returns the id of the last document added (0 when empty) and the fingerprint
// given with it.
func (ix *Index) Last() (id int64, fingerprint string) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if len(ix.ids) == 0 {
		return 0, ""
	}
	return ix.ids[len(ix.ids)-1], ix.lastHash
}

// Terms returns the number of distinct terms.
func (ix *Index) Terms() int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return len(ix.lists)
}

// Doc is one document to add.
type Doc struct {
	// ID is the document's id (a query id), greater than every id added before.
	ID int64
	// Text is tokenised with Tokenize.
	Text string
	// Fingerprint identifies the document's content (the store's text hash); Last
	// returns the last one, so a caller can tell its source was replaced.
	Fingerprint string
}

// Add appends documents whose ids are greater than every id already added; others
// are skipped and counted in the result.
func (ix *Index) Add(docs []Doc) (skipped int) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.sortMu.Lock()
	ix.unions = nil
	ix.sortMu.Unlock()
	for _, d := range docs {
		if n := len(ix.ids); n > 0 && d.ID <= ix.ids[n-1] {
			skipped++
			continue
		}
		ix.add(d)
	}
	return skipped
}

func (ix *Index) add(d Doc) {
	ord := uint32(len(ix.ids))
	clear(ix.counts)
	ix.order = ix.order[:0]
	n := 0
	Tokenize(d.Text, func(tok []byte) {
		n++
		li, ok := ix.terms[string(tok)] // a lookup by converted bytes does not allocate
		if !ok {
			li = int32(len(ix.lists))
			ix.terms[string(tok)] = li
			ix.lists = append(ix.lists, postings{})
		}
		if c, ok := ix.counts[li]; ok {
			ix.counts[li] = c + 1
			return
		}
		ix.counts[li] = 1
		ix.order = append(ix.order, li)
	})
	for _, li := range ix.order {
		p := &ix.lists[li]
		p.docs = append(p.docs, ord)
		p.tfs = append(p.tfs, uint8(min(ix.counts[li], math.MaxUint8)))
	}
	if len(ix.sorted) != len(ix.terms) {
		ix.sorted = nil // new terms: rebuilt by the next search
	}
	ix.ids = append(ix.ids, d.ID)
	ix.lens = append(ix.lens, uint16(min(n, math.MaxUint16)))
	ix.totalLen += int64(n)
	ix.lastHash = d.Fingerprint
}

// Search returns up to k documents containing every word of text, best first (ties
// by ascending id). accept, when not nil, is asked about each document that would
// enter the results and can reject it. A text without words matches nothing.
func (ix *Index) Search(text string, k int, accept func(id int64) bool) []Hit {
	if k <= 0 {
		return nil
	}
	words := distinctWords(text)
	if len(words) == 0 {
		return nil
	}
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	n := len(ix.ids)
	if n == 0 {
		return nil
	}
	lists := make([]*postings, len(words))
	idf := make([]float64, len(words))
	for i, w := range words {
		lists[i] = ix.prefixPostings(w)
		if lists[i] == nil {
			return nil
		}
		nt := float64(len(lists[i].docs))
		idf[i] = math.Log((float64(n) - nt + 0.5) / (nt + 0.5))
		if idf[i] <= 0 {
			idf[i] = 1e-6
		}
	}
	// Walk the shortest list; find the document in the others by galloping forward.
	order := make([]int, len(lists))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return len(lists[a].docs) - len(lists[b].docs) })
	pos := make([]int, len(lists))
	avg := float64(ix.totalLen) / float64(n)
	top := &hitHeap{}
	first := lists[order[0]]
docs:
	for j, doc := range first.docs {
		score := 0.0
		for _, li := range order {
			p := lists[li]
			var tf uint8
			if p == first {
				tf = first.tfs[j]
			} else {
				at, ok := seek(p.docs, pos[li], doc)
				pos[li] = at
				if !ok {
					if at >= len(p.docs) {
						break docs
					}
					continue docs
				}
				tf = p.tfs[at]
			}
			f := float64(tf)
			score += idf[li] * f * (k1 + 1) / (f + k1*(1-b+b*float64(ix.lens[doc])/avg))
		}
		h := Hit{ID: ix.ids[doc], Score: score}
		if top.Len() == k && !better(h, (*top)[0]) {
			continue
		}
		if accept != nil && !accept(h.ID) {
			continue
		}
		if top.Len() < k {
			heap.Push(top, h)
		} else {
			(*top)[0] = h
			heap.Fix(top, 0)
		}
	}
	out := make([]Hit, top.Len())
	for i := len(out) - 1; i >= 0; i-- {
		out[i] = heap.Pop(top).(Hit)
	}
	return out
}

// distinctWords returns the words of text, each once, in order.
func distinctWords(text string) []string {
	var words []string
	Tokenize(text, func(tok []byte) {
		if !slices.Contains(words, string(tok)) {
			words = append(words, string(tok))
		}
	})
	return words
}

// Count returns how many documents contain every word of text (as prefixes, as
// Search matches them) and are accepted by accept (all when nil).
func (ix *Index) Count(text string, accept func(id int64) bool) int {
	words := distinctWords(text)
	if len(words) == 0 {
		return 0
	}
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	lists := make([]*postings, len(words))
	for i, w := range words {
		if lists[i] = ix.prefixPostings(w); lists[i] == nil {
			return 0
		}
	}
	slices.SortFunc(lists, func(a, b *postings) int { return len(a.docs) - len(b.docs) })
	pos := make([]int, len(lists))
	n := 0
docs:
	for _, doc := range lists[0].docs {
		for li := 1; li < len(lists); li++ {
			at, ok := seek(lists[li].docs, pos[li], doc)
			pos[li] = at
			if !ok {
				if at >= len(lists[li].docs) {
					break docs
				}
				continue docs
			}
		}
		if accept == nil || accept(ix.ids[doc]) {
			n++
		}
	}
	return n
}

// prefixPostings returns the postings of every term beginning with w: the term's own
// when it is the only one, else their union with the frequencies summed (nil when
// no term begins with w). The caller holds mu for reading.
func (ix *Index) prefixPostings(w string) *postings {
	ix.sortMu.Lock()
	if len(ix.sorted) != len(ix.terms) {
		ix.sorted = make([]string, 0, len(ix.terms))
		for t := range ix.terms {
			ix.sorted = append(ix.sorted, t)
		}
		slices.Sort(ix.sorted)
	}
	sorted := ix.sorted
	ix.sortMu.Unlock()
	lo, _ := slices.BinarySearch(sorted, w)
	hi := lo
	for hi < len(sorted) && strings.HasPrefix(sorted[hi], w) {
		hi++
	}
	switch hi - lo {
	case 0:
		return nil
	case 1:
		return &ix.lists[ix.terms[sorted[lo]]]
	}
	ix.sortMu.Lock()
	cached := ix.unions[w]
	ix.sortMu.Unlock()
	if cached != nil {
		return cached
	}
	out := ix.union(sorted[lo:hi])
	ix.sortMu.Lock()
	if ix.unions == nil || len(ix.unions) >= maxUnions {
		ix.unions = map[string]*postings{}
	}
	ix.unions[w] = out
	ix.sortMu.Unlock()
	return out
}

// union merges the postings of terms, summing their frequencies.
func (ix *Index) union(terms []string) *postings {
	tf := map[uint32]int{}
	for _, t := range terms {
		p := &ix.lists[ix.terms[t]]
		for j, d := range p.docs {
			tf[d] += int(p.tfs[j])
		}
	}
	out := &postings{docs: make([]uint32, 0, len(tf)), tfs: make([]uint8, 0, len(tf))}
	for d := range tf {
		out.docs = append(out.docs, d)
	}
	slices.Sort(out.docs)
	for _, d := range out.docs {
		out.tfs = append(out.tfs, uint8(min(tf[d], math.MaxUint8)))
	}
	return out
}

// seek returns the first index at or after from whose document is ≥ doc, and
// whether it is doc.
func seek(docs []uint32, from int, doc uint32) (int, bool) {
	// Gallop, then binary search the last step.
	step := 1
	lo := from
	hi := from
	for hi < len(docs) && docs[hi] < doc {
		lo = hi + 1
		hi += step
		step *= 2
	}
	hi = min(hi+1, len(docs)) // docs[hi] may be doc itself
	i, ok := slices.BinarySearch(docs[lo:hi], doc)
	return lo + i, ok
}

// better orders hits: higher score, then lower id.
func better(a, b Hit) bool {
	if a.Score != b.Score {
		return a.Score > b.Score
	}
	return a.ID < b.ID
}

// hitHeap is a min-heap of the best hits: the worst at the root.
type hitHeap []Hit

func (h hitHeap) Len() int           { return len(h) }
func (h hitHeap) Less(i, j int) bool { return better(h[j], h[i]) }
func (h hitHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *hitHeap) Push(x any)        { *h = append(*h, x.(Hit)) }
func (h *hitHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// Tokenize calls fn with each token of text: maximal runs of letters, digits and
// private-use characters, lower-cased, with the diacritics of Latin letters removed
// (as FTS5's unicode61 tokenizer with remove_diacritics 2). Unlike FTS5, combining
// marks inside a word (the vowel signs of Devanagari, say) stay in it instead of
// splitting it. The slice is reused between calls. Invalid UTF-8 bytes separate
// tokens.
func Tokenize(text string, fn func(tok []byte)) {
	var buf [64]byte
	tok := buf[:0]
	for i := 0; i < len(text); {
		r, size := rune(text[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(text[i:])
		}
		i += size
		switch {
		case r < utf8.RuneSelf:
			c := byte(r)
			switch {
			case c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
				tok = append(tok, c)
				continue
			case c >= 'A' && c <= 'Z':
				tok = append(tok, c+'a'-'A')
				continue
			}
		case r != utf8.RuneError && (unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.Is(unicode.Co, r)):
			tok = utf8.AppendRune(tok, fold(r))
			continue
		case len(tok) > 0 && unicode.In(r, unicode.Mn, unicode.Mc):
			// A combining mark inside a word: diacritics are dropped, others kept.
			if r >= 0x300 && r < 0x370 {
				continue
			}
			tok = utf8.AppendRune(tok, r)
			continue
		}
		if len(tok) > 0 {
			fn(tok)
			tok = tok[:0]
		}
	}
	if len(tok) > 0 {
		fn(tok)
	}
}

// folded maps Latin letters with diacritics (U+00C0–U+024F and Latin Extended
// Additional) to their lower-case base letter.
var folded = func() map[rune]rune {
	m := map[rune]rune{}
	add := func(lo, hi rune) {
		for r := lo; r <= hi; r++ {
			d := []rune(norm.NFD.String(string(r)))
			if len(d) > 1 && d[0] < 0x80 && unicode.IsLetter(d[0]) {
				m[r] = unicode.ToLower(d[0])
			}
		}
	}
	add(0xC0, 0x24F)
	add(0x1E00, 0x1EFF)
	return m
}()

// fold lower-cases r and removes a Latin diacritic.
func fold(r rune) rune {
	if f, ok := folded[r]; ok {
		return f
	}
	return unicode.ToLower(r)
}
