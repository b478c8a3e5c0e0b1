package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/lmsys-go/lmsys/store"
	"github.com/spf13/cobra"
)

// globals holds the flags every command shares.
type globals struct {
	dbPath  string
	dbURL   string
	verbose bool
	json    bool
	closers []func()
}

// commandRegistrars add command groups to the root command; each file of this package
// appends its own in an init function, so command groups live in separate files.
var commandRegistrars []func(root *cobra.Command, g *globals)

func newRootCmd() (*cobra.Command, *globals) {
	g := &globals{}
	root := &cobra.Command{
		Use:           "lmsys",
		Short:         "Find out how users use an LLM system from its conversation logs",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRun: func(cmd *cobra.Command, args []string) {
			level := slog.LevelWarn
			if g.verbose {
				level = slog.LevelDebug
			}
			slog.SetDefault(slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: level})))
		},
	}
	root.PersistentFlags().StringVar(&g.dbPath, "db-path", "", "SQLite database file (default $LMSYS_DB_PATH or ~/.lmsys-query-analysis/queries.db)")
	root.PersistentFlags().StringVar(&g.dbURL, "db-url", "", "PostgreSQL URL instead of SQLite (default $LMSYS_DATABASE_URL)")
	root.PersistentFlags().BoolVarP(&g.verbose, "verbose", "v", false, "verbose logging")
	root.PersistentFlags().BoolVar(&g.json, "json", false, "print JSON instead of tables")
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return usageError{fmt.Errorf("%w (see '%s --help')", err, cmd.CommandPath())}
	})
	for _, reg := range commandRegistrars {
		reg(root, g)
	}
	return root, g
}

// usageError marks an error that is the user's wrong use of a command (exit code 2).
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

// usagef returns a usage error (exit code 2).
func usagef(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

// isCobraUsageError recognises cobra's own argument and command errors.
func isCobraUsageError(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "accepts ", "requires at least", "requires at most", "invalid argument", "flag needs an argument", "required flag"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}

// printJSON writes v as indented JSON.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// openStore opens the database the global flags and environment name: --db-url or
// LMSYS_DATABASE_URL (PostgreSQL), else --db-path, LMSYS_DB_PATH or the default SQLite
// file. The store is closed when the command finishes.
func openStore(cmd *cobra.Command, g *globals) (*store.DB, error) {
	cfg := store.Config{Path: g.dbPath, URL: g.dbURL, Debug: g.verbose && os.Getenv("LMSYS_SQL_DEBUG") != ""}
	if cfg.URL == "" && cfg.Path == "" {
		cfg.URL = os.Getenv("LMSYS_DATABASE_URL")
	}
	if cfg.URL == "" && cfg.Path == "" {
		cfg.Path = store.DefaultPath()
	}
	db, err := store.Open(cmd.Context(), cfg)
	if err != nil {
		return nil, err
	}
	g.onClose(func() { db.Close() })
	return db, nil
}

// onClose registers f to run when the command has finished, success or not.
func (g *globals) onClose(f func()) { g.closers = append(g.closers, f) }

// close runs the registered closers, last first.
func (g *globals) close() {
	for i := len(g.closers) - 1; i >= 0; i-- {
		g.closers[i]()
	}
	g.closers = nil
}
