package web

import (
	"context"
	"errors"
	"net/http"
	"sort"
	"strings"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/curation"
)

// The curation endpoints: cluster metadata, history, the audit log, orphaned queries
// and bad clusters, and the edits (move, rename, merge, split, delete, tag, flag,
// undo, reassign).

func (s *server) apiBadClusters(r *http.Request) (any, error) {
	runID, err := s.runParam(r, r.PathValue("run_id"))
	if err != nil {
		return nil, err
	}
	q := r.URL.Query()
	f := curation.BadFilter{GenericTitles: q.Get("generic_titles") == "true", Flags: queryList(r, "flags"), SummaryRunID: q.Get("summary_run_id")}
	if f.MaxSize, err = queryInt(r, "max_size", 0); err != nil {
		return nil, err
	}
	if f.MinCoherence, err = queryInt(r, "min_coherence", 0); err != nil {
		return nil, err
	}
	bs, err := s.cur.SelectBadClusters(r.Context(), runID, f)
	if err != nil {
		return nil, err
	}
	return map[string]any{"run_id": runID, "clusters": nonNil(bs)}, nil
}

// EditRequest holds the fields every edit accepts.
type EditRequest struct {
	RunID  string `json:"run_id"`
	Editor string `json:"editor"`
	Reason string `json:"reason"`
}

// editBody is a request body embedding EditRequest.
type editBody interface{ editRequest() *EditRequest }

func (e *EditRequest) editRequest() *EditRequest { return e }

// decodeEdit decodes an edit's body into req and returns the run it names (in the
// body or the run_id query parameter).
func (s *server) decodeEdit(r *http.Request, req editBody) (string, error) {
	if err := decode(r, req); err != nil {
		return "", err
	}
	return s.runParam(r, req.editRequest().RunID)
}

func (s *server) editor(e EditRequest) string {
	if e.Editor != "" {
		return e.Editor
	}
	return s.opts.Editor
}

// MoveRequest is the body of the move endpoints.
type MoveRequest struct {
	EditRequest
	ToClusterID *int    `json:"to_cluster_id"`
	QueryIDs    []int64 `json:"query_ids,omitempty"`
}

func (s *server) apiMove(r *http.Request) (any, error) {
	qid, err := pathInt64(r, "query_id")
	if err != nil {
		return nil, err
	}
	var req MoveRequest
	runID, err := s.decodeEdit(r, &req)
	if err != nil {
		return nil, err
	}
	if req.ToClusterID == nil {
		return nil, badRequest("to_cluster_id is required")
	}
	return s.cur.MoveQuery(r.Context(), runID, qid, *req.ToClusterID, s.editor(req.EditRequest), req.Reason)
}

func (s *server) apiMoveMany(r *http.Request) (any, error) {
	var req MoveRequest
	runID, err := s.decodeEdit(r, &req)
	if err != nil {
		return nil, err
	}
	if req.ToClusterID == nil || len(req.QueryIDs) == 0 {
		return nil, badRequest("to_cluster_id and query_ids are required")
	}
	return s.cur.MoveQueries(r.Context(), runID, req.QueryIDs, *req.ToClusterID, s.editor(req.EditRequest), req.Reason)
}

// RenameRequest is the body of POST /api/curation/clusters/{cluster_id}/rename.
type RenameRequest struct {
	EditRequest
	Title        string `json:"title"`
	Description  string `json:"description"`
	SummaryRunID string `json:"summary_run_id"`
}

func (s *server) apiRename(r *http.Request) (any, error) {
	cid, err := pathInt(r, "cluster_id")
	if err != nil {
		return nil, err
	}
	var req RenameRequest
	runID, err := s.decodeEdit(r, &req)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(req.Title) == "" && strings.TrimSpace(req.Description) == "" {
		return nil, badRequest("title or description is required")
	}
	return s.cur.RenameCluster(r.Context(), runID, cid, curation.Rename{Title: req.Title, Description: req.Description, SummaryRunID: req.SummaryRunID},
		s.editor(req.EditRequest), req.Reason)
}

// MergeRequest is the body of POST /api/curation/clusters/merge.
type MergeRequest struct {
	EditRequest
	SourceClusterIDs []int `json:"source_cluster_ids"`
	TargetClusterID  *int  `json:"target_cluster_id"`
}

func (s *server) apiMerge(r *http.Request) (any, error) {
	var req MergeRequest
	runID, err := s.decodeEdit(r, &req)
	if err != nil {
		return nil, err
	}
	if req.TargetClusterID == nil || len(req.SourceClusterIDs) == 0 {
		return nil, badRequest("source_cluster_ids and target_cluster_id are required")
	}
	return s.cur.MergeClusters(r.Context(), runID, req.SourceClusterIDs, *req.TargetClusterID, s.editor(req.EditRequest), req.Reason)
}

// SplitRequest is the body of POST /api/curation/clusters/{cluster_id}/split: give
// query_ids (they form one new cluster) or k.
type SplitRequest struct {
	EditRequest
	QueryIDs []int64 `json:"query_ids"`
	K        int     `json:"k"`
}

func (s *server) apiSplit(r *http.Request) (any, error) {
	cid, err := pathInt(r, "cluster_id")
	if err != nil {
		return nil, err
	}
	var req SplitRequest
	runID, err := s.decodeEdit(r, &req)
	if err != nil {
		return nil, err
	}
	if (len(req.QueryIDs) == 0) == (req.K == 0) {
		return nil, badRequest("give query_ids or k, exactly one")
	}
	return s.cur.SplitCluster(r.Context(), runID, cid, curation.Split{QueryIDs: req.QueryIDs, K: req.K}, s.editor(req.EditRequest), req.Reason)
}

// DeleteRequest is the body of POST /api/curation/clusters/{cluster_id}/delete: its
// queries are orphaned, or moved to move_to.
type DeleteRequest struct {
	EditRequest
	Orphan bool `json:"orphan"`
	MoveTo *int `json:"move_to"`
}

func (s *server) apiDelete(r *http.Request) (any, error) {
	cid, err := pathInt(r, "cluster_id")
	if err != nil {
		return nil, err
	}
	var req DeleteRequest
	runID, err := s.decodeEdit(r, &req)
	if err != nil {
		return nil, err
	}
	if req.Orphan == (req.MoveTo != nil) {
		return nil, badRequest("give orphan: true or move_to, exactly one")
	}
	return s.cur.DeleteCluster(r.Context(), runID, cid, curation.Delete{Orphan: req.Orphan, MoveTo: req.MoveTo}, s.editor(req.EditRequest), req.Reason)
}

// TagRequest is the body of POST /api/curation/clusters/{cluster_id}/tag; absent
// fields keep their values.
type TagRequest struct {
	EditRequest
	Coherence *int     `json:"coherence"`
	Quality   *string  `json:"quality"`
	Flags     []string `json:"flags"`
	Notes     *string  `json:"notes"`
}

func (s *server) apiTag(r *http.Request) (any, error) {
	cid, err := pathInt(r, "cluster_id")
	if err != nil {
		return nil, err
	}
	var req TagRequest
	runID, err := s.decodeEdit(r, &req)
	if err != nil {
		return nil, err
	}
	if req.Coherence == nil && req.Quality == nil && req.Flags == nil && req.Notes == nil {
		return nil, badRequest("give at least one of coherence, quality, flags, notes")
	}
	return s.cur.TagCluster(r.Context(), runID, cid, curation.Tag{Coherence: req.Coherence, Quality: req.Quality, Flags: req.Flags, Notes: req.Notes},
		s.editor(req.EditRequest), req.Reason)
}

// FlagRequest is the body of POST /api/curation/clusters/{cluster_id}/flag.
type FlagRequest struct {
	EditRequest
	Flag string `json:"flag"`
}

func (s *server) apiFlag(r *http.Request) (any, error) {
	cid, err := pathInt(r, "cluster_id")
	if err != nil {
		return nil, err
	}
	var req FlagRequest
	runID, err := s.decodeEdit(r, &req)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(req.Flag) == "" {
		return nil, badRequest("flag is required")
	}
	return s.cur.FlagCluster(r.Context(), runID, cid, req.Flag, s.editor(req.EditRequest), req.Reason)
}

// UndoRequest is the body of POST /api/curation/runs/{run_id}/undo.
type UndoRequest struct {
	EditRequest
	EditID int64 `json:"edit_id"`
}

func (s *server) apiUndo(r *http.Request) (any, error) {
	var req UndoRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	runID, err := s.runParam(r, r.PathValue("run_id"))
	if err != nil {
		return nil, err
	}
	if req.EditID <= 0 {
		return nil, badRequest("edit_id is required")
	}
	return s.cur.Undo(r.Context(), runID, req.EditID, s.editor(req.EditRequest), req.Reason)
}

// ReassignRequest is the body of POST /api/curation/runs/{run_id}/orphaned/reassign:
// the listed orphans (all when query_ids is empty) go to to_cluster_id.
type ReassignRequest struct {
	EditRequest
	ToClusterID *int    `json:"to_cluster_id"`
	QueryIDs    []int64 `json:"query_ids"`
}

func (s *server) apiReassign(r *http.Request) (any, error) {
	var req ReassignRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	runID, err := s.runParam(r, r.PathValue("run_id"))
	if err != nil {
		return nil, err
	}
	if req.ToClusterID == nil {
		return nil, badRequest("to_cluster_id is required")
	}
	return s.cur.ReassignOrphans(r.Context(), runID, *req.ToClusterID, req.QueryIDs, s.editor(req.EditRequest), req.Reason)
}

// runIDs returns [runID], or every run's id when runID is empty.
func (s *server) runIDs(ctx context.Context, runID string) ([]string, error) {
	if runID != "" {
		return []string{runID}, nil
	}
	all, err := s.deps.Store.ListRuns(ctx)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(all))
	for i, r := range all {
		ids[i] = r.ID
	}
	return ids, nil
}

func (s *server) apiMetadata(r *http.Request) (any, error) {
	cid, err := pathInt(r, "cluster_id")
	if err != nil {
		return nil, err
	}
	p := newParams(r)
	runID := p.required("run_id")
	if p.err != nil {
		return nil, p.err
	}
	m, err := s.deps.Store.ClusterMetadata(r.Context(), runID, cid)
	if err != nil {
		return nil, err
	}
	m.RunID, m.ClusterID = runID, cid
	return metadataItem(m), nil
}

func (s *server) apiHistory(r *http.Request) (any, error) {
	cid, err := pathInt(r, "cluster_id")
	if err != nil {
		return nil, err
	}
	p := newParams(r)
	runID := p.required("run_id")
	page, limit := p.page(50)
	if p.err != nil {
		return nil, p.err
	}
	es, err := s.cur.ClusterEdits(r.Context(), runID, cid)
	if err != nil {
		return nil, err
	}
	return EditPage{ListPage: paginate(editItems(es), page, limit), RunID: runID, ClusterID: &cid}, nil
}

func auditFilter(p *params) (curation.AuditFilter, error) {
	f := curation.AuditFilter{Editor: p.str("editor"), Type: p.str("type")}
	if v := p.str("since"); v != "" {
		t, err := parseSince(v)
		if err != nil {
			return f, validation("since %q is not RFC 3339 or YYYY-MM-DD", v)
		}
		f.Since = t
	}
	if f.Type != "" && !contains(curation.EditTypes, f.Type) {
		return f, validation("type %q is not one of %s", f.Type, strings.Join(curation.EditTypes, ", "))
	}
	return f, nil
}

func (s *server) apiAudit(r *http.Request) (any, error) {
	runID := r.PathValue("run_id")
	p := newParams(r)
	page, limit := p.page(50)
	f, err := auditFilter(p)
	if err != nil {
		return nil, err
	}
	if p.err != nil {
		return nil, p.err
	}
	es, err := s.cur.Audit(r.Context(), runID, f)
	if errors.Is(err, lmsys.ErrNotFound) {
		es, err = nil, nil // an unknown run has no edits, as in the Python tool
	}
	if err != nil {
		return nil, err
	}
	return EditPage{ListPage: paginate(editItems(es), page, limit), RunID: runID}, nil
}

// orphans returns a run's orphaned queries, newest first, with their queries.
func (s *server) orphans(ctx context.Context, runID string) ([]OrphanItem, error) {
	os, err := s.deps.Store.Orphans(ctx, runID)
	if err != nil {
		return nil, err
	}
	sort.SliceStable(os, func(i, j int) bool { return os[i].OrphanedAt.After(os[j].OrphanedAt) })
	ids := make([]int64, len(os))
	for i, o := range os {
		ids[i] = o.QueryID
	}
	byID := make(map[int64]lmsys.Query, len(ids))
	for start := 0; start < len(ids); start += 500 {
		qs, err := s.deps.Store.ListQueries(ctx, lmsys.QueryFilter{IDs: ids[start:min(start+500, len(ids))]})
		if err != nil {
			return nil, err
		}
		for _, q := range qs {
			byID[q.ID] = q
		}
	}
	out := make([]OrphanItem, 0, len(os))
	for _, o := range os {
		q, ok := byID[o.QueryID]
		if !ok {
			continue // the query was deleted since
		}
		out = append(out, OrphanItem{Orphan: OrphanRecord{QueryID: o.QueryID, OriginalClusterID: o.OriginalClusterID, OrphanedAt: o.OrphanedAt,
			Reason: nullable(o.Reason), ID: o.ID, RunID: o.RunID}, Query: queryItem(q)})
	}
	return out, nil
}

// OrphanPage is a page of a run's orphaned queries, newest first.
type OrphanPage struct {
	ListPage[OrphanItem]
	RunID string `json:"run_id"`
}

func (s *server) apiOrphaned(r *http.Request) (any, error) {
	runID := r.PathValue("run_id")
	p := newParams(r)
	page, limit := p.page(50)
	if p.err != nil {
		return nil, p.err
	}
	os, err := s.orphans(r.Context(), runID)
	if err != nil {
		return nil, err
	}
	return OrphanPage{ListPage: paginate(os, page, limit), RunID: runID}, nil
}
