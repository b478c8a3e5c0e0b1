package retry

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	cohere "github.com/cohere-ai/cohere-go/v2"
	cohereclient "github.com/cohere-ai/cohere-go/v2/client"
	"github.com/cohere-ai/cohere-go/v2/option"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tmc/langchaingo/llms/ollama"
	"github.com/tmc/langchaingo/llms/openai"
)

// statusServer answers every request with status and a JSON error body in the shape
// each provider uses.
func statusServer(t *testing.T, status int) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(`{"message":"nope","error":{"message":"nope"}}`))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestHTTPStatusFromClientLibraries checks that the status of a failed call is found
// in the errors the real client libraries return, without help from Transport.
func TestHTTPStatusFromClientLibraries(t *testing.T) {
	for _, status := range []int{400, 429, 500, 503} {
		srv := statusServer(t, status)
		ctx := context.Background()

		co := cohereclient.NewClient(option.WithBaseURL(srv.URL), option.WithToken("k"), option.WithMaxAttempts(1))
		_, err := co.V2.Embed(ctx, &cohere.V2EmbedRequest{Model: "embed-v4.0", Texts: []string{"a"}, InputType: cohere.EmbedInputTypeClustering})
		require.Error(t, err)
		assert.Equal(t, status, HTTPStatus(err), "cohere %d: %v", status, err)

		oa, err := openai.New(openai.WithBaseURL(srv.URL), openai.WithToken("k"), openai.WithEmbeddingModel("m"))
		require.NoError(t, err)
		_, err = oa.CreateEmbedding(ctx, []string{"a"})
		require.Error(t, err)
		assert.Equal(t, status, HTTPStatus(err), "openai %d: %v", status, err)
	}
}

// TestTransportGivesOllamaStatus shows why Transport exists: langchaingo's Ollama
// client reports {"error":"..."} bodies without their status, and the Caller still
// learns it from the response.
func TestTransportGivesOllamaStatus(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "2")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"error":"server busy"}`))
	}))
	defer srv.Close()
	ol, err := ollama.New(ollama.WithServerURL(srv.URL), ollama.WithModel("nomic-embed-text"), ollama.WithHTTPClient(HTTPClient(nil)))
	require.NoError(t, err)
	c, fs := newTestCaller(Policy{Provider: "ollama", MaxAttempts: 2})
	err = c.Do(context.Background(), func(ctx context.Context) error {
		_, err := ol.CreateEmbedding(ctx, []string{"a"})
		return err
	})
	var pe *Error
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, http.StatusServiceUnavailable, pe.Status)
	assert.Equal(t, 2, pe.Attempts)
	require.Len(t, fs.waits, 1)
	assert.Equal(t, "2s", fs.waits[0].String())
	assert.Contains(t, err.Error(), "ollama: HTTP 503 Service Unavailable after 2 attempts: server busy")
}
