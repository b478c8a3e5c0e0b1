package main

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// errFailingClose is what the hidden test-close command's closer returns.
var errFailingClose = errors.New("final checkpoint: no space left on device")

func init() {
	// A hidden command that succeeds but whose closer fails, as the store's close does
	// when its last checkpoint cannot be written. Only the test binary has it.
	commandRegistrars = append(commandRegistrars, func(root *cobra.Command, g *globals) {
		root.AddCommand(&cobra.Command{Use: "test-failing-close", Hidden: true, Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, args []string) error {
				g.onCloseErr(func() error { return errFailingClose })
				g.onClose(func() {})
				return nil
			}})
	})
}

// TestExitCodes checks that the exit code follows where an error comes from: usage
// errors (flags, arguments, commands) 2, runtime errors 1 whatever their text, and a
// closer's error fails a command that otherwise succeeded.
func TestExitCodes(t *testing.T) {
	t.Setenv("LMSYS_API_TOKEN", "")
	path, _ := tempDB(t, 2)
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no command prints help", []string{}, 0, ""},
		{"help", []string{"help", "status"}, 0, ""},
		{"unknown command", []string{"no-such-command"}, 2, `unknown command "no-such-command"`},
		{"unknown command with a suggestion", []string{"statuss"}, 2, "did you mean status?"},
		{"unknown flag", []string{"status", "--no-such-flag"}, 2, "unknown flag"},
		{"bad flag value", []string{"--db-path", path, "search", "x", "--n-results", "many"}, 2, "invalid argument"},
		{"extra argument", []string{"status", "extra-arg"}, 2, "extra-arg"},
		{"missing argument", []string{"search"}, 2, "accepts 1 arg"},
		{"completion with an extra argument", []string{"completion", "bash", "extra"}, 2, "extra"},
		// An error from the operating system that reads "invalid argument" (EINVAL) is
		// a runtime failure, not a usage error.
		{"runtime error saying invalid argument", []string{"--db-path", filepath.Join(t.TempDir(), "bad\x00name", "q.db"), "status"}, 1, "invalid argument"},
		{"closer fails", []string{"test-failing-close"}, 1, errFailingClose.Error()},
		{"analyze --n-clusters 0", []string{"--db-path", path, "analyze", "--n-clusters", "0"}, 2, "--n-clusters must be positive, got 0"},
		{"analyze --n-clusters -3", []string{"--db-path", path, "analyze", "--n-clusters", "-3"}, 2, "--n-clusters must be positive, got -3"},
		{"analyze --target-levels 0", []string{"--db-path", path, "analyze", "--target-levels", "0"}, 2, "--target-levels must be positive"},
		{"analyze --merge-ratio 0", []string{"--db-path", path, "analyze", "--merge-ratio", "0"}, 2, "--merge-ratio must be in (0, 1)"},
		{"analyze --merge-ratio 1", []string{"--db-path", path, "analyze", "--merge-ratio", "1"}, 2, "--merge-ratio must be in (0, 1)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := cli(t, tc.args...)
			assert.Equal(t, tc.code, code, errOut)
			assert.Contains(t, errOut, tc.want)
		})
	}
}

// TestSearchQueryCap checks that the search commands refuse a text longer than
// --max-query-chars (counted in characters) with a usage error naming the limit.
func TestSearchQueryCap(t *testing.T) {
	path := searchDB(t)
	long := strings.Repeat("é", 11) // 22 bytes, 11 characters
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"at the limit", []string{"search", strings.Repeat("é", 10), "--mode", "fulltext", "--max-query-chars", "10"}, 0, ""},
		{"over the limit", []string{"search", long, "--mode", "fulltext", "--max-query-chars", "10"}, 2, "TEXT is 11 characters long; searches take at most 10"},
		{"within-clusters over the limit", []string{"search", "recipe", "--run-id", searchRun, "--within-clusters", long, "--max-query-chars", "10"}, 2, "--within-clusters is 11 characters long"},
		{"cluster search over the limit", []string{"search-cluster", long, "--run-id", searchRun, "--max-query-chars", "10"}, 2, "TEXT is 11 characters long"},
		{"default limit", []string{"search", strings.Repeat("a", 4001), "--mode", "fulltext"}, 2, "at most 4000"},
		{"non-positive limit", []string{"search", "x", "--mode", "fulltext", "--max-query-chars", "0"}, 2, "--max-query-chars must be positive"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := cli(t, append([]string{"--db-path", path}, tc.args...)...)
			require.Equal(t, tc.code, code, errOut)
			assert.Contains(t, errOut, tc.want)
		})
	}
}
