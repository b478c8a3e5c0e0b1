package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/user"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/curation"
	"github.com/lmsys-go/lmsys/store"
	"github.com/spf13/cobra"
)

func init() {
	commandRegistrars = append(commandRegistrars, registerEdit)
}

// editChangeHooks run after every committed edit with the run and the clusters whose
// membership, summary or existence changed. The search commands append one that
// re-embeds and re-indexes those clusters' summaries in the vector index.
var editChangeHooks []func(ctx context.Context, db *store.DB, runID string, clusterIDs []int)

// editFlags are the flags every edit subcommand shares.
type editFlags struct {
	editor string
	reason string
}

// who returns the editor: --editor, else the OS user.
func (f *editFlags) who() string {
	if e := strings.TrimSpace(f.editor); e != "" {
		return e
	}
	return editOSUser()
}

// editOSUser names the user running the command.
func editOSUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	for _, v := range []string{"USER", "USERNAME", "LOGNAME"} {
		if s := os.Getenv(v); s != "" {
			return s
		}
	}
	return "unknown"
}

func registerEdit(root *cobra.Command, g *globals) {
	ef := &editFlags{}
	edit := &cobra.Command{
		Use:   "edit",
		Short: "Curate clusters by hand: move, rename, merge, split, delete, tag, flag, undo — every edit audited",
		Long: `Curate a run's clusters by hand. Every change is one transaction that writes one audit row
(cluster_edits: type, editor, time, old value, new value, reason) and can be undone with 'edit undo'.
Merges, splits and deletes update the run's hierarchies (children and counts); renames update their titles.`,
	}
	edit.PersistentFlags().StringVar(&ef.editor, "editor", "", "who makes the edit (default: the OS user)")
	edit.PersistentFlags().StringVar(&ef.reason, "reason", "", "why, recorded in the audit log")
	root.AddCommand(edit)

	curator := func(cmd *cobra.Command) (*curation.Curator, *store.DB, error) {
		db, err := openStore(cmd, g)
		if err != nil {
			return nil, nil, err
		}
		return curation.New(db, curation.Options{OnChange: func(ctx context.Context, runID string, ids []int) {
			for _, h := range editChangeHooks {
				h(ctx, db, runID, ids)
			}
		}}), db, nil
	}
	// mutate runs an edit and prints its result.
	mutate := func(cmd *cobra.Command, op func(c *curation.Curator) (curation.Result, error)) error {
		c, _, err := curator(cmd)
		if err != nil {
			return err
		}
		res, err := op(c)
		if err != nil {
			return err
		}
		if g.json {
			return printJSON(cmd.OutOrStdout(), res)
		}
		return printEditResult(cmd.OutOrStdout(), res)
	}
	need := func(cmd *cobra.Command, names ...string) error {
		for _, n := range names {
			if !cmd.Flags().Changed(n) {
				return usagef("--%s is required (see '%s --help')", n, cmd.CommandPath())
			}
		}
		return nil
	}

	var queryID int64
	var toCluster, clusterID int
	var queryIDs string
	edit.AddCommand(&cobra.Command{
		Use:   "view-query QUERY_ID",
		Short: "Show a query and its cluster in every run",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil {
				return usagef("query id %q is not a number", args[0])
			}
			c, _, err := curator(cmd)
			if err != nil {
				return err
			}
			v, err := c.ViewQuery(cmd.Context(), id)
			if err != nil {
				return err
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), v)
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "Query %d (conversation %s, model %s, language %s)\n%s\n\n", v.Query.ID, v.Query.ConversationID,
				editOr(v.Query.Model, "-"), editOr(v.Query.Language, "-"), v.Query.Text)
			if len(v.Clusters) == 0 {
				fmt.Fprintln(w, "Not in any clustering run.")
				return nil
			}
			tw := tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
			fmt.Fprintln(tw, "RUN\tCLUSTER\tCONFIDENCE\tTITLE")
			for _, qc := range v.Clusters {
				if qc.Orphaned {
					fmt.Fprintf(tw, "%s\t(orphaned from %d)\t-\t%s\n", qc.RunID, qc.ClusterID, qc.Title)
					continue
				}
				fmt.Fprintf(tw, "%s\t%d\t%.3f\t%s\n", qc.RunID, qc.ClusterID, qc.Confidence, qc.Title)
			}
			return tw.Flush()
		},
	})

	moveOne := &cobra.Command{
		Use:   "move-query RUN_ID --query-id ID --to-cluster N",
		Short: "Move one query to another cluster",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := need(cmd, "query-id", "to-cluster"); err != nil {
				return err
			}
			return mutate(cmd, func(c *curation.Curator) (curation.Result, error) {
				return c.MoveQuery(cmd.Context(), args[0], queryID, toCluster, ef.who(), ef.reason)
			})
		},
	}
	moveOne.Flags().Int64Var(&queryID, "query-id", 0, "the query to move")
	moveOne.Flags().IntVar(&toCluster, "to-cluster", 0, "the cluster to move it to")
	edit.AddCommand(moveOne)

	moveMany := &cobra.Command{
		Use:   "move-queries RUN_ID --query-ids 1,2,3 --to-cluster N",
		Short: "Move several queries to another cluster (one edit)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := need(cmd, "query-ids", "to-cluster"); err != nil {
				return err
			}
			ids, err := editParseIDs64("--query-ids", queryIDs)
			if err != nil {
				return err
			}
			return mutate(cmd, func(c *curation.Curator) (curation.Result, error) {
				return c.MoveQueries(cmd.Context(), args[0], ids, toCluster, ef.who(), ef.reason)
			})
		},
	}
	moveMany.Flags().StringVar(&queryIDs, "query-ids", "", "comma-separated query ids")
	moveMany.Flags().IntVar(&toCluster, "to-cluster", 0, "the cluster to move them to")
	edit.AddCommand(moveMany)

	var rn curation.Rename
	rename := &cobra.Command{
		Use:   "rename-cluster RUN_ID --cluster-id N [--title T] [--description D]",
		Short: "Rename a cluster in the latest (or named) summary run and in the run's hierarchies",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := need(cmd, "cluster-id"); err != nil {
				return err
			}
			if !cmd.Flags().Changed("title") && !cmd.Flags().Changed("description") {
				return usagef("give --title, --description or both")
			}
			return mutate(cmd, func(c *curation.Curator) (curation.Result, error) {
				return c.RenameCluster(cmd.Context(), args[0], clusterID, rn, ef.who(), ef.reason)
			})
		},
	}
	rename.Flags().IntVar(&clusterID, "cluster-id", 0, "the cluster to rename")
	rename.Flags().StringVar(&rn.Title, "title", "", "new title")
	rename.Flags().StringVar(&rn.Description, "description", "", "new description")
	rename.Flags().StringVar(&rn.SummaryRunID, "summary-run-id", "", "summary run id or alias to edit (default: the latest)")
	edit.AddCommand(rename)

	var sources string
	var target int
	merge := &cobra.Command{
		Use:   "merge-clusters RUN_ID --source 3,4 --target 7",
		Short: "Merge source clusters into a target cluster",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := need(cmd, "source", "target"); err != nil {
				return err
			}
			src, err := editParseIDs("--source", sources)
			if err != nil {
				return err
			}
			return mutate(cmd, func(c *curation.Curator) (curation.Result, error) {
				return c.MergeClusters(cmd.Context(), args[0], src, target, ef.who(), ef.reason)
			})
		},
	}
	merge.Flags().StringVar(&sources, "source", "", "comma-separated source cluster ids")
	merge.Flags().IntVar(&target, "target", 0, "the cluster that receives their queries")
	edit.AddCommand(merge)

	var splitK int
	split := &cobra.Command{
		Use:   "split-cluster RUN_ID --cluster-id N (--query-ids 5,6,9 | --k 2)",
		Short: "Split a cluster: the given queries form a new cluster, or k-means over cached embeddings makes k parts",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := need(cmd, "cluster-id"); err != nil {
				return err
			}
			byIDs, byK := cmd.Flags().Changed("query-ids"), cmd.Flags().Changed("k")
			if byIDs == byK {
				return usagef("give exactly one of --query-ids and --k")
			}
			sp := curation.Split{K: splitK}
			if byIDs {
				ids, err := editParseIDs64("--query-ids", queryIDs)
				if err != nil {
					return err
				}
				sp = curation.Split{QueryIDs: ids}
			} else if splitK < 2 {
				return usagef("--k must be at least 2, got %d", splitK)
			}
			return mutate(cmd, func(c *curation.Curator) (curation.Result, error) {
				return c.SplitCluster(cmd.Context(), args[0], clusterID, sp, ef.who(), ef.reason)
			})
		},
	}
	split.Flags().IntVar(&clusterID, "cluster-id", 0, "the cluster to split")
	split.Flags().StringVar(&queryIDs, "query-ids", "", "comma-separated query ids that form the new cluster")
	split.Flags().IntVar(&splitK, "k", 0, "split into k parts by k-means over the cluster's cached embeddings")
	edit.AddCommand(split)

	var orphan bool
	var moveTo int
	del := &cobra.Command{
		Use:   "delete-cluster RUN_ID --cluster-id N (--orphan | --move-to M)",
		Short: "Delete a cluster, orphaning its queries or moving them to another cluster",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := need(cmd, "cluster-id"); err != nil {
				return err
			}
			if orphan == cmd.Flags().Changed("move-to") {
				return usagef("give exactly one of --orphan and --move-to")
			}
			d := curation.Delete{Orphan: orphan}
			if !orphan {
				d.MoveTo = &moveTo
			}
			return mutate(cmd, func(c *curation.Curator) (curation.Result, error) {
				return c.DeleteCluster(cmd.Context(), args[0], clusterID, d, ef.who(), ef.reason)
			})
		},
	}
	del.Flags().IntVar(&clusterID, "cluster-id", 0, "the cluster to delete")
	del.Flags().BoolVar(&orphan, "orphan", false, "orphan its queries (see 'edit orphaned')")
	del.Flags().IntVar(&moveTo, "move-to", 0, "move its queries to this cluster")
	edit.AddCommand(del)

	var coherence int
	var quality, flags, notes string
	tag := &cobra.Command{
		Use:   "tag-cluster RUN_ID --cluster-id N [--coherence 1-5] [--quality low|medium|high] [--flags a,b] [--notes ...]",
		Short: "Annotate a cluster (coherence, quality, flags, notes)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := need(cmd, "cluster-id"); err != nil {
				return err
			}
			var t curation.Tag
			fl := cmd.Flags()
			if fl.Changed("coherence") {
				if coherence < 1 || coherence > 5 {
					return usagef("--coherence must be 1 to 5, got %d", coherence)
				}
				t.Coherence = &coherence
			}
			if fl.Changed("quality") {
				if !editContains(curation.Qualities, quality) {
					return usagef("--quality must be one of %s, got %q", strings.Join(curation.Qualities, ", "), quality)
				}
				t.Quality = &quality
			}
			if fl.Changed("flags") {
				t.Flags = editSplitList(flags)
			}
			if fl.Changed("notes") {
				t.Notes = &notes
			}
			if t.Coherence == nil && t.Quality == nil && t.Flags == nil && t.Notes == nil {
				return usagef("give at least one of --coherence, --quality, --flags, --notes")
			}
			return mutate(cmd, func(c *curation.Curator) (curation.Result, error) {
				return c.TagCluster(cmd.Context(), args[0], clusterID, t, ef.who(), ef.reason)
			})
		},
	}
	tag.Flags().IntVar(&clusterID, "cluster-id", 0, "the cluster to annotate")
	tag.Flags().IntVar(&coherence, "coherence", 0, "coherence score, 1 (incoherent) to 5")
	tag.Flags().StringVar(&quality, "quality", "", "quality: low, medium or high")
	tag.Flags().StringVar(&flags, "flags", "", "comma-separated flags (replace the cluster's flags)")
	tag.Flags().StringVar(&notes, "notes", "", "free-form notes")
	edit.AddCommand(tag)

	var flag string
	flagCmd := &cobra.Command{
		Use:   "flag-cluster RUN_ID --cluster-id N --flag NAME",
		Short: "Add a flag to a cluster",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := need(cmd, "cluster-id", "flag"); err != nil {
				return err
			}
			return mutate(cmd, func(c *curation.Curator) (curation.Result, error) {
				return c.FlagCluster(cmd.Context(), args[0], clusterID, flag, ef.who(), ef.reason)
			})
		},
	}
	flagCmd.Flags().IntVar(&clusterID, "cluster-id", 0, "the cluster to flag")
	flagCmd.Flags().StringVar(&flag, "flag", "", "the flag, e.g. incoherent")
	edit.AddCommand(flagCmd)

	history := &cobra.Command{
		Use:   "history RUN_ID --cluster-id N",
		Short: "List the edits that concern a cluster, oldest first",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := need(cmd, "cluster-id"); err != nil {
				return err
			}
			c, _, err := curator(cmd)
			if err != nil {
				return err
			}
			es, err := c.History(cmd.Context(), args[0], clusterID)
			if err != nil {
				return err
			}
			return printEdits(cmd.OutOrStdout(), g.json, es, fmt.Sprintf("No edits of cluster %d yet.", clusterID))
		},
	}
	history.Flags().IntVar(&clusterID, "cluster-id", 0, "the cluster")
	edit.AddCommand(history)

	var since, auditEditor, auditType string
	var limit int
	audit := &cobra.Command{
		Use:   "audit RUN_ID [--since 2026-01-01] [--editor alice] [--type merge]",
		Short: "List a run's edits, oldest first",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f := curation.AuditFilter{Editor: auditEditor, Type: auditType, Limit: limit}
			if since != "" {
				t, err := editParseTime(since)
				if err != nil {
					return err
				}
				f.Since = t
			}
			if auditType != "" && !editContains(curation.EditTypes, auditType) {
				return usagef("--type %q is not one of %s", auditType, strings.Join(curation.EditTypes, ", "))
			}
			c, _, err := curator(cmd)
			if err != nil {
				return err
			}
			es, err := c.Audit(cmd.Context(), args[0], f)
			if err != nil {
				return err
			}
			return printEdits(cmd.OutOrStdout(), g.json, es, "No edits match.")
		},
	}
	audit.Flags().StringVar(&since, "since", "", "only edits at or after this time (2026-01-01 or RFC 3339)")
	audit.Flags().StringVar(&auditEditor, "editor", "", "only edits by this editor")
	audit.Flags().StringVar(&auditType, "type", "", "only edits of this type: "+strings.Join(curation.EditTypes, ", "))
	audit.Flags().IntVar(&limit, "limit", 0, "at most this many edits")
	edit.AddCommand(audit)

	var reassignTo int
	orphaned := &cobra.Command{
		Use:   "orphaned RUN_ID [--reassign-to N [--query-ids 1,2]]",
		Short: "List a run's orphaned queries, or reassign them to a cluster",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().Changed("reassign-to") {
				var ids []int64
				if cmd.Flags().Changed("query-ids") {
					var err error
					if ids, err = editParseIDs64("--query-ids", queryIDs); err != nil {
						return err
					}
				}
				return mutate(cmd, func(c *curation.Curator) (curation.Result, error) {
					return c.ReassignOrphans(cmd.Context(), args[0], reassignTo, ids, ef.who(), ef.reason)
				})
			}
			if cmd.Flags().Changed("query-ids") {
				return usagef("--query-ids needs --reassign-to")
			}
			c, _, err := curator(cmd)
			if err != nil {
				return err
			}
			os, err := c.Orphaned(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), os)
			}
			w := cmd.OutOrStdout()
			if len(os) == 0 {
				fmt.Fprintln(w, "No orphaned queries.")
				return nil
			}
			tw := tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
			fmt.Fprintln(tw, "QUERY\tFROM CLUSTER\tORPHANED\tREASON\tTEXT")
			for _, o := range os {
				from := "-"
				if o.OriginalClusterID != nil {
					from = strconv.Itoa(*o.OriginalClusterID)
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", o.QueryID, from, o.OrphanedAt.Local().Format("2006-01-02 15:04"), o.Reason, editSnippet(o.QueryText, 60))
			}
			fmt.Fprintf(tw, "\n%d orphaned; reassign with 'lmsys edit orphaned %s --reassign-to N'\n", len(os), args[0])
			return tw.Flush()
		},
	}
	orphaned.Flags().IntVar(&reassignTo, "reassign-to", 0, "move the orphans to this cluster")
	orphaned.Flags().StringVar(&queryIDs, "query-ids", "", "with --reassign-to: only these orphans (comma-separated)")
	edit.AddCommand(orphaned)

	var bf curation.BadFilter
	var badFlags string
	var maxSil float64
	var idsOnly bool
	bad := &cobra.Command{
		Use:   "select-bad-clusters RUN_ID [--max-size 3] [--min-coherence 2] [--generic-titles] [--flag X] [--max-silhouette 0.05]",
		Short: "Find clusters worth curating: tiny, incoherent, vaguely named, flagged or poorly separated",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			bf.Flags = editSplitList(badFlags)
			if cmd.Flags().Changed("max-silhouette") {
				bf.MaxSilhouette = &maxSil
			}
			if bf.MaxSize <= 0 && bf.MinCoherence <= 0 && !bf.GenericTitles && len(bf.Flags) == 0 && bf.MaxSilhouette == nil {
				return usagef("give at least one of --max-size, --min-coherence, --generic-titles, --flag, --max-silhouette")
			}
			c, _, err := curator(cmd)
			if err != nil {
				return err
			}
			bs, err := c.SelectBadClusters(cmd.Context(), args[0], bf)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			ids := editJoinInts(curation.IDs(bs))
			if idsOnly {
				fmt.Fprintln(w, ids)
				return nil
			}
			if g.json {
				return printJSON(w, map[string]any{"run_id": args[0], "cluster_ids": curation.IDs(bs), "clusters": bs})
			}
			if len(bs) == 0 {
				fmt.Fprintln(w, "No cluster matches.")
				return nil
			}
			tw := tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
			fmt.Fprintln(tw, "CLUSTER\tSIZE\tCOHERENCE\tTITLE\tREASONS")
			for _, b := range bs {
				coh := "-"
				if b.Coherence != nil {
					coh = strconv.Itoa(*b.Coherence)
				}
				fmt.Fprintf(tw, "%d\t%d\t%s\t%s\t%s\n", b.ClusterID, b.Size, coh, editSnippet(b.Title, 50), strings.Join(b.Reasons, "; "))
			}
			fmt.Fprintf(tw, "\nIDs: %s\n", ids)
			return tw.Flush()
		},
	}
	bad.Flags().IntVar(&bf.MaxSize, "max-size", 0, "clusters of at most this many queries")
	bad.Flags().IntVar(&bf.MinCoherence, "min-coherence", 0, "clusters whose coherence (hand-tagged, else from the summary) is below this")
	bad.Flags().BoolVar(&bf.GenericTitles, "generic-titles", false, `clusters titled "Various …", "Miscellaneous", "User queries about …"`)
	bad.Flags().StringVar(&badFlags, "flag", "", "clusters carrying any of these flags (comma-separated)")
	bad.Flags().Float64Var(&maxSil, "max-silhouette", 0, "clusters whose mean silhouette over cached embeddings is below this")
	bad.Flags().StringVar(&bf.SummaryRunID, "summary-run-id", "", "summary run id or alias for titles and coherence (default: the latest)")
	bad.Flags().BoolVar(&idsOnly, "ids-only", false, "print only the comma-separated cluster ids (to feed other edit commands)")
	edit.AddCommand(bad)

	var editID int64
	undo := &cobra.Command{
		Use:   "undo RUN_ID --edit-id N",
		Short: "Reverse one edit from its recorded old value (itself audited; refused when later edits depend on it)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := need(cmd, "edit-id"); err != nil {
				return err
			}
			return mutate(cmd, func(c *curation.Curator) (curation.Result, error) {
				return c.Undo(cmd.Context(), args[0], editID, ef.who(), ef.reason)
			})
		},
	}
	undo.Flags().Int64Var(&editID, "edit-id", 0, "the edit to reverse (see 'edit audit')")
	edit.AddCommand(undo)
}

// printEditResult describes a committed edit for people.
func printEditResult(w io.Writer, res curation.Result) error {
	e := res.Edit
	fmt.Fprintf(w, "Edit #%d (%s) by %s: %s\n", e.ID, e.EditType, e.Editor, describeEdit(e))
	if len(res.NewClusterIDs) > 0 {
		fmt.Fprintf(w, "New clusters: %s\n", editJoinInts(res.NewClusterIDs))
	}
	if len(res.Changed) > 0 {
		fmt.Fprintf(w, "Changed clusters: %s\n", editJoinInts(res.Changed))
	}
	if len(res.Hierarchies) > 0 {
		fmt.Fprintf(w, "Updated hierarchies: %s\n", strings.Join(res.Hierarchies, ", "))
	}
	fmt.Fprintf(w, "Undo with: lmsys edit undo %s --edit-id %d\n", e.RunID, e.ID)
	return nil
}

// describeEdit summarises an edit's new value in one line.
func describeEdit(e lmsys.Edit) string {
	v := e.NewValue
	num := func(k string) string {
		if f, ok := v[k].(float64); ok {
			return strconv.FormatFloat(f, 'f', -1, 64)
		}
		return "?"
	}
	list := func(k string) string {
		xs, _ := v[k].([]any)
		parts := make([]string, 0, len(xs))
		for _, x := range xs {
			if f, ok := x.(float64); ok {
				parts = append(parts, strconv.FormatFloat(f, 'f', -1, 64))
			}
		}
		if len(parts) > 8 {
			return strings.Join(parts[:8], ",") + fmt.Sprintf(",… (%d)", len(parts))
		}
		return strings.Join(parts, ",")
	}
	switch e.EditType {
	case curation.TypeMove:
		return fmt.Sprintf("moved queries %s to cluster %s", list("query_ids"), num("cluster_id"))
	case curation.TypeRename:
		return fmt.Sprintf("renamed cluster %s to %q", editClusterString(e), v["title"])
	case curation.TypeMerge:
		return fmt.Sprintf("merged clusters %s into %s (%s queries)", list("sources"), num("target"), num("moved_queries"))
	case curation.TypeSplit:
		return fmt.Sprintf("split cluster %s (%s) into new clusters %s", num("cluster_id"), v["method"], list("new_cluster_ids"))
	case curation.TypeDelete:
		if _, ok := v["moved_to"]; ok {
			return fmt.Sprintf("deleted cluster %s, moving its %s queries to %s", num("cluster_id"), num("queries"), num("moved_to"))
		}
		return fmt.Sprintf("deleted cluster %s, orphaning its %s queries", num("cluster_id"), num("queries"))
	case curation.TypeTag:
		return fmt.Sprintf("tagged cluster %s", editClusterString(e))
	case curation.TypeFlag:
		return fmt.Sprintf("flagged cluster %s %q", editClusterString(e), v["flag"])
	case curation.TypeReassign:
		return fmt.Sprintf("reassigned orphans %s to cluster %s", list("query_ids"), num("cluster_id"))
	case curation.TypeUndo:
		return fmt.Sprintf("undid edit %s (%v)", num("undoes"), v["undone_type"])
	}
	return fmt.Sprintf("%v", v)
}

func editClusterString(e lmsys.Edit) string {
	if e.ClusterID == nil {
		return "-"
	}
	return strconv.Itoa(*e.ClusterID)
}

// printEdits prints audit rows as JSON or a table.
func printEdits(w io.Writer, asJSON bool, es []lmsys.Edit, empty string) error {
	if asJSON {
		return printJSON(w, es)
	}
	if len(es) == 0 {
		fmt.Fprintln(w, empty)
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTIME\tTYPE\tEDITOR\tCLUSTER\tCHANGE\tREASON")
	for _, e := range es {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", e.ID, e.CreatedAt.Local().Format("2006-01-02 15:04:05"), e.EditType, e.Editor,
			editClusterString(e), describeEdit(e), e.Reason)
	}
	return tw.Flush()
}

// editParseIDs parses a comma-separated list of cluster ids.
func editParseIDs(flag, s string) ([]int, error) {
	var out []int
	for _, p := range editSplitList(s) {
		n, err := strconv.Atoi(p)
		if err != nil {
			return nil, usagef("%s: %q is not a cluster id", flag, p)
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		return nil, usagef("%s is empty", flag)
	}
	return out, nil
}

// editParseIDs64 parses a comma-separated list of query ids.
func editParseIDs64(flag, s string) ([]int64, error) {
	var out []int64
	for _, p := range editSplitList(s) {
		n, err := strconv.ParseInt(p, 10, 64)
		if err != nil {
			return nil, usagef("%s: %q is not a query id", flag, p)
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		return nil, usagef("%s is empty", flag)
	}
	return out, nil
}

func editSplitList(s string) []string {
	out := []string{}
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func editJoinInts(xs []int) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = strconv.Itoa(x)
	}
	return strings.Join(parts, ",")
}

// editParseTime parses --since: a date, a date and time, or RFC 3339.
func editParseTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, usagef("--since %q is not a date (2026-01-01) or time (RFC 3339)", s)
}

func editContains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func editOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func editSnippet(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
