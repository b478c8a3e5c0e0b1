package openai

import (
	"encoding/json"
	"testing"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/embed/internal/remote/remotetest"
	"github.com/lmsys-go/lmsys/internal/retry"
)

// openaiWire is OpenAI's POST /embeddings: {"input": […]} in, {"data": [{"index": i,
// "embedding": […]}]} out.
var openaiWire = remotetest.Wire{
	Path: "/v1/embeddings",
	Auth: "Bearer " + testKey,
	Texts: func(body []byte) ([]string, error) {
		var req struct {
			Input []string `json:"input"`
		}
		err := json.Unmarshal(body, &req)
		return req.Input, err
	},
	Reply: func(vecs [][]float32) any {
		data := make([]map[string]any, len(vecs))
		for i, v := range vecs {
			data[i] = map[string]any{"object": "embedding", "index": i, "embedding": v}
		}
		return map[string]any{"object": "list", "model": DefaultModel, "data": data}
	},
}

func TestConformance(t *testing.T) {
	remotetest.Conformance(t, openaiWire, 1536, 0, func(url string, batch, attempts int, p retry.Policy) (lmsys.Embedder, error) {
		return New(Config{APIKey: testKey, BaseURL: url + "/v1", BatchSize: batch, MaxAttempts: attempts, Retry: p})
	})
}
