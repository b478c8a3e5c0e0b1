// Package lexical is a fast embedder that needs no weights: it hashes word unigrams,
// word bigrams and character n-grams of a text into a fixed number of dimensions.
//
// Words are maximal runs of Unicode letters, digits and combining marks, lower-cased.
// Scripts written without spaces (Han, Hiragana, Katakana, Thai, Lao, Khmer, Myanmar)
// make every character its own word, so word unigrams and bigrams become character
// unigrams and bigrams there, the usual indexing units for those languages. Character
// n-grams (3 to 5 by default) run over each run of letters with a begin and an end
// marker, as fastText does, so "embedding" and "embeddings" share most features and
// every script gets features.
//
// Each distinct feature counts 1 + ln(count) (sublinear term frequency) and is added
// with a sign taken from its hash (the signed "hashing trick", which keeps collisions
// unbiased). The word part and the character part are L2-normalised separately,
// mixed with their weights, and the sum is L2-normalised, so cosine similarity is a
// dot product.
//
// Embedding reuses per-goroutine buffers: after warm-up the only allocation of a call
// to Embed is its result, and EmbedInto allocates nothing.
//
// embed.Open gives it for "local/lexical", and "local/hybrid" mixes it with USE-lite,
// so that text in scripts USE-lite does not read still gets a useful vector.
package lexical

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/lmsys-go/lmsys"
)

// DefaultDims is the default number of dimensions.
const DefaultDims = 512

// Options configures an Embedder. Zero fields take the defaults.
type Options struct {
	// Dims is the number of dimensions (default 512).
	Dims int
	// WordWeight and CharWeight mix the normalised word part and character part
	// (defaults 0.5 and 0.5). A negative weight is an error; both zero is the default.
	WordWeight, CharWeight float64
	// MinN and MaxN bound the character n-gram lengths (defaults 3 and 5, at most 8).
	MinN, MaxN int
	// MaxRunes limits how many runes of a text are read (default 16384), which bounds
	// the cost of enormous pasted documents.
	MaxRunes int
}

// Embedder embeds texts with feature hashing. It is safe for concurrent use.
type Embedder struct {
	o     Options
	space lmsys.Space
	pool  sync.Pool
}

// New returns an Embedder for o.
func New(o Options) (*Embedder, error) {
	def := Options{Dims: DefaultDims, WordWeight: 0.5, CharWeight: 0.5, MinN: 3, MaxN: 5, MaxRunes: 16384}
	if o.Dims < 0 || o.WordWeight < 0 || o.CharWeight < 0 || o.MinN < 0 || o.MaxN < 0 || o.MaxRunes < 0 {
		return nil, fmt.Errorf("%w: lexical embedder options must not be negative: %+v", lmsys.ErrInvalidInput, o)
	}
	if o.Dims == 0 {
		o.Dims = def.Dims
	}
	if o.WordWeight == 0 && o.CharWeight == 0 {
		o.WordWeight, o.CharWeight = def.WordWeight, def.CharWeight
	}
	if o.MinN == 0 {
		o.MinN = def.MinN
	}
	if o.MaxN == 0 {
		o.MaxN = def.MaxN
	}
	if o.MaxRunes == 0 {
		o.MaxRunes = def.MaxRunes
	}
	if o.MinN > o.MaxN || o.MaxN > 8 {
		return nil, fmt.Errorf("%w: lexical character n-grams %d..%d: need 1 <= min <= max <= 8", lmsys.ErrInvalidInput, o.MinN, o.MaxN)
	}
	if o.Dims > 1<<20 {
		return nil, fmt.Errorf("%w: lexical dimension %d is larger than %d", lmsys.ErrInvalidInput, o.Dims, 1<<20)
	}
	model := "lexical"
	if o.WordWeight != def.WordWeight || o.CharWeight != def.CharWeight || o.MinN != def.MinN || o.MaxN != def.MaxN || o.MaxRunes != def.MaxRunes {
		// Other parameters give other vectors: they must not share the default space.
		model = fmt.Sprintf("lexical-w%.3g-c%.3g-n%d-%d-r%d", o.WordWeight, o.CharWeight, o.MinN, o.MaxN, o.MaxRunes)
	}
	e := &Embedder{o: o, space: lmsys.Space{Provider: "local", Model: model, Dims: o.Dims}}
	e.pool.New = func() any { return newScratch(o.Dims) }
	return e, nil
}

// Space returns local/lexical with the configured dimension.
func (e *Embedder) Space() lmsys.Space { return e.space }

// Options returns the options in effect, defaults filled in.
func (e *Embedder) Options() Options { return e.o }

// parallelMin is the batch size from which Embed spreads work over all CPUs.
const parallelMin = 256

// Embed returns one L2-normalised vector per text. The purpose does not change a
// lexical vector. Large batches are spread over GOMAXPROCS goroutines; the vectors
// share one backing array.
func (e *Embedder) Embed(ctx context.Context, texts []string, _ lmsys.Purpose) ([][]float32, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	d := e.o.Dims
	flat := make([]float32, len(texts)*d)
	out := make([][]float32, len(texts))
	for i := range out {
		out[i] = flat[i*d : (i+1)*d : (i+1)*d]
	}
	workers := runtime.GOMAXPROCS(0)
	if len(texts) < parallelMin || workers < 2 {
		return out, e.embedRange(ctx, texts, out)
	}
	chunk := (len(texts) + workers - 1) / workers
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		lo, hi := w*chunk, min((w+1)*chunk, len(texts))
		if lo >= hi {
			break
		}
		wg.Add(1)
		go func(w, lo, hi int) {
			defer wg.Done()
			errs[w] = e.embedRange(ctx, texts[lo:hi], out[lo:hi])
		}(w, lo, hi)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (e *Embedder) embedRange(ctx context.Context, texts []string, out [][]float32) error {
	s := e.pool.Get().(*scratch)
	defer e.pool.Put(s)
	for i, t := range texts {
		if i&1023 == 1023 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		e.embed(s, t, out[i])
	}
	return nil
}

// EmbedInto writes the vector of text into dst, which must have Space().Dims
// elements. It allocates nothing once its buffers have grown.
func (e *Embedder) EmbedInto(dst []float32, text string) {
	if len(dst) != e.o.Dims {
		panic(fmt.Sprintf("lexical: EmbedInto got %d floats, want %d", len(dst), e.o.Dims))
	}
	s := e.pool.Get().(*scratch)
	e.embed(s, text, dst)
	e.pool.Put(s)
}

// Feature hashing constants: FNV-1a's 64-bit prime drives the rolling hash; the seeds
// keep word unigrams, word bigrams and character n-grams apart.
const (
	prime64    = 1099511628211
	seedWord   = 0x9e3779b97f4a7c15
	seedBigram = 0xc2b2ae3d27d4eb4f
	seedChar   = 0x165667b19e3779f9
	runeBegin  = 0x110001 // beyond Unicode: markers cannot collide with text
	runeEnd    = 0x110002
	runeBreak  = -1 // separates letter runs in scratch.runes
)

// fmix64 is MurmurHash3's finaliser: it spreads every input bit over the output.
func fmix64(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

// scratch holds one goroutine's reusable buffers.
type scratch struct {
	runes []rune   // lower-cased letter runs, each followed by runeBreak
	words []uint64 // word hashes in text order
	keys  []uint64 // open-addressing table of feature hashes (0 = empty); low bit = word part
	cnt   []uint32
	used  []int32 // occupied slots, to clear in O(features)
	word  []float32
	char  []float32
}

func newScratch(d int) *scratch {
	s := &scratch{word: make([]float32, d), char: make([]float32, d)}
	s.resize(1024)
	return s
}

func (s *scratch) resize(n int) {
	s.keys = make([]uint64, n)
	s.cnt = make([]uint32, n)
	s.used = s.used[:0]
}

// add counts one feature.
func (s *scratch) add(k uint64) {
	if k == 0 || k == 1 {
		k += 2
	}
	mask := len(s.keys) - 1
	for i := int(k>>20) & mask; ; i = (i + 1) & mask {
		switch s.keys[i] {
		case k:
			s.cnt[i]++
			return
		case 0:
			s.keys[i] = k
			s.cnt[i] = 1
			s.used = append(s.used, int32(i))
			return
		}
	}
}

// unspaced reports whether r belongs to a script written without spaces between
// words, where each character is taken as a word.
func unspaced(r rune) bool {
	switch {
	case r < 0x0E00:
		return false
	case r <= 0x0EFF: // Thai, Lao
		return true
	case r >= 0x1000 && r <= 0x109F, r >= 0x1780 && r <= 0x17FF: // Myanmar, Khmer
		return true
	case r < 0x2E80:
		return false
	case r >= 0x3040 && r <= 0x30FF: // Hiragana, Katakana
		return true
	}
	return unicode.Is(unicode.Han, r)
}

func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Mc, r)
}

func lower(r rune) rune {
	if r < utf8.RuneSelf {
		if r >= 'A' && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}
	return unicode.ToLower(r)
}

// embed computes text's vector into dst.
func (e *Embedder) embed(s *scratch, text string, dst []float32) {
	s.tokenize(text, e.o.MaxRunes)
	// Size the table for at most half occupancy.
	need := len(s.words)*2 + len(s.runes)*(e.o.MaxN-e.o.MinN+1) + 8
	if need*2 > len(s.keys) {
		n := len(s.keys)
		for n < need*2 {
			n *= 2
		}
		s.resize(n)
	}
	// Word unigrams and bigrams (low bit 1).
	for i, w := range s.words {
		s.add(fmix64(w^seedWord) | 1)
		if i > 0 {
			s.add(fmix64((s.words[i-1]*prime64)^w^seedBigram) | 1)
		}
	}
	// Character n-grams over each marked letter run (low bit 0).
	minN, maxN := e.o.MinN, e.o.MaxN
	start := 0
	for i, r := range s.runes {
		if r != runeBreak {
			continue
		}
		run := s.runes[start:i] // includes begin and end markers
		for a := 0; a < len(run); a++ {
			h := uint64(seedChar)
			for n := 1; n <= maxN && a+n <= len(run); n++ {
				h = (h ^ uint64(run[a+n-1])) * prime64
				if n >= minN {
					s.add(fmix64(h+uint64(n)) &^ 1)
				}
			}
		}
		start = i + 1
	}
	if len(s.used) == 0 {
		s.add(fmix64(seedWord^seedChar) | 1) // empty text: one fixed feature
	}
	d := uint64(len(dst))
	word, char := s.word, s.char
	clear(word)
	clear(char)
	for _, slot := range s.used {
		k := s.keys[slot]
		w := tfWeight(s.cnt[slot])
		if k&2 != 0 {
			w = -w
		}
		idx := ((k >> 32) * d) >> 32
		if k&1 != 0 {
			word[idx] += w
		} else {
			char[idx] += w
		}
		s.keys[slot] = 0
	}
	s.used = s.used[:0]
	ww := float32(e.o.WordWeight) * invNorm(word)
	cw := float32(e.o.CharWeight) * invNorm(char)
	var sum float64
	for i := range dst {
		v := ww*word[i] + cw*char[i]
		dst[i] = v
		sum += float64(v) * float64(v)
	}
	if sum == 0 {
		return
	}
	inv := float32(1 / math.Sqrt(sum))
	for i := range dst {
		dst[i] *= inv
	}
}

// tfTable holds 1 + ln(c) for the small counts almost every feature has.
var tfTable = func() (t [256]float32) {
	for c := 1; c < len(t); c++ {
		t[c] = float32(1 + math.Log(float64(c)))
	}
	return t
}()

// tfWeight returns the sublinear term frequency 1 + ln(c) of a count c ≥ 1.
func tfWeight(c uint32) float32 {
	if c < uint32(len(tfTable)) {
		return tfTable[c]
	}
	return float32(1 + math.Log(float64(c)))
}

func invNorm(v []float32) float32 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	if s == 0 {
		return 0
	}
	return float32(1 / math.Sqrt(s))
}

// tokenize fills s.runes with marked letter runs and s.words with word hashes. A
// text without letters or digits falls back to its other non-space characters, so
// "???" and "!!!" still differ.
func (s *scratch) tokenize(text string, maxRunes int) {
	s.runes, s.words = s.runes[:0], s.words[:0]
	s.scan(text, maxRunes, isWordRune)
	if len(s.runes) == 0 {
		s.scan(text, maxRunes, func(r rune) bool { return !unicode.IsSpace(r) && r != utf8.RuneError && !unicode.IsControl(r) })
	}
}

func (s *scratch) scan(text string, maxRunes int, keep func(rune) bool) {
	inRun := false
	var wh uint64 // hash of the current spaced-script word
	inWord := false
	endWord := func() {
		if inWord {
			s.words = append(s.words, wh)
			inWord = false
		}
	}
	n := 0
	for _, r := range text {
		if n++; n > maxRunes {
			break
		}
		if !keep(r) {
			if inRun {
				endWord()
				s.runes = append(s.runes, runeEnd, runeBreak)
				inRun = false
			}
			continue
		}
		r = lower(r)
		if !inRun {
			s.runes = append(s.runes, runeBegin)
			inRun = true
		}
		s.runes = append(s.runes, r)
		if unspaced(r) {
			endWord()
			s.words = append(s.words, (uint64(seedWord)^uint64(r))*prime64)
			continue
		}
		if !inWord {
			wh, inWord = seedWord, true
		}
		wh = (wh ^ uint64(r)) * prime64
	}
	if inRun {
		endWord()
		s.runes = append(s.runes, runeEnd, runeBreak)
	}
}

// String describes the embedder's configuration.
func (e *Embedder) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (word %.2g + char %d-%d-grams %.2g)", e.space, e.o.WordWeight, e.o.MinN, e.o.MaxN, e.o.CharWeight)
	return b.String()
}
