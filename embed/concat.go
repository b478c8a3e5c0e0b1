package embed

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/lmsys-go/lmsys"
)

// Part is one embedder of a concatenation and its share of the similarity.
type Part struct {
	Embedder lmsys.Embedder
	// Weight is the part's share: Concat scales each normalised part vector by
	// sqrt(Weight / sum of weights), so the dot product of two concatenated vectors is
	// the weighted mean of the parts' cosine similarities.
	Weight float64
}

// Concatenated embeds with several embedders and lays their normalised, weighted
// vectors end to end. Its vectors are unit length.
type Concatenated struct {
	parts  []Part
	scales []float32
	space  lmsys.Space
}

// Concat returns the concatenation of parts. A zero space is named after the parts
// ("concat/local/use-lite*0.5+local/lexical*0.5"); a given space must have the sum of
// the parts' dimensions. Weights must be positive.
func Concat(space lmsys.Space, parts ...Part) (*Concatenated, error) {
	if len(parts) == 0 {
		return nil, fmt.Errorf("%w: concat needs at least one embedder", lmsys.ErrInvalidInput)
	}
	var sum float64
	dims := 0
	names := make([]string, len(parts))
	for i, p := range parts {
		if p.Embedder == nil || !(p.Weight > 0) || math.IsInf(p.Weight, 0) {
			return nil, fmt.Errorf("%w: concat part %d needs an embedder and a positive weight", lmsys.ErrInvalidInput, i)
		}
		sum += p.Weight
		dims += p.Embedder.Space().Dims
		names[i] = p.Embedder.Space().Name() + "*" + strconv.FormatFloat(p.Weight, 'g', 3, 64)
	}
	if space.IsZero() {
		space = lmsys.Space{Provider: "concat", Model: strings.Join(names, "+"), Dims: dims}
	}
	if space.Dims != dims {
		return nil, fmt.Errorf("%w: concat space %s has %d dims but its parts have %d", lmsys.ErrSpaceMismatch, space, space.Dims, dims)
	}
	c := &Concatenated{parts: parts, space: space, scales: make([]float32, len(parts))}
	for i, p := range parts {
		c.scales[i] = float32(math.Sqrt(p.Weight / sum))
	}
	return c, nil
}

// Space returns the concatenation's space.
func (c *Concatenated) Space() lmsys.Space { return c.space }

// Parts returns the parts.
func (c *Concatenated) Parts() []Part { return c.parts }

// Embed embeds texts with every part in turn and concatenates the vectors.
func (c *Concatenated) Embed(ctx context.Context, texts []string, p lmsys.Purpose) ([][]float32, error) {
	d := c.space.Dims
	flat := make([]float32, len(texts)*d)
	out := make([][]float32, len(texts))
	for i := range out {
		out[i] = flat[i*d : (i+1)*d : (i+1)*d]
	}
	off := 0
	for k, part := range c.parts {
		pd := part.Embedder.Space().Dims
		vecs, err := part.Embedder.Embed(ctx, texts, p)
		if err != nil {
			return nil, err
		}
		if len(vecs) != len(texts) {
			return nil, fmt.Errorf("%w: %s returned %d vectors for %d texts", lmsys.ErrSpaceMismatch, part.Embedder.Space(), len(vecs), len(texts))
		}
		for i, v := range vecs {
			if len(v) != pd {
				return nil, fmt.Errorf("%w: %s returned a vector of %d dims", lmsys.ErrSpaceMismatch, part.Embedder.Space(), len(v))
			}
			var s float64
			for _, x := range v {
				s += float64(x) * float64(x)
			}
			scale := c.scales[k]
			if s > 0 {
				scale /= float32(math.Sqrt(s))
			}
			dst := out[i][off : off+pd]
			for j, x := range v {
				dst[j] = x * scale
			}
		}
		off += pd
	}
	return out, nil
}
