package layout

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/store"
)

// Map is a run's layout: each query's place and cluster.
type Map struct {
	RunID    string  `json:"run_id"`
	Seed     uint64  `json:"seed"`
	Reused   bool    `json:"reused"`
	Points   []Point `json:"-"`
	QueryIDs []int64 `json:"-"`
	Clusters []int   `json:"-"`
}

// Run returns the run's map: the stored one when it was made with opts.Seed and covers
// every query of the run that has a vector (a killed or changed run is laid out
// again), otherwise a new one, computed from the run's vectors and stored.
func Run(ctx context.Context, db *store.DB, runID string, opts Options) (Map, error) {
	run, err := db.GetRun(ctx, runID)
	if err != nil {
		return Map{}, err
	}
	if run.Space.IsZero() {
		return Map{}, fmt.Errorf("%w: run %s records no embedding space", lmsys.ErrInvalidInput, runID)
	}
	as, err := db.Assignments(ctx, runID, nil)
	if err != nil {
		return Map{}, err
	}
	cluster := make(map[int64]int, len(as))
	for _, a := range as {
		cluster[a.QueryID] = a.ClusterID
	}
	var ids []int64
	var vs [][]float32
	err = db.ScanQueryVectors(ctx, run.Space, lmsys.QueryFilter{RunID: runID}, 5000, func(is []int64, batch [][]float32) error {
		ids = append(ids, is...)
		for _, v := range batch {
			vs = append(vs, append([]float32(nil), v...))
		}
		return nil
	})
	if err != nil {
		return Map{}, err
	}
	m := Map{RunID: runID, Seed: opts.Seed, QueryIDs: ids, Clusters: make([]int, len(ids))}
	for i, id := range ids {
		m.Clusters[i] = cluster[id]
	}
	stored, err := db.GetLayout(ctx, runID)
	switch {
	case err == nil && stored.Seed == opts.Seed && slices.Equal(stored.QueryIDs, ids):
		m.Reused = true
		m.Points = make([]Point, len(ids))
		for i := range ids {
			m.Points[i] = Point{stored.X[i], stored.Y[i]}
		}
		return m, nil
	case err != nil && !errors.Is(err, lmsys.ErrNotFound):
		return Map{}, err
	}
	if m.Points, err = Compute(ctx, vs, opts); err != nil {
		return Map{}, err
	}
	l := store.Layout{RunID: runID, Seed: opts.Seed, QueryIDs: ids, X: make([]float32, len(ids)), Y: make([]float32, len(ids)),
		Parameters: map[string]any{"method": "umap", "neighbors": opts.Neighbors, "epochs": opts.Epochs, "min_dist": opts.MinDist}}
	for i, p := range m.Points {
		l.X[i], l.Y[i] = p.X, p.Y
	}
	if err := db.SaveLayout(ctx, l); err != nil {
		return Map{}, err
	}
	return m, nil
}
