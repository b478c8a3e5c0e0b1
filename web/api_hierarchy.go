package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/hierarchy"
)

// The hierarchy endpoints: the hierarchies of a run, one tree, and the offline merge
// started over HTTP.

// HierarchyRequest is the body of POST /api/hierarchy/ (an offline merge).
type HierarchyRequest struct {
	RunID        string  `json:"run_id"`
	TargetLevels int     `json:"target_levels"`
	MergeRatio   float64 `json:"merge_ratio"`
	TopClusters  int     `json:"top_clusters"`
	SummaryRunID string  `json:"summary_run_id"`
	Linkage      string  `json:"linkage"`
	Seed         int64   `json:"seed"`
}

func (s *server) apiBuildHierarchy(r *http.Request) (any, error) {
	req := HierarchyRequest{RunID: r.URL.Query().Get("run_id")}
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	if req.RunID == "" {
		return nil, badRequest("run_id is required (query parameter or body)")
	}
	if req.TargetLevels < 0 || req.TargetLevels == 1 || req.MergeRatio < 0 || req.MergeRatio >= 1 || req.TopClusters < 0 {
		return nil, badRequest("target_levels must be 0 (default 3) or at least 2, merge_ratio in [0, 1) and top_clusters not negative")
	}
	res, err := hierarchy.Run(r.Context(), s.deps.Store, req.RunID, hierarchy.Options{TargetLevels: req.TargetLevels, MergeRatio: req.MergeRatio,
		TopClusters: req.TopClusters, SummaryRun: req.SummaryRunID, Linkage: req.Linkage, Seed: req.Seed})
	if err != nil {
		return nil, err
	}
	return created{res.Report}, nil
}

// hierarchyRuns lists the hierarchy runs (of one run when runID is set), newest first.
func (s *server) hierarchyRuns(ctx context.Context, runID string) ([]HierarchyRunItem, error) {
	ids, err := s.deps.Store.Hierarchies(ctx, runID)
	if err != nil {
		return nil, err
	}
	out := make([]HierarchyRunItem, 0, len(ids))
	for _, id := range ids {
		h, err := s.deps.Store.HierarchyRun(ctx, id)
		if err == nil {
			out = append(out, HierarchyRunItem{HierarchyRunID: id, RunID: h.RunID, CreatedAt: h.CreatedAt})
			continue
		}
		if !errors.Is(err, lmsys.ErrNotFound) {
			return nil, err
		}
		// A hierarchy without a run record (one the Python tool built): read its nodes.
		nodes, err := s.deps.Store.Hierarchy(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, HierarchyRunItem{HierarchyRunID: id, RunID: nodes[0].RunID, CreatedAt: nodes[0].CreatedAt})
	}
	return out, nil
}

func (s *server) apiHierarchies(r *http.Request) (any, error) {
	p := newParams(r)
	page, limit := p.page(50)
	if p.err != nil {
		return nil, p.err
	}
	hs, err := s.hierarchyRuns(r.Context(), p.str("run_id"))
	if err != nil {
		return nil, err
	}
	return paginate(hs, page, limit), nil
}

// HierarchyTotals counts a hierarchy: nodes, leaves (level-0 clusters), levels and
// the queries under its leaves now.
type HierarchyTotals struct {
	Clusters int `json:"clusters"`
	Leaves   int `json:"leaves"`
	Levels   int `json:"levels"`
	Queries  int `json:"queries"`
}

// TreeNode is a hierarchy node with its children, for rendering.
type TreeNode struct {
	HierarchyNodeItem
	Children []*TreeNode `json:"children,omitempty"`
	// Share is QueryCount over the hierarchy's queries.
	Share float64 `json:"share"`
}

// HierarchyDetail is one hierarchy run (the Python tool's HierarchyTreeResponse): its
// nodes by level, leaves first, and the run's assigned queries (null when
// percentages are not asked for), plus its ids, totals, per-level report and tree.
type HierarchyDetail struct {
	Nodes          []HierarchyNodeItem     `json:"nodes"`
	TotalQueries   *int                    `json:"total_queries"`
	HierarchyRunID string                  `json:"hierarchy_run_id"`
	RunID          string                  `json:"run_id"`
	Totals         HierarchyTotals         `json:"totals"`
	Levels         []hierarchy.LevelReport `json:"levels"`
	Tree           []*TreeNode             `json:"tree"`
}

func (s *server) hierarchyDetail(ctx context.Context, id string, percentages bool) (HierarchyDetail, error) {
	nodes, err := s.deps.Store.Hierarchy(ctx, id)
	if err != nil {
		return HierarchyDetail{}, err
	}
	if len(nodes) == 0 {
		return HierarchyDetail{}, fmt.Errorf("hierarchy %s not found: %w", id, lmsys.ErrNotFound)
	}
	sort.SliceStable(nodes, func(i, j int) bool { return nodes[i].Level < nodes[j].Level })
	runID := nodes[0].RunID
	sizes, err := s.deps.Store.ClusterSizes(ctx, runID)
	if err != nil {
		return HierarchyDetail{}, err
	}
	total := 0
	for _, n := range sizes {
		total += n
	}
	// Counts bottom-up: a leaf's from the assignments, a parent's from its children.
	count := make(map[int]int, len(nodes))
	for _, n := range nodes {
		if n.Level == 0 {
			count[n.ClusterID] = sizes[n.ClusterID]
			continue
		}
		sum := 0
		for _, c := range n.ChildrenIDs {
			sum += count[c]
		}
		count[n.ClusterID] = sum
	}
	d := HierarchyDetail{HierarchyRunID: id, RunID: runID, Levels: hierarchy.Levels(nodes), Nodes: make([]HierarchyNodeItem, len(nodes))}
	if percentages {
		d.TotalQueries = &total
	}
	byID := make(map[int]*TreeNode, len(nodes))
	for i, n := range nodes {
		item := HierarchyNodeItem{HierarchyRunID: n.HierarchyRunID, RunID: n.RunID, ClusterID: n.ClusterID, ParentClusterID: n.ParentClusterID,
			Level: n.Level, ChildrenIDs: n.ChildrenIDs, Title: nullable(n.Title), Description: nullable(n.Description), QueryCount: count[n.ClusterID],
			NumQueries: n.NumQueries, CreatedAt: n.CreatedAt}
		if item.ChildrenIDs == nil {
			item.ChildrenIDs = []int{}
		}
		if percentages && item.QueryCount > 0 && total > 0 {
			pc := percent(item.QueryCount, total)
			item.Percentage = &pc
		}
		d.Nodes[i] = item
		d.Totals.Clusters++
		if n.Level == 0 {
			d.Totals.Leaves++
			d.Totals.Queries += item.QueryCount
		}
		d.Totals.Levels = max(d.Totals.Levels, n.Level+1)
		byID[n.ClusterID] = &TreeNode{HierarchyNodeItem: item}
	}
	for _, n := range d.Nodes {
		t := byID[n.ClusterID]
		t.Share = float64(n.QueryCount) / float64(max(d.Totals.Queries, 1))
		if n.ParentClusterID != nil {
			if p, ok := byID[*n.ParentClusterID]; ok {
				p.Children = append(p.Children, t)
				continue
			}
		}
		d.Tree = append(d.Tree, t)
	}
	var order func([]*TreeNode)
	order = func(ts []*TreeNode) {
		sort.SliceStable(ts, func(i, j int) bool {
			if ts[i].QueryCount != ts[j].QueryCount {
				return ts[i].QueryCount > ts[j].QueryCount
			}
			return ts[i].ClusterID < ts[j].ClusterID
		})
		for _, t := range ts {
			order(t.Children)
		}
	}
	order(d.Tree)
	return d, nil
}

func (s *server) apiHierarchy(r *http.Request) (any, error) {
	p := newParams(r)
	pct := p.boolean("include_percentages", true)
	if p.err != nil {
		return nil, p.err
	}
	return s.hierarchyDetail(r.Context(), r.PathValue("hierarchy_run_id"), pct)
}
