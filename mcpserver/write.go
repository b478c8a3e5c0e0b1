package mcpserver

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/curation"
)

// The curation tools: each edit is one transaction with one audit row under
// Options.Editor, keeps the run's hierarchies and the search index consistent, and
// answers the HTTP edit endpoints' JSON (curation.Result: the audit row, the clusters
// changed, the clusters created, the hierarchies updated).

// EditArgs are the arguments every edit takes.
type EditArgs struct {
	RunID  string `json:"run_id" jsonschema:"the clustering run"`
	Reason string `json:"reason,omitempty" jsonschema:"why, recorded in the audit log"`
}

// MoveQueriesInput is the input of move_queries.
type MoveQueriesInput struct {
	EditArgs
	QueryIDs    []int64 `json:"query_ids" jsonschema:"the queries to move, 1 to 1000"`
	ToClusterID int     `json:"to_cluster_id" jsonschema:"the cluster they move to"`
}

// RenameClusterInput is the input of rename_cluster.
type RenameClusterInput struct {
	EditArgs
	ClusterID   int    `json:"cluster_id" jsonschema:"the cluster"`
	Title       string `json:"title,omitempty" jsonschema:"the new title (empty: unchanged)"`
	Description string `json:"description,omitempty" jsonschema:"the new description (empty: unchanged)"`
	Summary     string `json:"summary,omitempty" jsonschema:"summary run id or alias to edit (default: the latest)"`
}

// MergeClustersInput is the input of merge_clusters.
type MergeClustersInput struct {
	EditArgs
	SourceClusterIDs []int `json:"source_cluster_ids" jsonschema:"the clusters merged into the target"`
	TargetClusterID  int   `json:"target_cluster_id" jsonschema:"the cluster that receives their queries"`
}

// SplitClusterInput is the input of split_cluster.
type SplitClusterInput struct {
	EditArgs
	ClusterID int     `json:"cluster_id" jsonschema:"the cluster to split"`
	QueryIDs  []int64 `json:"query_ids,omitempty" jsonschema:"these queries form one new cluster (give query_ids or k)"`
	K         int     `json:"k,omitempty" jsonschema:"split by k-means into k clusters, 2 to 50 (give query_ids or k)"`
}

// DeleteClusterInput is the input of delete_cluster.
type DeleteClusterInput struct {
	EditArgs
	ClusterID int  `json:"cluster_id" jsonschema:"the cluster to delete"`
	Orphan    bool `json:"orphan,omitempty" jsonschema:"orphan its queries (give orphan or move_to)"`
	MoveTo    *int `json:"move_to,omitempty" jsonschema:"move its queries to this cluster (give orphan or move_to)"`
}

// TagClusterInput is the input of tag_cluster.
type TagClusterInput struct {
	EditArgs
	ClusterID int      `json:"cluster_id" jsonschema:"the cluster"`
	Coherence *int     `json:"coherence,omitempty" jsonschema:"coherence score, 1 (incoherent) to 5"`
	Quality   *string  `json:"quality,omitempty" jsonschema:"low, medium or high"`
	Flags     []string `json:"flags,omitempty" jsonschema:"replaces the cluster's flags"`
	Notes     *string  `json:"notes,omitempty" jsonschema:"free notes"`
}

// FlagClusterInput is the input of flag_cluster.
type FlagClusterInput struct {
	EditArgs
	ClusterID int    `json:"cluster_id" jsonschema:"the cluster"`
	Flag      string `json:"flag" jsonschema:"the flag to add (needs_review, mixed …)"`
}

// ReassignOrphansInput is the input of reassign_orphans.
type ReassignOrphansInput struct {
	EditArgs
	ToClusterID int     `json:"to_cluster_id" jsonschema:"the cluster the orphans go to"`
	QueryIDs    []int64 `json:"query_ids,omitempty" jsonschema:"only these orphans (default: all)"`
}

// UndoEditInput is the input of undo_edit.
type UndoEditInput struct {
	EditArgs
	EditID int64 `json:"edit_id" jsonschema:"the edit to undo (list_edits lists them)"`
}

func (s *server) addWriteTools(srv *mcp.Server) {
	addEdit(s, srv, ToolMoveQueries, "Move queries to another cluster of the run.", nil, s.moveQueries)
	addEdit(s, srv, ToolRenameCluster, "Set a cluster's title and description in a summary run and on its hierarchy leaves.", nil, s.renameCluster)
	addEdit(s, srv, ToolMergeClusters, "Merge clusters into a target cluster: their queries move, their summaries and hierarchy leaves go.", nil, s.mergeClusters)
	addEdit(s, srv, ToolSplitCluster, "Split a cluster: listed queries form a new cluster, or k-means splits it into k.", nil, s.splitCluster)
	addEdit(s, srv, ToolDeleteCluster, "Delete a cluster: its queries are orphaned or moved to another cluster.", nil, s.deleteCluster)
	addEdit(s, srv, ToolTagCluster, "Set a cluster's coherence, quality, flags and notes.", func(sc *jsonschema.Schema) {
		enum(sc, "quality", curation.Qualities...)
	}, s.tagCluster)
	addEdit(s, srv, ToolFlagCluster, "Add a flag to a cluster.", nil, s.flagCluster)
	addEdit(s, srv, ToolReassignOrphans, "Move orphaned queries (of deleted clusters) to a cluster.", nil, s.reassignOrphans)
	addEdit(s, srv, ToolUndoEdit, "Undo an edit (list_edits gives its id); an edit that later edits depend on is refused until they are undone.", nil, s.undoEdit)
}

// addEdit registers a curation tool.
func addEdit[In any](s *server, srv *mcp.Server, name, desc string, tune func(*jsonschema.Schema), h func(context.Context, In) (curation.Result, error)) {
	desc += ` Audited under editor "` + s.opts.Editor + `" (undo_edit reverts it). The same JSON as the HTTP API's edit endpoints.`
	addTool(s, srv, &mcp.Tool{Name: name, Description: desc, Annotations: destructive}, tune,
		func(ctx context.Context, _ *mcp.CallToolRequest, in In) (json.RawMessage, error) {
			res, err := h(ctx, in)
			if err != nil {
				return nil, err
			}
			return s.fit(res, fitSpec{})
		})
}

// edit checks the run of an edit.
func (s *server) edit(ctx context.Context, e EditArgs) (string, error) {
	run, err := s.run(ctx, "run_id", e.RunID)
	if err != nil {
		return "", err
	}
	return run.ID, nil
}

// clusters checks that the run has every cluster named by the argument field.
func (s *server) clusters(ctx context.Context, runID, field string, ids ...int) error {
	for _, id := range ids {
		if err := s.cluster(ctx, runID, field, id); err != nil {
			return err
		}
	}
	return nil
}

func (s *server) moveQueries(ctx context.Context, in MoveQueriesInput) (curation.Result, error) {
	if len(in.QueryIDs) == 0 || len(in.QueryIDs) > 1000 {
		return curation.Result{}, badArg("query_ids", "give 1 to 1000 query ids, got %d", len(in.QueryIDs))
	}
	runID, err := s.edit(ctx, in.EditArgs)
	if err != nil {
		return curation.Result{}, err
	}
	if err := s.clusters(ctx, runID, "to_cluster_id", in.ToClusterID); err != nil {
		return curation.Result{}, err
	}
	return notFound("query_ids")(s.api.Curator().MoveQueries(ctx, runID, in.QueryIDs, in.ToClusterID, s.opts.Editor, in.Reason))
}

func (s *server) renameCluster(ctx context.Context, in RenameClusterInput) (curation.Result, error) {
	if strings.TrimSpace(in.Title) == "" && strings.TrimSpace(in.Description) == "" {
		return curation.Result{}, badArg("title", "give a title or a description")
	}
	runID, err := s.edit(ctx, in.EditArgs)
	if err != nil {
		return curation.Result{}, err
	}
	if err := s.summary(ctx, runID, in.Summary); err != nil {
		return curation.Result{}, err
	}
	return notFound("cluster_id")(s.api.Curator().RenameCluster(ctx, runID, in.ClusterID, curation.Rename{Title: in.Title, Description: in.Description,
		SummaryRunID: in.Summary}, s.opts.Editor, in.Reason))
}

func (s *server) mergeClusters(ctx context.Context, in MergeClustersInput) (curation.Result, error) {
	if len(in.SourceClusterIDs) == 0 {
		return curation.Result{}, badArg("source_cluster_ids", "give at least one cluster to merge into the target")
	}
	if slices.Contains(in.SourceClusterIDs, in.TargetClusterID) {
		return curation.Result{}, badArg("source_cluster_ids", "the target %d is among the sources", in.TargetClusterID)
	}
	runID, err := s.edit(ctx, in.EditArgs)
	if err != nil {
		return curation.Result{}, err
	}
	if err := s.clusters(ctx, runID, "source_cluster_ids", in.SourceClusterIDs...); err != nil {
		return curation.Result{}, err
	}
	if err := s.clusters(ctx, runID, "target_cluster_id", in.TargetClusterID); err != nil {
		return curation.Result{}, err
	}
	return s.api.Curator().MergeClusters(ctx, runID, in.SourceClusterIDs, in.TargetClusterID, s.opts.Editor, in.Reason)
}

func (s *server) splitCluster(ctx context.Context, in SplitClusterInput) (curation.Result, error) {
	if (len(in.QueryIDs) == 0) == (in.K == 0) {
		return curation.Result{}, badArg("k", "give query_ids or k, exactly one")
	}
	if in.K != 0 && (in.K < 2 || in.K > 50) {
		return curation.Result{}, badArg("k", "%d is out of range: give 2 to 50", in.K)
	}
	runID, err := s.edit(ctx, in.EditArgs)
	if err != nil {
		return curation.Result{}, err
	}
	if err := s.clusters(ctx, runID, "cluster_id", in.ClusterID); err != nil {
		return curation.Result{}, err
	}
	return s.api.Curator().SplitCluster(ctx, runID, in.ClusterID, curation.Split{QueryIDs: in.QueryIDs, K: in.K}, s.opts.Editor, in.Reason)
}

func (s *server) deleteCluster(ctx context.Context, in DeleteClusterInput) (curation.Result, error) {
	if in.Orphan == (in.MoveTo != nil) {
		return curation.Result{}, badArg("orphan", "give orphan: true or move_to, exactly one")
	}
	runID, err := s.edit(ctx, in.EditArgs)
	if err != nil {
		return curation.Result{}, err
	}
	if err := s.clusters(ctx, runID, "cluster_id", in.ClusterID); err != nil {
		return curation.Result{}, err
	}
	if in.MoveTo != nil {
		if *in.MoveTo == in.ClusterID {
			return curation.Result{}, badArg("move_to", "is the cluster deleted")
		}
		if err := s.clusters(ctx, runID, "move_to", *in.MoveTo); err != nil {
			return curation.Result{}, err
		}
	}
	return s.api.Curator().DeleteCluster(ctx, runID, in.ClusterID, curation.Delete{Orphan: in.Orphan, MoveTo: in.MoveTo}, s.opts.Editor, in.Reason)
}

func (s *server) tagCluster(ctx context.Context, in TagClusterInput) (curation.Result, error) {
	if in.Coherence == nil && in.Quality == nil && in.Flags == nil && in.Notes == nil {
		return curation.Result{}, badArg("coherence", "give at least one of coherence, quality, flags and notes")
	}
	if in.Coherence != nil && (*in.Coherence < 1 || *in.Coherence > 5) {
		return curation.Result{}, badArg("coherence", "%d is out of range: give 1 to 5", *in.Coherence)
	}
	runID, err := s.edit(ctx, in.EditArgs)
	if err != nil {
		return curation.Result{}, err
	}
	if err := s.clusters(ctx, runID, "cluster_id", in.ClusterID); err != nil {
		return curation.Result{}, err
	}
	return s.api.Curator().TagCluster(ctx, runID, in.ClusterID, curation.Tag{Coherence: in.Coherence, Quality: in.Quality, Flags: in.Flags, Notes: in.Notes},
		s.opts.Editor, in.Reason)
}

func (s *server) flagCluster(ctx context.Context, in FlagClusterInput) (curation.Result, error) {
	if strings.TrimSpace(in.Flag) == "" {
		return curation.Result{}, badArg("flag", "empty: give the flag to add")
	}
	runID, err := s.edit(ctx, in.EditArgs)
	if err != nil {
		return curation.Result{}, err
	}
	if err := s.clusters(ctx, runID, "cluster_id", in.ClusterID); err != nil {
		return curation.Result{}, err
	}
	return s.api.Curator().FlagCluster(ctx, runID, in.ClusterID, in.Flag, s.opts.Editor, in.Reason)
}

func (s *server) reassignOrphans(ctx context.Context, in ReassignOrphansInput) (curation.Result, error) {
	runID, err := s.edit(ctx, in.EditArgs)
	if err != nil {
		return curation.Result{}, err
	}
	if err := s.clusters(ctx, runID, "to_cluster_id", in.ToClusterID); err != nil {
		return curation.Result{}, err
	}
	return s.api.Curator().ReassignOrphans(ctx, runID, in.ToClusterID, in.QueryIDs, s.opts.Editor, in.Reason)
}

func (s *server) undoEdit(ctx context.Context, in UndoEditInput) (curation.Result, error) {
	if in.EditID <= 0 {
		return curation.Result{}, badArg("edit_id", "required: the id of an edit (list_edits lists them)")
	}
	runID, err := s.edit(ctx, in.EditArgs)
	if err != nil {
		return curation.Result{}, err
	}
	return notFound("edit_id")(s.api.Curator().Undo(ctx, runID, in.EditID, s.opts.Editor, in.Reason))
}

// notFound returns a function that names field in an edit's not-found error.
func notFound(field string) func(curation.Result, error) (curation.Result, error) {
	return func(res curation.Result, err error) (curation.Result, error) {
		if errors.Is(err, lmsys.ErrNotFound) {
			return res, badArg(field, "%v", err)
		}
		return res, err
	}
}
