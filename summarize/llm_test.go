package summarize

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/llm"
	"github.com/lmsys-go/lmsys/llm/llmtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// clusterOfPrompt returns the fixture cluster whose text opens the prompt's requests.
func clusterOfPrompt(user string) int {
	_, rest, _ := strings.Cut(user, "<cluster_requests>\n<request>")
	first, _, _ := strings.Cut(rest, "</request>")
	for c, fc := range fixtureClusters {
		for _, t := range fc.texts {
			if t == first {
				return c
			}
		}
	}
	return -1
}

func goodReply(c int) string {
	return fmt.Sprintf(`{"title": "Fixture topic %d", "description": "Users asked about topic %d. It differs from its neighbours.", "coherence": 4, "mixed": false}`, c, c)
}

func newLLMSummarizer(t *testing.T, srv *llmtest.Server, lo LLMOptions, opts ...llm.Option) *LLM {
	t.Helper()
	base := []llm.Option{llm.WithBaseURL(srv.BaseURL()), llm.WithAPIKey("test"), llm.WithBackoff(time.Millisecond, 5*time.Millisecond), llm.WithConcurrency(4)}
	c, err := llm.Open(srv.Provider+"/test-model", append(base, opts...)...)
	require.NoError(t, err)
	s, err := NewLLM(c, lo)
	require.NoError(t, err)
	return s
}

func TestRunLLMProviders(t *testing.T) {
	for _, start := range []func(llmtest.Handler) *llmtest.Server{llmtest.OpenAI, llmtest.Anthropic, llmtest.Ollama} {
		srv := start(func(r llmtest.Request) llmtest.Reply {
			return llmtest.Reply{Text: "Here is the JSON:\n```json\n" + goodReply(clusterOfPrompt(r.User)) + "\n```"}
		})
		t.Run(srv.Provider, func(t *testing.T) {
			defer srv.Close()
			db := newFixture(t)
			s := newLLMSummarizer(t, srv, LLMOptions{MinClusterSize: 4})
			res, err := Run(context.Background(), db, fixtureRun, s, RunOptions{Alias: "v1", Prepare: PrepareOptions{ContrastNeighbors: 1}})
			require.NoError(t, err)
			assert.Equal(t, 5, res.Summarized)
			assert.Equal(t, 0, res.Failed)
			assert.Equal(t, 4, srv.Calls(), "the tiny cluster is not sent")
			assert.Greater(t, res.Usage.InputTokens, int64(0))
			ss, err := db.Summaries(context.Background(), fixtureRun, "v1")
			require.NoError(t, err)
			require.Len(t, ss, 5)
			for c, s := range ss[:4] {
				assert.Equal(t, fmt.Sprintf("Fixture topic %d", c), s.Title)
				assert.Equal(t, 4, s.Coherence)
				assert.Equal(t, srv.Provider+"/test-model", s.Model)
				assert.NotEmpty(t, s.Keywords)
				assert.Equal(t, fixtureClusters[c].texts[0], s.RepresentativeQueries[0])
			}
			assert.Equal(t, "offline-min-size", ss[4].Parameters["method"])
			assert.Equal(t, OfflineModel, ss[4].Model)
			runs, err := db.SummaryRuns(context.Background(), fixtureRun)
			require.NoError(t, err)
			require.Len(t, runs, 1)
			assert.Equal(t, res.SummaryRun.SummaryRunID, runs[0].SummaryRunID)
			assert.True(t, strings.HasPrefix(runs[0].SummaryRunID, "summary-test-model-"))
			assert.Equal(t, s.PromptHash(), runs[0].PromptHash)
			assert.Equal(t, res.Usage.InputTokens, runs[0].InputTokens)
			assert.Equal(t, 5, runs[0].NumClusters)

			// The prompt of cluster 0 holds the examples of its nearest cluster (1), not the far ones.
			for _, r := range srv.Requests() {
				if clusterOfPrompt(r.User) != 0 {
					continue
				}
				assert.Contains(t, r.User, "<contrast_requests>")
				assert.Contains(t, r.User, "python dict")
				assert.NotContains(t, r.User, "haiku")
				assert.NotContains(t, r.User, "capital of")
			}
		})
	}
}

func TestLLMInvalidThenValid(t *testing.T) {
	var mu sync.Mutex
	asked := map[int]int{}
	srv := llmtest.Anthropic(func(r llmtest.Request) llmtest.Reply {
		c := clusterOfPrompt(r.User)
		mu.Lock()
		asked[c]++
		n := asked[c]
		mu.Unlock()
		switch n {
		case 1:
			return llmtest.Reply{Text: "I think this cluster is about {title: oops"}
		case 2:
			return llmtest.Reply{Text: `{"title": "Various programming questions", "description": "Mixed. Stuff.", "coherence": 3, "mixed": false}`}
		}
		return llmtest.Reply{Text: goodReply(c)}
	})
	defer srv.Close()
	s := newLLMSummarizer(t, srv, LLMOptions{})
	in := []lmsys.ClusterInput{{ClusterID: 0, Size: 6, Queries: fixtureClusters[0].texts}}
	out, err := s.Summarize(context.Background(), in)
	require.NoError(t, err)
	require.Len(t, out, 1)
	assert.Empty(t, out[0].Error)
	assert.Equal(t, "Fixture topic 0", out[0].Title)
	reqs := srv.Requests()
	require.Len(t, reqs, 3)
	assert.Contains(t, reqs[2].User, "generic")
	assert.Equal(t, int64(3), s.Usage().Calls)
}

func TestLLMRetryAfterAndTimeout(t *testing.T) {
	srv := llmtest.Ollama(func(r llmtest.Request) llmtest.Reply {
		switch r.N {
		case 1:
			return llmtest.Reply{Status: http.StatusTooManyRequests, RetryAfter: "0.01"}
		case 2:
			return llmtest.Reply{Delay: 3 * time.Second, Text: goodReply(0)}
		}
		return llmtest.Reply{Text: goodReply(clusterOfPrompt(r.User))}
	})
	defer srv.Close()
	s := newLLMSummarizer(t, srv, LLMOptions{}, llm.WithConcurrency(1), llm.WithTimeout(200*time.Millisecond))
	out, err := s.Summarize(context.Background(), []lmsys.ClusterInput{{ClusterID: 2, Size: 5, Queries: fixtureClusters[2].texts}})
	require.NoError(t, err)
	assert.Equal(t, "Fixture topic 2", out[0].Title)
	assert.Equal(t, 3, srv.Calls())
	assert.Equal(t, int64(2), s.Usage().Retries)
}

func TestRunFailedClusterAndResume(t *testing.T) {
	db := newFixture(t)
	ctx := context.Background()
	// Cluster 2 always gets 500s; the others succeed.
	bad := llmtest.OpenAI(func(r llmtest.Request) llmtest.Reply {
		c := clusterOfPrompt(r.User)
		if c == 2 {
			return llmtest.Reply{Status: 500}
		}
		return llmtest.Reply{Text: goodReply(c)}
	})
	defer bad.Close()
	s := newLLMSummarizer(t, bad, LLMOptions{}, llm.WithRetries(2))
	res, err := Run(ctx, db, fixtureRun, s, RunOptions{Alias: "first"})
	require.NoError(t, err, "a failing cluster does not sink the run")
	assert.Equal(t, 5, res.Summarized)
	assert.Equal(t, 1, res.Failed)
	assert.Equal(t, 1, res.SummaryRun.NumFailed)
	ss, err := db.Summaries(ctx, fixtureRun, "first")
	require.NoError(t, err)
	assert.Contains(t, ss[2].Error, "HTTP 500")
	assert.Empty(t, ss[2].Title)
	firstTokens := res.SummaryRun.InputTokens

	// Resume with a working server: only cluster 2 is asked again.
	good := llmtest.OpenAI(func(r llmtest.Request) llmtest.Reply { return llmtest.Reply{Text: goodReply(clusterOfPrompt(r.User))} })
	defer good.Close()
	s2 := newLLMSummarizer(t, good, LLMOptions{})
	res, err = Run(ctx, db, fixtureRun, s2, RunOptions{Resume: true, Alias: "first"})
	require.NoError(t, err)
	assert.Equal(t, 1, good.Calls())
	assert.Equal(t, 2, clusterOfPrompt(good.Requests()[0].User))
	assert.Equal(t, 4, res.Skipped)
	assert.Equal(t, 1, res.Summarized)
	assert.Equal(t, 0, res.SummaryRun.NumFailed)
	assert.Greater(t, res.SummaryRun.InputTokens, firstTokens, "tokens accumulate over the resumed run")
	ss, err = db.Summaries(ctx, fixtureRun, "first")
	require.NoError(t, err)
	assert.Equal(t, "Fixture topic 2", ss[2].Title)
	assert.Empty(t, ss[2].Error)
	runs, err := db.SummaryRuns(ctx, fixtureRun)
	require.NoError(t, err)
	assert.Len(t, runs, 1, "resume writes into the same summary run")

	// Nothing left: a second resume asks nothing.
	_, err = Run(ctx, db, fixtureRun, s2, RunOptions{Resume: true})
	require.NoError(t, err)
	assert.Equal(t, 1, good.Calls())

	// One named cluster is redone in place.
	one := 3
	res, err = Run(ctx, db, fixtureRun, s2, RunOptions{SummaryRunID: res.SummaryRun.SummaryRunID, ClusterID: &one})
	require.NoError(t, err)
	assert.Equal(t, 1, res.Summarized)
	assert.Equal(t, 2, good.Calls())
	assert.Equal(t, 3, clusterOfPrompt(good.Requests()[1].User))
}

func TestRunCacheHitOnRerun(t *testing.T) {
	db := newFixture(t)
	ctx := context.Background()
	srv := llmtest.OpenAI(func(r llmtest.Request) llmtest.Reply { return llmtest.Reply{Text: goodReply(clusterOfPrompt(r.User))} })
	defer srv.Close()
	s := newLLMSummarizer(t, srv, LLMOptions{}, llm.WithCache(db.LLMCache()))
	_, err := Run(ctx, db, fixtureRun, s, RunOptions{SummaryRunID: "summary-a"})
	require.NoError(t, err)
	calls := srv.Calls()
	assert.Equal(t, 5, calls)
	// A fresh client on the same store: every reply comes from the cache.
	s2 := newLLMSummarizer(t, srv, LLMOptions{}, llm.WithCache(db.LLMCache()))
	res, err := Run(ctx, db, fixtureRun, s2, RunOptions{SummaryRunID: "summary-b"})
	require.NoError(t, err)
	assert.Equal(t, calls, srv.Calls())
	assert.Equal(t, int64(5), res.Usage.CacheHits)
	assert.Equal(t, 0.0, res.Usage.CostUSD)
	b, err := db.Summaries(ctx, fixtureRun, "summary-b")
	require.NoError(t, err)
	assert.Equal(t, "Fixture topic 0", b[0].Title)
}

func TestScrubbedTextNeverSent(t *testing.T) {
	for _, noScrub := range []bool{false, true} {
		srv := llmtest.OpenAI(func(r llmtest.Request) llmtest.Reply { return llmtest.Reply{Text: goodReply(clusterOfPrompt(r.User))} })
		db := newFixture(t)
		s := newLLMSummarizer(t, srv, LLMOptions{NoScrub: noScrub})
		// Contrast from every cluster, so the secret also travels as a contrast example.
		_, err := Run(context.Background(), db, fixtureRun, s, RunOptions{Prepare: PrepareOptions{ContrastNeighbors: 4}})
		require.NoError(t, err)
		leaked := false
		for _, r := range srv.Requests() {
			if strings.Contains(r.User, "jane.doe@example.com") || strings.Contains(r.User, "sk-proj-abc") {
				leaked = true
			}
			if !noScrub {
				assert.NotContains(t, r.User, "jane.doe@example.com")
				assert.NotContains(t, r.User, "sk-proj-")
			}
		}
		assert.Equal(t, noScrub, leaked)
		srv.Close()
	}
}

func TestPromptFile(t *testing.T) {
	srv := llmtest.OpenAI(llmtest.Text(goodReply(0)))
	defer srv.Close()
	dir := t.TempDir()
	custom := filepath.Join(dir, "p.tmpl")
	require.NoError(t, os.WriteFile(custom, []byte(`{{define "user"}}CUSTOM {{.ClusterID}} {{range .Queries}}[{{.}}]{{end}}{{end}}`), 0o644))
	s := newLLMSummarizer(t, srv, LLMOptions{PromptFile: custom})
	sys, user, err := s.Prompt(lmsys.ClusterInput{ClusterID: 9, Queries: []string{"a b", "mail x@y.org"}})
	require.NoError(t, err)
	assert.Equal(t, "CUSTOM 9 [a b][mail [EMAIL]]", user)
	assert.Contains(t, sys, "JSON")
	assert.NotEqual(t, newLLMSummarizer(t, srv, LLMOptions{}).PromptHash(), s.PromptHash())

	c, err := llm.Open("openai/x", llm.WithBaseURL(srv.BaseURL()), llm.WithAPIKey("k"))
	require.NoError(t, err)
	for _, body := range []string{`{{define "system"}}only system{{end}}`, `{{define "user"}}{{.Nope}}{{end}}`, `{{define "user"}}{{.ClusterID`} {
		p := filepath.Join(dir, "bad.tmpl")
		require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
		s, err := NewLLM(c, LLMOptions{PromptFile: p})
		if err == nil {
			_, _, err = s.Prompt(lmsys.ClusterInput{})
		}
		assert.ErrorIs(t, err, lmsys.ErrInvalidInput, body)
	}
	_, err = NewLLM(c, LLMOptions{PromptFile: filepath.Join(dir, "missing.tmpl")})
	assert.ErrorIs(t, err, lmsys.ErrInvalidInput)
}

func TestGenericTitle(t *testing.T) {
	tests := map[string]string{
		"Various programming questions":     "various",
		"User queries about cooking":        "user queries",
		"Diverse topics":                    "diverse",
		"General knowledge":                 "general",
		"Miscellaneous requests":            "miscellaneous",
		"Mixed bag of tasks":                "mixed",
		"Sort Python lists":                 "",
		"Generalized linear models in R":    "",
		"Write love poems for a partner":    "",
		"Requests for essay writing help":   "requests for",
		"Translate Chinese text to English": "",
	}
	for title, want := range tests {
		assert.Equal(t, want, GenericTitle(title), title)
	}
}

func TestReplyValidate(t *testing.T) {
	ok := reply{Title: ` "Sort Python lists." `, Description: "Users sorted lists. They asked in Python.", Coherence: 5}
	require.NoError(t, ok.validate())
	assert.Equal(t, "Sort Python lists", ok.Title)
	for _, r := range []reply{
		{Title: "", Description: "d.", Coherence: 3},
		{Title: "one two three four five six seven eight nine ten eleven", Description: "d.", Coherence: 3},
		{Title: "Sort lists", Description: "", Coherence: 3},
		{Title: "Sort lists", Description: "A. B. C. D. E.", Coherence: 3},
		{Title: "Sort lists", Description: "d.", Coherence: 0},
		{Title: "Sort lists", Description: "d.", Coherence: 6},
	} {
		assert.Error(t, r.validate(), r)
	}
}

func TestRunOffline(t *testing.T) {
	db := newFixture(t)
	ctx := context.Background()
	fixed := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	res, err := Run(ctx, db, fixtureRun, &Offline{}, RunOptions{Now: func() time.Time { return fixed }})
	require.NoError(t, err)
	assert.Equal(t, "summary-c-tf-idf-20260304-050607", res.SummaryRun.SummaryRunID)
	assert.Equal(t, OfflineModel, res.SummaryRun.Model)
	ss, err := db.Summaries(ctx, fixtureRun, "")
	require.NoError(t, err)
	require.Len(t, ss, 5)
	assert.Contains(t, strings.ToLower(ss[2].Title), "poem")
	again, err := Run(ctx, db, fixtureRun, &Offline{}, RunOptions{Now: func() time.Time { return fixed }})
	require.NoError(t, err)
	assert.Equal(t, "summary-c-tf-idf-20260304-050607-2", again.SummaryRun.SummaryRunID, "same second, new id")
	_, err = Run(ctx, db, "nope", &Offline{}, RunOptions{})
	assert.ErrorIs(t, err, lmsys.ErrNotFound)
	_, err = Run(ctx, db, fixtureRun, &Offline{}, RunOptions{Resume: true, Alias: "never-made"})
	assert.ErrorIs(t, err, lmsys.ErrNotFound)
}

func TestRunCancelledSavesProgress(t *testing.T) {
	db := newFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var once sync.Once
	srv := llmtest.OpenAI(func(r llmtest.Request) llmtest.Reply {
		c := clusterOfPrompt(r.User)
		if c == 3 {
			once.Do(cancel)
			return llmtest.Reply{Delay: 5 * time.Second}
		}
		return llmtest.Reply{Text: goodReply(c)}
	})
	defer srv.Close()
	s := newLLMSummarizer(t, srv, LLMOptions{}, llm.WithConcurrency(1))
	res, err := Run(ctx, db, fixtureRun, s, RunOptions{SummaryRunID: "summary-cut"})
	require.Error(t, err)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Contains(t, err.Error(), "--resume")
	ss, err := db.Summaries(context.Background(), fixtureRun, "summary-cut")
	require.NoError(t, err)
	assert.Equal(t, res.Summarized, len(ss))
	assert.Less(t, len(ss), 5)
}

func TestPromptClipsHugeQueries(t *testing.T) {
	srv := llmtest.OpenAI(llmtest.Text(goodReply(0)))
	defer srv.Close()
	s := newLLMSummarizer(t, srv, LLMOptions{MaxQueryChars: 50})
	huge := "my key sk-proj-abcdefghijklmnopqrstuvwxyz0123 " + strings.Repeat("word ", 200000)
	_, user, err := s.Prompt(lmsys.ClusterInput{ClusterID: 1, Queries: []string{huge, "ünïcödé " + strings.Repeat("é", 100)}})
	require.NoError(t, err)
	assert.Less(t, len(user), 4000)
	assert.Contains(t, user, "my key [API_KEY] word")
	assert.NotContains(t, user, "sk-proj")
	assert.True(t, utf8.ValidString(user))
}
