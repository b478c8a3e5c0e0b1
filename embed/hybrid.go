package embed

import (
	"context"
	"fmt"
	"math"
	"unicode"
	"unicode/utf8"

	"github.com/lmsys-go/lmsys"
)

// ScriptHybrid combines a semantic embedder that knows Latin-script text (USE-lite)
// with a lexical embedder that knows every script, weighting them per text by how
// much of the text is written in Latin letters.
//
// For a text whose share of non-Latin letters is f, the lexical part gets weight
// w = Base + (1 − Base)·f and the semantic part 1 − w; the vector is
// [√(1−w)·û, √w·l̂] with û and l̂ the normalised part vectors, so it has unit length
// and, between two all-Latin texts, the dot product is (1−Base)·cos_u + Base·cos_l.
// A text with no Latin letters is embedded by the lexical part alone: the semantic
// model, which maps such text to "unknown" tokens, cannot pull every Chinese, Korean
// or Arabic query into one cluster.
type ScriptHybrid struct {
	semantic, lexical lmsys.Embedder
	base              float64
	space             lmsys.Space
}

// NewScriptHybrid returns the combination of semantic and lexical with lexical base
// weight base (0 < base < 1). A zero space is named
// "hybrid/<semantic>+<lexical>*<base>".
func NewScriptHybrid(space lmsys.Space, semantic, lexical lmsys.Embedder, base float64) (*ScriptHybrid, error) {
	if semantic == nil || lexical == nil {
		return nil, fmt.Errorf("%w: hybrid needs two embedders", lmsys.ErrInvalidInput)
	}
	if !(base > 0 && base < 1) {
		return nil, fmt.Errorf("%w: hybrid lexical weight %v is not between 0 and 1", lmsys.ErrInvalidInput, base)
	}
	dims := semantic.Space().Dims + lexical.Space().Dims
	if space.IsZero() {
		space = lmsys.Space{Provider: "hybrid", Model: fmt.Sprintf("%s+%s*%.3g", semantic.Space().Name(), lexical.Space().Name(), base), Dims: dims}
	}
	if space.Dims != dims {
		return nil, fmt.Errorf("%w: hybrid space %s has %d dims but its parts have %d", lmsys.ErrSpaceMismatch, space, space.Dims, dims)
	}
	return &ScriptHybrid{semantic: semantic, lexical: lexical, base: base, space: space}, nil
}

// Space returns the hybrid's space.
func (h *ScriptHybrid) Space() lmsys.Space { return h.space }

// LexicalWeight returns the weight of the lexical part for text.
func (h *ScriptHybrid) LexicalWeight(text string) float64 {
	return h.base + (1-h.base)*NonLatinShare(text)
}

// NonLatinShare returns the fraction of text's letters that are not Latin script
// (0 for a text without letters).
func NonLatinShare(text string) float64 {
	letters, other := 0, 0
	for _, r := range text {
		if r < utf8.RuneSelf {
			if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
				letters++
			}
			continue
		}
		if unicode.IsLetter(r) {
			letters++
			if !unicode.Is(unicode.Latin, r) {
				other++
			}
		}
	}
	if letters == 0 {
		return 0
	}
	return float64(other) / float64(letters)
}

// Embed embeds texts with both parts and combines them per text.
func (h *ScriptHybrid) Embed(ctx context.Context, texts []string, p lmsys.Purpose) ([][]float32, error) {
	su, err := h.semantic.Embed(ctx, texts, p)
	if err != nil {
		return nil, err
	}
	sl, err := h.lexical.Embed(ctx, texts, p)
	if err != nil {
		return nil, err
	}
	du, dl := h.semantic.Space().Dims, h.lexical.Space().Dims
	if err := checkVectors(h.semantic.Space(), su, len(texts)); err != nil {
		return nil, err
	}
	if err := checkVectors(h.lexical.Space(), sl, len(texts)); err != nil {
		return nil, err
	}
	d := du + dl
	flat := make([]float32, len(texts)*d)
	out := make([][]float32, len(texts))
	for i, t := range texts {
		v := flat[i*d : (i+1)*d : (i+1)*d]
		w := h.LexicalWeight(t)
		scaleInto(v[:du], su[i], math.Sqrt(1-w))
		scaleInto(v[du:], sl[i], math.Sqrt(w))
		out[i] = v
	}
	return out, nil
}

// scaleInto writes src normalised and multiplied by s into dst.
func scaleInto(dst, src []float32, s float64) {
	var n float64
	for _, x := range src {
		n += float64(x) * float64(x)
	}
	if n > 0 {
		s /= math.Sqrt(n)
	}
	f := float32(s)
	for j, x := range src {
		dst[j] = x * f
	}
}
