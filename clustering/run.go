package clustering

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/lmsys-go/lmsys"
)

// RunSpec describes one clustering run to compute and record in a Store.
type RunSpec struct {
	// ID is the run id; empty means lmsys.NewRunID(Algorithm, K, now).
	ID string
	// Algorithm is recorded on the run ("kmeans", "hdbscan" …).
	Algorithm string
	// K is the requested number of clusters (0 for density clustering).
	K           int
	Description string
	// Parameters are recorded on the run as given.
	Parameters map[string]any
	// Space is the embedding space whose cached vectors are clustered.
	Space lmsys.Space
	// Filter selects the queries (zero: all that have an embedding in Space).
	Filter lmsys.QueryFilter
	// Exactly one of Clusterer (in memory: every vector is read first) and MiniBatch
	// (read from the Store chunk by chunk, once when its half-float copy fits
	// MiniBatch.MatrixBudget) is set. A *KMeans Clusterer is given
	// the vectors as one contiguous matrix, without a copy.
	Clusterer lmsys.Clusterer
	MiniBatch *MiniBatch
	// Progress receives reports of the reading and saving stages. With MiniBatch, the
	// saving reports come from a goroutine of their own, beside MiniBatch.Progress's
	// reports of the labelling: a function given to both must be safe to call
	// concurrently.
	Progress lmsys.ProgressFunc
}

// assignBatch is the number of assignments saved per transaction.
const assignBatch = 20000

// Run clusters the queries spec selects and records the run, its assignments and its
// centroids. The run is created with status running and finished as completed; when
// clustering fails or ctx is cancelled, its partial assignments are deleted and it is
// marked failed with the reason, so no reader ever sees half a run.
func Run(ctx context.Context, st lmsys.Store, spec RunSpec) (lmsys.Run, error) {
	if (spec.Clusterer == nil) == (spec.MiniBatch == nil) {
		return lmsys.Run{}, fmt.Errorf("%w: a clustering run needs exactly one of Clusterer and MiniBatch", lmsys.ErrInvalidInput)
	}
	if spec.Space.IsZero() {
		return lmsys.Run{}, fmt.Errorf("%w: a clustering run needs an embedding space", lmsys.ErrInvalidInput)
	}
	total, err := st.CountQueries(ctx, spec.Filter)
	if err != nil {
		return lmsys.Run{}, err
	}
	missing, err := st.CountMissingEmbeddings(ctx, spec.Space, spec.Filter)
	if err != nil {
		return lmsys.Run{}, err
	}
	if total == 0 {
		return lmsys.Run{}, fmt.Errorf("no queries to cluster (load some with `lmsys load`): %w", lmsys.ErrEmpty)
	}
	if missing == total {
		return lmsys.Run{}, fmt.Errorf("none of the %d queries has an embedding in %s (run `lmsys embed --embedding-model %s`): %w",
			total, spec.Space, spec.Space.Name(), lmsys.ErrEmpty)
	}
	now := time.Now().UTC()
	run := lmsys.Run{ID: spec.ID, Algorithm: spec.Algorithm, NumClusters: spec.K, Parameters: spec.Parameters,
		Description: spec.Description, Space: spec.Space, Status: lmsys.RunRunning, CreatedAt: now}
	if run.ID == "" {
		// The seed's id format has one-second resolution: two runs started in the same
		// second get a numeric suffix instead of colliding.
		base := lmsys.NewRunID(spec.Algorithm, spec.K, now)
		run.ID = base
		for i := 2; ; i++ {
			if _, err := st.GetRun(ctx, run.ID); errors.Is(err, lmsys.ErrNotFound) {
				break
			} else if err != nil {
				return run, err
			}
			run.ID = fmt.Sprintf("%s-%d", base, i)
		}
	}
	if run.Parameters == nil {
		run.Parameters = map[string]any{}
	}
	run.Parameters["queries_without_embedding"] = missing
	if spec.Filter.On != "" {
		// The text the run clustered: reading its vectors later follows it (QueryFilter.On).
		run.Parameters["on"] = spec.Filter.On
	}
	if err := st.CreateRun(ctx, run); err != nil {
		return run, err
	}
	var n int
	var k int
	if spec.MiniBatch != nil {
		n, k, err = runStreaming(ctx, st, run.ID, spec)
	} else {
		expect := total - missing
		if spec.Filter.Limit > 0 {
			expect = min(expect, int64(spec.Filter.Limit))
		}
		n, k, err = runInMemory(ctx, st, run.ID, spec, expect)
	}
	if err != nil {
		// Clean up with a fresh context: ctx may be the reason we stopped.
		cleanup, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if d, ok := st.(interface {
			ClearAssignments(context.Context, string) error
		}); ok {
			_ = d.ClearAssignments(cleanup, run.ID)
		}
		_ = st.FinishRun(cleanup, run.ID, lmsys.RunFailed, err.Error(), 0)
		return run, fmt.Errorf("clustering run %s failed: %w", run.ID, err)
	}
	if k != spec.K {
		if s, ok := st.(interface {
			SetRunClusters(context.Context, string, int) error
		}); ok {
			if err := s.SetRunClusters(ctx, run.ID, k); err != nil {
				return run, err
			}
		}
		run.NumClusters = k
	}
	if err := st.FinishRun(ctx, run.ID, lmsys.RunCompleted, "", n); err != nil {
		return run, err
	}
	return st.GetRun(ctx, run.ID)
}

// runInMemory reads every vector into one contiguous matrix and clusters it. expect,
// the number of vectors the store counted, sizes the matrix up front: growing it by
// appends held up to three times its size at once (old and new backing arrays).
func runInMemory(ctx context.Context, st lmsys.Store, runID string, spec RunSpec, expect int64) (int, int, error) {
	d := spec.Space.Dims
	var ids []int64
	var data []float32
	if expect > 0 && d > 0 {
		ids = make([]int64, 0, expect)
		data = make([]float32, 0, expect*int64(d))
	}
	err := st.ScanQueryVectors(ctx, spec.Space, spec.Filter, 10000, func(bid []int64, bv [][]float32) error {
		ids = append(ids, bid...)
		for _, v := range bv {
			data = append(data, v...)
		}
		spec.Progress.Report("read vectors", int64(len(ids)), 0)
		return nil
	})
	if err != nil {
		return 0, 0, err
	}
	n := len(ids)
	if n == 0 {
		return 0, 0, fmt.Errorf("no vectors in %s: %w", spec.Space, lmsys.ErrEmpty)
	}
	var part lmsys.Partition
	if km, ok := spec.Clusterer.(*KMeans); ok {
		res, err := km.ClusterMatrix(ctx, data, n, d)
		if err != nil {
			return 0, 0, err
		}
		part = res.Partition
	} else {
		views := make([][]float32, n)
		for i := range views {
			views[i] = data[i*d : (i+1)*d : (i+1)*d]
		}
		part, err = spec.Clusterer.Cluster(ctx, views)
		if err != nil {
			return 0, 0, err
		}
	}
	if len(part.Labels) != n {
		return 0, 0, fmt.Errorf("clusterer returned %d labels for %d vectors", len(part.Labels), n)
	}
	centroids := part.Centroids
	if len(centroids) == 0 {
		centroids = Means(data, n, d, part.Labels)
	}
	batch := make([]lmsys.Assignment, 0, assignBatch)
	for i, id := range ids {
		conf := float64(1)
		if i < len(part.Confidence) {
			conf = float64(part.Confidence[i])
		}
		batch = append(batch, lmsys.Assignment{RunID: runID, QueryID: id, ClusterID: part.Labels[i], Confidence: conf})
		if len(batch) == assignBatch || i == n-1 {
			if err := ctx.Err(); err != nil {
				return 0, 0, err
			}
			if err := st.SaveAssignments(ctx, batch); err != nil {
				return 0, 0, err
			}
			spec.Progress.Report("save assignments", int64(i+1), int64(n))
			batch = batch[:0]
		}
	}
	cm := make(map[int][]float32, len(centroids))
	for c, v := range centroids {
		if v != nil {
			cm[c] = v
		}
	}
	if err := st.SaveCentroids(ctx, runID, cm); err != nil {
		return 0, 0, err
	}
	return n, part.K(), nil
}

// runStreaming fits mini-batch k-means over the Store's vectors, saving assignments
// as the labelling pass emits them. A goroutine of its own saves each full batch
// while the labelling goes on; runStreaming returns only once it has stopped, so
// Run's clean-up after a failure never races a save.
func runStreaming(ctx context.Context, st lmsys.Store, runID string, spec RunSpec) (int, int, error) {
	src := SourceFunc(func(ctx context.Context, batch int, fn func(ids []int64, vecs [][]float32) error) error {
		return st.ScanQueryVectors(ctx, spec.Space, spec.Filter, batch, fn)
	})
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	queue := make(chan []lmsys.Assignment, 1)
	saved := make(chan error, 1)
	go func(queue <-chan []lmsys.Assignment) { // its own copy: wait sets the variable to nil
		var err error
		done := int64(0)
		for b := range queue {
			if err != nil {
				continue // drain: the fit stops at its next emit
			}
			if err = st.SaveAssignments(ctx, b); err != nil {
				cancel(err)
				continue
			}
			done += int64(len(b))
			spec.Progress.Report("save assignments", done, 0)
		}
		saved <- err
	}(queue)
	wait := func() error {
		if queue != nil {
			close(queue)
			queue = nil
			return <-saved
		}
		return nil
	}
	defer wait()
	batch := make([]lmsys.Assignment, 0, assignBatch)
	n := 0
	res, err := spec.MiniBatch.Fit(ctx, src, func(id int64, label int, conf float32) error {
		batch = append(batch, lmsys.Assignment{RunID: runID, QueryID: id, ClusterID: label, Confidence: float64(conf)})
		n++
		if len(batch) == assignBatch {
			if err := context.Cause(ctx); err != nil {
				return err
			}
			queue <- batch
			batch = make([]lmsys.Assignment, 0, assignBatch)
		}
		return nil
	})
	if err == nil && len(batch) > 0 {
		queue <- batch
	}
	if serr := wait(); serr != nil {
		return 0, 0, serr
	}
	if err != nil {
		if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
			return 0, 0, cause
		}
		return 0, 0, err
	}
	if n == 0 {
		return 0, 0, errors.New("mini-batch k-means labelled no vectors")
	}
	cm := make(map[int][]float32, len(res.Centroids))
	for c, v := range res.Centroids {
		cm[c] = v
	}
	if err := st.SaveCentroids(ctx, runID, cm); err != nil {
		return 0, 0, err
	}
	return n, len(res.Centroids), nil
}

// Means returns the mean of the rows of each label of the n×d matrix data (noise,
// label −1, excluded); a label with no rows gets a nil mean.
func Means(data []float32, n, d int, labels []int) [][]float32 {
	k := 0
	for _, l := range labels {
		k = max(k, l+1)
	}
	sums := make([][]float64, k)
	counts := make([]int, k)
	for i := 0; i < n; i++ {
		l := labels[i]
		if l < 0 {
			continue
		}
		if sums[l] == nil {
			sums[l] = make([]float64, d)
		}
		row := data[i*d : (i+1)*d]
		for j, x := range row {
			sums[l][j] += float64(x)
		}
		counts[l]++
	}
	out := make([][]float32, k)
	for c := range out {
		if counts[c] == 0 {
			continue
		}
		out[c] = make([]float32, d)
		for j := range out[c] {
			out[c][j] = float32(sums[c][j] / float64(counts[c]))
		}
	}
	return out
}
