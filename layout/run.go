package layout

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

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

// Run returns the run's map: the stored one when it was made with opts.Seed and the
// same method and covers every query of the run that has a vector (a killed or changed run is laid out
// again), otherwise a new one, computed from the run's vectors and stored. A run of
// more than Options.LandmarksAbove queries is laid out by landmarks, drawn from each
// cluster in proportion to its size; its vectors are then read from the store three
// times and never held all at once.
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
	// A run small enough for the full method keeps its vectors from this first read; a
	// larger one keeps only its query ids, and the landmark method reads the vectors
	// again, holding only the landmarks'.
	filter := lmsys.QueryFilter{RunID: runID}
	var ids []int64
	var vs [][]float32
	held := true
	err = db.ScanQueryVectors(ctx, run.Space, filter, 5000, func(is []int64, batch [][]float32) error {
		ids = append(ids, is...)
		if held && opts.landmarks(len(ids)) {
			held, vs = false, nil
		}
		if held {
			for _, v := range batch {
				vs = append(vs, append([]float32(nil), v...))
			}
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
	eff := opts.withDefaults(max(len(ids), 3)) // the options in effect, for the stored parameters
	stored, err := db.GetLayout(ctx, runID)
	switch {
	case err == nil && stored.Seed == opts.Seed && slices.Equal(stored.QueryIDs, ids) &&
		strings.TrimSuffix(fmt.Sprint(stored.Parameters["method"]), "-landmarks") == eff.Method:
		m.Reused = true
		m.Points = make([]Point, len(ids))
		for i := range ids {
			m.Points[i] = Point{stored.X[i], stored.Y[i]}
		}
		return m, nil
	case err != nil && !errors.Is(err, lmsys.ErrNotFound):
		return Map{}, err
	}
	params := map[string]any{"method": eff.Method, "epochs": opts.Epochs}
	if eff.Method == MethodTSNE {
		params["perplexity"] = opts.Perplexity
	} else {
		params["neighbors"], params["min_dist"] = opts.Neighbors, opts.MinDist
	}
	if held {
		m.Points, err = Compute(ctx, vs, opts)
	} else {
		vs = nil
		scan := func(ctx context.Context, fn func(int, [][]float32) error) error {
			at := 0
			return db.ScanQueryVectors(ctx, run.Space, filter, 10000, func(is []int64, batch [][]float32) error {
				if at+len(is) > len(ids) || !slices.Equal(is, ids[at:at+len(is)]) {
					return fmt.Errorf("layout: run %s changed while it was laid out: lay it out again", runID)
				}
				first := at
				at += len(is)
				return fn(first, batch)
			})
		}
		params["method"], params["landmarks"], params["placement_neighbors"] = eff.Method+"-landmarks", eff.Landmarks, eff.PlacementNeighbors
		m.Points, err = landmarkLayout(ctx, len(ids), run.Space.Dims, ids, m.Clusters, scan, opts)
	}
	if err != nil {
		return Map{}, err
	}
	l := store.Layout{RunID: runID, Seed: opts.Seed, QueryIDs: ids, X: make([]float32, len(ids)), Y: make([]float32, len(ids)), Parameters: params}
	for i, p := range m.Points {
		l.X[i], l.Y[i] = p.X, p.Y
	}
	if err := db.SaveLayout(ctx, l); err != nil {
		return Map{}, err
	}
	return m, nil
}
