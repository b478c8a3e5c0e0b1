package uselite

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// MaxTokens is the number of leading token ids the model reads; later ids are dropped.
const MaxTokens = 128

// firstPiece is the first vocabulary id the tokenizer may emit besides unk (0): ids 1–5
// are control and reserved symbols.
const firstPiece = 6

// tokenizer is a SentencePiece unigram tokenizer that reproduces the TensorFlow.js
// USE tokenizer exactly, quirks included:
//   - a position whose character starts no piece becomes unk (id 0) with score 0;
//   - a candidate replaces the best path to its end when the best score so far is
//     exactly 0 (the "unset" marker) or the candidate's score is >= it, trying
//     candidates by start position ascending;
//   - the unk's back-pointer length is the character's UTF-16 length;
//   - consecutive unks merge into one.
type tokenizer struct {
	nodes  []trieNode
	scores []float32 // per id
	u16len []int32   // per id: UTF-16 length of the piece, the backward pass's step
}

type trieNode struct {
	children map[rune]int32
	id       int32 // -1 when no piece ends here
}

func newTokenizer(vocab []byte) (*tokenizer, error) {
	t := &tokenizer{nodes: []trieNode{{children: map[rune]int32{}, id: -1}}}
	sc := bufio.NewScanner(bytes.NewReader(vocab))
	for line := 1; sc.Scan(); line++ {
		score, piece, ok := strings.Cut(sc.Text(), "\t")
		f, err := strconv.ParseFloat(score, 32)
		if !ok || err != nil || piece == "" || !utf8.ValidString(piece) {
			return nil, fmt.Errorf("vocabulary line %d is not score<TAB>piece", line)
		}
		id := int32(len(t.scores))
		t.scores = append(t.scores, float32(f))
		n := int32(0)
		for _, r := range piece {
			n++
			if r > 0xffff {
				n++
			}
		}
		t.u16len = append(t.u16len, n)
		if id >= firstPiece {
			t.insert(piece, id)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(t.scores) <= firstPiece || t.u16len[0] != 1 {
		return nil, fmt.Errorf("vocabulary has %d pieces and no one-character unk", len(t.scores))
	}
	return t, nil
}

func (t *tokenizer) insert(piece string, id int32) {
	n := int32(0)
	for _, r := range piece {
		c, ok := t.nodes[n].children[r]
		if !ok {
			c = int32(len(t.nodes))
			t.nodes = append(t.nodes, trieNode{id: -1})
			if t.nodes[n].children == nil {
				t.nodes[n].children = map[rune]int32{}
			}
			t.nodes[n].children[r] = c
		}
		n = c
	}
	t.nodes[n].id = id // a duplicate piece keeps the later id, as the reference trie does
}

// tokScratch holds a tokenisation's buffers for reuse.
type tokScratch struct {
	syms  []rune
	best  []float32
	words []int32
	out   []int32
}

// normalize applies the reference's normalisation: invalid UTF-8 becomes U+FFFD, then
// NFKC. (encode then prefixes "▁" and turns every space into "▁".)
func normalize(text string) string {
	if !utf8.ValidString(text) {
		text = strings.ToValidUTF8(text, "\uFFFD")
	}
	if norm.NFKC.IsNormalString(text) {
		return text
	}
	return norm.NFKC.String(text)
}

// encode appends text's token ids (all of them, unclipped) to s.out and returns it.
func (t *tokenizer) encode(text string, s *tokScratch) []int32 {
	s.syms = append(s.syms[:0], '▁')
	for _, r := range normalize(text) {
		if r == ' ' {
			r = '▁'
		}
		s.syms = append(s.syms, r)
	}
	n := len(s.syms)
	s.best = grow(s.best, n+1)
	s.words = growI(s.words, n+1)
	for i := range s.best {
		s.best[i] = 0
		s.words[i] = -1
	}
	relax := func(end int, score float32, id int32) {
		if s.best[end] == 0 || score >= s.best[end] {
			s.best[end] = score
			s.words[end] = id
		}
	}
	// Pushing forward from each start in ascending order visits every end's
	// candidates in the reference's order (by start ascending).
	for i := 0; i < n; i++ {
		node, ok := t.nodes[0].children[s.syms[i]]
		if !ok {
			from := i + 1 - 1
			if s.syms[i] > 0xffff {
				from = i + 1 - 2
			}
			prev := float32(0)
			if from >= 0 {
				prev = s.best[from]
			}
			relax(i+1, prev, 0)
			continue
		}
		for j := i; ; {
			if id := t.nodes[node].id; id >= 0 {
				relax(j+1, t.scores[id]+s.best[i], id)
			}
			j++
			if j >= n {
				break
			}
			c, ok := t.nodes[node].children[s.syms[j]]
			if !ok {
				break
			}
			node = c
		}
	}
	// Backward pass, then merge consecutive unks while reversing.
	out := s.out[:0]
	for it := n; it > 0; {
		id := s.words[it]
		step := 1
		if id < 0 {
			id = 0 // unreachable position (the reference would throw); call it unk
		} else {
			step = int(t.u16len[id])
		}
		out = append(out, id)
		it -= step
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	w, prevUnk := 0, false
	for _, id := range out {
		if !(prevUnk && id == 0) {
			out[w] = id
			w++
		}
		prevUnk = id == 0
	}
	s.out = out
	return out[:w]
}

// grow returns b resized to n, reallocating (contents lost) with headroom when it is
// too small, so buffers reused across batches of varying size settle quickly.
// prefixBytes is where encodeClipped first tries to cut a long text.
const prefixBytes = 4096

// encodeClipped returns the first MaxTokens ids of text without tokenising all of an
// enormous text. No piece holds "▁" except as its first symbol, so every "▁" (every
// space of the text) is a boundary that every segmentation shares, and NFKC never
// composes across a space: the ids of text[:i], for a space at i, are a prefix of the
// ids of text. It tokenises ever longer such prefixes until one yields MaxTokens ids.
func (t *tokenizer) encodeClipped(text string, s *tokScratch, first int) []int32 {
	for cut := first; cut < len(text); cut *= 4 {
		sp := strings.IndexByte(text[cut:], ' ')
		if sp < 0 {
			break
		}
		if ids := t.encode(text[:cut+sp], s); len(ids) >= MaxTokens {
			return ids[:MaxTokens]
		}
	}
	ids := t.encode(text, s)
	return ids[:min(len(ids), MaxTokens)]
}

func grow(b []float32, n int) []float32 {
	if cap(b) < n {
		return make([]float32, n, max(n, 2*cap(b)))
	}
	return b[:n]
}

func growI(b []int32, n int) []int32 {
	if cap(b) < n {
		return make([]int32, n, max(n, 2*cap(b)))
	}
	return b[:n]
}
