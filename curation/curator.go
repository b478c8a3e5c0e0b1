package curation

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/store"
)

// Edit types written to cluster_edits.edit_type.
const (
	TypeMove     = "move_query"
	TypeRename   = "rename"
	TypeMerge    = "merge"
	TypeSplit    = "split"
	TypeDelete   = "delete"
	TypeTag      = "tag"
	TypeFlag     = "flag"
	TypeReassign = "reassign_orphans"
	TypeUndo     = "undo"
)

// EditTypes lists every edit type, for validating filters.
var EditTypes = []string{TypeMove, TypeRename, TypeMerge, TypeSplit, TypeDelete, TypeTag, TypeFlag, TypeReassign, TypeUndo}

// Options configures a Curator.
type Options struct {
	// OnChange, when set, is called after each committed edit (undo included) with the
	// run and the ids of the clusters whose membership, summary or existence changed,
	// so callers can re-embed and re-index those cluster summaries in their vector
	// index. It runs outside the transaction; its failure cannot undo the edit.
	OnChange func(ctx context.Context, runID string, clusterIDs []int)
	// Seed makes k-means splits deterministic (0 is a valid seed).
	Seed uint64
	// Now returns the time stamped on edits (default time.Now).
	Now func() time.Time
}

// Curator edits the clusters of runs in one store.
type Curator struct {
	db   *store.DB
	opts Options
}

// New returns a Curator over db.
func New(db *store.DB, opts Options) *Curator {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Curator{db: db, opts: opts}
}

// Result describes one committed edit.
type Result struct {
	// Edit is the audit row written, with its id.
	Edit lmsys.Edit `json:"edit"`
	// Changed lists the clusters whose membership, summary, metadata or existence changed.
	Changed []int `json:"changed_clusters"`
	// NewClusterIDs lists clusters a split created.
	NewClusterIDs []int `json:"new_cluster_ids,omitempty"`
	// Hierarchies lists the hierarchy runs that were updated.
	Hierarchies []string `json:"hierarchies_updated,omitempty"`
}

// footprint says what an edit touched; undo compares footprints to find dependencies.
type footprint struct {
	Queries []int64 `json:"queries,omitempty"`
	Members []int   `json:"members,omitempty"`
	Summary []int   `json:"summary,omitempty"`
	Meta    []int   `json:"meta,omitempty"`
	Struct  []int   `json:"struct,omitempty"`
}

// clusters returns every cluster the footprint names, sorted and distinct.
func (f footprint) clusters() []int {
	var out []int
	out = append(out, f.Members...)
	out = append(out, f.Summary...)
	out = append(out, f.Meta...)
	out = append(out, f.Struct...)
	return uniqInts(out)
}

// indexChanged returns the clusters a vector index of summaries must refresh.
func (f footprint) indexChanged() []int {
	var out []int
	out = append(out, f.Members...)
	out = append(out, f.Summary...)
	out = append(out, f.Struct...)
	return uniqInts(out)
}

// change is what an operation hands back to apply for recording.
type change struct {
	editType string
	cluster  *int
	old      *snapshot
	newValue map[string]any
	fp       footprint
	newIDs   []int
	hier     []string
}

// apply runs op in one transaction holding the run's lock, records its edit and calls
// OnChange after the commit.
func (c *Curator) apply(ctx context.Context, runID, editor, reason string, op func(tx *store.DB, run lmsys.Run) (*change, error)) (Result, error) {
	editor, reason = cleanText(strings.TrimSpace(editor)), cleanText(strings.TrimSpace(reason))
	if editor == "" {
		return Result{}, fmt.Errorf("%w: editor is empty (name who makes the edit)", lmsys.ErrInvalidInput)
	}
	if n := utf8.RuneCountInString(editor); n > maxEditor {
		return Result{}, fmt.Errorf("%w: editor name has %d characters, at most %d are allowed", lmsys.ErrInvalidInput, n, maxEditor)
	}
	if n := utf8.RuneCountInString(reason); n > maxReason {
		return Result{}, fmt.Errorf("%w: reason has %d characters, at most %d are allowed", lmsys.ErrInvalidInput, n, maxReason)
	}
	var res Result
	err := c.db.Tx(ctx, func(tx *store.DB) error {
		run, err := lockRun(ctx, tx, runID)
		if err != nil {
			return err
		}
		ch, err := op(tx, run)
		if err != nil {
			return err
		}
		oldV, err := toMap(ch.old)
		if err != nil {
			return err
		}
		if ch.newValue == nil {
			ch.newValue = map[string]any{}
		}
		fpm, err := toMap(ch.fp)
		if err != nil {
			return err
		}
		ch.newValue["footprint"] = fpm
		e := lmsys.Edit{RunID: runID, ClusterID: ch.cluster, EditType: ch.editType, Editor: editor, OldValue: oldV,
			NewValue: ch.newValue, Reason: reason, CreatedAt: c.opts.Now().UTC()}
		id, err := tx.AddEdit(ctx, e)
		if err != nil {
			return err
		}
		e.ID = id
		// Round-trip the values so callers see what History and Audit will return; a
		// value that does not read back rolls the edit back.
		if e.OldValue, err = roundTrip(e.OldValue); err != nil {
			return fmt.Errorf("curation: edit %d of %s: old value does not read back as JSON: %w", id, runID, err)
		}
		if e.NewValue, err = roundTrip(e.NewValue); err != nil {
			return fmt.Errorf("curation: edit %d of %s: new value does not read back as JSON: %w", id, runID, err)
		}
		res = Result{Edit: e, Changed: ch.fp.clusters(), NewClusterIDs: ch.newIDs, Hierarchies: ch.hier}
		if res.Changed == nil {
			res.Changed = []int{}
		}
		return nil
	})
	if err != nil {
		return Result{}, err
	}
	if c.opts.OnChange != nil {
		var fp footprint
		if err := fromMap(res.Edit.NewValue["footprint"], &fp); err == nil {
			if ids := fp.indexChanged(); len(ids) > 0 {
				c.opts.OnChange(ctx, runID, ids)
			}
		}
	}
	return res, nil
}

// lockRun returns the run, locking its row until the transaction ends on PostgreSQL
// (SQLite write transactions are already exclusive).
func lockRun(ctx context.Context, tx *store.DB, runID string) (lmsys.Run, error) {
	if tx.Postgres() {
		var id string
		err := tx.Gorm().WithContext(ctx).Raw(`SELECT run_id FROM clustering_runs WHERE run_id = ? FOR UPDATE`, runID).Row().Scan(&id)
		if err != nil && !isNoRows(err) {
			return lmsys.Run{}, fmt.Errorf("curation: lock run %s: %w", runID, err)
		}
	}
	return tx.GetRun(ctx, runID)
}

// clusterExists reports whether a run has the cluster: members, a summary, a centroid,
// metadata or a hierarchy leaf.
func clusterExists(ctx context.Context, tx *store.DB, runID string, cluster int) (bool, error) {
	var n int
	err := tx.Gorm().WithContext(ctx).Raw(`SELECT
		(SELECT COUNT(*) FROM (SELECT 1 FROM query_clusters WHERE run_id = ? AND cluster_id = ? LIMIT 1) a) +
		(SELECT COUNT(*) FROM (SELECT 1 FROM cluster_summaries WHERE run_id = ? AND cluster_id = ? LIMIT 1) b) +
		(SELECT COUNT(*) FROM cluster_centroids WHERE run_id = ? AND cluster_id = ?)`,
		runID, cluster, runID, cluster, runID, cluster).Row().Scan(&n)
	if err != nil {
		return false, fmt.Errorf("curation: look up cluster %d of run %s: %w", cluster, runID, err)
	}
	return n > 0, nil
}

// needCluster fails with ErrNotFound when the run has no such cluster.
func needCluster(ctx context.Context, tx *store.DB, runID string, cluster int) error {
	ok, err := clusterExists(ctx, tx, runID, cluster)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("cluster %d of run %q: %w", cluster, runID, lmsys.ErrNotFound)
	}
	return nil
}

// clusterSizes counts the members of the given clusters (absent ones count 0).
func clusterSizes(ctx context.Context, tx *store.DB, runID string, clusters []int) (map[int]int, error) {
	sizes, err := tx.SizesOf(ctx, runID, clusters)
	if err != nil {
		return nil, fmt.Errorf("curation: %w", err)
	}
	for _, c := range clusters {
		if _, ok := sizes[c]; !ok {
			sizes[c] = 0
		}
	}
	return sizes, nil
}

// assignmentsOf returns the run's assignments of these queries by query id.
func assignmentsOf(ctx context.Context, tx *store.DB, runID string, ids []int64) (map[int64]lmsys.Assignment, error) {
	out := make(map[int64]lmsys.Assignment, len(ids))
	for start := 0; start < len(ids); start += 500 {
		part := ids[start:min(start+500, len(ids))]
		rows, err := tx.Gorm().WithContext(ctx).Raw(`SELECT query_id, cluster_id, COALESCE(confidence_score, 0), late FROM query_clusters
			WHERE run_id = ? AND query_id IN ?`, runID, part).Rows()
		if err != nil {
			return nil, fmt.Errorf("curation: assignments: %w", err)
		}
		for rows.Next() {
			a := lmsys.Assignment{RunID: runID}
			var late int
			if err := rows.Scan(&a.QueryID, &a.ClusterID, &a.Confidence, &late); err != nil {
				rows.Close()
				return nil, err
			}
			a.Late = late != 0
			out[a.QueryID] = a
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// orphansOf returns the run's orphan rows of these queries (all when ids is nil).
func orphansOf(ctx context.Context, tx *store.DB, runID string, ids []int64) ([]lmsys.OrphanedQuery, error) {
	all, err := tx.Orphans(ctx, runID)
	if err != nil || ids == nil {
		return all, err
	}
	want := make(map[int64]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	out := []lmsys.OrphanedQuery{}
	for _, o := range all {
		if want[o.QueryID] {
			out = append(out, o)
		}
	}
	return out, nil
}

// needQueries checks that every id names a stored query.
func needQueries(ctx context.Context, tx *store.DB, ids []int64) error {
	found := map[int64]bool{}
	for start := 0; start < len(ids); start += 500 {
		part := ids[start:min(start+500, len(ids))]
		var got []int64
		if err := tx.Gorm().WithContext(ctx).Raw(`SELECT id FROM queries WHERE id IN ?`, part).Scan(&got).Error; err != nil {
			return fmt.Errorf("curation: look up queries: %w", err)
		}
		for _, id := range got {
			found[id] = true
		}
	}
	for _, id := range ids {
		if !found[id] {
			return fmt.Errorf("query %d: %w", id, lmsys.ErrNotFound)
		}
	}
	return nil
}

// refreshCounts recomputes the derived counts of clusters: summary num_queries in every
// summary run and the NumQueries of hierarchy leaves and parents. It returns the
// hierarchy runs it rewrote.
func refreshCounts(ctx context.Context, tx *store.DB, runID string, clusters []int, edit func(t *tree)) ([]string, error) {
	clusters = uniqInts(clusters)
	sizes, err := clusterSizes(ctx, tx, runID, clusters)
	if err != nil {
		return nil, err
	}
	for _, c := range clusters {
		if err := tx.Gorm().WithContext(ctx).Exec(`UPDATE cluster_summaries SET num_queries = ? WHERE run_id = ? AND cluster_id = ?`,
			sizes[c], runID, c).Error; err != nil {
			return nil, fmt.Errorf("curation: update summary counts of cluster %d: %w", c, err)
		}
	}
	return updateHierarchies(ctx, tx, runID, func(t *tree) {
		if edit != nil {
			edit(t)
		}
		t.setSizes(sizes)
	})
}

func uniqInts(xs []int) []int {
	if len(xs) == 0 {
		return nil
	}
	out := slices.Clone(xs)
	slices.Sort(out)
	return slices.Compact(out)
}

func uniqInt64s(xs []int64) []int64 {
	if len(xs) == 0 {
		return nil
	}
	out := slices.Clone(xs)
	slices.Sort(out)
	return slices.Compact(out)
}

// toMap turns a struct into the map form stored in cluster_edits.
func toMap(v any) (map[string]any, error) {
	if v == nil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("curation: encode edit value: %w", err)
	}
	if string(b) == "null" {
		return nil, nil
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("curation: encode edit value: %w", err)
	}
	return m, nil
}

// fromMap decodes a stored edit value into dst.
func fromMap(v any, dst any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, dst)
}

func roundTrip(m map[string]any) (map[string]any, error) {
	if m == nil {
		return nil, nil
	}
	var out map[string]any
	err := fromMap(m, &out)
	return out, err
}

func intPtr(i int) *int { return &i }

// Length limits of the text an edit stores, in characters.
const (
	maxEditor      = 200
	maxReason      = 4000
	maxTitle       = 500
	maxDescription = 10000
	maxFlag        = 100
	maxNotes       = 10000
)

// cleanText makes text storable in every database: valid UTF-8, no NUL bytes.
func cleanText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.ReplaceAll(s, "\x00", "")
}

// checkLen fails with ErrInvalidInput when s has more than limit characters.
func checkLen(what, s string, limit int) error {
	if n := utf8.RuneCountInString(s); n > limit {
		return fmt.Errorf("%w: %s has %d characters, at most %d are allowed", lmsys.ErrInvalidInput, what, n, limit)
	}
	return nil
}
