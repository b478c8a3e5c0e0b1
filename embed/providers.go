package embed

import (
	"fmt"
	"sync"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/embed/cohere"
	"github.com/lmsys-go/lmsys/embed/lexical"
	"github.com/lmsys-go/lmsys/embed/ollama"
	"github.com/lmsys-go/lmsys/embed/openai"
	"github.com/lmsys-go/lmsys/embed/uselite"
)

// The recipe of local/hybrid: USE-lite's 512 dims and a lexical part of
// HybridLexicalDims dims; HybridLexicalWeight of the similarity of two Latin-script
// texts goes to the lexical part, all of it for texts without Latin letters. See the
// package README for the measurements behind these values.
const (
	HybridLexicalDims   = 256
	HybridLexicalWeight = 0.35
)

func init() {
	Register("local", openLocal)
	Register("cohere", func(model string, c Config) (lmsys.Embedder, error) {
		return cohere.New(cohere.Config{Model: model, Dims: c.Dims, APIKey: c.APIKey, BaseURL: c.BaseURL,
			BatchSize: c.BatchSize, Concurrency: c.Concurrency, RPM: c.RPM, MaxAttempts: c.MaxAttempts,
			Timeout: c.Timeout, HTTPClient: c.HTTPClient})
	})
	Register("openai", func(model string, c Config) (lmsys.Embedder, error) {
		return openai.New(openai.Config{Model: model, Dims: c.Dims, APIKey: c.APIKey, BaseURL: c.BaseURL,
			BatchSize: c.BatchSize, Concurrency: c.Concurrency, RPM: c.RPM, MaxAttempts: c.MaxAttempts,
			Timeout: c.Timeout, HTTPClient: c.HTTPClient})
	})
	Register("ollama", func(model string, c Config) (lmsys.Embedder, error) {
		return ollama.New(ollama.Config{Model: model, Dims: c.Dims, APIKey: c.APIKey, BaseURL: c.BaseURL,
			BatchSize: c.BatchSize, Concurrency: c.Concurrency, RPM: c.RPM, MaxAttempts: c.MaxAttempts,
			Timeout: c.Timeout, HTTPClient: c.HTTPClient})
	})
}

// LocalModels lists the models of the local provider.
var LocalModels = []string{"use-lite-i8", "use-lite", "lexical", "hybrid"}

var (
	useOnce  sync.Once
	useModel *uselite.Model
	useErr   error
	use8Once sync.Once
	use8     *uselite.Model
	use8Err  error
)

// useLite loads USE-lite once per process: the model is safe for concurrent use and
// its weights are the expensive part.
func useLite() (*uselite.Model, error) {
	useOnce.Do(func() { useModel, useErr = uselite.New() })
	return useModel, useErr
}

// useLiteInt8 loads USE-lite's quantised forward pass once per process.
func useLiteInt8() (*uselite.Model, error) {
	use8Once.Do(func() { use8, use8Err = uselite.NewInt8() })
	return use8, use8Err
}

func openLocal(model string, c Config) (lmsys.Embedder, error) {
	switch model {
	case uselite.ModelFloat32, uselite.ModelInt8:
		if c.Dims != 0 && c.Dims != uselite.Dims {
			return nil, fmt.Errorf("%w: local/%s has %d dimensions, not %d", lmsys.ErrInvalidInput, model, uselite.Dims, c.Dims)
		}
		if model == uselite.ModelInt8 {
			return useLiteInt8()
		}
		return useLite()
	case "lexical":
		return lexical.New(lexical.Options{Dims: c.Dims})
	case "hybrid":
		return Hybrid(c.Dims)
	}
	return nil, fmt.Errorf("%w: unknown local embedding model %q (local models: use-lite-i8, use-lite, lexical, hybrid)", lmsys.ErrInvalidInput, model)
}

// Hybrid returns local/hybrid: USE-lite and the lexical embedder combined per text by
// script (see ScriptHybrid), with lexical base weight HybridLexicalWeight, in space
// local/hybrid@dims. dims 0 means 512 + HybridLexicalDims; otherwise the lexical part
// gets dims − 512 dimensions (at least 64).
func Hybrid(dims int) (*ScriptHybrid, error) {
	lexDims := HybridLexicalDims
	if dims != 0 {
		lexDims = dims - uselite.Dims
		if lexDims < 64 {
			return nil, fmt.Errorf("%w: local/hybrid needs at least %d dimensions (512 for USE-lite + 64 lexical), not %d", lmsys.ErrInvalidInput, uselite.Dims+64, dims)
		}
	}
	u, err := useLite()
	if err != nil {
		return nil, err
	}
	l, err := lexical.New(lexical.Options{Dims: lexDims})
	if err != nil {
		return nil, err
	}
	return NewScriptHybrid(lmsys.Space{Provider: "local", Model: "hybrid", Dims: uselite.Dims + lexDims}, u, l, HybridLexicalWeight)
}
