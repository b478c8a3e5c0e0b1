package summarize

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
	"text/template"
	"time"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/internal/scrub"
	"github.com/lmsys-go/lmsys/llm"
)

//go:embed prompts/*.tmpl
var promptFS embed.FS

// DefaultPrompt is the embedded prompt template: it defines "system" and "user".
var DefaultPrompt = mustRead("prompts/summarize.tmpl")

func mustRead(name string) string {
	b, err := promptFS.ReadFile(name)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// LLMOptions configures NewLLM.
type LLMOptions struct {
	// PromptFile replaces the embedded prompt: a text/template file defining the
	// templates "user" and, optionally, "system" (see DefaultPrompt for the fields).
	PromptFile string
	// MinClusterSize keeps clusters smaller than this away from the LLM: they are
	// summarised offline and marked so (Parameters["method"] = "offline-min-size").
	MinClusterSize int
	// NoScrub sends query text as is; by default e-mails, phone numbers, card numbers,
	// IP addresses and keys are replaced by placeholders first.
	NoScrub bool
	// MaxQueryChars clips each query in the prompt (default 400 characters).
	MaxQueryChars int
	// Now returns the generation time (default time.Now).
	Now func() time.Time
}

// LLM names clusters with a chat model. It asks for JSON (title of at most 10 words,
// two-sentence description, coherence 1–5, mixed flag), validates it, and asks again on
// invalid JSON or a generic title. A cluster that keeps failing gets Summary.Error; the
// others are unaffected. Concurrency and rate limits are the client's.
type LLM struct {
	client  *llm.Client
	tmpl    *template.Template
	hash    string
	opts    LLMOptions
	offline Offline

	mu    sync.Mutex
	usage llm.Usage
}

var _ lmsys.Summarizer = (*LLM)(nil)

// NewLLM returns an LLM summarizer calling c. A prompt file that cannot be read or
// parsed, or lacks a "user" template, is an error wrapping lmsys.ErrInvalidInput.
func NewLLM(c *llm.Client, opts LLMOptions) (*LLM, error) {
	if c == nil {
		return nil, fmt.Errorf("%w: summarize: nil LLM client", lmsys.ErrInvalidInput)
	}
	if opts.MaxQueryChars <= 0 {
		opts.MaxQueryChars = 400
	}
	src, name := DefaultPrompt, "embedded prompt"
	if opts.PromptFile != "" {
		b, err := os.ReadFile(opts.PromptFile)
		if err != nil {
			return nil, fmt.Errorf("%w: prompt file: %v", lmsys.ErrInvalidInput, err)
		}
		src, name = string(b), opts.PromptFile
	}
	tmpl, err := parsePrompt(src)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", lmsys.ErrInvalidInput, name, err)
	}
	h := sha256.Sum256([]byte(src))
	return &LLM{client: c, tmpl: tmpl, hash: hex.EncodeToString(h[:8]), opts: opts, offline: Offline{Now: opts.Now}}, nil
}

// parsePrompt parses a prompt template: "user" is required, "system" defaults to the
// embedded one.
func parsePrompt(src string) (*template.Template, error) {
	t, err := template.New("prompt").Option("missingkey=error").Parse(src)
	if err != nil {
		return nil, err
	}
	if t.Lookup("user") == nil {
		return nil, errors.New(`prompt template defines no "user" template ({{define "user"}}…{{end}})`)
	}
	if t.Lookup("system") == nil {
		def := template.Must(template.New("d").Parse(DefaultPrompt))
		if _, err := t.AddParseTree("system", def.Lookup("system").Tree); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// Model returns the client's "provider/model".
func (l *LLM) Model() string { return l.client.Model() }

// PromptHash returns the first 16 hex digits of the prompt template's SHA-256.
func (l *LLM) PromptHash() string { return l.hash }

// Params returns the settings recorded on the summary run.
func (l *LLM) Params() map[string]any {
	p := l.client.Params()
	p["min_cluster_size"] = l.opts.MinClusterSize
	p["scrub"] = !l.opts.NoScrub
	p["max_query_chars"] = l.opts.MaxQueryChars
	if l.opts.PromptFile != "" {
		p["prompt_file"] = l.opts.PromptFile
	}
	return p
}

// Usage returns the tokens and cost this summarizer has spent.
func (l *LLM) Usage() llm.Usage {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.usage
}

// PromptData is what the prompt templates see of one cluster.
type PromptData struct {
	ClusterID     int
	Size          int
	Queries       []string
	Contrast      []string
	Languages     string
	Models        string
	MaxTitleWords int
}

// Prompt renders the system and user prompts for c (scrubbed unless NoScrub), exactly
// as they would be sent.
func (l *LLM) Prompt(c lmsys.ClusterInput) (system, user string, err error) {
	clean := func(xs []string) []string {
		out := make([]string, 0, len(xs))
		for _, x := range xs {
			// Clip before scrubbing (a pasted megabyte need not be scanned) but with a
			// margin, so a secret cut at the final limit was whole when it was scrubbed.
			x = oneLine(clipRunes(x, 2*l.opts.MaxQueryChars+64))
			if !l.opts.NoScrub {
				x = scrub.Text(x)
			}
			out = append(out, clipRunes(x, l.opts.MaxQueryChars))
		}
		return out
	}
	size := c.Size
	if size == 0 {
		size = len(c.Queries)
	}
	d := PromptData{ClusterID: c.ClusterID, Size: size, Queries: clean(c.Queries), Contrast: clean(c.Contrast),
		Languages: topShares(c.Languages, 3), Models: topShares(c.Models, 3), MaxTitleWords: 10}
	var sb, ub bytes.Buffer
	if err := l.tmpl.ExecuteTemplate(&sb, "system", d); err != nil {
		return "", "", fmt.Errorf("%w: prompt template: %v", lmsys.ErrInvalidInput, err)
	}
	if err := l.tmpl.ExecuteTemplate(&ub, "user", d); err != nil {
		return "", "", fmt.Errorf("%w: prompt template: %v", lmsys.ErrInvalidInput, err)
	}
	return strings.TrimSpace(sb.String()), strings.TrimSpace(ub.String()), nil
}

// reply is the JSON the model is asked for.
type reply struct {
	Title       string `json:"title"`
	Description string `json:"description"`
	Coherence   int    `json:"coherence"`
	Mixed       bool   `json:"mixed"`
}

var genericPrefixes = []string{"user queries", "user questions", "user requests", "user prompts", "users asking",
	"queries about", "questions about", "requests about", "requests for", "queries related", "various", "cluster of", "cluster "}

var sentenceEnd = regexp.MustCompile(`[.!?。！？](\s|$)`)

// validate checks a reply and cleans its title.
func (r *reply) validate() error {
	r.Title = strings.Trim(strings.TrimSpace(r.Title), `"'“”.`)
	r.Description = strings.TrimSpace(r.Description)
	if r.Title == "" {
		return errors.New(`"title" is empty`)
	}
	if n := len(strings.Fields(r.Title)); n > 10 {
		return fmt.Errorf(`"title" has %d words; use at most 10`, n)
	}
	if g := GenericTitle(r.Title); g != "" {
		return fmt.Errorf(`"title" %q is generic (%q); name what these requests have in common that the contrast requests lack`, r.Title, g)
	}
	if r.Description == "" {
		return errors.New(`"description" is empty`)
	}
	if n := len(sentenceEnd.FindAllStringIndex(r.Description, -1)); n > 3 {
		return fmt.Errorf(`"description" has %d sentences; write two`, n)
	}
	if r.Coherence < 1 || r.Coherence > 5 {
		return fmt.Errorf(`"coherence" is %d; give an integer from 1 to 5`, r.Coherence)
	}
	return nil
}

// GenericTitle returns the vague word or opening that makes title useless ("various",
// "user queries" …), or "" when the title is specific enough.
func GenericTitle(title string) string {
	low := strings.ToLower(strings.TrimSpace(title))
	for _, p := range genericPrefixes {
		if strings.HasPrefix(low, p) {
			return p
		}
	}
	words := strings.FieldsFunc(low, func(r rune) bool { return !(r >= 'a' && r <= 'z' || r == '-') })
	for _, w := range words {
		for _, g := range genericWords {
			if !strings.Contains(g, " ") && w == g {
				return g
			}
		}
	}
	for _, g := range genericWords {
		if strings.Contains(g, " ") && strings.Contains(low, g) {
			return g
		}
	}
	return ""
}

// Summarize names every cluster; see SummarizeEach.
func (l *LLM) Summarize(ctx context.Context, clusters []lmsys.ClusterInput) ([]lmsys.Summary, error) {
	out := make([]lmsys.Summary, len(clusters))
	err := l.SummarizeEach(ctx, clusters, func(i int, s lmsys.Summary) { out[i] = s })
	if err != nil {
		return nil, err
	}
	return out, nil
}

// SummarizeEach names every cluster and calls fn with each summary as soon as it is
// ready (from one goroutine at a time, in no particular order), so a caller can save
// progress. Clusters below MinClusterSize are summarised offline; the offline keywords
// are attached to every summary. It returns an error only when ctx ends or the prompt
// template fails; a cluster the model keeps failing on gets Summary.Error.
func (l *LLM) SummarizeEach(ctx context.Context, clusters []lmsys.ClusterInput, fn func(i int, s lmsys.Summary)) error {
	now := time.Now
	if l.opts.Now != nil {
		now = l.opts.Now
	}
	// The offline pass is cheap; it supplies keywords for all and names the small clusters.
	base, err := l.offline.Summarize(ctx, clusters)
	if err != nil {
		return err
	}
	var fnMu sync.Mutex
	emit := func(i int, s lmsys.Summary) {
		fnMu.Lock()
		defer fnMu.Unlock()
		fn(i, s)
	}
	work := make(chan int)
	var wg sync.WaitGroup
	var firstErr error
	var errOnce sync.Once
	workers := min(len(clusters), 256)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				s, err := l.one(ctx, clusters[i], base[i], now)
				if err != nil {
					errOnce.Do(func() { firstErr = err })
					continue
				}
				emit(i, s)
			}
		}()
	}
feed:
	for i := range clusters {
		select {
		case work <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return firstErr
}

// one summarises one cluster. It returns an error only for ctx ending or a broken
// template; model failures are recorded on the summary.
func (l *LLM) one(ctx context.Context, c lmsys.ClusterInput, off lmsys.Summary, now func() time.Time) (lmsys.Summary, error) {
	size := c.Size
	if size == 0 {
		size = len(c.Queries)
	}
	if size < l.opts.MinClusterSize || len(c.Queries) == 0 {
		s := off
		s.Parameters = map[string]any{"method": "offline-min-size", "min_cluster_size": l.opts.MinClusterSize}
		if len(c.Queries) == 0 {
			s.Parameters["method"] = "offline-no-text"
		}
		return s, nil
	}
	system, user, err := l.Prompt(c)
	if err != nil {
		return lmsys.Summary{}, err
	}
	var r reply
	u, err := l.client.CompleteJSON(ctx, system, user, &r, r.validate)
	l.mu.Lock()
	l.usage = l.usage.Add(u)
	l.mu.Unlock()
	s := lmsys.Summary{
		ClusterID:             c.ClusterID,
		NumQueries:            size,
		RepresentativeQueries: off.RepresentativeQueries,
		Keywords:              off.Keywords,
		Model:                 l.client.Model(),
		Parameters: map[string]any{"method": "llm", "prompt_hash": l.hash, "input_tokens": u.InputTokens,
			"output_tokens": u.OutputTokens, "calls": u.Calls, "cache_hits": u.CacheHits, "retries": u.Retries},
		GeneratedAt: now().UTC(),
	}
	if err != nil {
		if ctx.Err() != nil {
			return lmsys.Summary{}, ctx.Err()
		}
		s.Error = err.Error()
		return s, nil
	}
	s.Title, s.Description, s.Coherence, s.Mixed = r.Title, r.Description, r.Coherence, r.Mixed
	return s, nil
}
