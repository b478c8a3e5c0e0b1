// Package llm is the one place the project talks to chat models. Open resolves a
// "provider/model" string (openai/…, anthropic/…, groq/…, ollama/…) to a langchaingo
// model, and Client wraps it with what a batch job over thousands of prompts needs: a
// concurrency limit, a requests-per-minute limit, retries with exponential backoff on
// 429, 5xx and timeouts that honour Retry-After, a response cache keyed by model and
// prompt hash, token and cost accounting, and CompleteJSON, which pulls a JSON object
// out of the reply and asks again when it is invalid.
package llm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/internal/jsonx"
	"github.com/lmsys-go/lmsys/internal/retry"
	"github.com/tmc/langchaingo/llms"
	"github.com/tmc/langchaingo/llms/anthropic"
	"github.com/tmc/langchaingo/llms/ollama"
	"github.com/tmc/langchaingo/llms/openai"
)

// Default endpoints of the providers.
const (
	OpenAIBaseURL    = "https://api.openai.com/v1"
	AnthropicBaseURL = "https://api.anthropic.com/v1"
	GroqBaseURL      = "https://api.groq.com/openai/v1"
	OllamaBaseURL    = "http://localhost:11434"
)

// DefaultModel is the model Default picks when OPENAI_API_KEY is set.
const DefaultModel = "openai/gpt-4o-mini"

// Default returns DefaultModel when OPENAI_API_KEY is set and "" otherwise, in which
// case callers fall back to an offline method.
func Default() string {
	if os.Getenv("OPENAI_API_KEY") != "" {
		return DefaultModel
	}
	return ""
}

// Usage counts what a client spent. Estimated is true when a provider did not report
// token counts and they were estimated from text length (4 bytes a token).
type Usage struct {
	Calls        int64   `json:"calls"`
	CacheHits    int64   `json:"cache_hits"`
	Retries      int64   `json:"retries"`
	InputTokens  int64   `json:"input_tokens"`
	OutputTokens int64   `json:"output_tokens"`
	CostUSD      float64 `json:"estimated_cost_usd"`
	Estimated    bool    `json:"estimated,omitempty"`
}

// Add returns the sum of u and o.
func (u Usage) Add(o Usage) Usage {
	return Usage{
		Calls:        u.Calls + o.Calls,
		CacheHits:    u.CacheHits + o.CacheHits,
		Retries:      u.Retries + o.Retries,
		InputTokens:  u.InputTokens + o.InputTokens,
		OutputTokens: u.OutputTokens + o.OutputTokens,
		CostUSD:      u.CostUSD + o.CostUSD,
		Estimated:    u.Estimated || o.Estimated,
	}
}

// Cache stores model replies by key. The Store implements it; NewMemoryCache is an
// in-process one. Implementations are safe for concurrent use.
type Cache interface {
	Get(ctx context.Context, key string) (string, bool, error)
	Put(ctx context.Context, key, val string) error
}

// MemoryCache is a Cache held in memory.
type MemoryCache struct {
	mu sync.RWMutex
	m  map[string]string
}

// NewMemoryCache returns an empty in-memory cache.
func NewMemoryCache() *MemoryCache { return &MemoryCache{m: map[string]string{}} }

// Get returns the value stored under key.
func (c *MemoryCache) Get(_ context.Context, key string) (string, bool, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	v, ok := c.m[key]
	return v, ok, nil
}

// Put stores val under key.
func (c *MemoryCache) Put(_ context.Context, key, val string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[key] = val
	return nil
}

// Len returns the number of cached replies.
func (c *MemoryCache) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}

// config collects the options of Open.
type config struct {
	apiKey      string
	baseURL     string
	httpClient  *http.Client
	model       llms.Model
	concurrency int
	rpm         int
	maxRetries  int
	baseBackoff time.Duration
	maxBackoff  time.Duration
	maxWait     time.Duration
	timeout     time.Duration
	cache       Cache
	temperature float64
	maxTokens   int
	price       *Price
}

// Option configures Open.
type Option func(*config)

// WithAPIKey sets the API key instead of the provider's environment variable.
func WithAPIKey(key string) Option { return func(c *config) { c.apiKey = key } }

// WithBaseURL sets the provider endpoint instead of its environment variable or default
// (for gateways, proxies and local OpenAI-compatible servers).
func WithBaseURL(u string) Option { return func(c *config) { c.baseURL = u } }

// WithHTTPClient sets the HTTP client used for requests; its transport is wrapped to
// read status codes and Retry-After headers.
func WithHTTPClient(h *http.Client) Option { return func(c *config) { c.httpClient = h } }

// WithModel makes the client call m instead of resolving a provider; the model string
// then only names it (in cache keys, pricing and records).
func WithModel(m llms.Model) Option { return func(c *config) { c.model = m } }

// WithConcurrency limits the number of requests in flight (default 10).
func WithConcurrency(n int) Option { return func(c *config) { c.concurrency = n } }

// WithRPM limits requests started per minute, retries included (0, the default, means no limit).
func WithRPM(n int) Option { return func(c *config) { c.rpm = n } }

// WithRetries sets how many times a failed request is retried (default 6).
func WithRetries(n int) Option { return func(c *config) { c.maxRetries = n } }

// WithBackoff sets the first and the largest backoff between retries (default 500 ms and
// 30 s); each retry doubles the previous wait, with jitter.
func WithBackoff(base, max time.Duration) Option {
	return func(c *config) { c.baseBackoff, c.maxBackoff = base, max }
}

// WithMaxRetryAfter caps how long a Retry-After header may make a request wait (default 2 min).
func WithMaxRetryAfter(d time.Duration) Option { return func(c *config) { c.maxWait = d } }

// WithTimeout sets the deadline of one attempt (default 2 min); an attempt that runs out
// is retried.
func WithTimeout(d time.Duration) Option { return func(c *config) { c.timeout = d } }

// WithCache caches replies (default: no cache).
func WithCache(cache Cache) Option { return func(c *config) { c.cache = cache } }

// WithTemperature sets the sampling temperature (default 0).
func WithTemperature(t float64) Option { return func(c *config) { c.temperature = t } }

// WithMaxTokens caps the reply length in tokens (default 1024).
func WithMaxTokens(n int) Option { return func(c *config) { c.maxTokens = n } }

// WithPrice sets the price used for cost estimates instead of the built-in table.
func WithPrice(p Price) Option { return func(c *config) { c.price = &p } }

// Client calls one chat model. It is safe for concurrent use.
type Client struct {
	name     string
	provider string
	model    llms.Model
	cfg      config
	caller   *retry.Caller
	price    Price

	mu    sync.Mutex
	usage Usage
}

// Open returns a client for model, a "provider/model" string: openai/gpt-4o-mini
// (OPENAI_API_KEY, OPENAI_BASE_URL), anthropic/claude-3-5-haiku-latest
// (ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL), groq/llama-3.1-8b-instant (GROQ_API_KEY,
// GROQ_BASE_URL) or ollama/llama3 (OLLAMA_HOST). Options override the environment.
// A malformed string, an unknown provider or a missing key is an error wrapping
// lmsys.ErrInvalidInput.
func Open(model string, opts ...Option) (*Client, error) {
	cfg := config{
		concurrency: 10,
		maxRetries:  6,
		baseBackoff: 500 * time.Millisecond,
		maxBackoff:  30 * time.Second,
		maxWait:     2 * time.Minute,
		timeout:     2 * time.Minute,
		maxTokens:   1024,
	}
	for _, o := range opts {
		o(&cfg)
	}
	provider, name, ok := strings.Cut(model, "/")
	if !ok || provider == "" || name == "" {
		return nil, fmt.Errorf("%w: model %q is not provider/model (e.g. %s)", lmsys.ErrInvalidInput, model, DefaultModel)
	}
	provider = strings.ToLower(provider)
	if cfg.concurrency < 1 {
		return nil, fmt.Errorf("%w: concurrency %d must be at least 1", lmsys.ErrInvalidInput, cfg.concurrency)
	}
	if cfg.rpm < 0 || cfg.maxRetries < 0 {
		return nil, fmt.Errorf("%w: rpm and retries must not be negative", lmsys.ErrInvalidInput)
	}
	c := &Client{name: provider + "/" + name, provider: provider, cfg: cfg}
	c.caller = retry.New(retry.Policy{
		Provider:       c.name,
		MaxAttempts:    cfg.maxRetries + 1,
		BaseDelay:      cfg.baseBackoff,
		MaxDelay:       max(cfg.maxBackoff, cfg.maxWait),
		RPM:            float64(cfg.rpm),
		Concurrency:    cfg.concurrency,
		AttemptTimeout: cfg.timeout,
		Secrets:        nonEmpty(cfg.apiKey, os.Getenv("OPENAI_API_KEY"), os.Getenv("ANTHROPIC_API_KEY"), os.Getenv("GROQ_API_KEY")),
	})
	if cfg.price != nil {
		c.price = *cfg.price
	} else {
		c.price = PriceOf(c.name)
	}
	if cfg.model != nil {
		c.model = cfg.model
		return c, nil
	}
	hc := wrapHTTPClient(cfg.httpClient, cfg.concurrency)
	var err error
	switch provider {
	case "openai", "groq":
		keyVar, urlVar, def := "OPENAI_API_KEY", "OPENAI_BASE_URL", OpenAIBaseURL
		if provider == "groq" {
			keyVar, urlVar, def = "GROQ_API_KEY", "GROQ_BASE_URL", GroqBaseURL
		}
		base := firstNonEmpty(cfg.baseURL, os.Getenv(urlVar), def)
		key := firstNonEmpty(cfg.apiKey, os.Getenv(keyVar))
		if key == "" {
			if base == def {
				return nil, fmt.Errorf("%w: %s needs an API key: set %s or pass one", lmsys.ErrInvalidInput, c.name, keyVar)
			}
			// Local OpenAI-compatible servers (vLLM, llama.cpp) take any key.
			key = "no-key"
		}
		c.model, err = openai.New(openai.WithModel(name), openai.WithToken(key), openai.WithBaseURL(strings.TrimRight(base, "/")), openai.WithHTTPClient(hc))
	case "anthropic":
		base := firstNonEmpty(cfg.baseURL, os.Getenv("ANTHROPIC_BASE_URL"), AnthropicBaseURL)
		key := firstNonEmpty(cfg.apiKey, os.Getenv("ANTHROPIC_API_KEY"))
		if key == "" {
			return nil, fmt.Errorf("%w: %s needs an API key: set ANTHROPIC_API_KEY or pass one", lmsys.ErrInvalidInput, c.name)
		}
		c.model, err = anthropic.New(anthropic.WithModel(name), anthropic.WithToken(key), anthropic.WithBaseURL(anthropicBase(base)), anthropic.WithHTTPClient(hc))
	case "ollama":
		base, perr := ollamaBase(firstNonEmpty(cfg.baseURL, os.Getenv("OLLAMA_HOST"), OllamaBaseURL))
		if perr != nil {
			return nil, perr
		}
		c.model, err = ollama.New(ollama.WithModel(name), ollama.WithServerURL(base), ollama.WithHTTPClient(hc))
	default:
		return nil, fmt.Errorf("%w: unknown LLM provider %q in %q (want openai, anthropic, groq or ollama)", lmsys.ErrInvalidInput, provider, model)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: open %s: %v", lmsys.ErrInvalidInput, c.name, err)
	}
	return c, nil
}

// anthropicBase adds the /v1 that Anthropic's SDKs append to ANTHROPIC_BASE_URL.
func anthropicBase(base string) string {
	base = strings.TrimRight(base, "/")
	if !strings.HasSuffix(base, "/v1") {
		base += "/v1"
	}
	return base
}

// ollamaBase turns OLLAMA_HOST forms ("host", "host:port", "http://host:port") into a URL.
func ollamaBase(host string) (string, error) {
	if !strings.Contains(host, "://") {
		host = "http://" + host
	}
	u, err := url.Parse(host)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("%w: Ollama host %q is not a URL or host:port", lmsys.ErrInvalidInput, host)
	}
	if u.Port() == "" {
		u.Host += ":11434"
	}
	return strings.TrimRight(u.String(), "/"), nil
}

func nonEmpty(vs ...string) []string {
	var out []string
	for _, v := range vs {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// Model returns the "provider/model" string the client was opened with.
func (c *Client) Model() string { return c.name }

// Usage returns what the client has spent so far.
func (c *Client) Usage() Usage {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.usage
}

func (c *Client) addUsage(u Usage) {
	c.mu.Lock()
	c.usage = c.usage.Add(u)
	c.mu.Unlock()
}

// CacheKey returns the key a reply to (system, prompt) is cached under: the model and
// the SHA-256 of the prompt and the sampling settings.
func (c *Client) CacheKey(system, prompt string) string {
	h := sha256.New()
	fmt.Fprintf(h, "t=%g;max=%d\x00", c.cfg.temperature, c.cfg.maxTokens)
	h.Write([]byte(system))
	h.Write([]byte{0})
	h.Write([]byte(prompt))
	return c.name + ":" + hex.EncodeToString(h.Sum(nil))
}

// Complete sends one system and one user message and returns the reply text and what
// this call spent. Cached replies cost nothing. After the retries are exhausted the
// error (a *retry.Error) wraps lmsys.ErrProvider and names the last HTTP status.
func (c *Client) Complete(ctx context.Context, system, prompt string) (string, Usage, error) {
	var key string
	if c.cfg.cache != nil {
		key = c.CacheKey(system, prompt)
		if v, ok, err := c.cfg.cache.Get(ctx, key); err != nil {
			return "", Usage{}, fmt.Errorf("llm cache get: %w", err)
		} else if ok {
			u := Usage{CacheHits: 1}
			c.addUsage(u)
			return v, u, nil
		}
	}
	text, u, err := c.call(ctx, system, prompt)
	c.addUsage(u)
	if err != nil {
		return "", u, err
	}
	if c.cfg.cache != nil {
		if err := c.cfg.cache.Put(ctx, key, text); err != nil {
			return text, u, fmt.Errorf("llm cache put: %w", err)
		}
	}
	return text, u, nil
}

// call makes one request with retries (internal/retry: backoff with jitter,
// Retry-After, rpm and concurrency limits, per-attempt timeout).
func (c *Client) call(ctx context.Context, system, prompt string) (string, Usage, error) {
	var u Usage
	msgs := []llms.MessageContent{llms.TextParts(llms.ChatMessageTypeHuman, prompt)}
	if system != "" {
		msgs = append([]llms.MessageContent{llms.TextParts(llms.ChatMessageTypeSystem, system)}, msgs...)
	}
	resp, attempts, err := c.generate(ctx, msgs)
	u.Retries = int64(max(attempts-1, 0))
	if err != nil {
		return "", u, err
	}
	text, in, out, est := usageOf(resp, system, prompt)
	u.Calls++
	u.InputTokens += in
	u.OutputTokens += out
	u.Estimated = est
	u.CostUSD += c.price.Cost(in, out)
	return text, u, nil
}

// generate makes one request with retries (internal/retry: backoff with jitter,
// Retry-After, rpm and concurrency limits, per-attempt timeout), with the client's
// sampling settings and extra, and returns the reply and the attempts it took.
func (c *Client) generate(ctx context.Context, msgs []llms.MessageContent, extra ...llms.CallOption) (*llms.ContentResponse, int, error) {
	callOpts := []llms.CallOption{llms.WithTemperature(c.cfg.temperature)}
	if c.cfg.maxTokens > 0 {
		callOpts = append(callOpts, llms.WithMaxTokens(c.cfg.maxTokens))
	}
	callOpts = append(callOpts, extra...)
	attempts := 0
	var resp *llms.ContentResponse
	err := c.caller.Do(ctx, func(actx context.Context) error {
		attempts++
		r, err := c.model.GenerateContent(actx, msgs, callOpts...)
		if err != nil {
			return err
		}
		if len(r.Choices) == 0 || (r.Choices[0].Content == "" && len(r.Choices[0].ToolCalls) == 0) {
			// Some clients (Ollama's) return no error for an error status with an empty
			// body; the transport has recorded that status, which decides the retry.
			return errEmptyReply
		}
		resp = r
		return nil
	})
	return resp, attempts, err
}

// errEmptyReply reports a reply without text. It is retried when the transport saw an
// error status (Ollama's client turns an error with an empty body into an empty reply),
// and final otherwise.
var errEmptyReply = errors.New("empty reply: the server sent no text")

// usageOf returns the reply text and token counts, estimating them when the provider
// reported none.
func usageOf(resp *llms.ContentResponse, system, prompt string) (text string, in, out int64, estimated bool) {
	ch := resp.Choices[0]
	text = ch.Content
	gi := ch.GenerationInfo
	in = intOf(gi["PromptTokens"]) + intOf(gi["InputTokens"])
	out = intOf(gi["CompletionTokens"]) + intOf(gi["OutputTokens"])
	if in == 0 && out == 0 {
		return text, int64(len(system)+len(prompt))/4 + 1, int64(len(text))/4 + 1, true
	}
	return text, in, out, false
}

func intOf(v any) int64 {
	switch x := v.(type) {
	case int:
		return int64(x)
	case int32:
		return int64(x)
	case int64:
		return x
	case float64:
		return int64(x)
	}
	return 0
}

// ErrInvalidReply reports a reply that stayed invalid JSON, or failed validation, after
// every re-ask. It is wrapped together with lmsys.ErrProvider.
var ErrInvalidReply = errors.New("invalid reply")

// CompleteJSON asks for a JSON reply and decodes it into out. The JSON is extracted from
// the reply text (fenced blocks, leading prose and trailing commas are tolerated); then
// validate, when not nil, checks the decoded value. On invalid JSON or a failed
// validation the model is asked again, with its reply and the reason, up to 3 asks in
// all; out is reset to its zero value before each decode.
// It returns the usage of all the calls it made.
func (c *Client) CompleteJSON(ctx context.Context, system, prompt string, out any, validate func() error) (Usage, error) {
	const maxAsks = 3
	var total Usage
	p := prompt
	var lastErr error
	for ask := 0; ask < maxAsks; ask++ {
		text, u, err := c.Complete(ctx, system, p)
		total = total.Add(u)
		if err != nil {
			return total, err
		}
		// Start each decode from zero so fields of a rejected reply do not linger.
		if v := reflect.ValueOf(out); v.Kind() == reflect.Pointer && !v.IsNil() {
			v.Elem().SetZero()
		}
		err = jsonx.Unmarshal(text, out)
		if err == nil && validate != nil {
			err = validate()
		}
		if err == nil {
			return total, nil
		}
		lastErr = err
		p = prompt + "\n\nYour previous reply was:\n" + clip(text, 2000) +
			"\n\nIt was rejected: " + err.Error() + ".\nReply again with only the corrected JSON object."
	}
	return total, fmt.Errorf("%w: %w: %s: after %d asks: %v", lmsys.ErrProvider, ErrInvalidReply, c.name, maxAsks, lastErr)
}

// clip shortens s to at most n bytes on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && (s[n]&0xC0) == 0x80 {
		n--
	}
	return s[:n] + "…"
}

// Params returns the client's settings, for recording on the runs it serves.
func (c *Client) Params() map[string]any {
	return map[string]any{
		"model":       c.name,
		"temperature": c.cfg.temperature,
		"max_tokens":  c.cfg.maxTokens,
		"concurrency": c.cfg.concurrency,
		"rpm":         c.cfg.rpm,
		"max_retries": c.cfg.maxRetries,
	}
}

// MarshalJSON lets a client be logged as its model name.
func (c *Client) MarshalJSON() ([]byte, error) { return json.Marshal(c.name) }
