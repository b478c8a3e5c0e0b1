package curation

import (
	"context"
	"fmt"
	"slices"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/store"
)

// The parts of a run's state a snapshot can hold.
const (
	// partAssign: the assignments and orphan rows of QueryIDs.
	partAssign = "assignments"
	// partSummaries: every summary row of Clusters, in every summary run.
	partSummaries = "summaries"
	// partTitles: title and description of Clusters in one summary run, and of their
	// hierarchy leaves.
	partTitles = "titles"
	// partMeta: the cluster_metadata rows of Clusters.
	partMeta = "metadata"
	// partCentroids: the centroids of Clusters.
	partCentroids = "centroids"
	// partHierarchy: the hierarchy leaves of Clusters with their ancestors.
	partHierarchy = "hierarchy"
)

// assignGroup holds the assignments of queries to one cluster, compactly.
type assignGroup struct {
	Cluster    int       `json:"cluster_id"`
	QueryIDs   []int64   `json:"query_ids"`
	Confidence []float64 `json:"confidence"`
	Late       []int64   `json:"late,omitempty"`
}

// titleSnap is a cluster's name in one summary run.
type titleSnap struct {
	Cluster      int    `json:"cluster_id"`
	SummaryRunID string `json:"summary_run_id"`
	Existed      bool   `json:"existed"`
	Title        string `json:"title,omitempty"`
	Description  string `json:"description,omitempty"`
}

// snapshot is the old value of an edit: the parts of the run's state it changes.
type snapshot struct {
	Parts       []string                         `json:"parts"`
	Clusters    []int                            `json:"clusters,omitempty"`
	QueryIDs    []int64                          `json:"query_ids,omitempty"`
	Assignments []assignGroup                    `json:"assignments,omitempty"`
	Orphans     []lmsys.OrphanedQuery            `json:"orphans,omitempty"`
	Summaries   []lmsys.Summary                  `json:"summaries,omitempty"`
	Titles      []titleSnap                      `json:"titles,omitempty"`
	Metadata    []lmsys.ClusterMetadata          `json:"metadata,omitempty"`
	Centroids   map[int][]float32                `json:"centroids,omitempty"`
	Hierarchy   map[string][]lmsys.HierarchyNode `json:"hierarchy,omitempty"`
	// SummaryRuns and HierarchyRuns list the summary and hierarchy runs that existed
	// when the snapshot was taken: restoring leaves the ones made since alone.
	SummaryRuns   []string `json:"summary_runs,omitempty"`
	HierarchyRuns []string `json:"hierarchy_runs,omitempty"`
}

func (s *snapshot) has(part string) bool { return slices.Contains(s.Parts, part) }

// take records the given parts of clusters and queries; titleRun names the summary run
// whose titles partTitles records.
func take(ctx context.Context, tx *store.DB, runID string, parts []string, clusters []int, queries []int64, titleRun string) (*snapshot, error) {
	s := &snapshot{Parts: parts, Clusters: uniqInts(clusters), QueryIDs: uniqInt64s(queries)}
	if s.has(partAssign) {
		as, err := assignmentsOf(ctx, tx, runID, s.QueryIDs)
		if err != nil {
			return nil, err
		}
		s.Assignments = groupAssignments(as, s.QueryIDs)
		if s.Orphans, err = orphansOf(ctx, tx, runID, s.QueryIDs); err != nil {
			return nil, err
		}
		if len(s.Orphans) == 0 {
			s.Orphans = nil
		}
	}
	if s.has(partSummaries) && len(s.Clusters) > 0 {
		runs, err := tx.SummaryRuns(ctx, runID)
		if err != nil {
			return nil, err
		}
		for _, r := range runs {
			s.SummaryRuns = append(s.SummaryRuns, r.SummaryRunID)
			ss, err := tx.Summaries(ctx, runID, r.SummaryRunID)
			if err != nil {
				return nil, err
			}
			for _, x := range ss {
				if slices.Contains(s.Clusters, x.ClusterID) {
					s.Summaries = append(s.Summaries, x)
				}
			}
		}
	}
	if s.has(partTitles) {
		for _, c := range s.Clusters {
			t := titleSnap{Cluster: c, SummaryRunID: titleRun}
			err := tx.Gorm().WithContext(ctx).Raw(`SELECT COALESCE(title, ''), COALESCE(description, '') FROM cluster_summaries
				WHERE run_id = ? AND summary_run_id = ? AND cluster_id = ?`, runID, titleRun, c).Row().Scan(&t.Title, &t.Description)
			switch {
			case err == nil:
				t.Existed = true
			case !isNoRows(err):
				return nil, fmt.Errorf("curation: read title of cluster %d: %w", c, err)
			}
			s.Titles = append(s.Titles, t)
		}
	}
	if s.has(partMeta) {
		for _, c := range s.Clusters {
			var n int
			if err := tx.Gorm().WithContext(ctx).Raw(`SELECT COUNT(*) FROM cluster_metadata WHERE run_id = ? AND cluster_id = ?`, runID, c).
				Row().Scan(&n); err != nil {
				return nil, fmt.Errorf("curation: read metadata of cluster %d: %w", c, err)
			}
			if n == 0 {
				continue
			}
			m, err := tx.ClusterMetadata(ctx, runID, c)
			if err != nil {
				return nil, err
			}
			s.Metadata = append(s.Metadata, m)
		}
	}
	if s.has(partCentroids) && len(s.Clusters) > 0 {
		cs, err := centroidsOf(ctx, tx, runID, s.Clusters)
		if err != nil {
			return nil, err
		}
		if len(cs) > 0 {
			s.Centroids = cs
		}
	}
	if s.has(partHierarchy) || s.has(partTitles) {
		hs, err := tx.Hierarchies(ctx, runID)
		if err != nil {
			return nil, err
		}
		s.HierarchyRuns = hs
		for _, h := range hs {
			nodes, err := tx.Hierarchy(ctx, h)
			if err != nil {
				return nil, err
			}
			t := newTree(nodes)
			seen := map[int]bool{}
			var keep []lmsys.HierarchyNode
			for _, c := range s.Clusters {
				chain := t.chainOf(c)
				if !s.has(partHierarchy) && len(chain) > 0 {
					chain = chain[:1]
				}
				for _, n := range chain {
					if !seen[n.ClusterID] {
						seen[n.ClusterID] = true
						keep = append(keep, n)
					}
				}
			}
			if len(keep) > 0 {
				if s.Hierarchy == nil {
					s.Hierarchy = map[string][]lmsys.HierarchyNode{}
				}
				s.Hierarchy[h] = keep
			}
		}
	}
	return s, nil
}

// groupAssignments groups assignments by cluster, in query id order.
func groupAssignments(as map[int64]lmsys.Assignment, ids []int64) []assignGroup {
	by := map[int]*assignGroup{}
	var order []int
	for _, id := range ids {
		a, ok := as[id]
		if !ok {
			continue
		}
		g := by[a.ClusterID]
		if g == nil {
			g = &assignGroup{Cluster: a.ClusterID}
			by[a.ClusterID] = g
			order = append(order, a.ClusterID)
		}
		g.QueryIDs = append(g.QueryIDs, id)
		g.Confidence = append(g.Confidence, a.Confidence)
		if a.Late {
			g.Late = append(g.Late, id)
		}
	}
	slices.Sort(order)
	out := make([]assignGroup, 0, len(order))
	for _, c := range order {
		out = append(out, *by[c])
	}
	return out
}

// centroidsOf reads the centroids of some clusters.
func centroidsOf(ctx context.Context, tx *store.DB, runID string, clusters []int) (map[int][]float32, error) {
	rows, err := tx.Gorm().WithContext(ctx).Raw(`SELECT cluster_id, vector FROM cluster_centroids WHERE run_id = ? AND cluster_id IN ?`, runID, clusters).Rows()
	if err != nil {
		return nil, fmt.Errorf("curation: read centroids: %w", err)
	}
	defer rows.Close()
	out := map[int][]float32{}
	for rows.Next() {
		var c int
		var blob []byte
		if err := rows.Scan(&c, &blob); err != nil {
			return nil, err
		}
		v, err := store.DecodeVector(blob, nil)
		if err != nil {
			return nil, err
		}
		out[c] = v
	}
	return out, rows.Err()
}

// restore puts the snapshot's parts back and recomputes the counts of refresh (the
// clusters the restored queries leave or join). It returns the hierarchies rewritten.
func restore(ctx context.Context, tx *store.DB, runID string, s *snapshot, refresh []int) ([]string, error) {
	g := tx.Gorm().WithContext(ctx)
	if s.has(partAssign) {
		if err := tx.DeleteAssignments(ctx, runID, s.QueryIDs); err != nil {
			return nil, err
		}
		if err := tx.RemoveOrphans(ctx, runID, s.QueryIDs); err != nil {
			return nil, err
		}
		var as []lmsys.Assignment
		for _, grp := range s.Assignments {
			late := make(map[int64]bool, len(grp.Late))
			for _, q := range grp.Late {
				late[q] = true
			}
			for i, q := range grp.QueryIDs {
				a := lmsys.Assignment{RunID: runID, QueryID: q, ClusterID: grp.Cluster, Late: late[q]}
				if i < len(grp.Confidence) {
					a.Confidence = grp.Confidence[i]
				}
				as = append(as, a)
			}
			refresh = append(refresh, grp.Cluster)
		}
		if err := tx.SaveAssignments(ctx, as); err != nil {
			return nil, err
		}
		if err := tx.AddOrphans(ctx, s.Orphans); err != nil {
			return nil, err
		}
	}
	if len(s.Clusters) > 0 {
		if s.has(partSummaries) && len(s.SummaryRuns) > 0 {
			if err := g.Exec(`DELETE FROM cluster_summaries WHERE run_id = ? AND cluster_id IN ? AND summary_run_id IN ?`,
				runID, s.Clusters, s.SummaryRuns).Error; err != nil {
				return nil, fmt.Errorf("curation: restore summaries: %w", err)
			}
			if err := tx.SaveSummaries(ctx, s.Summaries); err != nil {
				return nil, err
			}
		}
		if s.has(partMeta) {
			if err := g.Exec(`DELETE FROM cluster_metadata WHERE run_id = ? AND cluster_id IN ?`, runID, s.Clusters).Error; err != nil {
				return nil, fmt.Errorf("curation: restore metadata: %w", err)
			}
			for _, m := range s.Metadata {
				if err := tx.SaveClusterMetadata(ctx, m); err != nil {
					return nil, err
				}
			}
		}
		if s.has(partCentroids) {
			if err := g.Exec(`DELETE FROM cluster_centroids WHERE run_id = ? AND cluster_id IN ?`, runID, s.Clusters).Error; err != nil {
				return nil, fmt.Errorf("curation: restore centroids: %w", err)
			}
			if err := tx.SaveCentroids(ctx, runID, s.Centroids); err != nil {
				return nil, err
			}
		}
	}
	for _, t := range s.Titles {
		var err error
		if t.Existed {
			err = g.Exec(`UPDATE cluster_summaries SET title = ?, description = ? WHERE run_id = ? AND summary_run_id = ? AND cluster_id = ?`,
				t.Title, t.Description, runID, t.SummaryRunID, t.Cluster).Error
		} else {
			err = g.Exec(`DELETE FROM cluster_summaries WHERE run_id = ? AND summary_run_id = ? AND cluster_id = ?`, runID, t.SummaryRunID, t.Cluster).Error
		}
		if err != nil {
			return nil, fmt.Errorf("curation: restore title of cluster %d: %w", t.Cluster, err)
		}
	}
	refresh = append(refresh, s.Clusters...)
	structural := s.has(partHierarchy)
	titles := s.has(partTitles)
	return refreshCounts(ctx, tx, runID, refresh, func(t *tree) {
		if (!structural && !titles) || !slices.Contains(s.HierarchyRuns, t.id) {
			return // nothing recorded, or a hierarchy built after the edit
		}
		recorded := s.Hierarchy[t.id]
		chain := make(map[int]lmsys.HierarchyNode, len(recorded))
		for _, n := range recorded {
			chain[n.ClusterID] = n
		}
		if structural {
			for _, c := range s.Clusters {
				if rec, ok := chain[c]; (!ok || rec.Level != 0) && t.leaf(c) != nil {
					t.removeLeaf(c)
				}
			}
		}
		for _, n := range recorded {
			if n.Level != 0 {
				continue
			}
			if l := t.leaf(n.ClusterID); l != nil {
				if l.Title != n.Title || l.Description != n.Description {
					l.Title, l.Description, t.changed = n.Title, n.Description, true
				}
			} else if structural {
				t.addLeaf(n, chain)
			}
		}
	})
}
