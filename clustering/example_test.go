package clustering_test

import (
	"context"
	"fmt"

	"github.com/lmsys-go/lmsys/clustering"
)

func ExampleEvaluate() {
	truth := []string{"billing", "billing", "login", "login", "login"}
	pred := []int{0, 0, 1, 1, 2}
	s, err := clustering.Evaluate(truth, pred)
	if err != nil {
		panic(err)
	}
	fmt.Printf("homogeneity=%.2f completeness=%.2f ari=%.2f\n", s.Homogeneity, s.Completeness, s.ARI)
	// Output: homogeneity=1.00 completeness=0.64 ari=0.55
}

func ExampleMiniBatch() {
	// A Source streams (id, vector) pairs; a Store's ScanQueryVectors fits through
	// clustering.StoreSource. Here four vectors come from memory.
	vectors := [][]float32{{0, 0}, {0, 0.2}, {9, 9}, {9, 9.2}}
	src := clustering.SourceFunc(func(ctx context.Context, batch int, fn func([]int64, [][]float32) error) error {
		return fn([]int64{10, 11, 12, 13}, vectors)
	})
	mb := &clustering.MiniBatch{K: 2, Seed: 1}
	labels := map[int64]int{}
	res, err := mb.Fit(context.Background(), src, func(id int64, label int, confidence float32) error {
		labels[id] = label
		return nil
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(res.N, labels[10] == labels[11], labels[12] == labels[13], labels[10] != labels[12])
	// Output: 4 true true true
}
