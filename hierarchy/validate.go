package hierarchy

import (
	"errors"
	"fmt"
	"sort"

	"github.com/lmsys-go/lmsys"
)

// ErrInvalidHierarchy reports a hierarchy that breaks an invariant; Validate wraps it
// together with lmsys.ErrInvalidInput.
var ErrInvalidHierarchy = errors.New("invalid hierarchy")

// Validate checks the invariants of one hierarchy run and returns an error describing
// every violation found (joined), or nil:
//
//   - all nodes share one hierarchy run id and one run id, and cluster ids are unique;
//   - levels run from 0 to the top without gaps;
//   - level 0 nodes have no children; every other node has at least one child, each
//     one level below it;
//   - children lists match parent pointers: a node's parent lists it, exactly once,
//     and every listed child points back; only top-level nodes have no parent, so
//     every leaf has exactly one ancestor per level;
//   - a parent's NumQueries is the sum of its children's.
func Validate(nodes []lmsys.HierarchyNode) error {
	if len(nodes) == 0 {
		return fmt.Errorf("%w: %w: no nodes", lmsys.ErrInvalidInput, ErrInvalidHierarchy)
	}
	var errs []error
	bad := func(format string, a ...any) {
		if len(errs) < 20 {
			errs = append(errs, fmt.Errorf(format, a...))
		}
	}
	byID := make(map[int]*lmsys.HierarchyNode, len(nodes))
	top := 0
	for i := range nodes {
		n := &nodes[i]
		if n.HierarchyRunID != nodes[0].HierarchyRunID {
			bad("node %d has hierarchy run id %q, not %q", n.ClusterID, n.HierarchyRunID, nodes[0].HierarchyRunID)
		}
		if n.RunID != nodes[0].RunID {
			bad("node %d has run id %q, not %q", n.ClusterID, n.RunID, nodes[0].RunID)
		}
		if n.Level < 0 {
			bad("node %d has negative level %d", n.ClusterID, n.Level)
		}
		if _, dup := byID[n.ClusterID]; dup {
			bad("cluster id %d appears twice", n.ClusterID)
			continue
		}
		byID[n.ClusterID] = n
		if n.Level > top {
			top = n.Level
		}
	}
	perLevel := make([]int, top+1)
	for _, n := range byID {
		if n.Level >= 0 {
			perLevel[n.Level]++
		}
	}
	for l, c := range perLevel {
		if c == 0 {
			bad("level %d has no nodes (levels 0..%d must all be present)", l, top)
		}
	}
	if top > 0 && perLevel[top] == 0 {
		bad("top level %d is empty", top)
	}
	listed := make(map[int]int, len(nodes))
	for _, n := range byID {
		if n.Level == 0 && len(n.ChildrenIDs) > 0 {
			bad("leaf %d has children %v", n.ClusterID, n.ChildrenIDs)
		}
		if n.Level > 0 && len(n.ChildrenIDs) == 0 {
			bad("parent %d at level %d has no children", n.ClusterID, n.Level)
		}
		sum := 0
		for _, c := range n.ChildrenIDs {
			listed[c]++
			child, ok := byID[c]
			if !ok {
				bad("node %d lists unknown child %d", n.ClusterID, c)
				continue
			}
			sum += child.NumQueries
			if child.Level != n.Level-1 {
				bad("node %d at level %d lists child %d at level %d", n.ClusterID, n.Level, c, child.Level)
			}
			if child.ParentClusterID == nil || *child.ParentClusterID != n.ClusterID {
				bad("node %d lists child %d whose parent pointer is %s", n.ClusterID, c, ptrString(child.ParentClusterID))
			}
		}
		if n.Level > 0 && len(n.ChildrenIDs) > 0 && sum != n.NumQueries {
			bad("parent %d counts %d queries, its children %d", n.ClusterID, n.NumQueries, sum)
		}
		switch {
		case n.ParentClusterID == nil && n.Level != top:
			bad("node %d at level %d has no parent (top level is %d)", n.ClusterID, n.Level, top)
		case n.ParentClusterID != nil && n.Level == top:
			bad("top-level node %d has parent %d", n.ClusterID, *n.ParentClusterID)
		case n.ParentClusterID != nil:
			if _, ok := byID[*n.ParentClusterID]; !ok {
				bad("node %d points to unknown parent %d", n.ClusterID, *n.ParentClusterID)
			}
		}
	}
	for _, n := range byID {
		if n.Level == top {
			continue
		}
		switch c := listed[n.ClusterID]; {
		case c == 0 && n.ParentClusterID != nil:
			bad("node %d points to parent %d, which does not list it", n.ClusterID, *n.ParentClusterID)
		case c > 1:
			bad("node %d is listed as a child %d times", n.ClusterID, c)
		}
	}
	if len(errs) == 0 {
		return nil
	}
	sort.Slice(errs, func(i, j int) bool { return errs[i].Error() < errs[j].Error() })
	return fmt.Errorf("%w: %w: %w", lmsys.ErrInvalidInput, ErrInvalidHierarchy, errors.Join(errs...))
}

func ptrString(p *int) string {
	if p == nil {
		return "nil"
	}
	return fmt.Sprint(*p)
}

// Levels returns the fan-in figures of each parent level (1 … top) of a hierarchy:
// node counts, mean and largest number of children, and the parents with more than
// twice the level's average number of children.
func Levels(nodes []lmsys.HierarchyNode) []LevelReport {
	top := 0
	for _, n := range nodes {
		if n.Level > top {
			top = n.Level
		}
	}
	by := make([][]lmsys.HierarchyNode, top+1)
	for _, n := range nodes {
		if n.Level >= 0 {
			by[n.Level] = append(by[n.Level], n)
		}
	}
	var out []LevelReport
	for l := 1; l <= top; l++ {
		out = append(out, levelReport(l, len(by[l]), by[l]))
	}
	return out
}
