package analysis

import (
	"context"
	"fmt"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/clustering"
	"github.com/lmsys-go/lmsys/store"
)

// Agreement says how alike two clustering runs partition the queries both assigned:
// the adjusted Rand index, normalised mutual information, V-measure, homogeneity and
// completeness of run B's clusters against run A's (1 is the same partition).
type Agreement struct {
	RunA          string  `json:"run_a"`
	RunB          string  `json:"run_b"`
	SharedQueries int     `json:"shared_queries"`
	ClustersA     int     `json:"clusters_a"`
	ClustersB     int     `json:"clusters_b"`
	ARI           float64 `json:"ari"`
	NMI           float64 `json:"nmi"`
	VMeasure      float64 `json:"v_measure"`
	Homogeneity   float64 `json:"homogeneity"`
	Completeness  float64 `json:"completeness"`
}

// CompareRuns scores the agreement of runs a and b over the queries both assigned.
// An unknown run wraps lmsys.ErrNotFound; runs that share no query wrap
// lmsys.ErrEmpty.
func CompareRuns(ctx context.Context, db *store.DB, a, b string) (Agreement, error) {
	var runs [2]lmsys.Run
	var labels [2]map[int64]int
	for i, id := range []string{a, b} {
		var err error
		if runs[i], err = db.GetRun(ctx, id); err != nil {
			return Agreement{}, err
		}
		as, err := db.Assignments(ctx, id, nil)
		if err != nil {
			return Agreement{}, err
		}
		labels[i] = make(map[int64]int, len(as))
		for _, x := range as {
			labels[i][x.QueryID] = x.ClusterID
		}
	}
	var la, lb []int
	for q, ca := range labels[0] {
		if cb, ok := labels[1][q]; ok {
			la = append(la, ca)
			lb = append(lb, cb)
		}
	}
	if len(la) == 0 {
		return Agreement{}, fmt.Errorf("runs %s and %s share no queries: %w", a, b, lmsys.ErrEmpty)
	}
	sc, err := clustering.Evaluate(la, lb)
	if err != nil {
		return Agreement{}, err
	}
	return Agreement{RunA: runs[0].ID, RunB: runs[1].ID, SharedQueries: len(la), ClustersA: runs[0].NumClusters, ClustersB: runs[1].NumClusters,
		ARI: sc.ARI, NMI: sc.NMI, VMeasure: sc.VMeasure, Homogeneity: sc.Homogeneity, Completeness: sc.Completeness}, nil
}
