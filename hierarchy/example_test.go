package hierarchy_test

import (
	"context"
	"fmt"
	"time"

	"github.com/lmsys-go/lmsys/hierarchy"
)

// Example merges six clusters offline into two parents and prints the tree.
func Example() {
	leaves := []hierarchy.Leaf{
		{ClusterID: 0, Size: 40, Title: "Sorting lists in Python", Keywords: []string{"python", "sort", "list"}, Centroid: []float32{1, 0.1, 0}},
		{ClusterID: 1, Size: 30, Title: "Python dictionaries", Keywords: []string{"python", "dict"}, Centroid: []float32{1, 0, 0.1}},
		{ClusterID: 2, Size: 20, Title: "Python string formatting", Keywords: []string{"python", "string", "format"}, Centroid: []float32{0.9, 0.1, 0.1}},
		{ClusterID: 3, Size: 50, Title: "Poems about love", Keywords: []string{"poem", "love"}, Centroid: []float32{0, 1, 0.1}},
		{ClusterID: 4, Size: 25, Title: "Poems about the sea", Keywords: []string{"poem", "sea"}, Centroid: []float32{0.1, 1, 0}},
		{ClusterID: 5, Size: 15, Title: "Haiku about autumn", Keywords: []string{"haiku", "poem", "autumn"}, Centroid: []float32{0, 0.9, 0.2}},
	}
	res, err := hierarchy.Build(context.Background(), "kmeans-6-20261127-050000", leaves, hierarchy.Options{
		TargetLevels: 2, TopClusters: 2,
		Now: func() time.Time { return time.Date(2026, 11, 27, 6, 0, 0, 0, time.UTC) },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.Report.HierarchyRunID)
	for _, n := range res.Nodes {
		if n.Level == 1 {
			fmt.Printf("%d %s: %d queries, children %v\n", n.ClusterID, n.Title, n.NumQueries, n.ChildrenIDs)
		}
	}
	fmt.Println(hierarchy.Validate(res.Nodes))
	// Output:
	// hier-kmeans-6-20261127-050000-20261127-060000
	// 1000000 Python: 90 queries, children [0 1 2]
	// 1000001 Poem: 90 queries, children [3 4 5]
	// <nil>
}
