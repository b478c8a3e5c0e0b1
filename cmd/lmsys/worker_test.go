package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/internal/fakeembed"
	"github.com/lmsys-go/lmsys/internal/testdb"
	"github.com/lmsys-go/lmsys/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDistributedNeedsPostgres(t *testing.T) {
	path, _ := tempDB(t, 20)
	for _, args := range [][]string{
		{"--db-path", path, "analyze", "--distributed"},
		{"--db-path", path, "worker"},
		{"--db-path", path, "classify", "--builtin", "refusal", "--distributed"},
		{"--db-url", "queries.db", "worker"},
	} {
		code, _, stderr := cli(t, args...)
		assert.Equal(t, 2, code, "%v: %s", args, stderr)
		assert.Contains(t, stderr, "PostgreSQL", "%v", args)
	}
	t.Setenv("LMSYS_DATABASE_URL", "")
	code, _, stderr := cli(t, "worker")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "--db-url postgres://")
	code, _, stderr = cli(t, "--db-url", "postgres://localhost/x", "worker", "--job-timeout", "1m", "--rescue-after", "30s")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "--rescue-after")
}

// syncBuffer is a bytes.Buffer safe for a child's output and the test reading it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// proc is a child process running the lmsys command line.
type proc struct {
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{} // closed when it has exited; err is then its Wait error
	err  error
}

// startChild starts the lmsys command line in a child process (see TestMain) and
// kills it when the test ends, if it still runs.
func startChild(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(os.Args[0], args...), out: &syncBuffer{}, done: make(chan struct{})}
	p.cmd.Env = append(append(os.Environ(), "LMSYS_CLI_CHILD=1"), env...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	require.NoError(t, p.cmd.Start())
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
	})
	return p
}

// waitFor polls cond until it holds, failing the test at the deadline.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(50 * time.Millisecond) // polling interval of a database condition
	}
}

// TestWorkersKilledMidJob runs three `lmsys worker` processes on one PostgreSQL
// database and `lmsys analyze --distributed` embedding 3,000 queries with a remote
// embedder (an httptest fake of the OpenAI API, through the real client library).
// The worker that is River's leader is SIGKILLed while it holds a job (its request
// to the fake is held open; the job's state is read from River's table). The job is
// rescued and done by another worker, the analysis finishes, every query has exactly
// one vector, the fake embedded every query text exactly once, and no job is left
// running.
func TestWorkersKilledMidJob(t *testing.T) {
	url := testdb.PostgresURL(t)
	ctx := context.Background()
	dir := t.TempDir()
	const rows = 3000
	var b strings.Builder
	for i := range rows {
		line, _ := json.Marshal(map[string]any{"conversation_id": fmt.Sprintf("c%05d", i),
			"text": fmt.Sprintf("question %d about %s", i, []string{"python imports", "travel plans", "recipes", "poems"}[i%4])})
		b.Write(line)
		b.WriteByte('\n')
	}
	logs := filepath.Join(dir, "logs.jsonl")
	require.NoError(t, os.WriteFile(logs, []byte(b.String()), 0o644))
	code, _, stderr := cli(t, "--db-url", url, "load", "--source", logs)
	require.Equal(t, 0, code, stderr)
	db, err := store.Open(ctx, store.Config{URL: url})
	require.NoError(t, err)
	defer db.Close()

	fake := fakeembed.Start(32)
	defer fake.Close()
	fake.Delay = 10 * time.Millisecond
	var victim atomic.Value // the prefix (worker id) whose next request is held
	victim.Store("")
	held := make(chan []string, 1)
	var holding atomic.Bool
	fake.OnRequest = func(r *http.Request, prefix string, texts []string) bool {
		if prefix != "" && prefix == victim.Load() && holding.CompareAndSwap(false, true) {
			held <- texts
			<-r.Context().Done() // until its worker dies
			return false
		}
		return true
	}
	env := []string{"OPENAI_API_KEY=test", "LMSYS_DB_PATH=" + filepath.Join(dir, "index-here.db")}
	workers := map[string]*proc{}
	for _, id := range []string{"w1", "w2", "w3"} {
		workers[id] = startChild(t, env, "--db-url", url, "worker", "--id", id, "--queues", "embed", "--concurrency", "1",
			"--job-timeout", "3s", "--rescue-after", "4s", "--embed-base-url", fake.Prefixed(id))
	}
	var leader string
	waitFor(t, time.Minute, "a leader among the workers", func() bool {
		return db.Gorm().Raw(`SELECT leader_id FROM river_leader`).Scan(&leader).Error == nil && workers[leader] != nil
	})
	victim.Store(leader)

	// OPENAI_BASE_URL, not --embed-base-url: the index stage opens the run's embedder
	// by its space to embed the cluster summaries.
	an := startChild(t, append(env, "OPENAI_BASE_URL="+fake.Prefixed("analyze")), "--db-url", url, "analyze", "--distributed", "--job-size", "100",
		"--embedding-model", "openai/"+fakeembed.Model, "--embedding-dim", "32", "--n-clusters", "6", "--target-levels", "2", "--offline", "--json")

	var heldTexts []string
	select {
	case heldTexts = <-held:
	case <-an.done:
		t.Fatalf("analyze ended before the leader took a job (%v):\n%s", an.err, an.out)
	case <-time.After(2 * time.Minute):
		t.Fatalf("the leader %s took no job:\n%s", leader, workers[leader].out)
	}
	var jobID int64
	waitFor(t, time.Minute, "the victim's running job in river_job", func() bool {
		return db.Gorm().Raw(`SELECT id FROM river_job WHERE state = 'running' AND attempted_by[array_length(attempted_by, 1)] = ?`, leader).
			Scan(&jobID).Error == nil && jobID > 0
	})
	v := workers[leader]
	require.NoError(t, v.cmd.Process.Signal(syscall.SIGKILL))
	<-v.done
	ws, _ := v.cmd.ProcessState.Sys().(syscall.WaitStatus)
	require.True(t, ws.Signaled() && ws.Signal() == syscall.SIGKILL, "%v", v.cmd.ProcessState)

	select {
	case <-an.done:
		require.NoError(t, an.err, "analyze:\n%s", an.out)
	case <-time.After(4 * time.Minute):
		t.Fatalf("analyze did not finish:\n%s\nworkers:\n%s\n%s\n%s", an.out, workers["w1"].out, workers["w2"].out, workers["w3"].out)
	}
	var res struct {
		RunID  string            `json:"run_id"`
		Stages map[string]string `json:"stages"`
	}
	out := an.out.String()
	require.NoError(t, json.Unmarshal([]byte(out[strings.Index(out, "{\n"):]), &res), out)
	assert.Contains(t, res.Stages["embed"], "3000 embedded", out)

	space := lmsys.Space{Provider: "openai", Model: fakeembed.Model, Dims: 32}
	var vectors, running, attempt int64
	// Rows, not distinct hashes: the table's key would hide a duplicate of a hash, the
	// join would count it twice. (The index stage adds the cluster summaries' vectors.)
	require.NoError(t, db.Gorm().Raw(`SELECT COUNT(*) FROM queries q JOIN embeddings e ON e.text_hash = q.text_hash AND e.space = ?`,
		space.String()).Scan(&vectors).Error)
	assert.EqualValues(t, rows, vectors, "one vector per query")
	missing, err := db.CountMissingEmbeddings(ctx, space, lmsys.QueryFilter{})
	require.NoError(t, err)
	assert.Zero(t, missing)
	require.NoError(t, db.Gorm().Raw(`SELECT COUNT(*) FROM river_job WHERE state = 'running'`).Scan(&running).Error)
	assert.Zero(t, running, "no job left running")
	var state string
	var by []string
	row := db.Gorm().Raw(`SELECT state, attempt, array_to_string(attempted_by, ',') FROM river_job WHERE id = ?`, jobID).Row()
	var byList string
	require.NoError(t, row.Scan(&state, &attempt, &byList))
	by = strings.Split(byList, ",")
	assert.Equal(t, "completed", state)
	assert.EqualValues(t, 2, attempt, "the killed attempt, then one more")
	assert.Equal(t, leader, by[0])
	assert.NotEqual(t, leader, by[len(by)-1])

	queryTexts := map[string]bool{}
	for _, q := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		var r struct{ Text string }
		require.NoError(t, json.Unmarshal([]byte(q), &r))
		queryTexts[r.Text] = true
	}
	embedded := fake.Texts()
	for text := range queryTexts {
		require.Equal(t, 1, embedded[text], "query text embedded exactly once: %q", text)
	}
	assert.NotEmpty(t, heldTexts)
	code, out, stderr = cli(t, "--db-url", url, "worker", "--status", "--json")
	require.Equal(t, 0, code, stderr)
	var status map[string]map[string]int
	require.NoError(t, json.Unmarshal([]byte(out), &status), out)
	assert.Equal(t, map[string]map[string]int{"embed": {"completed": 30}}, status)
	run, err := db.GetRun(ctx, res.RunID)
	require.NoError(t, err)
	assert.Equal(t, lmsys.RunCompleted, run.Status)
	assert.EqualValues(t, rows, run.NumQueries)
}

// TestWorkerSIGTERM: a worker process stops cleanly on SIGTERM (exit code 0).
func TestWorkerSIGTERM(t *testing.T) {
	url := testdb.PostgresURL(t)
	w := startChild(t, nil, "--db-url", url, "worker", "--id", "term", "--stop-timeout", "1s")
	waitFor(t, time.Minute, "the worker to start", func() bool { return strings.Contains(w.out.String(), "working queues") })
	require.NoError(t, w.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-w.done:
	case <-time.After(time.Minute):
		t.Fatalf("the worker did not stop:\n%s", w.out)
	}
	require.NoError(t, w.err, w.out.String())
	assert.Contains(t, w.out.String(), "worker term: stopped")
}
