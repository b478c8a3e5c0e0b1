package hierarchy

import (
	"context"
	"testing"

	"github.com/lmsys-go/lmsys"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func validTree(t *testing.T) []lmsys.HierarchyNode {
	t.Helper()
	res, err := Build(context.Background(), "r", planted(2, 2, 3, 4), Options{MergeRatio: 0.4, Now: fixedNow})
	require.NoError(t, err)
	require.NoError(t, Validate(res.Nodes))
	return res.Nodes
}

func find(nodes []lmsys.HierarchyNode, pred func(lmsys.HierarchyNode) bool) int {
	for i, n := range nodes {
		if pred(n) {
			return i
		}
	}
	return -1
}

func TestValidateCatchesBrokenTrees(t *testing.T) {
	leaf := func(n lmsys.HierarchyNode) bool { return n.Level == 0 }
	parent := func(n lmsys.HierarchyNode) bool { return n.Level == 1 }
	top := func(n lmsys.HierarchyNode) bool { return n.Level == 2 }
	tests := []struct {
		name   string
		mutate func([]lmsys.HierarchyNode) []lmsys.HierarchyNode
		want   string
	}{
		{"leaf without parent", func(ns []lmsys.HierarchyNode) []lmsys.HierarchyNode {
			ns[find(ns, leaf)].ParentClusterID = nil
			return ns
		}, "has no parent"},
		{"parent pointer disagrees", func(ns []lmsys.HierarchyNode) []lmsys.HierarchyNode {
			i := find(ns, leaf)
			other := *ns[i].ParentClusterID + 1
			ns[i].ParentClusterID = &other
			return ns
		}, "parent pointer"},
		{"child listed twice", func(ns []lmsys.HierarchyNode) []lmsys.HierarchyNode {
			i := find(ns, parent)
			ns[i].ChildrenIDs = append(ns[i].ChildrenIDs, ns[i].ChildrenIDs[0])
			return ns
		}, "listed as a child 2 times"},
		{"empty parent", func(ns []lmsys.HierarchyNode) []lmsys.HierarchyNode {
			i := find(ns, top)
			ns = append(ns, lmsys.HierarchyNode{HierarchyRunID: ns[0].HierarchyRunID, RunID: "r", ClusterID: 9_999_999, Level: 1, ParentClusterID: &ns[i].ClusterID})
			ns[i].ChildrenIDs = append(ns[i].ChildrenIDs, 9_999_999)
			return ns
		}, "has no children"},
		{"level gap", func(ns []lmsys.HierarchyNode) []lmsys.HierarchyNode {
			for i := range ns {
				if ns[i].Level == 2 {
					ns[i].Level = 3
				}
			}
			return ns
		}, "level 2 has no nodes"},
		{"wrong count", func(ns []lmsys.HierarchyNode) []lmsys.HierarchyNode {
			ns[find(ns, parent)].NumQueries++
			return ns
		}, "counts"},
		{"duplicate id", func(ns []lmsys.HierarchyNode) []lmsys.HierarchyNode {
			return append(ns, ns[0])
		}, "appears twice"},
		{"mixed runs", func(ns []lmsys.HierarchyNode) []lmsys.HierarchyNode {
			ns[1].HierarchyRunID = "hier-other"
			return ns
		}, "hierarchy run id"},
		{"unknown child", func(ns []lmsys.HierarchyNode) []lmsys.HierarchyNode {
			i := find(ns, parent)
			ns[i].ChildrenIDs = append(ns[i].ChildrenIDs, 4242)
			return ns
		}, "unknown child 4242"},
		{"leaf with children", func(ns []lmsys.HierarchyNode) []lmsys.HierarchyNode {
			ns[find(ns, leaf)].ChildrenIDs = []int{1}
			return ns
		}, "has children"},
		{"top with parent", func(ns []lmsys.HierarchyNode) []lmsys.HierarchyNode {
			x := 1
			ns[find(ns, top)].ParentClusterID = &x
			return ns
		}, "top-level node"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Validate(tt.mutate(validTree(t)))
			require.Error(t, err)
			assert.ErrorIs(t, err, lmsys.ErrInvalidInput)
			assert.ErrorIs(t, err, ErrInvalidHierarchy)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
	assert.ErrorIs(t, Validate(nil), ErrInvalidHierarchy)
}

func TestLevelsReportsOversizedParents(t *testing.T) {
	p := func(v int) *int { return &v }
	nodes := []lmsys.HierarchyNode{{ClusterID: 100, Level: 1, ChildrenIDs: []int{1, 2, 3, 4, 5, 6, 7}}}
	for i := 1; i <= 7; i++ {
		nodes = append(nodes, lmsys.HierarchyNode{ClusterID: i, ParentClusterID: p(100)})
	}
	for i := 0; i < 4; i++ {
		nodes = append(nodes, lmsys.HierarchyNode{ClusterID: 200 + i, Level: 1, ChildrenIDs: []int{10 + i}})
		nodes = append(nodes, lmsys.HierarchyNode{ClusterID: 10 + i, ParentClusterID: p(200 + i)})
	}
	require.NoError(t, Validate(nodes))
	lr := Levels(nodes)
	require.Len(t, lr, 1)
	assert.Equal(t, []int{100}, lr[0].Oversized)
	assert.Equal(t, 7, lr[0].MaxChildren)
	assert.InDelta(t, 11.0/5, lr[0].MeanChildren, 1e-9)
}
