package cohere

import (
	"encoding/json"
	"testing"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/embed/internal/remote/remotetest"
	"github.com/lmsys-go/lmsys/internal/retry"
)

// cohereWire is Cohere's POST /v2/embed: {"texts": […]} in, {"embeddings": {"float":
// […]}} out.
var cohereWire = remotetest.Wire{
	Path: "/v2/embed",
	Auth: "Bearer " + testKey,
	Texts: func(body []byte) ([]string, error) {
		var req struct {
			Texts []string `json:"texts"`
		}
		err := json.Unmarshal(body, &req)
		return req.Texts, err
	},
	Reply: func(vecs [][]float32) any {
		return map[string]any{"id": "emb-1", "embeddings": map[string]any{"float": vecs}}
	},
}

func TestConformance(t *testing.T) {
	remotetest.Conformance(t, cohereWire, DefaultDims, 0, func(url string, batch, attempts int, p retry.Policy) (lmsys.Embedder, error) {
		return New(Config{APIKey: testKey, BaseURL: url, BatchSize: batch, MaxAttempts: attempts, Retry: p})
	})
}
