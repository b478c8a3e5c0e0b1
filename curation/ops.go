package curation

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/clustering"
	"github.com/lmsys-go/lmsys/store"
)

// MoveQuery moves one query of a run (assigned or orphaned) to an existing cluster.
func (c *Curator) MoveQuery(ctx context.Context, runID string, queryID int64, to int, editor, reason string) (Result, error) {
	return c.MoveQueries(ctx, runID, []int64{queryID}, to, editor, reason)
}

// MoveQueries moves queries of a run (assigned or orphaned) to an existing cluster.
// Queries already in that cluster are skipped; when all are, nothing is recorded and
// the error wraps lmsys.ErrInvalidInput. The edit's old value records each query's
// previous cluster and confidence (or orphan row).
func (c *Curator) MoveQueries(ctx context.Context, runID string, queryIDs []int64, to int, editor, reason string) (Result, error) {
	if len(queryIDs) == 0 {
		return Result{}, fmt.Errorf("%w: no query ids to move", lmsys.ErrInvalidInput)
	}
	ids := uniqInt64s(queryIDs)
	return c.apply(ctx, runID, editor, reason, func(tx *store.DB, run lmsys.Run) (*change, error) {
		if err := needQueries(ctx, tx, ids); err != nil {
			return nil, err
		}
		if err := needCluster(ctx, tx, runID, to); err != nil {
			return nil, err
		}
		cur, err := assignmentsOf(ctx, tx, runID, ids)
		if err != nil {
			return nil, err
		}
		orphans, err := orphansOf(ctx, tx, runID, ids)
		if err != nil {
			return nil, err
		}
		orphaned := map[int64]bool{}
		for _, o := range orphans {
			orphaned[o.QueryID] = true
		}
		var moving, skipped []int64
		from := []int{}
		for _, q := range ids {
			a, assigned := cur[q]
			switch {
			case assigned && a.ClusterID == to:
				skipped = append(skipped, q)
			case assigned:
				moving = append(moving, q)
				from = append(from, a.ClusterID)
			case orphaned[q]:
				moving = append(moving, q)
			default:
				return nil, fmt.Errorf("query %d is neither assigned nor orphaned in run %q: %w", q, runID, lmsys.ErrNotFound)
			}
		}
		if len(moving) == 0 {
			return nil, fmt.Errorf("%w: queries %v are already in cluster %d", lmsys.ErrInvalidInput, skipped, to)
		}
		snap, err := take(ctx, tx, runID, []string{partAssign}, nil, moving, "")
		if err != nil {
			return nil, err
		}
		as := make([]lmsys.Assignment, len(moving))
		for i, q := range moving {
			as[i] = lmsys.Assignment{RunID: runID, QueryID: q, ClusterID: to, Confidence: 1}
		}
		if err := tx.SaveAssignments(ctx, as); err != nil {
			return nil, err
		}
		if err := tx.RemoveOrphans(ctx, runID, moving); err != nil {
			return nil, err
		}
		from = uniqInts(from)
		hier, err := refreshCounts(ctx, tx, runID, append(slices.Clone(from), to), nil)
		if err != nil {
			return nil, err
		}
		nv := map[string]any{"cluster_id": to, "query_ids": moving, "from_clusters": from}
		if len(skipped) > 0 {
			nv["already_there"] = skipped
		}
		return &change{editType: TypeMove, cluster: intPtr(to), old: snap, newValue: nv, hier: hier,
			fp: footprint{Queries: moving, Members: uniqInts(append(from, to))}}, nil
	})
}

// Rename says how to rename a cluster.
type Rename struct {
	// Title and Description are the new values; an empty one keeps the old value.
	Title       string
	Description string
	// SummaryRunID names the summary run (id or alias) to edit; empty means the latest.
	SummaryRunID string
}

// RenameCluster sets a cluster's title and description in one summary run (the latest
// by default) and on its leaf in every hierarchy of the run.
func (c *Curator) RenameCluster(ctx context.Context, runID string, clusterID int, r Rename, editor, reason string) (Result, error) {
	r.Title, r.Description = cleanText(strings.TrimSpace(r.Title)), cleanText(strings.TrimSpace(r.Description))
	if r.Title == "" && r.Description == "" {
		return Result{}, fmt.Errorf("%w: rename needs a title or a description", lmsys.ErrInvalidInput)
	}
	if err := errors.Join(checkLen("title", r.Title, maxTitle), checkLen("description", r.Description, maxDescription)); err != nil {
		return Result{}, err
	}
	return c.apply(ctx, runID, editor, reason, func(tx *store.DB, run lmsys.Run) (*change, error) {
		if err := needCluster(ctx, tx, runID, clusterID); err != nil {
			return nil, err
		}
		sr, err := tx.ResolveSummaryRun(ctx, runID, r.SummaryRunID)
		if err != nil {
			return nil, err
		}
		snap, err := take(ctx, tx, runID, []string{partTitles}, []int{clusterID}, nil, sr)
		if err != nil {
			return nil, err
		}
		old := snap.Titles[0]
		title, desc := r.Title, r.Description
		if title == "" {
			title = old.Title
		}
		if desc == "" {
			desc = old.Description
		}
		if !old.Existed {
			if title == "" {
				return nil, fmt.Errorf("%w: cluster %d has no summary in %s yet: give it a title", lmsys.ErrInvalidInput, clusterID, sr)
			}
			model, alias := "manual", ""
			if ss, err := tx.Summaries(ctx, runID, sr); err == nil && len(ss) > 0 {
				model, alias = ss[0].Model, ss[0].Alias
			}
			if err := tx.SaveSummaries(ctx, []lmsys.Summary{{RunID: runID, ClusterID: clusterID, SummaryRunID: sr, Alias: alias, Title: title,
				Description: desc, Model: model, Parameters: map[string]any{"named_by": "curation"}}}); err != nil {
				return nil, err
			}
		} else if err := tx.Gorm().WithContext(ctx).Exec(`UPDATE cluster_summaries SET title = ?, description = ? WHERE run_id = ? AND summary_run_id = ? AND cluster_id = ?`,
			title, desc, runID, sr, clusterID).Error; err != nil {
			return nil, fmt.Errorf("curation: rename cluster %d: %w", clusterID, err)
		}
		hier, err := refreshCounts(ctx, tx, runID, []int{clusterID}, func(t *tree) { t.setTitle(clusterID, title, desc) })
		if err != nil {
			return nil, err
		}
		nv := map[string]any{"summary_run_id": sr, "title": title, "description": desc}
		return &change{editType: TypeRename, cluster: intPtr(clusterID), old: snap, newValue: nv, hier: hier,
			fp: footprint{Summary: []int{clusterID}}}, nil
	})
}

// members returns the query ids of a cluster.
func members(ctx context.Context, tx *store.DB, runID string, cluster int) ([]int64, error) {
	as, err := tx.Assignments(ctx, runID, &cluster)
	if err != nil {
		return nil, err
	}
	out := make([]int64, len(as))
	for i, a := range as {
		out[i] = a.QueryID
	}
	return out, nil
}

// structuralParts are the parts merge, split and delete record.
var structuralParts = []string{partAssign, partSummaries, partMeta, partCentroids, partHierarchy}

// MergeClusters moves every query of the source clusters into target. The sources'
// summaries, metadata, centroids and hierarchy leaves are removed (all recorded in the
// edit's old value, so Undo brings them back); the target's centroid becomes the
// size-weighted mean of the merged centroids.
func (c *Curator) MergeClusters(ctx context.Context, runID string, sources []int, target int, editor, reason string) (Result, error) {
	src := uniqInts(sources)
	if len(src) == 0 {
		return Result{}, fmt.Errorf("%w: no source clusters to merge", lmsys.ErrInvalidInput)
	}
	if slices.Contains(src, target) {
		return Result{}, fmt.Errorf("%w: target cluster %d is also a source", lmsys.ErrInvalidInput, target)
	}
	return c.apply(ctx, runID, editor, reason, func(tx *store.DB, run lmsys.Run) (*change, error) {
		all := append(slices.Clone(src), target)
		for _, id := range all {
			if err := needCluster(ctx, tx, runID, id); err != nil {
				return nil, err
			}
		}
		var moved []int64
		for _, s := range src {
			m, err := members(ctx, tx, runID, s)
			if err != nil {
				return nil, err
			}
			moved = append(moved, m...)
		}
		snap, err := take(ctx, tx, runID, structuralParts, all, moved, "")
		if err != nil {
			return nil, err
		}
		sizes, err := clusterSizes(ctx, tx, runID, all)
		if err != nil {
			return nil, err
		}
		if err := weightedCentroid(ctx, tx, runID, snap.Centroids, sizes, all, target); err != nil {
			return nil, err
		}
		g := tx.Gorm().WithContext(ctx)
		if err := g.Exec(`UPDATE query_clusters SET cluster_id = ? WHERE run_id = ? AND cluster_id IN ?`, target, runID, src).Error; err != nil {
			return nil, fmt.Errorf("curation: merge into %d: %w", target, err)
		}
		if err := dropClusters(ctx, tx, runID, src); err != nil {
			return nil, err
		}
		hier, err := refreshCounts(ctx, tx, runID, all, func(t *tree) {
			for _, s := range src {
				t.removeLeaf(s)
			}
		})
		if err != nil {
			return nil, err
		}
		nv := map[string]any{"sources": src, "target": target, "moved_queries": len(moved)}
		return &change{editType: TypeMerge, cluster: intPtr(target), old: snap, newValue: nv, hier: hier,
			fp: footprint{Queries: moved, Members: all, Struct: all}}, nil
	})
}

// dropClusters removes the summaries, metadata and centroids of clusters.
func dropClusters(ctx context.Context, tx *store.DB, runID string, ids []int) error {
	for _, t := range []string{"cluster_summaries", "cluster_metadata", "cluster_centroids"} {
		if err := tx.Gorm().WithContext(ctx).Exec(`DELETE FROM `+t+` WHERE run_id = ? AND cluster_id IN ?`, runID, ids).Error; err != nil {
			return fmt.Errorf("curation: remove clusters %v from %s: %w", ids, t, err)
		}
	}
	return nil
}

// weightedCentroid sets target's centroid to the size-weighted mean of the centroids
// of ids (those that have one). Unit-length centroids give a unit-length result.
func weightedCentroid(ctx context.Context, tx *store.DB, runID string, cents map[int][]float32, sizes map[int]int, ids []int, target int) error {
	var sum []float64
	total := 0
	unit := true
	for _, id := range ids {
		v, ok := cents[id]
		if !ok || sizes[id] == 0 {
			continue
		}
		if sum == nil {
			sum = make([]float64, len(v))
		}
		if len(v) != len(sum) {
			return fmt.Errorf("curation: centroid of cluster %d has %d dims, others %d: %w", id, len(v), len(sum), lmsys.ErrSpaceMismatch)
		}
		unit = unit && math.Abs(norm(v)-1) < 1e-3
		for i, x := range v {
			sum[i] += float64(sizes[id]) * float64(x)
		}
		total += sizes[id]
	}
	if total == 0 {
		return nil
	}
	out := make([]float32, len(sum))
	for i := range sum {
		out[i] = float32(sum[i] / float64(total))
	}
	if unit {
		normalize(out)
	}
	return tx.SaveCentroids(ctx, runID, map[int][]float32{target: out})
}

func norm(v []float32) float64 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return math.Sqrt(s)
}

func normalize(v []float32) {
	if n := norm(v); n > 0 {
		for i := range v {
			v[i] = float32(float64(v[i]) / n)
		}
	}
}

// Split says how to split a cluster: give QueryIDs (they form one new cluster) or K
// (k-means over the cluster's cached embeddings into K parts; the largest part keeps
// the cluster's id).
type Split struct {
	QueryIDs []int64
	K        int
}

// SplitCluster splits a cluster into new clusters with ids above every id the run has
// used. New clusters get a provisional name in every summary run that names the split
// one ("Split from cluster N: <title>") and a hierarchy leaf next to it; rename them or
// re-summarize (OnChange reports them).
func (c *Curator) SplitCluster(ctx context.Context, runID string, clusterID int, sp Split, editor, reason string) (Result, error) {
	if (len(sp.QueryIDs) == 0) == (sp.K == 0) {
		return Result{}, fmt.Errorf("%w: split needs either query ids or k", lmsys.ErrInvalidInput)
	}
	if sp.K != 0 && sp.K < 2 {
		return Result{}, fmt.Errorf("%w: split k must be at least 2, got %d", lmsys.ErrInvalidInput, sp.K)
	}
	return c.apply(ctx, runID, editor, reason, func(tx *store.DB, run lmsys.Run) (*change, error) {
		if err := needCluster(ctx, tx, runID, clusterID); err != nil {
			return nil, err
		}
		mem, err := members(ctx, tx, runID, clusterID)
		if err != nil {
			return nil, err
		}
		vecs, err := clusterVectors(ctx, tx, run, clusterID, len(mem))
		if err != nil && (sp.K > 0 || !errors.Is(err, lmsys.ErrEmpty)) {
			return nil, err
		}
		oldCent, err := centroidsOf(ctx, tx, runID, []int{clusterID})
		if err != nil {
			return nil, err
		}
		unit := true
		if v, ok := oldCent[clusterID]; ok {
			unit = math.Abs(norm(v)-1) < 1e-3
		}
		// groups[0] stays in the cluster; each further group becomes a new cluster.
		var groups [][]int64
		conf := map[int64]float64{}
		method := "query_ids"
		if sp.K > 0 {
			method = "kmeans"
			if sp.K > len(mem) {
				return nil, fmt.Errorf("%w: cannot split cluster %d of %d queries into %d parts", lmsys.ErrInvalidInput, clusterID, len(mem), sp.K)
			}
			km := clustering.KMeans{K: sp.K, Seed: c.opts.Seed, NInit: 3, Spherical: unit}
			rows := make([][]float32, len(mem))
			for i, q := range mem {
				rows[i] = vecs[q]
			}
			part, err := km.Cluster(ctx, rows)
			if err != nil {
				return nil, fmt.Errorf("curation: split cluster %d by k-means: %w", clusterID, err)
			}
			byLabel := make([][]int64, sp.K)
			for i, l := range part.Labels {
				if l >= 0 && l < sp.K {
					byLabel[l] = append(byLabel[l], mem[i])
					conf[mem[i]] = float64(part.Confidence[i])
				}
			}
			keep := 0
			for l := range byLabel {
				if len(byLabel[l]) > len(byLabel[keep]) {
					keep = l
				}
			}
			groups = append(groups, byLabel[keep])
			for l := range byLabel {
				if l != keep && len(byLabel[l]) > 0 {
					groups = append(groups, byLabel[l])
				}
			}
			if len(groups) < 2 {
				return nil, fmt.Errorf("%w: k-means put every query of cluster %d in one part", lmsys.ErrConflict, clusterID)
			}
		} else {
			ids := uniqInt64s(sp.QueryIDs)
			if err := needQueries(ctx, tx, ids); err != nil {
				return nil, err
			}
			cur, err := assignmentsOf(ctx, tx, runID, ids)
			if err != nil {
				return nil, err
			}
			for _, q := range ids {
				a, ok := cur[q]
				if !ok {
					return nil, fmt.Errorf("query %d is not assigned in run %q: %w", q, runID, lmsys.ErrNotFound)
				}
				if a.ClusterID != clusterID {
					return nil, fmt.Errorf("%w: query %d is in cluster %d, not %d", lmsys.ErrInvalidInput, q, a.ClusterID, clusterID)
				}
				conf[q] = 1
			}
			if len(ids) == len(mem) {
				return nil, fmt.Errorf("%w: split would take every query of cluster %d; rename it instead", lmsys.ErrInvalidInput, clusterID)
			}
			moving := map[int64]bool{}
			for _, q := range ids {
				moving[q] = true
			}
			var rest []int64
			for _, q := range mem {
				if !moving[q] {
					rest = append(rest, q)
				}
			}
			groups = [][]int64{rest, ids}
		}
		first, err := nextClusterID(ctx, tx, runID)
		if err != nil {
			return nil, err
		}
		newIDs := make([]int, len(groups)-1)
		for i := range newIDs {
			newIDs[i] = first + i
		}
		var moved []int64
		for _, g := range groups[1:] {
			moved = append(moved, g...)
		}
		all := append([]int{clusterID}, newIDs...)
		snap, err := take(ctx, tx, runID, structuralParts, all, moved, "")
		if err != nil {
			return nil, err
		}
		var as []lmsys.Assignment
		for i, g := range groups[1:] {
			for _, q := range g {
				as = append(as, lmsys.Assignment{RunID: runID, QueryID: q, ClusterID: newIDs[i], Confidence: conf[q]})
			}
		}
		if err := tx.SaveAssignments(ctx, as); err != nil {
			return nil, err
		}
		if vecs != nil {
			cents := map[int][]float32{}
			for i, g := range groups {
				cents[all[i]] = meanOf(g, vecs, unit)
			}
			if err := tx.SaveCentroids(ctx, runID, cents); err != nil {
				return nil, err
			}
		}
		names, err := nameSplits(ctx, tx, runID, clusterID, newIDs, groups[1:])
		if err != nil {
			return nil, err
		}
		hier, err := refreshCounts(ctx, tx, runID, all, func(t *tree) {
			for _, id := range newIDs {
				t.addSibling(clusterID, lmsys.HierarchyNode{ClusterID: id, Title: names[id][0], Description: names[id][1]})
			}
		})
		if err != nil {
			return nil, err
		}
		sizes := map[string]int{}
		for i, g := range groups {
			sizes[fmt.Sprint(all[i])] = len(g)
		}
		nv := map[string]any{"cluster_id": clusterID, "new_cluster_ids": newIDs, "method": method, "sizes": sizes}
		if sp.K > 0 {
			nv["k"] = sp.K
		} else {
			nv["query_ids"] = groups[1]
		}
		return &change{editType: TypeSplit, cluster: intPtr(clusterID), old: snap, newValue: nv, hier: hier, newIDs: newIDs,
			fp: footprint{Queries: moved, Members: all, Struct: all}}, nil
	})
}

// clusterVectors returns the cached embeddings of a cluster's queries in the run's
// space; it fails with lmsys.ErrEmpty when some are missing.
func clusterVectors(ctx context.Context, tx *store.DB, run lmsys.Run, cluster, want int) (map[int64][]float32, error) {
	if run.Space.IsZero() || run.Space.Dims <= 0 {
		return nil, fmt.Errorf("%w: run %q records no embedding space, so its embeddings cannot be found", lmsys.ErrEmpty, run.ID)
	}
	out := make(map[int64][]float32, want)
	err := tx.ScanQueryVectors(ctx, run.Space, lmsys.QueryFilter{RunID: run.ID, ClusterID: &cluster}, 5000, func(ids []int64, vs [][]float32) error {
		for i, id := range ids {
			out[id] = slices.Clone(vs[i])
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(out) < want {
		return nil, fmt.Errorf("%w: %d of %d queries of cluster %d have no cached embedding in %s (run `lmsys embed` first)",
			lmsys.ErrEmpty, want-len(out), want, cluster, run.Space)
	}
	return out, nil
}

func meanOf(ids []int64, vecs map[int64][]float32, unit bool) []float32 {
	var sum []float64
	for _, q := range ids {
		v := vecs[q]
		if sum == nil {
			sum = make([]float64, len(v))
		}
		for i, x := range v {
			sum[i] += float64(x)
		}
	}
	out := make([]float32, len(sum))
	for i := range sum {
		out[i] = float32(sum[i] / float64(len(ids)))
	}
	if unit {
		normalize(out)
	}
	return out
}

// nameSplits gives each new cluster a provisional summary in every summary run that
// names the split cluster, and returns the names (title, description) by id.
func nameSplits(ctx context.Context, tx *store.DB, runID string, from int, newIDs []int, groups [][]int64) (map[int][2]string, error) {
	names := map[int][2]string{}
	for _, id := range newIDs {
		names[id] = [2]string{fmt.Sprintf("Split from cluster %d", from), ""}
	}
	runs, err := tx.SummaryRuns(ctx, runID)
	if err != nil {
		return nil, err
	}
	var out []lmsys.Summary
	for ri := len(runs) - 1; ri >= 0; ri-- { // oldest first, so the latest name wins
		ss, err := tx.Summaries(ctx, runID, runs[ri].SummaryRunID)
		if err != nil {
			return nil, err
		}
		i := slices.IndexFunc(ss, func(s lmsys.Summary) bool { return s.ClusterID == from })
		if i < 0 {
			continue
		}
		src := ss[i]
		for gi, id := range newIDs {
			reps, err := tx.ListQueries(ctx, lmsys.QueryFilter{IDs: groups[gi][:min(5, len(groups[gi]))]})
			if err != nil {
				return nil, err
			}
			texts := make([]string, len(reps))
			for j, q := range reps {
				texts[j] = q.Text
			}
			title := fmt.Sprintf("Split from cluster %d: %s", from, src.Title)
			out = append(out, lmsys.Summary{RunID: runID, ClusterID: id, SummaryRunID: src.SummaryRunID, Alias: src.Alias, Title: title,
				Description: src.Description, RepresentativeQueries: texts, Model: src.Model, NumQueries: len(groups[gi]),
				Parameters: map[string]any{"split_from": from, "named_by": "curation"}})
			names[id] = [2]string{title, src.Description}
		}
	}
	return names, tx.SaveSummaries(ctx, out)
}

// nextClusterID returns an id above every cluster id the run has used anywhere, and
// above no hierarchy node id.
func nextClusterID(ctx context.Context, tx *store.DB, runID string) (int, error) {
	var m sql.NullInt64
	err := tx.Gorm().WithContext(ctx).Raw(`SELECT MAX(c) FROM (
		SELECT MAX(cluster_id) AS c FROM query_clusters WHERE run_id = ?
		UNION ALL SELECT MAX(cluster_id) FROM cluster_summaries WHERE run_id = ?
		UNION ALL SELECT MAX(cluster_id) FROM cluster_centroids WHERE run_id = ?
		UNION ALL SELECT MAX(cluster_id) FROM cluster_metadata WHERE run_id = ?
		UNION ALL SELECT MAX(original_cluster_id) FROM orphaned_queries WHERE run_id = ?
		UNION ALL SELECT MAX(cluster_id) FROM cluster_edits WHERE run_id = ?
		UNION ALL SELECT MAX(cluster_id) FROM cluster_hierarchies WHERE run_id = ? AND level = 0) m`,
		runID, runID, runID, runID, runID, runID, runID).Row().Scan(&m)
	if err != nil {
		return 0, fmt.Errorf("curation: next cluster id of %s: %w", runID, err)
	}
	id := int(m.Int64) + 1
	// Ids created by splits that were undone since are not reused either.
	splits, err := tx.Edits(ctx, store.EditFilter{RunID: runID, EditType: TypeSplit})
	if err != nil {
		return 0, err
	}
	for _, e := range splits {
		var used struct {
			NewClusterIDs []int `json:"new_cluster_ids"`
		}
		if fromMap(e.NewValue, &used) == nil {
			for _, u := range used.NewClusterIDs {
				id = max(id, u+1)
			}
		}
	}
	for {
		var n int
		if err := tx.Gorm().WithContext(ctx).Raw(`SELECT COUNT(*) FROM cluster_hierarchies WHERE run_id = ? AND cluster_id = ?`, runID, id).
			Row().Scan(&n); err != nil {
			return 0, err
		}
		if n == 0 {
			return id, nil
		}
		id++
	}
}

// Delete says what happens to a deleted cluster's queries: Orphan them (into
// orphaned_queries) or MoveTo another cluster.
type Delete struct {
	Orphan bool
	MoveTo *int
}

// DeleteCluster removes a cluster: its queries are orphaned or moved to another
// cluster, and its summaries, metadata, centroid and hierarchy leaves are removed (all
// recorded for Undo).
func (c *Curator) DeleteCluster(ctx context.Context, runID string, clusterID int, d Delete, editor, reason string) (Result, error) {
	if d.Orphan == (d.MoveTo != nil) {
		return Result{}, fmt.Errorf("%w: delete needs either orphan or a cluster to move the queries to", lmsys.ErrInvalidInput)
	}
	if d.MoveTo != nil && *d.MoveTo == clusterID {
		return Result{}, fmt.Errorf("%w: cannot move the queries of cluster %d into itself", lmsys.ErrInvalidInput, clusterID)
	}
	return c.apply(ctx, runID, editor, reason, func(tx *store.DB, run lmsys.Run) (*change, error) {
		if err := needCluster(ctx, tx, runID, clusterID); err != nil {
			return nil, err
		}
		all := []int{clusterID}
		if d.MoveTo != nil {
			if err := needCluster(ctx, tx, runID, *d.MoveTo); err != nil {
				return nil, err
			}
			all = append(all, *d.MoveTo)
		}
		mem, err := members(ctx, tx, runID, clusterID)
		if err != nil {
			return nil, err
		}
		snap, err := take(ctx, tx, runID, structuralParts, all, mem, "")
		if err != nil {
			return nil, err
		}
		nv := map[string]any{"cluster_id": clusterID, "queries": len(mem)}
		if d.MoveTo != nil {
			sizes, err := clusterSizes(ctx, tx, runID, all)
			if err != nil {
				return nil, err
			}
			if err := weightedCentroid(ctx, tx, runID, snap.Centroids, sizes, all, *d.MoveTo); err != nil {
				return nil, err
			}
			if err := tx.Gorm().WithContext(ctx).Exec(`UPDATE query_clusters SET cluster_id = ? WHERE run_id = ? AND cluster_id = ?`,
				*d.MoveTo, runID, clusterID).Error; err != nil {
				return nil, fmt.Errorf("curation: move queries of %d: %w", clusterID, err)
			}
			nv["moved_to"] = *d.MoveTo
		} else {
			why := reason
			if why == "" {
				why = fmt.Sprintf("cluster %d deleted", clusterID)
			}
			os := make([]lmsys.OrphanedQuery, len(mem))
			for i, q := range mem {
				os[i] = lmsys.OrphanedQuery{RunID: runID, QueryID: q, OriginalClusterID: intPtr(clusterID), Reason: why}
			}
			if err := tx.DeleteAssignments(ctx, runID, mem); err != nil {
				return nil, err
			}
			if err := tx.AddOrphans(ctx, os); err != nil {
				return nil, err
			}
			nv["orphaned"] = true
		}
		if err := dropClusters(ctx, tx, runID, []int{clusterID}); err != nil {
			return nil, err
		}
		hier, err := refreshCounts(ctx, tx, runID, all, func(t *tree) { t.removeLeaf(clusterID) })
		if err != nil {
			return nil, err
		}
		return &change{editType: TypeDelete, cluster: intPtr(clusterID), old: snap, newValue: nv, hier: hier,
			fp: footprint{Queries: mem, Members: all, Struct: all}}, nil
	})
}

// Qualities are the accepted quality labels.
var Qualities = []string{"low", "medium", "high"}

// Tag holds the annotations to set on a cluster; nil fields keep their values.
type Tag struct {
	// Coherence is a score from 1 (incoherent) to 5.
	Coherence *int
	// Quality is one of Qualities.
	Quality *string
	// Flags replaces the cluster's flags.
	Flags []string
	Notes *string
}

// TagCluster sets a cluster's coherence, quality, flags and notes (cluster_metadata).
func (c *Curator) TagCluster(ctx context.Context, runID string, clusterID int, tag Tag, editor, reason string) (Result, error) {
	if tag.Coherence == nil && tag.Quality == nil && tag.Flags == nil && tag.Notes == nil {
		return Result{}, fmt.Errorf("%w: tag needs a coherence, quality, flags or notes", lmsys.ErrInvalidInput)
	}
	if tag.Coherence != nil && (*tag.Coherence < 1 || *tag.Coherence > 5) {
		return Result{}, fmt.Errorf("%w: coherence %d is not between 1 and 5", lmsys.ErrInvalidInput, *tag.Coherence)
	}
	if tag.Quality != nil && !slices.Contains(Qualities, *tag.Quality) {
		return Result{}, fmt.Errorf("%w: quality %q is not one of %s", lmsys.ErrInvalidInput, *tag.Quality, strings.Join(Qualities, ", "))
	}
	var flags []string
	if tag.Flags != nil {
		flags = []string{}
		for _, f := range tag.Flags {
			if f = cleanText(strings.TrimSpace(f)); f != "" && !slices.Contains(flags, f) {
				if err := checkLen("flag", f, maxFlag); err != nil {
					return Result{}, err
				}
				flags = append(flags, f)
			}
		}
	}
	if tag.Notes != nil {
		notes := cleanText(*tag.Notes)
		if err := checkLen("notes", notes, maxNotes); err != nil {
			return Result{}, err
		}
		tag.Notes = &notes
	}
	return c.apply(ctx, runID, editor, reason, func(tx *store.DB, run lmsys.Run) (*change, error) {
		if err := needCluster(ctx, tx, runID, clusterID); err != nil {
			return nil, err
		}
		snap, err := take(ctx, tx, runID, []string{partMeta}, []int{clusterID}, nil, "")
		if err != nil {
			return nil, err
		}
		m, err := tx.ClusterMetadata(ctx, runID, clusterID)
		if err != nil {
			return nil, err
		}
		if tag.Coherence != nil {
			m.Coherence = tag.Coherence
		}
		if tag.Quality != nil {
			m.Quality = *tag.Quality
		}
		if flags != nil {
			m.Flags = flags
		}
		if tag.Notes != nil {
			m.Notes = *tag.Notes
		}
		m.UpdatedAt = c.opts.Now().UTC()
		if err := tx.SaveClusterMetadata(ctx, m); err != nil {
			return nil, err
		}
		nv, err := toMap(m)
		if err != nil {
			return nil, err
		}
		return &change{editType: TypeTag, cluster: intPtr(clusterID), old: snap, newValue: nv, fp: footprint{Meta: []int{clusterID}}}, nil
	})
}

// FlagCluster adds one flag to a cluster's metadata. Adding a flag it already has
// fails with lmsys.ErrInvalidInput.
func (c *Curator) FlagCluster(ctx context.Context, runID string, clusterID int, flag, editor, reason string) (Result, error) {
	flag = cleanText(strings.TrimSpace(flag))
	if flag == "" {
		return Result{}, fmt.Errorf("%w: flag is empty", lmsys.ErrInvalidInput)
	}
	if err := checkLen("flag", flag, maxFlag); err != nil {
		return Result{}, err
	}
	return c.apply(ctx, runID, editor, reason, func(tx *store.DB, run lmsys.Run) (*change, error) {
		if err := needCluster(ctx, tx, runID, clusterID); err != nil {
			return nil, err
		}
		snap, err := take(ctx, tx, runID, []string{partMeta}, []int{clusterID}, nil, "")
		if err != nil {
			return nil, err
		}
		m, err := tx.ClusterMetadata(ctx, runID, clusterID)
		if err != nil {
			return nil, err
		}
		if slices.Contains(m.Flags, flag) {
			return nil, fmt.Errorf("%w: cluster %d is already flagged %q", lmsys.ErrInvalidInput, clusterID, flag)
		}
		m.Flags = append(m.Flags, flag)
		m.UpdatedAt = c.opts.Now().UTC()
		if err := tx.SaveClusterMetadata(ctx, m); err != nil {
			return nil, err
		}
		nv := map[string]any{"flag": flag, "flags": m.Flags}
		return &change{editType: TypeFlag, cluster: intPtr(clusterID), old: snap, newValue: nv, fp: footprint{Meta: []int{clusterID}}}, nil
	})
}

// ReassignOrphans moves orphaned queries of a run into a cluster: those listed, or all
// when queryIDs is empty. A run without orphans fails with lmsys.ErrEmpty.
func (c *Curator) ReassignOrphans(ctx context.Context, runID string, to int, queryIDs []int64, editor, reason string) (Result, error) {
	return c.apply(ctx, runID, editor, reason, func(tx *store.DB, run lmsys.Run) (*change, error) {
		if err := needCluster(ctx, tx, runID, to); err != nil {
			return nil, err
		}
		os, err := tx.Orphans(ctx, runID)
		if err != nil {
			return nil, err
		}
		orphaned := map[int64]bool{}
		var all []int64
		for _, o := range os {
			if !orphaned[o.QueryID] {
				orphaned[o.QueryID] = true
				all = append(all, o.QueryID)
			}
		}
		ids := uniqInt64s(queryIDs)
		if len(ids) == 0 {
			ids = uniqInt64s(all)
		}
		if len(ids) == 0 {
			return nil, fmt.Errorf("%w: run %q has no orphaned queries", lmsys.ErrEmpty, runID)
		}
		for _, q := range ids {
			if !orphaned[q] {
				return nil, fmt.Errorf("query %d is not orphaned in run %q: %w", q, runID, lmsys.ErrNotFound)
			}
		}
		snap, err := take(ctx, tx, runID, []string{partAssign}, nil, ids, "")
		if err != nil {
			return nil, err
		}
		from := []int{}
		for _, g := range snap.Assignments {
			from = append(from, g.Cluster)
		}
		as := make([]lmsys.Assignment, len(ids))
		for i, q := range ids {
			as[i] = lmsys.Assignment{RunID: runID, QueryID: q, ClusterID: to, Confidence: 1}
		}
		if err := tx.SaveAssignments(ctx, as); err != nil {
			return nil, err
		}
		if err := tx.RemoveOrphans(ctx, runID, ids); err != nil {
			return nil, err
		}
		hier, err := refreshCounts(ctx, tx, runID, append(from, to), nil)
		if err != nil {
			return nil, err
		}
		nv := map[string]any{"cluster_id": to, "query_ids": ids}
		return &change{editType: TypeReassign, cluster: intPtr(to), old: snap, newValue: nv, hier: hier,
			fp: footprint{Queries: ids, Members: uniqInts(append(from, to))}}, nil
	})
}
