package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/dataset/demo"
	"github.com/lmsys-go/lmsys/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMain lets the test binary stand in for the lmsys binary: with LMSYS_CLI_CHILD
// set it runs the command line in its arguments. LMSYS_KILL_AT=stage:n makes that
// child SIGKILL itself at the n-th progress report of a progress stage whose name
// starts with stage, and
// LMSYS_TRACE_PROGRESS lists the reports on stderr.
func TestMain(m *testing.M) {
	if os.Getenv("LMSYS_CLI_CHILD") == "1" {
		stage, nth := "", 0
		if at := os.Getenv("LMSYS_KILL_AT"); at != "" {
			s, n, _ := strings.Cut(at, ":")
			stage, nth = s, atoi(n)
		}
		trace := os.Getenv("LMSYS_TRACE_PROGRESS") != ""
		seen := 0
		progressHook = func(r lmsys.Progress) {
			if trace {
				fmt.Fprintf(os.Stderr, "progress %s %d/%d\n", r.Stage, r.Done, r.Total)
			}
			if stage != "" && strings.HasPrefix(r.Stage, stage) {
				if seen++; seen == nth {
					syscall.Kill(os.Getpid(), syscall.SIGKILL)
				}
			}
		}
		// As main does: SIGINT and SIGTERM cancel the command's context.
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	os.Exit(m.Run())
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// child runs the lmsys command line in a child process, with extra environment.
func child(t *testing.T, env []string, args ...string) (*exec.Cmd, string, error) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(append(os.Environ(), "LMSYS_CLI_CHILD=1", "OPENAI_API_KEY="), env...)
	out, err := cmd.CombinedOutput()
	return cmd, string(out), err
}

// outcome is what an analysis leaves in a store, without ids and times that differ
// from one run to the next.
type outcome struct {
	Assignments map[string]int // conversation id → cluster
	Titles      []string       // summary titles by cluster
	Hierarchy   []string       // "level cluster parent title" per node
	Runs        map[string]int // status → count
}

func readOutcome(t *testing.T, path string) (outcome, lmsys.Run) {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{Path: path})
	require.NoError(t, err)
	defer db.Close()
	o := outcome{Assignments: map[string]int{}, Runs: map[string]int{}}
	runs, err := db.ListRuns(ctx)
	require.NoError(t, err)
	var done lmsys.Run
	for _, r := range runs {
		o.Runs[string(r.Status)]++
		if r.Status == lmsys.RunCompleted {
			done = r
		}
	}
	require.NotEmpty(t, done.ID, "a completed run")
	as, err := db.Assignments(ctx, done.ID, nil)
	require.NoError(t, err)
	for _, a := range as {
		q, err := db.GetQuery(ctx, a.QueryID)
		require.NoError(t, err)
		_, twice := o.Assignments[q.ConversationID]
		require.False(t, twice, "query %d clustered twice", a.QueryID)
		o.Assignments[q.ConversationID] = a.ClusterID
	}
	sums, err := db.Summaries(ctx, done.ID, "")
	require.NoError(t, err)
	for _, s := range sums {
		o.Titles = append(o.Titles, fmt.Sprintf("%d %s", s.ClusterID, s.Title))
	}
	sort.Strings(o.Titles)
	ids, err := db.Hierarchies(ctx, done.ID)
	require.NoError(t, err)
	require.Len(t, ids, 1, "one hierarchy")
	nodes, err := db.Hierarchy(ctx, ids[0])
	require.NoError(t, err)
	for _, n := range nodes {
		parent := -1
		if n.ParentClusterID != nil {
			parent = *n.ParentClusterID
		}
		o.Hierarchy = append(o.Hierarchy, fmt.Sprintf("%d %d %d %s", n.Level, n.ClusterID, parent, n.Title))
	}
	sort.Strings(o.Hierarchy)
	return o, done
}

// TestAnalyzeKilledInEachStage kills `lmsys analyze` with SIGKILL inside each of its
// stages, then runs the same command again: the result equals an uninterrupted
// analysis, every query is clustered exactly once, and no run is left "running".
func TestAnalyzeKilledInEachStage(t *testing.T) {
	dir := t.TempDir()
	logs := filepath.Join(dir, "logs.jsonl")
	// 12,000 distinct queries: loading commits them in more than one batch
	// and embedding more than one batch before the kill.
	const rows = 12000
	var b strings.Builder
	demoRows := demo.Rows()
	for i := 0; i < rows; i++ {
		r := demoRows[i%len(demoRows)]
		line, err := json.Marshal(map[string]any{"conversation_id": fmt.Sprintf("c%05d", i), "text": fmt.Sprintf("%s (v%d)", r.Text, i/len(demoRows)),
			"model": r.Model, "language": r.Language})
		require.NoError(t, err)
		b.Write(line)
		b.WriteByte('\n')
	}
	require.NoError(t, os.WriteFile(logs, []byte(b.String()), 0o644))
	args := func(db string) []string {
		return []string{"--db-path", db, "analyze", "--source", logs, "--n-clusters", "12", "--target-levels", "2", "--embedding-model", "local/lexical"}
	}
	clean := filepath.Join(dir, "clean.db")
	_, out, err := child(t, nil, args(clean)...)
	require.NoError(t, err, out)
	want, _ := readOutcome(t, clean)
	require.Len(t, want.Assignments, rows)
	require.Equal(t, map[string]int{"completed": 1}, want.Runs)

	for _, at := range []string{"load:1", "embed:2", "save assignments:1", "summarize:3", "merge:1", "index queries:3"} {
		t.Run(at, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "q.db")
			cmd, out, err := child(t, []string{"LMSYS_KILL_AT=" + at}, args(db)...)
			require.Error(t, err, "the child must be killed at %s:\n%s", at, out)
			ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
			require.True(t, ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL, "killed by SIGKILL at %s, got %v:\n%s", at, cmd.ProcessState, out)

			_, out, err = child(t, nil, args(db)...)
			require.NoError(t, err, out)
			got, run := readOutcome(t, db)
			_, out, err = child(t, nil, "--db-path", db, "verify", "sync", run.ID, "--json")
			require.NoError(t, err, out)
			var rep struct {
				InSync bool `json:"in_sync"`
			}
			require.NoError(t, json.Unmarshal([]byte(out), &rep), out)
			assert.True(t, rep.InSync, "the analysis left the run's vector index in sync: %s", out)
			assert.Equal(t, want.Assignments, got.Assignments)
			assert.Equal(t, want.Titles, got.Titles)
			assert.Equal(t, want.Hierarchy, got.Hierarchy)
			assert.Zero(t, got.Runs["running"], "no run is left running: %v", got.Runs)
		})
	}
}
