package classify_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/classify"
	"github.com/lmsys-go/lmsys/llm"
	"github.com/lmsys-go/lmsys/llm/llmtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// conversations returns n multi-turn conversations; each user turn names its
// conversation as "[conv ID]" so the fake can tell them apart.
func conversations(n int) []lmsys.Conversation {
	out := make([]lmsys.Conversation, n)
	topics := []string{"how do I sort a list in Go", "écris un poème sur la mer", "как испечь хлеб", "explain TCP slow start"}
	for i := range out {
		id := int64(i + 1)
		out[i] = lmsys.Conversation{QueryID: id, Messages: []lmsys.Message{
			{Role: lmsys.RoleUser, Content: fmt.Sprintf("[conv %d] %s", id, topics[i%len(topics)])},
			{Role: lmsys.RoleAssistant, Content: "Here is an answer for you."},
			{Role: lmsys.RoleUser, Content: fmt.Sprintf("[conv %d] thanks, one more detail please", id)},
		}}
	}
	return out
}

var convRe = regexp.MustCompile(`\[conv (\d+)\]`)

// convOf returns the conversation id a prompt shows, or 0.
func convOf(user string) int64 {
	m := convRe.FindStringSubmatch(user)
	if m == nil {
		return 0
	}
	id, _ := strconv.ParseInt(m[1], 10, 64)
	return id
}

// clioReply is a valid answer of the Clio facet set for conversation id.
func clioReply(id int64) string {
	return fmt.Sprintf("```json\n{\"request\": \"Answer question number %d.\", \"task\": \"information\", \"languages\": [\"en\"], "+
		"\"concerning\": %d, \"frustration\": 1, \"assistant_errors\": \"none\"}\n```", id, 1+id%5)
}

func openClient(t testing.TB, srv *llmtest.Server, model string, opts ...llm.Option) *llm.Client {
	t.Helper()
	base := []llm.Option{llm.WithBaseURL(srv.BaseURL()), llm.WithAPIKey("test-key"), llm.WithBackoff(time.Millisecond, 5*time.Millisecond),
		llm.WithMaxRetryAfter(10 * time.Millisecond), llm.WithConcurrency(8)}
	c, err := llm.Open(model, append(base, opts...)...)
	require.NoError(t, err)
	return c
}

func clioClassifier(t testing.TB, srv *llmtest.Server, lo classify.LLMOptions, opts ...llm.Option) *classify.LLM {
	t.Helper()
	tmpl, err := classify.FacetSet("clio")
	require.NoError(t, err)
	l, err := classify.NewLLM(openClient(t, srv, "openai/gpt-4o-mini", opts...), tmpl, lo)
	require.NoError(t, err)
	return l
}

func countLabels(t *testing.T, st *testStore, key, facet string) (n int, errs int) {
	t.Helper()
	ls, err := st.Labels(context.Background(), lmsys.LabelFilter{Facet: facet, ResultKey: key})
	require.NoError(t, err)
	for _, l := range ls {
		if l.Value == classify.ErrorLabel {
			errs++
		}
	}
	return len(ls), errs
}

func TestRunClio(t *testing.T) {
	srv := llmtest.OpenAI(func(r llmtest.Request) llmtest.Reply { return llmtest.Reply{Text: clioReply(convOf(r.User))} })
	defer srv.Close()
	st := newStore(t, conversations(30))
	cl := clioClassifier(t, srv, classify.LLMOptions{})
	var last lmsys.Progress
	res, err := classify.Run(context.Background(), st, cl, classify.Options{Concurrency: 5, SaveEvery: 7,
		Progress: func(p lmsys.Progress) { last = p }})
	require.NoError(t, err)
	assert.Equal(t, int64(30), res.Classified)
	assert.Equal(t, int64(0), res.Errors)
	assert.Equal(t, 30, srv.Calls())
	assert.Equal(t, int64(30), res.Cost.Calls)
	assert.Greater(t, res.Cost.InputTokens, int64(1000))
	assert.Greater(t, res.Cost.USD, 0.0, "gpt-4o-mini has a list price")
	assert.Equal(t, lmsys.Progress{Stage: "classify", Done: 30, Total: 30}, last)
	assert.GreaterOrEqual(t, st.saved(), 5, "labels are saved in batches as they come")

	r := res.Run
	assert.Equal(t, lmsys.ClassificationCompleted, r.Status)
	assert.Equal(t, int64(30), r.TotalQueries)
	assert.Equal(t, int64(30), r.ProcessedQueries)
	assert.Equal(t, res.Cost.USD, r.Cost)
	assert.Equal(t, "openai", r.Provider)
	assert.Equal(t, "openai/gpt-4o-mini", r.Model)
	assert.Equal(t, []string{"request", "task", "languages", "concerning", "frustration", "assistant_errors"}, r.Facets)
	assert.True(t, strings.HasPrefix(r.ID, "classify-clio-"), r.ID)
	stored, err := st.GetClassificationRun(context.Background(), r.ID)
	require.NoError(t, err)
	want, _ := json.Marshal(r)
	got, _ := json.Marshal(stored)
	assert.JSONEq(t, string(want), string(got), "the stored run is the returned one")
	tmpls, err := st.Templates(context.Background())
	require.NoError(t, err)
	require.Len(t, tmpls, 1)
	assert.Equal(t, r.TemplateID, tmpls[0].ID)
	assert.Contains(t, tmpls[0].Content, "name: clio")

	ls, err := st.Labels(context.Background(), lmsys.LabelFilter{ResultKey: cl.ResultKey(), QueryIDs: []int64{7}})
	require.NoError(t, err)
	values := map[string]string{}
	for _, l := range ls {
		values[l.Facet] = l.Value
		assert.Equal(t, r.ID, l.ClassificationRunID)
	}
	assert.Equal(t, map[string]string{"request": "Answer question number 7.", "task": "information", "languages": "en",
		"concerning": "3", "frustration": "1", "assistant_errors": "none"}, values)

	// The same key again: nothing to do, nothing called.
	again, err := classify.Run(context.Background(), st, cl, classify.Options{})
	require.NoError(t, err)
	assert.Equal(t, int64(30), again.Skipped)
	assert.Equal(t, int64(0), again.Classified)
	assert.Equal(t, 30, srv.Calls())
	assert.NotEqual(t, r.ID, again.Run.ID, "a second run in the same second gets a free id")

	// Another temperature is another key: everything is asked again.
	warm := clioClassifier(t, srv, classify.LLMOptions{}, llm.WithTemperature(0.7))
	assert.NotEqual(t, cl.ResultKey(), warm.ResultKey())
}

func TestInvalidLabelIsReasked(t *testing.T) {
	var mu sync.Mutex
	asked := map[int64]int{}
	srv := llmtest.OpenAI(func(r llmtest.Request) llmtest.Reply {
		id := convOf(r.User)
		mu.Lock()
		asked[id]++
		n := asked[id]
		mu.Unlock()
		if id == 2 && n == 1 {
			return llmtest.Reply{Text: strings.Replace(clioReply(id), `"task": "information"`, `"task": "Information seeking"`, 1)}
		}
		if id == 3 && n <= 2 {
			return llmtest.Reply{Text: strings.Replace(clioReply(id), `"concerning": 4`, `"concerning": 9`, 1)}
		}
		return llmtest.Reply{Text: clioReply(id)}
	})
	defer srv.Close()
	st := newStore(t, conversations(4))
	cl := clioClassifier(t, srv, classify.LLMOptions{})
	res, err := classify.Run(context.Background(), st, cl, classify.Options{})
	require.NoError(t, err)
	assert.Equal(t, int64(4), res.Classified)
	assert.Equal(t, int64(0), res.Errors)
	assert.Equal(t, map[int64]int{1: 1, 2: 2, 3: 3, 4: 1}, asked)
	for _, r := range srv.Requests() {
		if convOf(r.User) == 2 && strings.Contains(r.User, "rejected") {
			assert.Contains(t, r.User, `"task" is "Information seeking", which is not one of "coding"`)
		}
	}
	ls, err := st.Labels(context.Background(), lmsys.LabelFilter{Facet: "task", ResultKey: cl.ResultKey(), QueryIDs: []int64{2}})
	require.NoError(t, err)
	require.Len(t, ls, 1)
	assert.Equal(t, "information", ls[0].Value, "the re-asked answer is stored, never a mapped one")
	assert.Equal(t, int64(7), res.Cost.Calls)
	assert.Equal(t, map[string]int64{"asks": 7, "cache_hits": 0, "rejected_replies": 3, "refusals": 0, "provider_retries": 0, "failed_calls": 0}, res.Metrics)
}

func TestRefusalBecomesErrorLabel(t *testing.T) {
	var refuse sync.Map
	refuse.Store(int64(2), true)
	srv := llmtest.OpenAI(func(r llmtest.Request) llmtest.Reply {
		id := convOf(r.User)
		if _, ok := refuse.Load(id); ok {
			return llmtest.Reply{Text: "I'm sorry, but I can't help with analysing this conversation."}
		}
		return llmtest.Reply{Text: clioReply(id)}
	})
	defer srv.Close()
	st := newStore(t, conversations(3))
	cl := clioClassifier(t, srv, classify.LLMOptions{Attempts: 2})
	res, err := classify.Run(context.Background(), st, cl, classify.Options{})
	require.NoError(t, err)
	assert.Equal(t, int64(2), res.Classified)
	assert.Equal(t, int64(1), res.Errors)
	assert.Equal(t, int64(1), res.Run.ErrorCount)
	assert.Equal(t, lmsys.ClassificationCompleted, res.Run.Status)
	assert.Equal(t, 4, srv.Calls(), "two asks for the refused one")
	assert.Equal(t, int64(2), res.Metrics["refusals"])
	ls, err := st.Labels(context.Background(), lmsys.LabelFilter{ResultKey: cl.ResultKey(), QueryIDs: []int64{2}})
	require.NoError(t, err)
	require.Len(t, ls, 6, "every facet records the error")
	for _, l := range ls {
		assert.Equal(t, classify.ErrorLabel, l.Value)
		assert.Contains(t, l.Reasoning, "refused to answer")
		assert.Contains(t, l.Reasoning, "after 2 asks")
	}

	// A plain re-run skips the error; --retry-failed asks again.
	refuse.Delete(int64(2))
	res, err = classify.Run(context.Background(), st, cl, classify.Options{})
	require.NoError(t, err)
	assert.Equal(t, int64(0), res.Classified)
	res, err = classify.Run(context.Background(), st, cl, classify.Options{RetryErrors: true})
	require.NoError(t, err)
	assert.Equal(t, int64(1), res.Classified)
	assert.Equal(t, int64(2), res.Skipped)
	n, errs := countLabels(t, st, cl.ResultKey(), "task")
	assert.Equal(t, 3, n)
	assert.Equal(t, 0, errs)
}

func TestRateLimitThenSuccess(t *testing.T) {
	var mu sync.Mutex
	seen := map[int64]bool{}
	srv := llmtest.OpenAI(func(r llmtest.Request) llmtest.Reply {
		id := convOf(r.User)
		mu.Lock()
		first := !seen[id]
		seen[id] = true
		mu.Unlock()
		if first {
			return llmtest.Reply{Status: http.StatusTooManyRequests, RetryAfter: "0"}
		}
		return llmtest.Reply{Text: clioReply(id)}
	})
	defer srv.Close()
	st := newStore(t, conversations(5))
	cl := clioClassifier(t, srv, classify.LLMOptions{})
	res, err := classify.Run(context.Background(), st, cl, classify.Options{})
	require.NoError(t, err)
	assert.Equal(t, int64(5), res.Classified)
	assert.Equal(t, 10, srv.Calls(), "each conversation: a 429, then the answer")
	assert.Equal(t, int64(5), res.Cost.Calls, "only answered calls are billed")
	assert.Equal(t, int64(5), res.Metrics["provider_retries"])
}

func TestProviderFailureStopsRun(t *testing.T) {
	var down sync.Map
	down.Store("down", true)
	srv := llmtest.OpenAI(func(r llmtest.Request) llmtest.Reply {
		if _, ok := down.Load("down"); ok && convOf(r.User) > 3 {
			return llmtest.Reply{Status: http.StatusUnauthorized}
		}
		return llmtest.Reply{Text: clioReply(convOf(r.User))}
	})
	defer srv.Close()
	st := newStore(t, conversations(10))
	cl := clioClassifier(t, srv, classify.LLMOptions{})
	res, err := classify.Run(context.Background(), st, cl, classify.Options{Concurrency: 1, SaveEvery: 1})
	require.Error(t, err)
	assert.ErrorIs(t, err, lmsys.ErrProvider)
	assert.Equal(t, lmsys.ClassificationFailed, res.Run.Status)
	assert.Contains(t, res.Run.Error, "401")
	assert.Equal(t, int64(3), res.Classified)
	n, _ := countLabels(t, st, cl.ResultKey(), "task")
	assert.Equal(t, 3, n, "no label for the failed calls: a re-run asks them")

	down.Delete("down")
	res, err = classify.Run(context.Background(), st, cl, classify.Options{})
	require.NoError(t, err)
	assert.Equal(t, int64(7), res.Classified)
	assert.Equal(t, int64(3), res.Skipped)
}

func TestResumeAfterCancel(t *testing.T) {
	const total, cancelAt = 60, 25
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	n, phase := 0, 1
	asked := map[int64]bool{} // the conversations asked in the second phase
	srv := llmtest.OpenAI(func(r llmtest.Request) llmtest.Reply {
		mu.Lock()
		n++
		if n == cancelAt {
			cancel()
		}
		if phase == 2 {
			asked[convOf(r.User)] = true
		}
		mu.Unlock()
		return llmtest.Reply{Text: clioReply(convOf(r.User))}
	})
	defer srv.Close()
	st := newStore(t, conversations(total))
	cl := clioClassifier(t, srv, classify.LLMOptions{})
	first, err := classify.Run(ctx, st, cl, classify.Options{Concurrency: 4, SaveEvery: 5})
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, lmsys.ClassificationFailed, first.Run.Status)
	done, _ := countLabels(t, st, cl.ResultKey(), "request")
	assert.Greater(t, done, 0, "the work done before the cancel is saved")
	assert.Less(t, done, total)
	assert.Equal(t, int64(done), first.Classified, "every classified query was saved, even the last batch")
	stored, err := st.GetClassificationRun(context.Background(), first.Run.ID)
	require.NoError(t, err)
	assert.Equal(t, lmsys.ClassificationFailed, stored.Status)

	labelled, err := st.LabeledQueryIDs(context.Background(), cl.ResultKey(), []int64{})
	require.NoError(t, err)
	ls, err := st.Labels(context.Background(), lmsys.LabelFilter{Facet: "request", ResultKey: cl.ResultKey()})
	require.NoError(t, err)
	for _, l := range ls {
		labelled[l.QueryID] = true
	}
	mu.Lock()
	phase = 2
	mu.Unlock()
	second, err := classify.Run(context.Background(), st, cl, classify.Options{Concurrency: 4})
	require.NoError(t, err)
	assert.Equal(t, int64(total-done), second.Classified)
	assert.Equal(t, int64(done), second.Skipped)
	mu.Lock()
	// A request the first run abandoned may still reach the fake late, but only for a
	// conversation without a label, which the second run asks as well.
	assert.Len(t, asked, total-done, "the re-run asks only for the rest")
	for id := range asked {
		assert.False(t, labelled[id], "query %d was labelled and asked again", id)
	}
	mu.Unlock()
	for _, f := range []string{"request", "task", "languages", "concerning", "frustration", "assistant_errors"} {
		got, _ := countLabels(t, st, cl.ResultKey(), f)
		assert.Equal(t, total, got, "one label per query and facet for %s", f)
	}
}

func TestCostCapStopsCleanly(t *testing.T) {
	srv := llmtest.OpenAI(func(r llmtest.Request) llmtest.Reply {
		return llmtest.Reply{Text: clioReply(convOf(r.User)), InputTokens: 500, OutputTokens: 40}
	})
	defer srv.Close()
	st := newStore(t, conversations(20))
	price := llm.Price{InputPerM: 1000, OutputPerM: 2000} // $0.5 + $0.08 a call
	cl := clioClassifier(t, srv, classify.LLMOptions{Price: &price}, llm.WithPrice(price))
	est := cl.Estimate(conversations(1)[0])
	require.Greater(t, est.USD, 0.58, "the estimate is above what the fake bills")
	maxCost := 5 * est.USD
	res, err := classify.Run(context.Background(), st, cl, classify.Options{Concurrency: 3, MaxCost: maxCost})
	require.NoError(t, err)
	assert.True(t, res.Stopped)
	assert.Equal(t, lmsys.ClassificationStopped, res.Run.Status)
	assert.Contains(t, res.Run.Error, "cost cap")
	assert.LessOrEqual(t, res.Cost.USD, maxCost)
	// Replies cost less than estimated, so at least the 5 estimated calls fit, and
	// the cap stops the run well before the 20 conversations.
	done := res.Classified
	assert.GreaterOrEqual(t, done, int64(5))
	assert.Less(t, done, int64(10))
	assert.Equal(t, int(done), srv.Calls(), "no call is started beyond the cap")
	n, _ := countLabels(t, st, cl.ResultKey(), "task")
	assert.Equal(t, int(done), n, "the labels so far are kept")
	assert.Equal(t, done, res.Run.ProcessedQueries)

	// A later run with a larger cap finishes the rest.
	res, err = classify.Run(context.Background(), st, cl, classify.Options{MaxCost: 100})
	require.NoError(t, err)
	assert.False(t, res.Stopped)
	assert.Equal(t, 20-done, res.Classified)
}

func TestDryRunCallsNothing(t *testing.T) {
	srv := llmtest.OpenAI(func(r llmtest.Request) llmtest.Reply { return llmtest.Reply{Text: clioReply(convOf(r.User))} })
	defer srv.Close()
	st := newStore(t, conversations(12))
	cl := clioClassifier(t, srv, classify.LLMOptions{})
	// Label three first, so the plan skips them.
	_, err := classify.Run(context.Background(), st, cl, classify.Options{Scope: classify.Scope{QueryIDs: []int64{1, 2, 3}}})
	require.NoError(t, err)
	calls, saves := srv.Calls(), st.saved()
	runs, _ := st.ClassificationRuns(context.Background())

	res, err := classify.Run(context.Background(), st, cl, classify.Options{DryRun: true})
	require.NoError(t, err)
	assert.Equal(t, calls, srv.Calls(), "a dry run calls nothing")
	assert.Equal(t, saves, st.saved(), "and writes nothing")
	after, _ := st.ClassificationRuns(context.Background())
	assert.Len(t, after, len(runs))
	assert.Equal(t, classify.Plan{Queries: 12, Labelled: 3, ToDo: 9, Estimate: res.Plan.Estimate}, res.Plan)
	assert.Equal(t, int64(9), res.Plan.Estimate.Calls)
	assert.Greater(t, res.Plan.Estimate.InputTokens, int64(9*300))
	assert.InDelta(t, llm.PriceOf("openai/gpt-4o-mini").Cost(res.Plan.Estimate.InputTokens, res.Plan.Estimate.OutputTokens), res.Plan.Estimate.USD, 1e-12)
}

func TestSecretsNeverReachProvider(t *testing.T) {
	const email, key = "maria.gonzalez@example.com", "sk-proj-4f9Qx2LmZ8vR1tY7bN3cK6wE0aS5dH9j"
	convs := []lmsys.Conversation{{QueryID: 1, Messages: []lmsys.Message{
		{Role: lmsys.RoleUser, Content: "[conv 1] my key " + key + " fails, mail me at " + email},
		{Role: lmsys.RoleAssistant, Content: "Do not share keys. I cannot e-mail " + email + "."},
	}}}
	for _, noScrub := range []bool{false, true} {
		t.Run(fmt.Sprintf("no-scrub=%v", noScrub), func(t *testing.T) {
			srv := llmtest.OpenAI(func(r llmtest.Request) llmtest.Reply { return llmtest.Reply{Text: clioReply(1)} })
			defer srv.Close()
			cl := clioClassifier(t, srv, classify.LLMOptions{NoScrub: noScrub})
			_, err := classify.Run(context.Background(), newStore(t, convs), cl, classify.Options{})
			require.NoError(t, err)
			require.Equal(t, 1, srv.Calls())
			sent := srv.Requests()[0].System + srv.Requests()[0].User
			if noScrub {
				assert.Contains(t, sent, email, "the check can fail: unscrubbed text does reach the fake")
				return
			}
			assert.NotContains(t, sent, email)
			assert.NotContains(t, sent, key)
			assert.NotContains(t, sent, "maria.gonzalez")
			assert.Contains(t, sent, "[EMAIL]")
		})
	}
}

func TestLongConversationIsClipped(t *testing.T) {
	secret := "sk-proj-9ZyXwVuTsRqPoNmLkJiHgFeDcBa87654"
	var msgs []lmsys.Message
	msgs = append(msgs, lmsys.Message{Role: lmsys.RoleUser, Content: "[conv 1] " + strings.Repeat("log line ", 3000) + secret})
	for i := range 200 {
		msgs = append(msgs, lmsys.Message{Role: lmsys.RoleAssistant, Content: fmt.Sprintf("reply %d", i)})
	}
	c := lmsys.Conversation{QueryID: 1, Messages: msgs, Truncated: "more than 10000 turns"}
	srv := llmtest.OpenAI(llmtest.Text(clioReply(1)))
	defer srv.Close()
	cl := clioClassifier(t, srv, classify.LLMOptions{MaxInputChars: 4000})
	_, user, err := cl.Prompt(c)
	require.NoError(t, err)
	assert.Less(t, len(user), 4000+2000, "the conversation keeps to its budget (plus the speakers' names)")
	assert.Contains(t, user, "more characters not shown")
	assert.Contains(t, user, "Assistant: reply 8\n\n[… 181 turns not shown]\n\nAssistant: reply 190", "the first and the last turns are kept")
	assert.True(t, strings.HasSuffix(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(user), "</conversation>")),
		"Assistant: reply 199\n\n[the stored conversation was cut: more than 10000 turns]"), user[len(user)-200:])
	assert.Contains(t, user, "the stored conversation was cut: more than 10000 turns")
	assert.NotContains(t, user, secret[:20], "a secret near the cut is scrubbed before clipping")

	short := lmsys.Conversation{QueryID: 2, Messages: []lmsys.Message{{Role: lmsys.RoleUser, Content: "hi"}, {Role: lmsys.RoleAssistant, Content: "hello"}}}
	_, user, err = cl.Prompt(short)
	require.NoError(t, err)
	assert.Contains(t, user, "User: hi\n\nAssistant: hello")
}

func TestPredict(t *testing.T) {
	srv := llmtest.OpenAI(func(r llmtest.Request) llmtest.Reply {
		if !strings.Contains(r.User, "User: [conv 5] is this code ok?\n\nAssistant: yes") {
			return llmtest.Reply{Text: "no transcript"}
		}
		return llmtest.Reply{Text: clioReply(5)}
	})
	defer srv.Close()
	cl := clioClassifier(t, srv, classify.LLMOptions{Attempts: 1})
	answers, cost, err := classify.Predict(context.Background(), cl, "User: [conv 5] is this code ok?\nAssistant: yes")
	require.NoError(t, err)
	require.Len(t, answers, 6)
	assert.Equal(t, classify.Answer{Facet: "task", Value: "information"}, answers[1])
	assert.Equal(t, int64(1), cost.Calls)
	_, _, err = classify.Predict(context.Background(), cl, "  ")
	assert.ErrorIs(t, err, lmsys.ErrInvalidInput)
}

func TestParseTranscript(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []lmsys.Message
	}{
		{"just a question: why?", []lmsys.Message{{Role: "user", Content: "just a question: why?"}}},
		{"User: hi\nAssistant: hello\nthere\nuser: bye", []lmsys.Message{{Role: "user", Content: "hi"}, {Role: "assistant", Content: "hello\nthere"}, {Role: "user", Content: "bye"}}},
		{"Human: a\nGPT: b", []lmsys.Message{{Role: "user", Content: "a"}, {Role: "assistant", Content: "b"}}},
		{"User: a\nAgent: b", []lmsys.Message{{Role: "user", Content: "a"}, {Role: "assistant", Content: "b"}}},
		{"preamble\nUser: a", []lmsys.Message{{Role: "user", Content: "preamble\nUser: a"}}},
	} {
		assert.Equal(t, tc.want, classify.ParseTranscript(tc.in).Messages, tc.in)
	}
}

// TestProviders runs the Clio facets through each provider's real client.
func TestProviders(t *testing.T) {
	for _, start := range []func(llmtest.Handler) *llmtest.Server{llmtest.OpenAI, llmtest.Anthropic, llmtest.Ollama} {
		srv := start(func(r llmtest.Request) llmtest.Reply { return llmtest.Reply{Text: clioReply(convOf(r.User))} })
		t.Run(srv.Provider, func(t *testing.T) {
			defer srv.Close()
			tmpl, err := classify.FacetSet("clio")
			require.NoError(t, err)
			cl, err := classify.NewLLM(openClient(t, srv, srv.Provider+"/test-model"), tmpl, classify.LLMOptions{})
			require.NoError(t, err)
			st := newStore(t, conversations(4))
			res, err := classify.Run(context.Background(), st, cl, classify.Options{})
			require.NoError(t, err)
			assert.Equal(t, int64(4), res.Classified)
			assert.Equal(t, srv.Provider, res.Run.Provider)
			for _, r := range srv.Requests() {
				assert.Contains(t, r.System, `"task": exactly one of`, "the facets travel in the system prompt")
			}
		})
	}
}

// The Clio set's languages facet is a list: the run records it, and the store counts
// and filters it item by item while keeping the label as written.
func TestClioLanguagesAreAList(t *testing.T) {
	srv := llmtest.OpenAI(func(r llmtest.Request) llmtest.Reply {
		reply := clioReply(convOf(r.User))
		if convOf(r.User)%2 == 1 {
			return llmtest.Reply{Text: strings.Replace(reply, `["en"]`, `["English", "French", "English"]`, 1)}
		}
		return llmtest.Reply{Text: strings.Replace(reply, `["en"]`, `["French"]`, 1)}
	})
	defer srv.Close()
	ctx := context.Background()
	st := newStore(t, conversations(4))
	cl := clioClassifier(t, srv, classify.LLMOptions{})
	assert.Equal(t, []string{"languages"}, cl.ListFacets())
	res, err := classify.Run(ctx, st, cl, classify.Options{Concurrency: 2})
	require.NoError(t, err)
	assert.Equal(t, []string{"languages"}, res.Run.ListFacets())
	stored, err := st.GetClassificationRun(ctx, res.Run.ID)
	require.NoError(t, err)
	assert.Equal(t, []string{"languages"}, stored.ListFacets(), "recorded with the run")

	ls, err := st.Labels(ctx, lmsys.LabelFilter{Facet: "languages", QueryIDs: []int64{1, 2}})
	require.NoError(t, err)
	require.Len(t, ls, 2)
	assert.Equal(t, "English, French", ls[0].Value, "stored joined, repeats dropped")
	assert.Equal(t, "French", ls[1].Value)
	dist, err := st.LabelDistribution(ctx, lmsys.LabelFilter{Facet: "languages"})
	require.NoError(t, err)
	assert.Equal(t, []lmsys.Count{{Key: "French", Count: 4}, {Key: "English", Count: 2}}, dist.Counts)
	assert.EqualValues(t, 4, dist.Queries)
	n, err := st.CountQueries(ctx, lmsys.QueryFilter{Label: "languages=English"})
	require.NoError(t, err)
	assert.EqualValues(t, 2, n)
	counts, err := st.LabelCounts(ctx, lmsys.LabelFilter{Facet: "task"})
	require.NoError(t, err)
	assert.Equal(t, []lmsys.Count{{Key: "information", Count: 4}}, counts, "a closed facet is not a list")

	// Built-in classifiers have no list facet, and record none.
	b, err := classify.Builtin("turns")
	require.NoError(t, err)
	bres, err := classify.Run(ctx, st, b, classify.Options{})
	require.NoError(t, err)
	assert.NotContains(t, bres.Run.Parameters, lmsys.ListFacetsParameter)
	lists, err := st.ListFacets(ctx)
	require.NoError(t, err)
	assert.Equal(t, map[string]bool{"languages": true}, lists)
}
