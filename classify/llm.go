package classify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/internal/jsonx"
	"github.com/lmsys-go/lmsys/internal/scrub"
	"github.com/lmsys-go/lmsys/llm"
)

// ErrInvalidAnswer reports a conversation the model kept answering invalidly (a label
// outside the vocabulary, a number out of range, no JSON) or refused to answer, after
// every attempt. The runner stores ErrorLabel for it; other errors (a provider that
// gave up after its retries, a cancelled context) stop the run instead.
var ErrInvalidAnswer = errors.New("invalid answer")

// Defaults of LLMOptions.
const (
	// DefaultMaxInputChars is the budget of the conversation shown in a prompt
	// (about 3,000 tokens at 4 characters a token).
	DefaultMaxInputChars = 12000
	// DefaultAttempts is how many times a conversation is asked before it is an error:
	// the first ask and two re-asks that quote the rejected reply and the reason.
	DefaultAttempts = 3
)

// promptFormat versions the way prompts are built from templates (transcript layout,
// clipping, system prompt); it is part of every result key, so a change here does not
// reuse labels produced by the older prompts.
const promptFormat = "llm-v1"

// CharsPerToken is the estimate used for token counts before a call: no tokenizer of
// the providers is available offline, so a token is taken as 4 bytes of UTF-8, the
// rule of thumb the providers publish for English (and what llm.Usage assumes when a
// provider reports no counts). Non-Latin scripts take more tokens per byte's worth of
// meaning; the estimate is a planning figure, the run records the providers' counts.
const CharsPerToken = 4

// LLMOptions configures NewLLM.
type LLMOptions struct {
	// NoScrub sends conversation text as is; by default e-mails, phone and card
	// numbers, IP addresses and keys are replaced by placeholders first.
	NoScrub bool
	// MaxInputChars is the budget of the shown conversation, in characters (default
	// DefaultMaxInputChars). Long messages are clipped so that every turn keeps a
	// share; turns beyond what fits are dropped with a note saying how many.
	MaxInputChars int
	// Attempts is how many times one conversation is asked (default DefaultAttempts).
	Attempts int
	// Price is the price estimates use; by default the client's list price
	// (llm.PriceOf of its model).
	Price *llm.Price
	// OnCall, when not nil, receives a record of every model call, for audit logs. It
	// is called from the classifying goroutines, concurrently.
	OnCall func(CallRecord)
}

// CallRecord describes one model call made for one conversation.
type CallRecord struct {
	QueryID int64 `json:"query_id"`
	// Attempt numbers the asks of this conversation from 1.
	Attempt int `json:"attempt"`
	// CacheKey is the key of the reply in the LLM cache (the model and the SHA-256 of
	// the sampling settings, system and user prompt).
	CacheKey string `json:"cache_key"`
	// PromptSHA256 is the SHA-256 of the system prompt, a NUL byte and the user prompt.
	PromptSHA256 string `json:"prompt_sha256"`
	CacheHit     bool   `json:"cache_hit"`
	// Retries counts the client's retries of this call (429s, 5xx, timeouts).
	Retries      int64   `json:"retries,omitempty"`
	InputTokens  int64   `json:"input_tokens"`
	OutputTokens int64   `json:"output_tokens"`
	CostUSD      float64 `json:"estimated_cost_usd"`
	// Reply is the model's reply, clipped to 2,000 characters.
	Reply string `json:"reply,omitempty"`
	// Rejected says why the reply was not accepted; empty when it was.
	Rejected string `json:"rejected,omitempty"`
	// Error is the call's error, when it failed.
	Error string `json:"error,omitempty"`
}

// LLM classifies conversations with a chat model and a template. It is safe for
// concurrent use; concurrency and rate limits, retries and the cache are the client's.
type LLM struct {
	client *llm.Client
	t      *Template
	opts   LLMOptions
	price  llm.Price
	system string
	key    string

	// Counters of every call, for Metrics.
	asks, cacheHits, rejected, refusals, retries, failed atomic.Int64
}

var (
	_ Classifier = (*LLM)(nil)
	_ Estimator  = (*LLM)(nil)
)

// NewLLM returns a classifier asking c with template t.
func NewLLM(c *llm.Client, t *Template, opts LLMOptions) (*LLM, error) {
	if c == nil || t == nil {
		return nil, fmt.Errorf("%w: classify: NewLLM needs a client and a template", lmsys.ErrInvalidInput)
	}
	if opts.MaxInputChars == 0 {
		opts.MaxInputChars = DefaultMaxInputChars
	}
	if opts.MaxInputChars < 200 {
		return nil, fmt.Errorf("%w: classify: max input chars %d is below 200", lmsys.ErrInvalidInput, opts.MaxInputChars)
	}
	if opts.Attempts == 0 {
		opts.Attempts = DefaultAttempts
	}
	if opts.Attempts < 1 || opts.Attempts > 10 {
		return nil, fmt.Errorf("%w: classify: attempts %d must be 1 to 10", lmsys.ErrInvalidInput, opts.Attempts)
	}
	l := &LLM{client: c, t: t, opts: opts, system: t.System()}
	if opts.Price != nil {
		l.price = *opts.Price
	} else {
		l.price = llm.PriceOf(c.Model())
	}
	p := c.Params()
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00model=%v;t=%v;max=%v;scrub=%v;input=%d;attempts=%d", promptFormat, t.Hash(), p["model"],
		p["temperature"], p["max_tokens"], !opts.NoScrub, opts.MaxInputChars, opts.Attempts)
	l.key = t.Name + "-" + hex.EncodeToString(h.Sum(nil))[:16]
	return l, nil
}

// Template returns the template as stored.
func (l *LLM) Template() lmsys.ClassificationTemplate { return l.t.Stored(timeNow()) }

// Facets returns the template's facets.
func (l *LLM) Facets() []Facet { return l.t.ClassifierFacets() }

// ListFacets returns the names of the template's list facets: the run records them
// (lmsys.ListFacetsParameter), so the store counts and filters them item by item.
func (l *LLM) ListFacets() []string { return l.t.ListFacets() }

// ResultKey is the template name and a hash of the template, the model, its sampling
// settings (temperature, max tokens), scrubbing, the input budget, the attempts and
// the prompt format.
func (l *LLM) ResultKey() string { return l.key }

// Model returns the client's "provider/model".
func (l *LLM) Model() string { return l.client.Model() }

// Params returns the settings recorded on the classification run.
func (l *LLM) Params() map[string]any {
	p := l.client.Params()
	p["scrub"] = !l.opts.NoScrub
	p["max_input_chars"] = l.opts.MaxInputChars
	p["attempts"] = l.opts.Attempts
	p["prompt_format"] = promptFormat
	p["template_hash"] = l.t.Hash()
	p["price"] = l.price
	return p
}

// Prompt returns the system and user prompts for c exactly as they are sent.
func (l *LLM) Prompt(c lmsys.Conversation) (system, user string, err error) {
	user, err = l.t.Render(l.promptData(c))
	return l.system, user, err
}

// promptData clips and scrubs what the template shows of c.
func (l *LLM) promptData(c lmsys.Conversation) PromptData {
	clean := func(s string, n int) string {
		// Clip before scrubbing (a pasted megabyte need not be scanned), with a margin so
		// a secret cut at the final limit was whole when it was scrubbed.
		s = clipRunes(s, 2*n+64)
		if !l.opts.NoScrub {
			s = scrub.Text(s)
		}
		return clipRunes(s, n)
	}
	d := PromptData{Turns: len(c.Messages), Truncated: c.Truncated}
	q := ""
	if i := c.FirstUser(); i >= 0 {
		q = c.Messages[i].Content
	}
	budget := l.opts.MaxInputChars
	d.Query = clean(strings.TrimSpace(q), budget)
	if l.t.Input == InputConversation {
		d.Conversation = transcript(c, budget, clean)
	}
	return d
}

// roleNames are the speakers of a transcript.
var roleNames = map[string]string{lmsys.RoleUser: "User", lmsys.RoleAssistant: "Assistant", lmsys.RoleSystem: "System", lmsys.RoleTool: "Tool"}

// minTurnChars is the least a shown turn keeps; turns that cannot have it are dropped.
const minTurnChars = 200

// transcript lays c out as "User: …" / "Assistant: …" blocks within budget runes of
// message text. Every message gets an equal share of what the shorter ones leave
// (water-filling), so one pasted log does not crowd out the replies. When even
// minTurnChars a turn does not fit, the opening and the closing turns are kept (where
// requests and frustration show) and the middle ones are dropped with their count.
func transcript(c lmsys.Conversation, budget int, clean func(string, int) string) string {
	msgs := c.Messages
	shown := make([]int, 0, len(msgs)) // indices of the messages shown
	gapAfter := -1                     // position in shown after which turns were dropped
	if keep := max(budget/minTurnChars, 1); len(msgs) > keep {
		head := (keep + 1) / 2
		for i := range head {
			shown = append(shown, i)
		}
		gapAfter = head - 1
		for i := len(msgs) - (keep - head); i < len(msgs); i++ {
			shown = append(shown, i)
		}
	} else {
		for i := range msgs {
			shown = append(shown, i)
		}
	}
	lens := make([]int, len(shown))
	for k, i := range shown {
		lens[k] = utf8.RuneCountInString(strings.TrimSpace(msgs[i].Content))
	}
	limit := waterLevel(lens, budget)
	var b strings.Builder
	for k, i := range shown {
		if k > 0 {
			b.WriteString("\n\n")
		}
		m := msgs[i]
		role := roleNames[m.Role]
		if role == "" {
			role = m.Role
		}
		b.WriteString(role + ": ")
		b.WriteString(clean(strings.TrimSpace(m.Content), limit))
		if lens[k] > limit {
			fmt.Fprintf(&b, " [… %d more characters not shown]", lens[k]-limit)
		}
		if k == gapAfter {
			fmt.Fprintf(&b, "\n\n[… %d turns not shown]", len(msgs)-len(shown))
		}
	}
	if c.Truncated != "" {
		b.WriteString("\n\n[the stored conversation was cut: " + c.Truncated + "]")
	}
	return b.String()
}

// waterLevel returns the largest per-message limit such that the clipped lengths sum
// to at most budget.
func waterLevel(lens []int, budget int) int {
	s := append([]int(nil), lens...)
	sort.Ints(s)
	left := budget
	for i, n := range s {
		share := left / (len(s) - i)
		if n > share {
			return share
		}
		left -= n
	}
	if len(s) == 0 {
		return budget
	}
	return s[len(s)-1]
}

// outputTokens estimates the reply of one facet.
func (f *TemplateFacet) outputTokens() int64 {
	switch f.Type {
	case TypeText:
		return int64(min(f.MaxChars, 240)/CharsPerToken) + 4
	case TypeList:
		return 12
	case TypeInteger:
		return 5
	}
	return 8
}

// Estimate returns the expected cost of one call for c: the prompt's bytes over
// CharsPerToken, an allowance per facet for the reply, and the price.
func (l *LLM) Estimate(c lmsys.Conversation) Cost {
	_, user, err := l.Prompt(c)
	if err != nil {
		user = ""
	}
	in := int64(len(l.system)+len(user))/CharsPerToken + 1
	out := int64(6)
	if l.t.Reasoning {
		out += 60
	}
	for i := range l.t.Facets {
		out += l.t.Facets[i].outputTokens()
	}
	return Cost{Calls: 1, InputTokens: in, OutputTokens: out, USD: l.price.Cost(in, out)}
}

// refusalRe recognises a model declining the task instead of answering in JSON.
var refusalRe = regexp.MustCompile(`(?i)\b(i\s*(?:'|’)?\s*m sorry|i am sorry|i can(?:not|'t|’t)|i won(?:'|’)t|i am unable|i'm unable|i’m unable|as an ai|i must decline|i will not)\b`)

// Classify asks the model about c and validates the reply. An invalid reply is
// re-asked, quoting it with the reason, up to Attempts asks in all; after that (or
// when the model keeps refusing) the error wraps ErrInvalidAnswer. A provider that
// gave up after the client's retries, or ctx ending, is returned as is.
func (l *LLM) Classify(ctx context.Context, c lmsys.Conversation) ([]Answer, Cost, error) {
	system, user, err := l.Prompt(c)
	if err != nil {
		return nil, Cost{}, err
	}
	var cost Cost
	prompt := user
	var lastReason string
	for attempt := 1; attempt <= l.opts.Attempts; attempt++ {
		text, u, err := l.client.Complete(ctx, system, prompt)
		cost = cost.Add(Cost{Calls: u.Calls, InputTokens: u.InputTokens, OutputTokens: u.OutputTokens, USD: u.CostUSD})
		rec := CallRecord{QueryID: c.QueryID, Attempt: attempt, CacheKey: l.client.CacheKey(system, prompt),
			PromptSHA256: promptHash(system, prompt), CacheHit: u.CacheHits > 0, InputTokens: u.InputTokens,
			OutputTokens: u.OutputTokens, CostUSD: u.CostUSD, Retries: u.Retries, Reply: clipRunes(text, 2000)}
		if err != nil {
			rec.Error = err.Error()
			l.record(rec)
			return nil, cost, fmt.Errorf("classify query %d: %w", c.QueryID, err)
		}
		answers, reason := l.parse(text)
		rec.Rejected = reason
		l.record(rec)
		if reason == "" {
			return answers, cost, nil
		}
		lastReason = reason
		prompt = user + "\n\nYour previous reply was:\n" + clipRunes(text, 2000) +
			"\n\nIt was rejected: " + reason + ".\nReply again with only the corrected JSON object, answering every key."
	}
	return nil, cost, fmt.Errorf("%w: query %d: %s after %d asks: %s", ErrInvalidAnswer, c.QueryID, l.client.Model(), l.opts.Attempts, lastReason)
}

func (l *LLM) record(r CallRecord) {
	l.asks.Add(1)
	l.retries.Add(r.Retries)
	if r.CacheHit {
		l.cacheHits.Add(1)
	}
	if r.Rejected != "" {
		l.rejected.Add(1)
		if strings.HasPrefix(r.Rejected, refusedReason) {
			l.refusals.Add(1)
		}
	}
	if r.Error != "" {
		l.failed.Add(1)
	}
	if l.opts.OnCall != nil {
		l.opts.OnCall(r)
	}
}

// refusedReason opens the rejection of a reply that declines the task.
const refusedReason = "the model refused to answer"

// Metrics returns the counters of every call this classifier made: asks (first asks
// and re-asks), replies from the cache, rejected replies (of which refusals), the
// client's retries, and calls that failed after them. Result.Metrics holds what one
// run added.
func (l *LLM) Metrics() map[string]int64 {
	return map[string]int64{"asks": l.asks.Load(), "cache_hits": l.cacheHits.Load(), "rejected_replies": l.rejected.Load(),
		"refusals": l.refusals.Load(), "provider_retries": l.retries.Load(), "failed_calls": l.failed.Load()}
}

// parse returns the answers of a reply, or why it is rejected.
func (l *LLM) parse(text string) ([]Answer, string) {
	var raw map[string]json.RawMessage
	if err := jsonx.Unmarshal(text, &raw); err != nil {
		if refusalRe.MatchString(text) {
			return nil, refusedReason + " (" + clipRunes(strings.Join(strings.Fields(text), " "), 200) + "); this is an annotation task over logged data, answer in JSON"
		}
		return nil, "not a JSON object: " + err.Error()
	}
	answers, err := l.t.ParseReply(raw)
	if err != nil {
		return nil, err.Error()
	}
	return answers, ""
}

func promptHash(system, prompt string) string {
	h := sha256.New()
	h.Write([]byte(system))
	h.Write([]byte{0})
	h.Write([]byte(prompt))
	return hex.EncodeToString(h.Sum(nil))
}
