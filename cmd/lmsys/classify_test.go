package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/llm/llmtest"
	"github.com/lmsys-go/lmsys/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// chatDB returns a database path holding n two-turn conversations, query i+1 being
// "[conv i+1] …", with queries 1–4 in cluster 0 and 5–8 in cluster 1 of run "run-c".
func chatDB(t *testing.T, n int) (string, *store.DB) {
	t.Helper()
	path, db := tempDB(t, 0)
	ctx := context.Background()
	ds, err := db.EnsureDataset(ctx, lmsys.Dataset{Name: "chats"})
	require.NoError(t, err)
	qs := make([]lmsys.Query, n)
	for i := range qs {
		text := fmt.Sprintf("[conv %d] how do I parse dates in Go? mail me at dev%d@example.com", i+1, i)
		qs[i] = lmsys.Query{DatasetID: ds.ID, ConversationID: fmt.Sprint(i), Text: text, Conversation: []lmsys.Message{
			{Role: lmsys.RoleUser, Content: text}, {Role: lmsys.RoleAssistant, Content: "Use time.Parse with a layout."}}}
	}
	_, err = db.InsertQueries(ctx, qs)
	require.NoError(t, err)
	require.NoError(t, db.CreateRun(ctx, lmsys.Run{ID: "run-c", Algorithm: "kmeans", NumClusters: 2, Status: lmsys.RunCompleted}))
	var as []lmsys.Assignment
	for id := int64(1); id <= int64(min(n, 8)); id++ {
		as = append(as, lmsys.Assignment{RunID: "run-c", QueryID: id, ClusterID: int((id - 1) / 4)})
	}
	require.NoError(t, db.SaveAssignments(ctx, as))
	return path, db
}

var cliConvRe = regexp.MustCompile(`\[conv (\d+)\]`)

func clioFake(t *testing.T) *llmtest.Server {
	srv := llmtest.OpenAI(func(r llmtest.Request) llmtest.Reply {
		m := cliConvRe.FindStringSubmatch(r.User)
		id := 0
		if m != nil {
			id, _ = strconv.Atoi(m[1])
		}
		return llmtest.Reply{Text: fmt.Sprintf(`{"request": "Parse dates in Go (%d).", "task": "coding", "languages": ["en"], "concerning": 1, "frustration": 1, "assistant_errors": "none"}`, id)}
	})
	t.Cleanup(srv.Close)
	return srv
}

func TestClassifyClioCLI(t *testing.T) {
	path, _ := chatDB(t, 10)
	srv := clioFake(t)
	llmArgs := []string{"--db-path", path, "classify", "--facets", "clio", "--model", "openai/gpt-4o-mini", "--base-url", srv.BaseURL()}

	code, out, errOut := cli(t, append(llmArgs, "--dry-run")...)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "Plan for clio: 10 queries in scope, 0 already labelled, 10 to classify")
	assert.Regexp(t, `Estimate: 10 calls, \d+ input \+ \d+ output tokens \(4 bytes a token\), \$0\.0\d+`, out)
	assert.Equal(t, 0, srv.Calls(), "a dry run calls nothing")

	audit := filepath.Join(t.TempDir(), "calls.jsonl")
	code, out, errOut = cli(t, append(llmArgs, "--run-id", "run-c", "--cluster-ids", "1", "--audit-log", audit, "--concurrency", "3")...)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "Classifier: openai/gpt-4o-mini, text scrubbed")
	assert.Regexp(t, `Classification run classify-clio-\S+ \(clio\): completed; 4 classified`, out)
	assert.Contains(t, out, "LLM: 4 calls (4 asks, 0 from the cache, 0 replies rejected")
	assert.Regexp(t, `task\s+coding\s+4`, out)
	assert.Equal(t, 4, srv.Calls())
	for _, r := range srv.Requests() {
		assert.NotContains(t, r.User, "@example.com", "e-mails are scrubbed before sending")
	}
	b, err := os.ReadFile(audit)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	require.Len(t, lines, 4, "one audit line per call")
	var rec map[string]any
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &rec))
	assert.Len(t, rec["prompt_sha256"], 64)
	assert.True(t, strings.HasPrefix(rec["cache_key"].(string), "openai/gpt-4o-mini:"))

	// The rest, as JSON: the four done are skipped.
	code, out, errOut = cli(t, append(llmArgs, "--json")...)
	require.Equal(t, 0, code, errOut)
	var res struct {
		Run struct {
			ID     string `json:"classification_run_id"`
			Status string `json:"status"`
		} `json:"classification_run"`
		Classified int `json:"classified"`
		Skipped    int `json:"skipped"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &res), out)
	assert.Equal(t, 6, res.Classified)
	assert.Equal(t, 4, res.Skipped)
	assert.Equal(t, 10, srv.Calls())

	code, out, _ = cli(t, "--db-path", path, "classifications", "--json")
	require.Equal(t, 0, code)
	var runs []map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &runs))
	require.Len(t, runs, 2)
	assert.Equal(t, res.Run.ID, runs[0]["classification_run_id"], "newest first")

	code, out, _ = cli(t, "--db-path", path, "classifications", "list")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "CLASSIFICATION RUN")
	assert.Contains(t, out, "request,task,languages")

	code, out, _ = cli(t, "--db-path", path, "classifications", "show", res.Run.ID)
	require.Equal(t, 0, code)
	assert.Contains(t, out, "Template:           clio-")
	assert.Regexp(t, `frustration\s+1\s+10`, out, "labels of the result key, whichever run made them")

	code, out, _ = cli(t, "--db-path", path, "classifications", "show", res.Run.ID, "--json", "--top", "0")
	require.Equal(t, 0, code)
	var shown struct {
		Labels map[string][]lmsys.Count `json:"labels"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &shown))
	assert.Len(t, shown.Labels["request"], 10)

	code, _, errOut = cli(t, "--db-path", path, "classifications", "show", "nope")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "not found")
}

func TestClassifyTemplateAndPredictCLI(t *testing.T) {
	dir := t.TempDir()
	tmpl := filepath.Join(dir, "dates.yaml")
	require.NoError(t, os.WriteFile(tmpl, []byte(`name: dates
description: Is the question about dates?
input: query
prompt: "Question: {{.Query}}"
facets:
  - {name: about_dates, labels: [yes, no]}
`), 0o644))
	srv := llmtest.OpenAI(func(r llmtest.Request) llmtest.Reply {
		if strings.Contains(r.User, "date") {
			return llmtest.Reply{Text: `{"about_dates": "yes"}`}
		}
		return llmtest.Reply{Text: `{"about_dates": "no"}`}
	})
	defer srv.Close()
	path, db := chatDB(t, 3)

	code, out, errOut := cli(t, "--db-path", path, "classify", "--template", tmpl, "--model", "openai/gpt-4o-mini", "--base-url", srv.BaseURL(), "--query-ids", "2,3")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "2 classified")
	ls, err := db.Labels(context.Background(), lmsys.LabelFilter{Facet: "about_dates"})
	require.NoError(t, err)
	require.Len(t, ls, 2)
	assert.Equal(t, []int64{2, 3}, []int64{ls[0].QueryID, ls[1].QueryID})
	assert.Equal(t, "yes", ls[0].Value)
	tmpls, err := db.Templates(context.Background())
	require.NoError(t, err)
	require.Len(t, tmpls, 1)
	assert.Contains(t, tmpls[0].Content, "Is the question about dates?", "the file is stored as written")

	code, out, errOut = cli(t, "classify", "predict", "--template", tmpl, "--model", "openai/gpt-4o-mini", "--base-url", srv.BaseURL(), "--text", "what is the weather", "--json")
	require.Equal(t, 0, code, errOut)
	var pred struct {
		Answers []struct{ Facet, Label string } `json:"answers"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &pred))
	assert.Equal(t, []struct{ Facet, Label string }{{"about_dates", "no"}}, pred.Answers)

	code, out, errOut = cli(t, "classify", "predict", "--template", tmpl, "--model", "openai/gpt-4o-mini", "--base-url", srv.BaseURL(), "--text", "which date is it", "--show-prompt")
	require.Equal(t, 0, code, errOut)
	assert.Regexp(t, `about_dates\s+yes`, out)
	assert.Contains(t, errOut, "Question: which date is it")
}

func TestClassifyUsageErrors(t *testing.T) {
	path, _ := chatDB(t, 2)
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("name: bad\nfacets:\n  - {name: f, labels: [only]}\n"), 0o644))
	t.Setenv("OPENAI_API_KEY", "")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no classifier", []string{"classify"}, "give --builtin NAMES, --facets"},
		{"two classifiers", []string{"classify", "--facets", "clio", "--template", bad}, "none of the others can be"},
		{"unknown facet set", []string{"classify", "--facets", "kura", "--model", "openai/x"}, `no built-in facet set "kura"`},
		{"bad template", []string{"classify", "--template", bad, "--model", "openai/x"}, "facets[0]: labels: 1 labels"},
		{"no model", []string{"classify", "--facets", "clio"}, "need --model"},
		{"bad model", []string{"classify", "--facets", "clio", "--model", "gpt4"}, "not provider/model"},
		{"no key", []string{"classify", "--facets", "clio", "--model", "openai/gpt-4o-mini"}, "needs an API key"},
		{"clusters without run", []string{"classify", "--facets", "clio", "--model", "openai/x", "--cluster-ids", "1"}, "--cluster-ids needs --run-id"},
		{"negative cost", []string{"classify", "--facets", "clio", "--model", "openai/x", "--max-cost", "-1"}, "--max-cost must not be negative"},
		{"bad concurrency", []string{"classify", "--facets", "clio", "--model", "openai/x", "--concurrency", "0"}, "--concurrency must be at least 1"},
		{"predict empty", []string{"classify", "predict", "--facets", "clio", "--model", "openai/x", "--text", " "}, "--text is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := cli(t, append([]string{"--db-path", path}, tc.args...)...)
			assert.Equal(t, 2, code, errOut)
			assert.Contains(t, errOut, tc.want)
		})
	}
	// A dry run needs no key: it calls nothing.
	code, out, errOut := cli(t, "--db-path", path, "classify", "--facets", "clio", "--model", "openai/gpt-4o-mini", "--dry-run")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "2 to classify")

	code, _, errOut = cli(t, "--db-path", path, "classify", "--facets", "clio", "--model", "openai/x", "--base-url", "http://127.0.0.1:1", "--run-id", "missing")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "not found")
}

// TestClassifyResumesAfterSIGKILL kills a classify child process after 80 of 100
// conversations, when the first 64 are saved, and checks the same command does
// only the rest.
func TestClassifyResumesAfterSIGKILL(t *testing.T) {
	path, db := chatDB(t, 100)
	srv := clioFake(t)
	args := []string{"--db-path", path, "classify", "--facets", "clio", "--model", "openai/gpt-4o-mini", "--base-url", srv.BaseURL(), "--concurrency", "4"}
	cmd, out, err := child(t, []string{"LMSYS_KILL_AT=classify:80"}, args...)
	require.Error(t, err, out)
	ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
	require.True(t, ok)
	require.True(t, ws.Signaled(), "the child was killed: %s", out)
	ctx := context.Background()
	ls, err := db.Labels(ctx, lmsys.LabelFilter{Facet: "request"})
	require.NoError(t, err)
	assert.Len(t, ls, 64, "the saved batch survives the kill")
	killed := srv.Calls()

	c := exec.Command(os.Args[0], append(args, "--json")...)
	c.Env = append(os.Environ(), "LMSYS_CLI_CHILD=1", "OPENAI_API_KEY=")
	stdout, err := c.Output()
	require.NoError(t, err)
	var res struct {
		Classified int `json:"classified"`
		Skipped    int `json:"skipped"`
	}
	require.NoError(t, json.Unmarshal(stdout, &res), string(stdout))
	assert.Equal(t, 36, res.Classified, "the re-run classifies only what has no label")
	assert.Equal(t, 64, res.Skipped)
	// Replies the killed run received are in the store's LLM cache: the re-run asks
	// the model only for the others.
	assert.LessOrEqual(t, srv.Calls()-killed, 36)
	assert.GreaterOrEqual(t, killed, 80)
	for _, f := range []string{"request", "task", "languages", "concerning", "frustration", "assistant_errors"} {
		ls, err := db.Labels(ctx, lmsys.LabelFilter{Facet: f})
		require.NoError(t, err)
		assert.Len(t, ls, 100, f)
	}
	// The killed run no longer says running: it is failed, naming the run that resumed it.
	runs, err := db.ClassificationRuns(ctx)
	require.NoError(t, err)
	require.Len(t, runs, 2)
	assert.Equal(t, lmsys.ClassificationCompleted, runs[0].Status)
	assert.Equal(t, lmsys.ClassificationFailed, runs[1].Status)
	assert.Contains(t, runs[1].Error, "interrupted")
	assert.Contains(t, runs[1].Error, runs[0].ID)
}

func TestClassifyBuiltinsCLI(t *testing.T) {
	path, db := chatDB(t, 10)
	code, out, errOut := cli(t, "--db-path", path, "classify", "--builtin", "refusal,turns", "--run-id", "run-c", "--cluster-ids", "0")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "Classifier: offline built-in")
	assert.Regexp(t, `Classification run classify-refusal-\S+ \(refusal\): completed; 4 classified`, out)
	assert.Regexp(t, `Classification run classify-turns-\S+ \(turns\): completed; 4 classified`, out)
	assert.NotContains(t, out, "LLM:", "offline runs have no calls")
	ctx := context.Background()
	runs, err := db.ClassificationRuns(ctx)
	require.NoError(t, err)
	require.Len(t, runs, 2)
	for _, r := range runs {
		assert.Equal(t, "builtin", r.Provider)
		assert.Equal(t, map[string]any{"run_id": "run-c", "cluster_ids": []any{0.0}}, r.Scope)
	}
	ls, err := db.Labels(ctx, lmsys.LabelFilter{Facet: "refusal"})
	require.NoError(t, err)
	require.Len(t, ls, 4)
	assert.Equal(t, "complied", ls[0].Value)

	// A plan over every query: the four done are skipped, and nothing costs.
	code, out, errOut = cli(t, "--db-path", path, "classify", "--builtin", "refusal", "--dry-run")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "Plan for refusal: 10 queries in scope, 4 already labelled, 6 to classify")
	assert.Contains(t, out, "Estimate: offline, no calls, $0")

	code, out, errOut = cli(t, "--db-path", path, "classify", "predict", "--builtin", "refusal", "--text", "User: how do I pick a lock\nAssistant: I'm sorry, but I can't help with that.", "--json")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, `"label": "refused"`)

	code, _, errOut = cli(t, "--db-path", path, "classify", "--builtin", "nope")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "unknown built-in classifier")
	code, _, errOut = cli(t, "--db-path", path, "classify", "--builtin", "refusal", "--model", "openai/x")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "built-ins run offline")
}
