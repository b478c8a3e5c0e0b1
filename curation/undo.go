package curation

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/store"
)

// Undo reverses one edit of a run by restoring the state its old value recorded. The
// undo is itself an edit (type "undo", new value "undoes": editID, old value: the
// state it replaced), so it shows in History and Audit and can be undone in turn.
// Undo refuses with an error wrapping lmsys.ErrConflict when a later edit of the run
// depends on this one (see the package documentation), naming that edit; undo the
// later one first. An unknown edit, or one of another run, wraps lmsys.ErrNotFound.
func (c *Curator) Undo(ctx context.Context, runID string, editID int64, editor, reason string) (Result, error) {
	return c.apply(ctx, runID, editor, reason, func(tx *store.DB, run lmsys.Run) (*change, error) {
		e, err := tx.GetEdit(ctx, editID)
		if err != nil {
			return nil, err
		}
		if e.RunID != runID {
			return nil, fmt.Errorf("edit %d of run %q (it belongs to run %q): %w", editID, runID, e.RunID, lmsys.ErrNotFound)
		}
		var snap snapshot
		var fp footprint
		rawFP, ok := e.NewValue["footprint"]
		if !ok || e.OldValue == nil || fromMap(e.OldValue, &snap) != nil || fromMap(rawFP, &fp) != nil || len(snap.Parts) == 0 {
			return nil, fmt.Errorf("%w: edit %d (%s) records no snapshot to restore (it was not written by this library's curation)",
				lmsys.ErrInvalidInput, editID, e.EditType)
		}
		log, err := editLog(ctx, tx, runID)
		if err != nil {
			return nil, err
		}
		if err := checkUndoable(fp, e, log); err != nil {
			return nil, err
		}
		titleRun := ""
		if len(snap.Titles) > 0 {
			titleRun = snap.Titles[0].SummaryRunID
		}
		cur, err := take(ctx, tx, runID, snap.Parts, snap.Clusters, snap.QueryIDs, titleRun)
		if err != nil {
			return nil, err
		}
		hier, err := restore(ctx, tx, runID, &snap, fp.clusters())
		if err != nil {
			return nil, err
		}
		nv := map[string]any{"undoes": editID, "undone_type": e.EditType}
		return &change{editType: TypeUndo, cluster: e.ClusterID, old: cur, newValue: nv, hier: hier, fp: fp}, nil
	})
}

// checkUndoable replays the run's edit log to find what is in effect now. Each edit
// belongs to a chain: an original edit and the undos that toggle it (an undo of an undo
// redoes). Only the newest edit of a chain can be undone, and only while no other
// chain that is in effect and was touched after it depends on it.
func checkUndoable(fp footprint, e lmsys.Edit, log []lmsys.Edit) error {
	origin := map[int64]int64{}
	applied := map[int64]bool{}
	latest := map[int64]lmsys.Edit{}
	first := map[int64]lmsys.Edit{}
	for _, l := range log {
		o := l.ID
		if u, ok := l.NewValue["undoes"].(float64); ok && l.EditType == TypeUndo {
			o = int64(u)
			if oo, ok := origin[o]; ok {
				o = oo
			}
			applied[o] = !applied[o]
		} else {
			applied[o] = true
			first[o] = l
		}
		origin[l.ID] = o
		latest[o] = l
	}
	o := origin[e.ID]
	if last := latest[o]; last.ID != e.ID {
		verb := "undid"
		if applied[o] {
			verb = "redid"
		}
		return fmt.Errorf("%w: cannot undo edit %d (%s): later edit %d (%s by %s) already %s it; undo edit %d instead",
			lmsys.ErrConflict, e.ID, e.EditType, last.ID, last.EditType, last.Editor, verb, last.ID)
	}
	others := make([]int64, 0, len(latest))
	for other := range latest {
		others = append(others, other)
	}
	// Name the newest dependent edit: it is the one to undo first.
	slices.SortFunc(others, func(a, b int64) int { return cmp.Compare(latest[b].ID, latest[a].ID) })
	for _, other := range others {
		last := latest[other]
		if other == o || !applied[other] || last.ID < e.ID {
			continue
		}
		orig, ok := first[other]
		if !ok {
			continue
		}
		if why := dependsOn(fp, e, orig); why != "" {
			return fmt.Errorf("%w: cannot undo edit %d (%s): later edit %d (%s by %s at %s) %s; undo edit %d first",
				lmsys.ErrConflict, e.ID, e.EditType, last.ID, last.EditType, last.Editor, last.CreatedAt.UTC().Format("2006-01-02 15:04:05"), why, last.ID)
		}
	}
	return nil
}

// dependsOn says why the later edit l depends on edit e (footprint fp), or "".
func dependsOn(fp footprint, e, l lmsys.Edit) string {
	var lf footprint
	raw, ok := l.NewValue["footprint"]
	if !ok || fromMap(raw, &lf) != nil {
		// An edit written by another tool: assume it depends on any shared cluster.
		if l.ClusterID != nil && slices.Contains(fp.clusters(), *l.ClusterID) {
			return fmt.Sprintf("changed cluster %d", *l.ClusterID)
		}
		return ""
	}
	if q, ok := firstShared64(fp.Queries, lf.Queries); ok {
		return fmt.Sprintf("moved query %d again", q)
	}
	if c, ok := firstShared(fp.Struct, lf.clusters()); ok {
		return fmt.Sprintf("changed cluster %d, which this %s created, removed or merged", c, e.EditType)
	}
	if c, ok := firstShared(lf.Struct, fp.clusters()); ok {
		return fmt.Sprintf("%s cluster %d", structVerb(l), c)
	}
	if c, ok := firstShared(fp.Summary, lf.Summary); ok {
		return fmt.Sprintf("renamed cluster %d again", c)
	}
	if c, ok := firstShared(fp.Meta, lf.Meta); ok {
		return fmt.Sprintf("changed the metadata of cluster %d again", c)
	}
	return ""
}

func structVerb(l lmsys.Edit) string {
	switch l.EditType {
	case TypeMerge:
		return "merged"
	case TypeSplit:
		return "split"
	case TypeDelete:
		return "deleted"
	}
	return strings.ReplaceAll(l.EditType, "_", " ") + " changed"
}

func firstShared(a, b []int) (int, bool) {
	for _, x := range a {
		if slices.Contains(b, x) {
			return x, true
		}
	}
	return 0, false
}

func firstShared64(a, b []int64) (int64, bool) {
	if len(a) == 0 || len(b) == 0 {
		return 0, false
	}
	set := make(map[int64]bool, len(b))
	for _, x := range b {
		set[x] = true
	}
	for _, x := range a {
		if set[x] {
			return x, true
		}
	}
	return 0, false
}

// editLog returns a run's edits in id order without their old values (snapshots can
// be large and checkUndoable needs only the new values).
func editLog(ctx context.Context, tx *store.DB, runID string) ([]lmsys.Edit, error) {
	rows, err := tx.Gorm().WithContext(ctx).Raw(`SELECT id, cluster_id, edit_type, COALESCE(editor, ''), timestamp, COALESCE(new_value, '')
		FROM cluster_edits WHERE run_id = ? ORDER BY id`, runID).Rows()
	if err != nil {
		return nil, fmt.Errorf("curation: read edit log of %s: %w", runID, err)
	}
	defer rows.Close()
	var out []lmsys.Edit
	for rows.Next() {
		e := lmsys.Edit{RunID: runID}
		var cluster sql.NullInt64
		var ts sql.NullTime
		var nv string
		if err := rows.Scan(&e.ID, &cluster, &e.EditType, &e.Editor, &ts, &nv); err != nil {
			return nil, err
		}
		if cluster.Valid {
			c := int(cluster.Int64)
			e.ClusterID = &c
		}
		e.CreatedAt = ts.Time
		if nv != "" {
			if err := json.Unmarshal([]byte(nv), &e.NewValue); err != nil {
				return nil, fmt.Errorf("curation: edit %d of %s: new_value is not a JSON object: %w", e.ID, runID, err)
			}
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
