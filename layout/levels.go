package layout

import (
	"context"
	"fmt"
	"sort"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/store"
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

// FacetValues returns each of a run's queries' value of a facet, for colouring a
// map: "language" and "model" from the queries (empty where unknown), any other name
// the labels of that classified facet (an error wrapping lmsys.ErrNotFound when
// nothing has labelled it; unlabelled queries are absent). A point has one colour, so
// a list facet gives each query the first item of its list (the Clio languages list
// the most used first).
func FacetValues(ctx context.Context, db *store.DB, runID, facet string) (map[int64]string, error) {
	out := map[int64]string{}
	switch facet {
	case "language", "model":
		err := db.ScanQueries(ctx, lmsys.QueryFilter{RunID: runID}, 10000, func(qs []lmsys.Query) error {
			for _, q := range qs {
				if facet == "model" {
					out[q.ID] = q.Model
				} else {
					out[q.ID] = q.Language
				}
			}
			return nil
		})
		return out, err
	}
	ls, err := db.Labels(ctx, lmsys.LabelFilter{Facet: facet, RunID: runID})
	if err != nil {
		return nil, err
	}
	list, err := db.IsListFacet(ctx, facet)
	if err != nil {
		return nil, err
	}
	for _, l := range ls {
		v := l.Value
		if items := lmsys.ListItems(v); list && len(items) > 0 {
			v = items[0]
		}
		out[l.QueryID] = v
	}
	return out, nil
}

// BySize returns the keys of counts, the largest count first (ties by key): the
// order a map numbers its colour groups in.
func BySize(counts map[string]int) []string {
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if counts[keys[i]] != counts[keys[j]] {
			return counts[keys[i]] > counts[keys[j]]
		}
		return keys[i] < keys[j]
	})
	return keys
}

// ByCluster returns a stored map's points with each one's cluster in its run now, and
// how many points' queries have left the run since the map was made (their group is
// -1, drawn grey).
func ByCluster(ctx context.Context, db *store.DB, l store.Layout) (pts []Point, groups []int, outside int, err error) {
	as, err := db.Assignments(ctx, l.RunID, nil)
	if err != nil {
		return nil, nil, 0, err
	}
	cluster := make(map[int64]int, len(as))
	for _, a := range as {
		cluster[a.QueryID] = a.ClusterID
	}
	pts = make([]Point, len(l.QueryIDs))
	groups = make([]int, len(l.QueryIDs))
	for i, id := range l.QueryIDs {
		pts[i] = Point{X: l.X[i], Y: l.Y[i]}
		c, ok := cluster[id]
		if !ok {
			c = -1
			outside++
		}
		groups[i] = c
	}
	return pts, groups, outside, nil
}
