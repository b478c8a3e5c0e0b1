package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/lmsys-go/lmsys"
)

// AddEdit appends one audit row and returns its id.
func (d *DB) AddEdit(ctx context.Context, e lmsys.Edit) (int64, error) {
	if e.CreatedAt.IsZero() {
		e.CreatedAt = time.Now().UTC()
	}
	oldJ, err := marshalOpt(e.OldValue)
	if err != nil {
		return 0, err
	}
	newJ, err := marshalOpt(e.NewValue)
	if err != nil {
		return 0, err
	}
	var id int64
	err = d.db.WithContext(ctx).Raw(`INSERT INTO cluster_edits (run_id, cluster_id, edit_type, editor, timestamp, old_value, new_value, reason)
		VALUES (?,?,?,?,?,?,?,?) RETURNING id`, e.RunID, e.ClusterID, e.EditType, e.Editor, e.CreatedAt.UTC(), oldJ, newJ, nullString(e.Reason)).Row().Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("store: add edit: %w", err)
	}
	return id, nil
}

func marshalOpt(m map[string]any) (any, error) {
	if m == nil {
		return nil, nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("store: edit value: %w", err)
	}
	return cleanText(string(b)), nil
}

// EditFilter selects audit rows. Zero fields do not filter.
type EditFilter struct {
	RunID     string
	ClusterID *int
	Editor    string
	EditType  string
	Since     time.Time
	// AfterID keeps edits with a larger id (edits made after that one).
	AfterID int64
	Limit   int
}

// Edits returns audit rows in id order.
func (d *DB) Edits(ctx context.Context, f EditFilter) ([]lmsys.Edit, error) {
	stmt := `SELECT id, run_id, cluster_id, edit_type, COALESCE(editor, ''), timestamp, old_value, new_value, COALESCE(reason, '') FROM cluster_edits WHERE 1=1`
	var args []any
	if f.RunID != "" {
		stmt += ` AND run_id = ?`
		args = append(args, f.RunID)
	}
	if f.ClusterID != nil {
		stmt += ` AND cluster_id = ?`
		args = append(args, *f.ClusterID)
	}
	if f.Editor != "" {
		stmt += ` AND editor = ?`
		args = append(args, f.Editor)
	}
	if f.EditType != "" {
		stmt += ` AND edit_type = ?`
		args = append(args, f.EditType)
	}
	if !f.Since.IsZero() {
		stmt += ` AND timestamp >= ?`
		args = append(args, f.Since.UTC())
	}
	if f.AfterID > 0 {
		stmt += ` AND id > ?`
		args = append(args, f.AfterID)
	}
	stmt += ` ORDER BY id`
	if f.Limit > 0 {
		stmt += fmt.Sprintf(` LIMIT %d`, f.Limit)
	}
	rows, err := d.db.WithContext(ctx).Raw(stmt, args...).Rows()
	if err != nil {
		return nil, fmt.Errorf("store: list edits: %w", err)
	}
	defer rows.Close()
	out := []lmsys.Edit{}
	for rows.Next() {
		var e lmsys.Edit
		var cluster sql.NullInt64
		var ts sql.NullTime
		var oldJ, newJ sql.NullString
		if err := rows.Scan(&e.ID, &e.RunID, &cluster, &e.EditType, &e.Editor, &ts, &oldJ, &newJ, &e.Reason); err != nil {
			return nil, err
		}
		if cluster.Valid {
			c := int(cluster.Int64)
			e.ClusterID = &c
		}
		e.CreatedAt = ts.Time
		if oldJ.Valid && oldJ.String != "" {
			if err := json.Unmarshal([]byte(oldJ.String), &e.OldValue); err != nil {
				return nil, fmt.Errorf("store: edit %d: old_value is not a JSON object: %w", e.ID, err)
			}
		}
		if newJ.Valid && newJ.String != "" {
			if err := json.Unmarshal([]byte(newJ.String), &e.NewValue); err != nil {
				return nil, fmt.Errorf("store: edit %d: new_value is not a JSON object: %w", e.ID, err)
			}
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// LatestEdit returns the id of the run's newest edit, 0 when it has none. Every edit
// is audited, so a cache of anything an edit can change is still good while this id
// is the one it was read at.
func (d *DB) LatestEdit(ctx context.Context, runID string) (int64, error) {
	var id int64
	if err := d.db.WithContext(ctx).Raw(`SELECT COALESCE(MAX(id), 0) FROM cluster_edits WHERE run_id = ?`, runID).Row().Scan(&id); err != nil {
		return 0, fmt.Errorf("store: latest edit of %s: %w", runID, err)
	}
	return id, nil
}

// GetEdit returns one audit row.
func (d *DB) GetEdit(ctx context.Context, id int64) (lmsys.Edit, error) {
	es, err := d.Edits(ctx, EditFilter{AfterID: id - 1, Limit: 1})
	if err != nil {
		return lmsys.Edit{}, err
	}
	if len(es) == 0 || es[0].ID != id {
		return lmsys.Edit{}, fmt.Errorf("edit %d: %w", id, lmsys.ErrNotFound)
	}
	return es[0], nil
}

// ClusterMetadata returns a cluster's annotations; a cluster never annotated returns
// a zero value (with RunID and ClusterID set) and no error.
func (d *DB) ClusterMetadata(ctx context.Context, runID string, clusterID int) (lmsys.ClusterMetadata, error) {
	m := lmsys.ClusterMetadata{RunID: runID, ClusterID: clusterID}
	var coh sql.NullInt64
	var quality, flags, notes sql.NullString
	var edited sql.NullTime
	err := d.db.WithContext(ctx).Raw(`SELECT coherence_score, quality, flags, notes, last_edited FROM cluster_metadata WHERE run_id = ? AND cluster_id = ?`,
		runID, clusterID).Row().Scan(&coh, &quality, &flags, &notes, &edited)
	if errors.Is(err, sql.ErrNoRows) {
		return m, nil
	}
	if err != nil {
		return m, fmt.Errorf("store: cluster metadata %s/%d: %w", runID, clusterID, err)
	}
	if coh.Valid {
		c := int(coh.Int64)
		m.Coherence = &c
	}
	m.Quality, m.Notes = quality.String, notes.String
	if flags.Valid && flags.String != "" {
		if err := json.Unmarshal([]byte(flags.String), &m.Flags); err != nil {
			return m, fmt.Errorf("store: cluster metadata %s/%d: flags is not a JSON list: %w", runID, clusterID, err)
		}
	}
	m.UpdatedAt = edited.Time
	return m, nil
}

// ListClusterMetadata returns every annotated cluster of a run.
func (d *DB) ListClusterMetadata(ctx context.Context, runID string) ([]lmsys.ClusterMetadata, error) {
	rows, err := d.db.WithContext(ctx).Raw(`SELECT cluster_id FROM cluster_metadata WHERE run_id = ? ORDER BY cluster_id`, runID).Rows()
	if err != nil {
		return nil, fmt.Errorf("store: list cluster metadata: %w", err)
	}
	var ids []int
	for rows.Next() {
		var id int
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	out := []lmsys.ClusterMetadata{}
	for _, id := range ids {
		m, err := d.ClusterMetadata(ctx, runID, id)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// SaveClusterMetadata inserts or replaces a cluster's annotations.
func (d *DB) SaveClusterMetadata(ctx context.Context, m lmsys.ClusterMetadata) error {
	if m.UpdatedAt.IsZero() {
		m.UpdatedAt = time.Now().UTC()
	}
	var flags any
	if m.Flags != nil {
		b, _ := json.Marshal(m.Flags)
		flags = string(b)
	}
	var coh any
	if m.Coherence != nil {
		coh = *m.Coherence
	}
	err := d.db.WithContext(ctx).Exec(`INSERT INTO cluster_metadata (run_id, cluster_id, coherence_score, quality, flags, notes, last_edited)
		VALUES (?,?,?,?,?,?,?) ON CONFLICT (run_id, cluster_id) DO UPDATE SET coherence_score = excluded.coherence_score,
		quality = excluded.quality, flags = excluded.flags, notes = excluded.notes, last_edited = excluded.last_edited`,
		m.RunID, m.ClusterID, coh, nullString(m.Quality), flags, nullString(cleanText(m.Notes)), m.UpdatedAt.UTC()).Error
	if err != nil {
		return fmt.Errorf("store: save cluster metadata %s/%d: %w", m.RunID, m.ClusterID, err)
	}
	return nil
}

// AddOrphans records queries taken out of their clusters.
func (d *DB) AddOrphans(ctx context.Context, os []lmsys.OrphanedQuery) error {
	now := time.Now().UTC()
	for _, o := range os {
		at := o.OrphanedAt
		if at.IsZero() {
			at = now
		}
		if err := d.db.WithContext(ctx).Exec(`INSERT INTO orphaned_queries (run_id, query_id, original_cluster_id, orphaned_at, reason) VALUES (?,?,?,?,?)`,
			o.RunID, o.QueryID, o.OriginalClusterID, at, nullString(o.Reason)).Error; err != nil {
			return fmt.Errorf("store: add orphan %d: %w", o.QueryID, err)
		}
	}
	return nil
}

// Orphans lists a run's orphaned queries.
func (d *DB) Orphans(ctx context.Context, runID string) ([]lmsys.OrphanedQuery, error) {
	rows, err := d.db.WithContext(ctx).Raw(`SELECT id, run_id, query_id, original_cluster_id, orphaned_at, COALESCE(reason, '') FROM orphaned_queries
		WHERE run_id = ? ORDER BY id`, runID).Rows()
	if err != nil {
		return nil, fmt.Errorf("store: list orphans: %w", err)
	}
	defer rows.Close()
	out := []lmsys.OrphanedQuery{}
	for rows.Next() {
		var o lmsys.OrphanedQuery
		var orig sql.NullInt64
		var at sql.NullTime
		if err := rows.Scan(&o.ID, &o.RunID, &o.QueryID, &orig, &at, &o.Reason); err != nil {
			return nil, err
		}
		if orig.Valid {
			c := int(orig.Int64)
			o.OriginalClusterID = &c
		}
		o.OrphanedAt = at.Time
		out = append(out, o)
	}
	return out, rows.Err()
}

// RemoveOrphans deletes a run's orphan rows for these queries (after reassignment).
func (d *DB) RemoveOrphans(ctx context.Context, runID string, queryIDs []int64) error {
	if len(queryIDs) == 0 {
		return nil
	}
	if err := d.db.WithContext(ctx).Exec(`DELETE FROM orphaned_queries WHERE run_id = ? AND query_id IN ?`, runID, queryIDs).Error; err != nil {
		return fmt.Errorf("store: remove orphans: %w", err)
	}
	return nil
}

// DeleteAssignments removes queries from a run's clusters.
func (d *DB) DeleteAssignments(ctx context.Context, runID string, queryIDs []int64) error {
	if len(queryIDs) == 0 {
		return nil
	}
	if err := d.db.WithContext(ctx).Exec(`DELETE FROM query_clusters WHERE run_id = ? AND query_id IN ?`, runID, queryIDs).Error; err != nil {
		return fmt.Errorf("store: delete assignments: %w", err)
	}
	return nil
}

// ClearAssignments removes every assignment of a run (used when a run fails).
func (d *DB) ClearAssignments(ctx context.Context, runID string) error {
	if err := d.db.WithContext(ctx).Exec(`DELETE FROM query_clusters WHERE run_id = ?`, runID).Error; err != nil {
		return fmt.Errorf("store: clear assignments of %s: %w", runID, err)
	}
	return nil
}
