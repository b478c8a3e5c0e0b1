// Command lmsys analyses conversation logs: load, embed, cluster, summarize, merge into
// a hierarchy, search, curate, export and serve. Run `lmsys --help` for the commands.
//
// It is the outermost layer of the pipeline and holds no analysis of its own: each
// command parses its flags, opens the store (--db-path for SQLite, --db-url for
// PostgreSQL), calls the package of its stage (dataset, embed, clustering, summarize,
// hierarchy, search, curation, analysis, classify, layout, report, web, mcpserver,
// distributed; local for analyze) and prints a table, or stable JSON with --json. Each
// command group is a file of its own that registers itself from init.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run executes the CLI with args and returns the process exit code:
// 0 success, 1 failure, 2 usage error.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root, g := newRootCmd()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if cerr := g.close(); cerr != nil {
		err = errors.Join(err, cerr)
	}
	if err == nil {
		return 0
	}
	fmt.Fprintln(root.ErrOrStderr(), "Error:", err)
	var ue usageError
	if errors.As(err, &ue) {
		return 2
	}
	return 1
}
