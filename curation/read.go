package curation

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/store"
)

// QueryCluster is where one query sits in one run.
type QueryCluster struct {
	RunID      string  `json:"run_id"`
	ClusterID  int     `json:"cluster_id"`
	Confidence float64 `json:"confidence_score"`
	// Title is the cluster's title in the run's latest summary run ("" when unnamed).
	Title        string `json:"title,omitempty"`
	SummaryRunID string `json:"summary_run_id,omitempty"`
	// Orphaned is set when the query was taken out of ClusterID by a delete.
	Orphaned bool `json:"orphaned,omitempty"`
}

// QueryView is a query with its cluster in each run.
type QueryView struct {
	Query    lmsys.Query    `json:"query"`
	Clusters []QueryCluster `json:"clusters"`
}

// ViewQuery returns a query and its cluster (or orphan record) in every run.
func (c *Curator) ViewQuery(ctx context.Context, queryID int64) (QueryView, error) {
	q, err := c.db.GetQuery(ctx, queryID)
	if err != nil {
		return QueryView{}, err
	}
	v := QueryView{Query: q, Clusters: []QueryCluster{}}
	rows, err := c.db.Gorm().WithContext(ctx).Raw(`SELECT run_id, cluster_id, COALESCE(confidence_score, 0) FROM query_clusters
		WHERE query_id = ? ORDER BY run_id`, queryID).Rows()
	if err != nil {
		return v, fmt.Errorf("curation: clusters of query %d: %w", queryID, err)
	}
	for rows.Next() {
		var qc QueryCluster
		if err := rows.Scan(&qc.RunID, &qc.ClusterID, &qc.Confidence); err != nil {
			rows.Close()
			return v, err
		}
		v.Clusters = append(v.Clusters, qc)
	}
	rows.Close()
	orphans, err := c.db.Gorm().WithContext(ctx).Raw(`SELECT run_id, COALESCE(original_cluster_id, -1) FROM orphaned_queries WHERE query_id = ? ORDER BY run_id`,
		queryID).Rows()
	if err != nil {
		return v, fmt.Errorf("curation: orphan records of query %d: %w", queryID, err)
	}
	for orphans.Next() {
		qc := QueryCluster{Orphaned: true}
		if err := orphans.Scan(&qc.RunID, &qc.ClusterID); err != nil {
			orphans.Close()
			return v, err
		}
		v.Clusters = append(v.Clusters, qc)
	}
	orphans.Close()
	for i := range v.Clusters {
		qc := &v.Clusters[i]
		sr, err := c.db.ResolveSummaryRun(ctx, qc.RunID, "")
		if err != nil {
			continue // an unnamed run
		}
		qc.SummaryRunID = sr
		err = c.db.Gorm().WithContext(ctx).Raw(`SELECT COALESCE(title, '') FROM cluster_summaries WHERE run_id = ? AND summary_run_id = ? AND cluster_id = ?`,
			qc.RunID, sr, qc.ClusterID).Row().Scan(&qc.Title)
		if err != nil && !isNoRows(err) {
			return v, fmt.Errorf("curation: title of cluster %d: %w", qc.ClusterID, err)
		}
	}
	return v, nil
}

// touches reports whether an edit concerns a cluster: its cluster column or any
// cluster of its footprint.
func touches(e lmsys.Edit, cluster int) bool {
	if e.ClusterID != nil && *e.ClusterID == cluster {
		return true
	}
	var fp footprint
	if raw, ok := e.NewValue["footprint"]; ok && fromMap(raw, &fp) == nil {
		return slices.Contains(fp.clusters(), cluster)
	}
	return false
}

// ClusterEdits returns the edits of a run that concern a cluster, oldest first, as
// History does but without checking that the run and the cluster exist: for callers
// that just read the cluster (a cluster page), saving a query.
func (c *Curator) ClusterEdits(ctx context.Context, runID string, clusterID int) ([]lmsys.Edit, error) {
	all, err := c.db.Edits(ctx, store.EditFilter{RunID: runID})
	if err != nil {
		return nil, err
	}
	out := []lmsys.Edit{}
	for _, e := range all {
		if touches(e, clusterID) {
			out = append(out, e)
		}
	}
	return out, nil
}

// History returns the edits of a run that concern a cluster (moves into or out of it,
// merges, splits, renames, tags …), oldest first. A cluster the run never had and no
// edit names fails with lmsys.ErrNotFound.
func (c *Curator) History(ctx context.Context, runID string, clusterID int) ([]lmsys.Edit, error) {
	out, err := c.ClusterEdits(ctx, runID, clusterID)
	if err != nil {
		return nil, err
	}
	if len(out) > 0 {
		return out, nil // edits of the run exist, so the run does
	}
	// Nothing recorded: say whether the run or the cluster is unknown.
	if err := needCluster(ctx, c.db, runID, clusterID); err != nil {
		if _, rerr := c.db.GetRun(ctx, runID); rerr != nil {
			return nil, rerr
		}
		return nil, err
	}
	return out, nil
}

// AuditFilter selects edits of a run. Zero fields do not filter.
type AuditFilter struct {
	Since  time.Time
	Editor string
	// Type is one of EditTypes.
	Type  string
	Limit int
}

// Audit returns a run's edits selected by f, oldest first.
func (c *Curator) Audit(ctx context.Context, runID string, f AuditFilter) ([]lmsys.Edit, error) {
	if f.Type != "" && !slices.Contains(EditTypes, f.Type) {
		return nil, fmt.Errorf("%w: edit type %q is not one of %s", lmsys.ErrInvalidInput, f.Type, strings.Join(EditTypes, ", "))
	}
	if _, err := c.db.GetRun(ctx, runID); err != nil {
		return nil, err
	}
	return c.db.Edits(ctx, store.EditFilter{RunID: runID, Editor: f.Editor, EditType: f.Type, Since: f.Since, Limit: f.Limit})
}

// Orphan is an orphaned query with its text.
type Orphan struct {
	lmsys.OrphanedQuery
	QueryText string `json:"query_text"`
}

// Orphaned lists a run's orphaned queries.
func (c *Curator) Orphaned(ctx context.Context, runID string) ([]Orphan, error) {
	if _, err := c.db.GetRun(ctx, runID); err != nil {
		return nil, err
	}
	os, err := c.db.Orphans(ctx, runID)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(os))
	for i, o := range os {
		ids[i] = o.QueryID
	}
	texts := map[int64]string{}
	for start := 0; start < len(ids); start += 500 {
		qs, err := c.db.ListQueries(ctx, lmsys.QueryFilter{IDs: ids[start:min(start+500, len(ids))]})
		if err != nil {
			return nil, err
		}
		for _, q := range qs {
			texts[q.ID] = q.Text
		}
	}
	out := make([]Orphan, len(os))
	for i, o := range os {
		out[i] = Orphan{OrphanedQuery: o, QueryText: texts[o.QueryID]}
	}
	return out, nil
}
