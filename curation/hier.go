package curation

import (
	"context"
	"database/sql"
	"errors"
	"slices"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/store"
)

// tree is one hierarchy run being edited.
type tree struct {
	id      string
	nodes   map[int]*lmsys.HierarchyNode
	changed bool
}

func newTree(nodes []lmsys.HierarchyNode) *tree {
	t := &tree{nodes: make(map[int]*lmsys.HierarchyNode, len(nodes))}
	for i := range nodes {
		n := nodes[i]
		t.nodes[n.ClusterID] = &n
	}
	return t
}

// leaf returns the level-0 node of a cluster.
func (t *tree) leaf(id int) *lmsys.HierarchyNode {
	if n, ok := t.nodes[id]; ok && n.Level == 0 {
		return n
	}
	return nil
}

// removeLeaf removes a leaf, unlinks it from its parent and drops ancestors left
// without children.
func (t *tree) removeLeaf(id int) {
	n := t.leaf(id)
	if n == nil {
		return
	}
	t.changed = true
	for n != nil {
		delete(t.nodes, n.ClusterID)
		if n.ParentClusterID == nil {
			return
		}
		p := t.nodes[*n.ParentClusterID]
		if p == nil {
			return
		}
		p.ChildrenIDs = slices.DeleteFunc(p.ChildrenIDs, func(c int) bool { return c == n.ClusterID })
		if len(p.ChildrenIDs) > 0 {
			return
		}
		n = p
	}
}

// addLeaf inserts a leaf; missing ancestors are taken from chain (nodes by id, as
// recorded before they were removed). A parent already present lists it as a child.
func (t *tree) addLeaf(n lmsys.HierarchyNode, chain map[int]lmsys.HierarchyNode) {
	if t.nodes[n.ClusterID] != nil {
		return
	}
	t.changed = true
	n.ChildrenIDs = []int{}
	cur := &n
	t.nodes[n.ClusterID] = cur
	for cur.ParentClusterID != nil {
		pid := *cur.ParentClusterID
		if p := t.nodes[pid]; p != nil {
			if !slices.Contains(p.ChildrenIDs, cur.ClusterID) {
				p.ChildrenIDs = append(p.ChildrenIDs, cur.ClusterID)
			}
			return
		}
		rec, ok := chain[pid]
		if !ok {
			// The parent is gone and was not recorded: the node hangs at the top.
			cur.ParentClusterID = nil
			return
		}
		rec.ChildrenIDs = []int{cur.ClusterID}
		p := rec
		t.nodes[pid] = &p
		cur = &p
	}
}

// addSibling adds a new leaf next to an existing one (same parent).
func (t *tree) addSibling(of int, n lmsys.HierarchyNode) {
	sib := t.leaf(of)
	if sib == nil || t.nodes[n.ClusterID] != nil {
		return
	}
	n.HierarchyRunID, n.RunID, n.Level = sib.HierarchyRunID, sib.RunID, 0
	n.ParentClusterID = nil
	if sib.ParentClusterID != nil {
		p := *sib.ParentClusterID
		n.ParentClusterID = &p
	}
	if n.CreatedAt.IsZero() {
		n.CreatedAt = sib.CreatedAt
	}
	t.addLeaf(n, nil)
}

// setTitle sets a leaf's title and description (empty values keep the old ones).
func (t *tree) setTitle(id int, title, desc string) {
	n := t.leaf(id)
	if n == nil {
		return
	}
	if title != "" && n.Title != title {
		n.Title, t.changed = title, true
	}
	if desc != "" && n.Description != desc {
		n.Description, t.changed = desc, true
	}
}

// setSizes sets the leaves' counts and recomputes every parent's as its children's sum.
func (t *tree) setSizes(sizes map[int]int) {
	for id, n := range sizes {
		if l := t.leaf(id); l != nil && l.NumQueries != n {
			l.NumQueries, t.changed = n, true
		}
	}
	top := 0
	for _, n := range t.nodes {
		top = max(top, n.Level)
	}
	for level := 1; level <= top; level++ {
		for _, n := range t.nodes {
			if n.Level != level || len(n.ChildrenIDs) == 0 {
				continue
			}
			sum := 0
			for _, c := range n.ChildrenIDs {
				if ch := t.nodes[c]; ch != nil {
					sum += ch.NumQueries
				}
			}
			if sum != n.NumQueries {
				n.NumQueries, t.changed = sum, true
			}
		}
	}
}

// list returns the nodes in a stable order.
func (t *tree) list() []lmsys.HierarchyNode {
	out := make([]lmsys.HierarchyNode, 0, len(t.nodes))
	for _, n := range t.nodes {
		out = append(out, *n)
	}
	slices.SortFunc(out, func(a, b lmsys.HierarchyNode) int {
		if a.Level != b.Level {
			return b.Level - a.Level
		}
		return a.ClusterID - b.ClusterID
	})
	return out
}

// chainOf returns a leaf and its ancestors.
func (t *tree) chainOf(id int) []lmsys.HierarchyNode {
	var out []lmsys.HierarchyNode
	n := t.leaf(id)
	for n != nil {
		out = append(out, *n)
		if n.ParentClusterID == nil {
			break
		}
		n = t.nodes[*n.ParentClusterID]
	}
	return out
}

// updateHierarchies applies edit to every hierarchy of the run and saves those it
// changed, returning their ids.
func updateHierarchies(ctx context.Context, tx *store.DB, runID string, edit func(t *tree)) ([]string, error) {
	ids, err := tx.Hierarchies(ctx, runID)
	if err != nil {
		return nil, err
	}
	var done []string
	for _, h := range ids {
		nodes, err := tx.Hierarchy(ctx, h)
		if err != nil {
			return nil, err
		}
		t := newTree(nodes)
		t.id = h
		edit(t)
		if !t.changed {
			continue
		}
		out := t.list()
		if len(out) == 0 {
			// Every leaf is gone: delete the hierarchy run's rows.
			if err := tx.Gorm().WithContext(ctx).Exec(`DELETE FROM cluster_hierarchies WHERE hierarchy_run_id = ?`, h).Error; err != nil {
				return nil, err
			}
		} else if err := tx.SaveHierarchy(ctx, out); err != nil {
			return nil, err
		}
		done = append(done, h)
	}
	return done, nil
}

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }
