package layout

import (
	"fmt"

	"github.com/lmsys-go/lmsys"
)

// LevelGroups maps each leaf cluster of a hierarchy to its ancestor at level (1 =
// the leaves' parents) and names the ancestors, so a map can be coloured by any level
// of the taxonomy. A cluster the hierarchy does not hold (noise, or added since it
// was built) maps to -1. A level above the hierarchy's top is an error wrapping
// lmsys.ErrInvalidInput.
func LevelGroups(nodes []lmsys.HierarchyNode, level int) (ancestor map[int]int, names map[int]string, err error) {
	type key struct{ level, id int }
	parent := map[key]int{}
	names = map[int]string{}
	top := 0
	var leaves []int
	for _, n := range nodes {
		top = max(top, n.Level)
		if n.ParentClusterID != nil {
			parent[key{n.Level, n.ClusterID}] = *n.ParentClusterID
		}
		if n.Level == level {
			names[n.ClusterID] = n.Title
		}
		if n.Level == 0 {
			leaves = append(leaves, n.ClusterID)
		}
	}
	if level < 0 || level > top {
		return nil, nil, fmt.Errorf("%w: level %d: the hierarchy has levels 0 to %d", lmsys.ErrInvalidInput, level, top)
	}
	ancestor = make(map[int]int, len(leaves))
	for _, c := range leaves {
		g := c
		for l := 0; l < level; l++ {
			p, ok := parent[key{l, g}]
			if !ok {
				g = -1
				break
			}
			g = p
		}
		ancestor[c] = g
	}
	return ancestor, names, nil
}
