package ollama

import (
	"encoding/json"
	"testing"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/embed/internal/remote/remotetest"
	"github.com/lmsys-go/lmsys/internal/retry"
)

// ollamaWire is Ollama's POST /api/embed as langchaingo sends it, one text per
// request: {"input": "…"} in, {"embeddings": [[…]]} out.
var ollamaWire = remotetest.Wire{
	Path: "/api/embed",
	Texts: func(body []byte) ([]string, error) {
		var req struct {
			Input string `json:"input"`
		}
		err := json.Unmarshal(body, &req)
		return []string{req.Input}, err
	},
	Reply: func(vecs [][]float32) any {
		return map[string]any{"model": DefaultModel, "embeddings": vecs}
	},
}

func TestConformance(t *testing.T) {
	remotetest.Conformance(t, ollamaWire, 768, 1, func(url string, batch, attempts int, p retry.Policy) (lmsys.Embedder, error) {
		return New(Config{BaseURL: url, BatchSize: batch, MaxAttempts: attempts, Retry: p})
	})
}
