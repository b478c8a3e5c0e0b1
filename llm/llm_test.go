package llm_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/internal/gate"
	"github.com/lmsys-go/lmsys/llm"
	"github.com/lmsys-go/lmsys/llm/llmtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fast keeps retries quick in tests.
var fast = []llm.Option{llm.WithAPIKey("test-key"), llm.WithBackoff(time.Millisecond, 5*time.Millisecond)}

func open(t *testing.T, srv *llmtest.Server, name string, opts ...llm.Option) *llm.Client {
	t.Helper()
	c, err := llm.Open(srv.Provider+"/"+name, append(append([]llm.Option{llm.WithBaseURL(srv.BaseURL())}, fast...), opts...)...)
	require.NoError(t, err)
	return c
}

func TestCompleteProviders(t *testing.T) {
	for _, start := range []func(llmtest.Handler) *llmtest.Server{llmtest.OpenAI, llmtest.Anthropic, llmtest.Ollama} {
		srv := start(func(r llmtest.Request) llmtest.Reply {
			return llmtest.Reply{Text: "echo: " + r.User, InputTokens: 11, OutputTokens: 7}
		})
		t.Run(srv.Provider, func(t *testing.T) {
			defer srv.Close()
			c := open(t, srv, "m1")
			text, u, err := c.Complete(context.Background(), "be brief", "hello")
			require.NoError(t, err)
			assert.Equal(t, "echo: hello", text)
			assert.Equal(t, int64(11), u.InputTokens)
			assert.Equal(t, int64(7), u.OutputTokens)
			assert.Equal(t, int64(1), u.Calls)
			reqs := srv.Requests()
			require.Len(t, reqs, 1)
			assert.Equal(t, "be brief", reqs[0].System)
			assert.Equal(t, "m1", reqs[0].Model)
			assert.Equal(t, c.Usage(), u)
		})
	}
}

func TestRetryAfterThenSuccess(t *testing.T) {
	for _, start := range []func(llmtest.Handler) *llmtest.Server{llmtest.OpenAI, llmtest.Anthropic, llmtest.Ollama} {
		srv := start(func(r llmtest.Request) llmtest.Reply {
			if r.N == 1 {
				return llmtest.Reply{Status: http.StatusTooManyRequests, RetryAfter: "0.05"}
			}
			return llmtest.Reply{Text: "ok"}
		})
		t.Run(srv.Provider, func(t *testing.T) {
			defer srv.Close()
			// A huge backoff proves the wait came from Retry-After, not from the backoff.
			c := open(t, srv, "m", llm.WithBackoff(time.Hour, time.Hour))
			start := time.Now()
			text, u, err := c.Complete(context.Background(), "", "hi")
			require.NoError(t, err)
			assert.Equal(t, "ok", text)
			assert.Equal(t, int64(1), u.Retries)
			assert.GreaterOrEqual(t, time.Since(start), 50*time.Millisecond)
			assert.Equal(t, 2, srv.Calls())
		})
	}
}

func TestServerErrorsExhaustRetries(t *testing.T) {
	srv := llmtest.OpenAI(func(llmtest.Request) llmtest.Reply { return llmtest.Reply{Status: 500} })
	defer srv.Close()
	c := open(t, srv, "m", llm.WithRetries(2))
	_, u, err := c.Complete(context.Background(), "", "hi")
	require.Error(t, err)
	assert.True(t, errors.Is(err, lmsys.ErrProvider))
	assert.Contains(t, err.Error(), "HTTP 500")
	assert.Equal(t, 3, srv.Calls())
	assert.Equal(t, int64(2), u.Retries)
}

func TestClientErrorNotRetried(t *testing.T) {
	srv := llmtest.Anthropic(func(llmtest.Request) llmtest.Reply { return llmtest.Reply{Status: 401} })
	defer srv.Close()
	c := open(t, srv, "m")
	_, _, err := c.Complete(context.Background(), "", "hi")
	require.Error(t, err)
	assert.True(t, errors.Is(err, lmsys.ErrProvider))
	assert.Contains(t, err.Error(), "HTTP 401")
	assert.Equal(t, 1, srv.Calls())
}

func TestOllamaEmptyErrorBodyRetried(t *testing.T) {
	srv := llmtest.Ollama(func(r llmtest.Request) llmtest.Reply {
		if r.N == 1 {
			return llmtest.Reply{Status: 503, Raw: " "}
		}
		return llmtest.Reply{Text: "fine"}
	})
	defer srv.Close()
	text, _, err := open(t, srv, "llama3").Complete(context.Background(), "", "hi")
	require.NoError(t, err)
	assert.Equal(t, "fine", text)
}

func TestTimeoutRetried(t *testing.T) {
	srv := llmtest.OpenAI(func(r llmtest.Request) llmtest.Reply {
		if r.N == 1 {
			return llmtest.Reply{Delay: 5 * time.Second, Text: "late"}
		}
		return llmtest.Reply{Text: "on time"}
	})
	defer srv.Close()
	c := open(t, srv, "m", llm.WithTimeout(100*time.Millisecond))
	text, u, err := c.Complete(context.Background(), "", "hi")
	require.NoError(t, err)
	assert.Equal(t, "on time", text)
	assert.Equal(t, int64(1), u.Retries)
}

func TestContextCancelStops(t *testing.T) {
	srv := llmtest.OpenAI(func(llmtest.Request) llmtest.Reply { return llmtest.Reply{Status: 429, RetryAfter: "30"} })
	defer srv.Close()
	c := open(t, srv, "m")
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, _, err := c.Complete(ctx, "", "hi")
	require.Error(t, err)
	assert.True(t, errors.Is(err, context.DeadlineExceeded))
}

func TestCacheHit(t *testing.T) {
	srv := llmtest.OpenAI(llmtest.Text("cached answer"))
	defer srv.Close()
	cache := llm.NewMemoryCache()
	c := open(t, srv, "gpt-4o-mini", llm.WithCache(cache))
	for i := 0; i < 3; i++ {
		text, _, err := c.Complete(context.Background(), "s", "same prompt")
		require.NoError(t, err)
		assert.Equal(t, "cached answer", text)
	}
	assert.Equal(t, 1, srv.Calls())
	assert.Equal(t, 1, cache.Len())
	u := c.Usage()
	assert.Equal(t, int64(2), u.CacheHits)
	assert.Equal(t, int64(1), u.Calls)
	assert.Greater(t, u.CostUSD, 0.0)
	// Another system prompt is another key.
	_, _, err := c.Complete(context.Background(), "other", "same prompt")
	require.NoError(t, err)
	assert.Equal(t, 2, srv.Calls())
}

func TestConcurrencyLimit(t *testing.T) {
	// Twelve calls, three at a time: the gate fails the test if a fourth request
	// reaches the server while three are there, and stalls it if fewer than three
	// ever are.
	g := gate.New(t, 3, 12)
	srv := llmtest.OpenAI(func(llmtest.Request) llmtest.Reply {
		g.Pass()
		return llmtest.Reply{Text: "x"}
	})
	defer srv.Close()
	c := open(t, srv, "m", llm.WithConcurrency(3))
	done := make(chan error)
	for i := 0; i < 12; i++ {
		go func() { _, _, err := c.Complete(context.Background(), "", "p"); done <- err }()
	}
	for i := 0; i < 12; i++ {
		require.NoError(t, <-done)
	}
	assert.Equal(t, 3, g.Peak())
	assert.Equal(t, 12, srv.Calls())
}

func TestCompleteJSONReasks(t *testing.T) {
	srv := llmtest.Anthropic(func(r llmtest.Request) llmtest.Reply {
		switch r.N {
		case 1:
			return llmtest.Reply{Text: "Sure, here it is: {title: broken"}
		case 2:
			return llmtest.Reply{Text: "```json\n{\"title\": \"Various things\",}\n```"}
		default:
			return llmtest.Reply{Text: `{"title": "Python list sorting"}`}
		}
	})
	defer srv.Close()
	c := open(t, srv, "claude")
	var out struct {
		Title string `json:"title"`
	}
	u, err := c.CompleteJSON(context.Background(), "", "name it", &out, func() error {
		if strings.HasPrefix(out.Title, "Various") {
			return errors.New("title is generic")
		}
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, "Python list sorting", out.Title)
	assert.Equal(t, int64(3), u.Calls)
	reqs := srv.Requests()
	require.Len(t, reqs, 3)
	assert.Contains(t, reqs[1].User, "{title: broken")
	assert.Contains(t, reqs[2].User, "title is generic")
}

func TestCompleteJSONGivesUp(t *testing.T) {
	srv := llmtest.OpenAI(llmtest.Text("no json here"))
	defer srv.Close()
	var out map[string]any
	_, err := open(t, srv, "m").CompleteJSON(context.Background(), "", "p", &out, nil)
	require.Error(t, err)
	assert.True(t, errors.Is(err, llm.ErrInvalidReply))
	assert.True(t, errors.Is(err, lmsys.ErrProvider))
	assert.Equal(t, 3, srv.Calls())
}

func TestOpenErrors(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "")
	t.Setenv("OPENAI_BASE_URL", "")
	t.Setenv("ANTHROPIC_API_KEY", "")
	t.Setenv("GROQ_API_KEY", "")
	for _, m := range []string{"", "gpt-4o", "openai/", "/x", "mystery/model", "openai/gpt-4o-mini", "anthropic/claude", "groq/llama"} {
		_, err := llm.Open(m)
		require.Error(t, err, m)
		assert.True(t, errors.Is(err, lmsys.ErrInvalidInput), m)
	}
	_, err := llm.Open("openai/m", llm.WithAPIKey("k"), llm.WithConcurrency(0))
	assert.True(t, errors.Is(err, lmsys.ErrInvalidInput))
	// A local OpenAI-compatible server needs no key.
	_, err = llm.Open("openai/local", llm.WithBaseURL("http://127.0.0.1:1/v1"))
	assert.NoError(t, err)
}

func TestEnvironmentEndpoints(t *testing.T) {
	srv := llmtest.OpenAI(llmtest.Text("from groq"))
	defer srv.Close()
	t.Setenv("GROQ_API_KEY", "gsk_test")
	t.Setenv("GROQ_BASE_URL", srv.BaseURL())
	c, err := llm.Open("groq/llama-3.1-8b-instant", fast[1:]...)
	require.NoError(t, err)
	text, u, err := c.Complete(context.Background(), "", "hi")
	require.NoError(t, err)
	assert.Equal(t, "from groq", text)
	assert.Greater(t, u.CostUSD, 0.0)
	assert.Equal(t, "Bearer gsk_test", srv.Requests()[0].Header.Get("Authorization"))

	ol := llmtest.Ollama(llmtest.Text("from ollama"))
	defer ol.Close()
	t.Setenv("OLLAMA_HOST", strings.TrimPrefix(ol.URL, "http://"))
	c, err = llm.Open("ollama/llama3")
	require.NoError(t, err)
	text, _, err = c.Complete(context.Background(), "", "hi")
	require.NoError(t, err)
	assert.Equal(t, "from ollama", text)

	an := llmtest.Anthropic(llmtest.Text("from claude"))
	defer an.Close()
	t.Setenv("ANTHROPIC_API_KEY", "sk-ant-test")
	t.Setenv("ANTHROPIC_BASE_URL", an.URL) // the SDK convention: no /v1
	c, err = llm.Open("anthropic/claude-3-5-haiku-latest")
	require.NoError(t, err)
	text, _, err = c.Complete(context.Background(), "", "hi")
	require.NoError(t, err)
	assert.Equal(t, "from claude", text)
	assert.Equal(t, "sk-ant-test", an.Requests()[0].Header.Get("X-Api-Key"))
}

func TestDefault(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "")
	assert.Equal(t, "", llm.Default())
	t.Setenv("OPENAI_API_KEY", "sk-x")
	assert.Equal(t, llm.DefaultModel, llm.Default())
}

func TestPriceOf(t *testing.T) {
	assert.Equal(t, llm.Price{InputPerM: 0.15, OutputPerM: 0.60}, llm.PriceOf("openai/gpt-4o-mini-2024-07-18"))
	assert.Equal(t, llm.Price{InputPerM: 2.5, OutputPerM: 10}, llm.PriceOf("openai/gpt-4o"))
	assert.Equal(t, llm.Price{}, llm.PriceOf("ollama/llama3"))
	assert.InDelta(t, 0.75, llm.PriceOf("openai/gpt-4o-mini").Cost(1_000_000, 1_000_000), 1e-9)
}
