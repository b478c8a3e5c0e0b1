package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/search"
	"github.com/lmsys-go/lmsys/semantic"
	"github.com/lmsys-go/lmsys/store"
	"github.com/spf13/cobra"
)

func init() {
	commandRegistrars = append(commandRegistrars, registerIndex)
	editChangeHooks = append(editChangeHooks, reindexAfterEdit)
}

// defaultIndexDir returns where the vector index of db lives: beside a SQLite file
// (<dir>/index), or ~/.lmsys-query-analysis/index for PostgreSQL.
func defaultIndexDir(db *store.DB) string {
	if db.Postgres() {
		return filepath.Join(filepath.Dir(store.DefaultPath()), "index")
	}
	return filepath.Join(filepath.Dir(db.Where()), "index")
}

// searchFlags are the flags of every command that opens the vector index.
type searchFlags struct {
	indexDir  string
	indexKind string
	textIndex bool // search.Options.TextIndex (serve only)
	// background builds a run's index off the request (search.Options.Background;
	// serve only): a search arriving meanwhile answers 503 with Retry-After.
	background bool
}

func addIndexFlags(cmd *cobra.Command, f *searchFlags) {
	cmd.Flags().StringVar(&f.indexDir, "index-dir", "", "vector index directory (default: <dir of the SQLite db>/index; ~/.lmsys-query-analysis/index for PostgreSQL)")
	cmd.Flags().StringVar(&f.indexKind, "index-kind", "auto", "index of new or reloaded collections: auto (exact below 20,000 vectors, HNSW above), exact or hnsw")
}

// openSearch opens the store, the vector index and a search Service over both, with a
// progress bar for syncing.
func openSearch(cmd *cobra.Command, g *globals, f *searchFlags) (*search.Service, *store.DB, string, *progress, error) {
	kind, err := semantic.ParseKind(f.indexKind)
	if err != nil {
		return nil, nil, "", nil, usageError{err}
	}
	db, err := openStore(cmd, g)
	if err != nil {
		return nil, nil, "", nil, err
	}
	dir := f.indexDir
	if dir == "" {
		dir = defaultIndexDir(db)
	}
	idx, err := semantic.OpenIndex(cmd.Context(), semantic.IndexOptions{Dir: dir, Kind: kind})
	if err != nil {
		return nil, nil, "", nil, err
	}
	p := newProgress(cmd)
	g.onClose(p.finish)
	return search.New(db, idx, search.Options{Progress: p.Func(), TextIndex: f.textIndex, Background: f.background, BuildWait: buildWait(f.background)}), db, dir, p, nil
}

// buildWait is how long a served search waits for its run's index before answering
// 503: long enough for an index that is already in sync to load from disk.
func buildWait(background bool) time.Duration {
	if background {
		return 2 * time.Second
	}
	return 0
}

// reindexAfterEdit re-indexes the summaries of the clusters an edit touched, when the
// run's summaries are already indexed in the default index directory (otherwise the
// next search indexes them).
func reindexAfterEdit(ctx context.Context, db *store.DB, runID string, clusterIDs []int) {
	run, err := db.GetRun(ctx, runID)
	if err != nil || run.Space.IsZero() {
		return
	}
	dir := defaultIndexDir(db)
	if _, err := os.Stat(filepath.Join(dir, run.Space.Collection(search.KindSummaries)+".vec")); err != nil {
		return
	}
	idx, err := semantic.OpenIndex(ctx, semantic.IndexOptions{Dir: dir})
	if err == nil {
		err = search.New(db, idx, search.Options{}).ReindexClusters(ctx, runID, clusterIDs)
	}
	if err != nil {
		slog.Warn("could not re-index the edited clusters' summaries; `lmsys verify sync --repair` will", "run", runID, "clusters", clusterIDs, "err", err)
	}
}

func registerIndex(root *cobra.Command, g *globals) {
	verify := &cobra.Command{
		Use:   "verify",
		Short: "Check derived data against the store",
	}
	var vf searchFlags
	var repair bool
	sync := &cobra.Command{
		Use:   "sync RUN_ID [--repair]",
		Short: "Compare the vector index with the store for a run: counts, missing/extra ids, other-space vectors, stale summaries",
		Long: `Compare the run's two vector collections (queries and cluster_summaries of its embedding space) with
the store, the system of record: counts on both sides, ids missing from the index or extra in it,
vectors of another embedding space, summaries changed since they were indexed. --repair fixes what
it finds (the index is derived data) and says what it did.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, _, dir, _, err := openSearch(cmd, g, &vf)
			if err != nil {
				return err
			}
			rep, err := svc.Verify(cmd.Context(), args[0], repair)
			if err != nil {
				return err
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), rep)
			}
			return printVerify(cmd.OutOrStdout(), rep, dir)
		},
	}
	addIndexFlags(sync, &vf)
	sync.Flags().BoolVar(&repair, "repair", false, "fix every difference found")
	verify.AddCommand(sync)
	root.AddCommand(verify)

	index := &cobra.Command{
		Use:   "index",
		Short: "The vector index: collections per embedding space",
	}
	var inf searchFlags
	info := &cobra.Command{
		Use:   "info",
		Short: "List the index's collections with their embedding space, counts and index kind",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, _, dir, _, err := openSearch(cmd, g, &inf)
			if err != nil {
				return err
			}
			cols, err := svc.Info(cmd.Context())
			if err != nil {
				return err
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), map[string]any{"index_dir": dir, "collections": cols})
			}
			return printIndexInfo(cmd.OutOrStdout(), dir, cols)
		},
	}
	addIndexFlags(info, &inf)
	index.AddCommand(info)
	root.AddCommand(index)
}

func printVerify(w io.Writer, rep search.Report, dir string) error {
	fmt.Fprintf(w, "Run %s, space %s, index %s\n", rep.RunID, rep.Space, dir)
	if rep.SummaryRunID != "" {
		fmt.Fprintf(w, "Summaries: %s\n", rep.SummaryRunID)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "COLLECTION\tSTORE\tINDEX\tMISSING\tEXTRA\tWRONG SPACE\tSTALE")
	for _, c := range rep.Collections {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\n", c.Collection, c.StoreCount, c.IndexCount, c.Missing.Count, c.Extra.Count, c.WrongSpace.Count, c.Stale.Count)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, c := range rep.Collections {
		if !c.IDsCompared && c.IndexCount > 0 {
			fmt.Fprintf(w, "%s: the index cannot list ids; only counts were compared\n", c.Collection)
		}
		for _, is := range []struct {
			name string
			i    search.Issue
		}{{"missing", c.Missing}, {"extra", c.Extra}, {"wrong space", c.WrongSpace}, {"stale", c.Stale}} {
			if is.i.Count > 0 {
				more := ""
				if is.i.Count > len(is.i.IDs) {
					more = fmt.Sprintf(" … (%d more)", is.i.Count-len(is.i.IDs))
				}
				fmt.Fprintf(w, "  %s %s: %s%s\n", c.Kind, is.name, strings.Join(is.i.IDs[:min(10, len(is.i.IDs))], ", "), more)
			}
		}
		for _, a := range c.Actions {
			fmt.Fprintf(w, "  %s: %s\n", c.Kind, a)
		}
	}
	switch {
	case rep.InSync:
		fmt.Fprintln(w, "In sync.")
	case rep.Repaired:
		fmt.Fprintln(w, "Repaired.")
	default:
		fmt.Fprintf(w, "Out of sync: run `lmsys verify sync %s --repair` (searches also repair it on their first use).\n", rep.RunID)
	}
	return nil
}

func printIndexInfo(w io.Writer, dir string, cols []search.CollectionInfo) error {
	fmt.Fprintf(w, "Index: %s\n", dir)
	if len(cols) == 0 {
		fmt.Fprintln(w, "No collections yet: the first `lmsys search` or `lmsys search-cluster` of a run builds them.")
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "COLLECTION\tKIND\tPROVIDER\tMODEL\tDIMS\tCOUNT\tINDEX\tMB\tRUNS")
	for _, c := range cols {
		prov, model := "?", "?"
		if c.Space != nil {
			prov, model = c.Space.Provider, c.Space.Model
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%s\t%.1f\t%d\n", c.Name, c.Kind, prov, model, c.Dims, c.Count, c.Index, float64(c.Bytes)/1e6, len(c.Runs))
	}
	return tw.Flush()
}

// searchUsage turns the service's invalid-input errors into usage errors (exit 2).
func searchUsage(err error) error {
	if errors.Is(err, lmsys.ErrInvalidInput) {
		return usageError{err}
	}
	return err
}
