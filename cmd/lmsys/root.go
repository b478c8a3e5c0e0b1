package main

import (
	"encoding/json"
	"errors"
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
	closers []func() error
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
		// cobra's own default, which SuggestionsFor does not apply by itself.
		SuggestionsMinimumDistance: 2,
		// Runnable, so that cobra validates the root's arguments (Args below) rather
		// than answering an unknown command with an untyped error.
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return nil
			}
			msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
			if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
				msg += "; did you mean " + strings.Join(s, " or ") + "?"
			}
			return usagef("%s (see '%s --help')", msg, cmd.CommandPath())
		},
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			level := slog.LevelWarn
			if g.verbose {
				level = slog.LevelDebug
			}
			slog.SetDefault(slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: level})))
			// cobra checks these after the pre-run hooks, with untyped errors.
			if err := cmd.ValidateRequiredFlags(); err != nil {
				return usageError{fmt.Errorf("%w (see '%s --help')", err, cmd.CommandPath())}
			}
			if err := cmd.ValidateFlagGroups(); err != nil {
				return usageError{fmt.Errorf("%w (see '%s --help')", err, cmd.CommandPath())}
			}
			return nil
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
	// cobra adds these when it executes; adding them now lets typedArgs reach them.
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	typedArgs(root)
	return root, g
}

// typedArgs makes the argument validators of cmd's subcommands return usage errors,
// so that the exit code depends on where an error comes from, never on its text.
func typedArgs(cmd *cobra.Command) {
	for _, c := range cmd.Commands() {
		if args := c.Args; args != nil {
			c.Args = func(cmd *cobra.Command, a []string) error {
				if err := args(cmd, a); err != nil {
					return usageError{fmt.Errorf("%w (see '%s --help')", err, cmd.CommandPath())}
				}
				return nil
			}
		}
		typedArgs(c)
	}
}

// usageError marks an error that is the user's wrong use of a command (exit code 2).
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

// usagef returns a usage error (exit code 2).
func usagef(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

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
	// Closing a SQLite store runs its last checkpoint: an error there (a full disk)
	// means the data may not be where the next open looks, so it fails the command.
	g.onCloseErr(func() error {
		if err := db.Close(); err != nil {
			return fmt.Errorf("close %s: %w", db.Where(), err)
		}
		return nil
	})
	return db, nil
}

// onClose registers f to run when the command has finished, success or not.
func (g *globals) onClose(f func()) {
	g.closers = append(g.closers, func() error { f(); return nil })
}

// onCloseErr is onClose for a closer whose error fails the command (exit code 1).
func (g *globals) onCloseErr(f func() error) { g.closers = append(g.closers, f) }

// close runs the registered closers, last first, and returns their errors joined.
func (g *globals) close() error {
	var errs []error
	for i := len(g.closers) - 1; i >= 0; i-- {
		errs = append(errs, g.closers[i]())
	}
	g.closers = nil
	return errors.Join(errs...)
}
