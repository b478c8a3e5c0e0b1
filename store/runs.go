package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/lmsys-go/lmsys"
	"gorm.io/gorm"
)

// CreateRun records a new run (status running unless set).
func (d *DB) CreateRun(ctx context.Context, r lmsys.Run) error {
	if r.ID == "" {
		return fmt.Errorf("%w: run id is empty", lmsys.ErrInvalidInput)
	}
	if r.Status == "" {
		r.Status = lmsys.RunRunning
	}
	if r.CreatedAt.IsZero() {
		r.CreatedAt = time.Now().UTC()
	}
	params := map[string]any{}
	for k, v := range r.Parameters {
		params[k] = v
	}
	// The seed tool keeps the embedding space in parameters; keep it there too.
	params["embedding_provider"] = r.Space.Provider
	params["embedding_model"] = r.Space.Model
	params["embedding_dimension"] = r.Space.Dims
	pj, err := json.Marshal(params)
	if err != nil {
		return fmt.Errorf("store: run %s parameters: %w", r.ID, err)
	}
	err = d.db.WithContext(ctx).Exec(`INSERT INTO clustering_runs (run_id, algorithm, num_clusters, parameters, description, created_at,
		embedding_provider, embedding_model, embedding_dim, status, num_queries, error, finished_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		r.ID, r.Algorithm, r.NumClusters, string(pj), r.Description, r.CreatedAt.UTC(), r.Space.Provider, r.Space.Model, r.Space.Dims,
		r.Status, r.NumQueries, nullString(r.Error), r.FinishedAt).Error
	if err != nil {
		return fmt.Errorf("store: create run %s: %w", r.ID, err)
	}
	return nil
}

const runColumns = `run_id, algorithm, COALESCE(num_clusters, 0), COALESCE(parameters, '{}'), COALESCE(description, ''), created_at,
	COALESCE(embedding_provider, ''), COALESCE(embedding_model, ''), COALESCE(embedding_dim, 0), status, num_queries, COALESCE(error, ''), finished_at`

func scanRun(row interface{ Scan(...any) error }) (lmsys.Run, error) {
	var r lmsys.Run
	var params string
	var created, finished sql.NullTime
	err := row.Scan(&r.ID, &r.Algorithm, &r.NumClusters, &params, &r.Description, &created, &r.Space.Provider, &r.Space.Model,
		&r.Space.Dims, &r.Status, &r.NumQueries, &r.Error, &finished)
	if err != nil {
		return r, err
	}
	r.CreatedAt = created.Time
	if finished.Valid {
		t := finished.Time
		r.FinishedAt = &t
	}
	if err := json.Unmarshal([]byte(params), &r.Parameters); err != nil {
		return r, fmt.Errorf("run %s: parameters are not JSON: %w", r.ID, err)
	}
	// Runs written by the seed tool hold the space only in parameters.
	if r.Space.Provider == "" {
		r.Space.Provider, _ = r.Parameters["embedding_provider"].(string)
		r.Space.Model, _ = r.Parameters["embedding_model"].(string)
		if dim, ok := r.Parameters["embedding_dimension"].(float64); ok {
			r.Space.Dims = int(dim)
		}
	}
	return r, nil
}

// GetRun returns one run.
func (d *DB) GetRun(ctx context.Context, id string) (lmsys.Run, error) {
	r, err := scanRun(d.db.WithContext(ctx).Raw(`SELECT `+runColumns+` FROM clustering_runs WHERE run_id = ?`, id).Row())
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("run %q: %w", id, lmsys.ErrNotFound)
	}
	if err != nil {
		return r, fmt.Errorf("store: get run %s: %w", id, err)
	}
	return r, nil
}

// ListRuns returns every run, newest first.
func (d *DB) ListRuns(ctx context.Context) ([]lmsys.Run, error) {
	rows, err := d.db.WithContext(ctx).Raw(`SELECT ` + runColumns + ` FROM clustering_runs ORDER BY created_at DESC, run_id DESC`).Rows()
	if err != nil {
		return nil, fmt.Errorf("store: list runs: %w", err)
	}
	defer rows.Close()
	out := []lmsys.Run{}
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list runs: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// FinishRun records a run's end.
func (d *DB) FinishRun(ctx context.Context, id, status, errMsg string, numQueries int) error {
	res := d.db.WithContext(ctx).Exec(`UPDATE clustering_runs SET status = ?, error = ?, num_queries = ?, finished_at = ? WHERE run_id = ?`,
		status, nullString(errMsg), numQueries, time.Now().UTC(), id)
	if res.Error != nil {
		return fmt.Errorf("store: finish run %s: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("run %q: %w", id, lmsys.ErrNotFound)
	}
	return nil
}

// SetRunClusters updates a run's number of clusters (after HDBSCAN finds it, or edits).
func (d *DB) SetRunClusters(ctx context.Context, id string, k int) error {
	return d.db.WithContext(ctx).Exec(`UPDATE clustering_runs SET num_clusters = ? WHERE run_id = ?`, k, id).Error
}

// DeleteRun deletes a run and everything derived from it, in one transaction.
func (d *DB) DeleteRun(ctx context.Context, id string) error {
	d.runTexts.Delete(id)
	return d.inTx(ctx, func(tx *gorm.DB) error {
		for _, t := range []string{"query_clusters", "cluster_summaries", "summary_runs", "cluster_hierarchies", "hierarchy_runs", "cluster_centroids",
			"cluster_edits", "cluster_metadata", "orphaned_queries"} {
			if err := tx.Exec(`DELETE FROM `+t+` WHERE run_id = ?`, id).Error; err != nil {
				return fmt.Errorf("store: delete run %s from %s: %w", id, t, err)
			}
		}
		res := tx.Exec(`DELETE FROM clustering_runs WHERE run_id = ?`, id)
		if res.Error != nil {
			return fmt.Errorf("store: delete run %s: %w", id, res.Error)
		}
		if res.RowsAffected == 0 {
			return fmt.Errorf("run %q: %w", id, lmsys.ErrNotFound)
		}
		return nil
	})
}

// SaveAssignments inserts or replaces assignments (keyed by run and query) in one
// transaction with multi-row statements.
func (d *DB) SaveAssignments(ctx context.Context, as []lmsys.Assignment) error {
	if len(as) == 0 {
		return nil
	}
	now := time.Now().UTC()
	return d.inTx(ctx, func(tx *gorm.DB) error {
		_, err := d.bulkExec(ctx, tx, `INSERT INTO query_clusters (run_id, query_id, cluster_id, confidence_score, late, created_at)`,
			`ON CONFLICT (run_id, query_id) DO UPDATE SET cluster_id = excluded.cluster_id, confidence_score = excluded.confidence_score, late = excluded.late`,
			6, insertChunk, len(as), func(i int, dst []any) []any {
				a := &as[i]
				late := 0
				if a.Late {
					late = 1
				}
				return append(dst, a.RunID, a.QueryID, a.ClusterID, a.Confidence, late, now)
			})
		if err != nil {
			return fmt.Errorf("store: save %d assignments: %w", len(as), err)
		}
		return nil
	})
}

// Assignments returns a run's assignments, of one cluster when clusterID is not nil,
// in query id order.
func (d *DB) Assignments(ctx context.Context, runID string, clusterID *int) ([]lmsys.Assignment, error) {
	stmt := `SELECT run_id, query_id, cluster_id, COALESCE(confidence_score, 0), late FROM query_clusters WHERE run_id = ?`
	args := []any{runID}
	if clusterID != nil {
		stmt += ` AND cluster_id = ?`
		args = append(args, *clusterID)
	}
	rows, err := d.db.WithContext(ctx).Raw(stmt+` ORDER BY query_id`, args...).Rows()
	if err != nil {
		return nil, fmt.Errorf("store: assignments of %s: %w", runID, err)
	}
	defer rows.Close()
	out := []lmsys.Assignment{}
	for rows.Next() {
		var a lmsys.Assignment
		var late int
		if err := rows.Scan(&a.RunID, &a.QueryID, &a.ClusterID, &a.Confidence, &late); err != nil {
			return nil, err
		}
		a.Late = late != 0
		out = append(out, a)
	}
	return out, rows.Err()
}

// ClusterSizes returns the number of queries per cluster of a run.
func (d *DB) ClusterSizes(ctx context.Context, runID string) (map[int]int, error) {
	return d.clusterSizes(ctx, runID, nil)
}

// SizesOf returns the number of queries of the given clusters of a run; clusters
// without queries are absent from the map.
func (d *DB) SizesOf(ctx context.Context, runID string, clusters []int) (map[int]int, error) {
	if len(clusters) == 0 {
		return map[int]int{}, nil
	}
	return d.clusterSizes(ctx, runID, clusters)
}

// clusterSizes counts the queries per cluster of a run, of every cluster when
// clusters is nil.
func (d *DB) clusterSizes(ctx context.Context, runID string, clusters []int) (map[int]int, error) {
	stmt := `SELECT cluster_id, COUNT(*) FROM query_clusters WHERE run_id = ?`
	args := []any{runID}
	if clusters != nil {
		stmt += ` AND cluster_id IN ?`
		args = append(args, clusters)
	}
	rows, err := d.db.WithContext(ctx).Raw(stmt+` GROUP BY cluster_id`, args...).Rows()
	if err != nil {
		return nil, fmt.Errorf("store: cluster sizes of %s: %w", runID, err)
	}
	defer rows.Close()
	out := map[int]int{}
	for rows.Next() {
		var c, n int
		if err := rows.Scan(&c, &n); err != nil {
			return nil, err
		}
		out[c] = n
	}
	return out, rows.Err()
}

// SaveCentroids inserts or replaces a run's centroids.
func (d *DB) SaveCentroids(ctx context.Context, runID string, centroids map[int][]float32) error {
	if len(centroids) == 0 {
		return nil
	}
	ids := make([]int, 0, len(centroids))
	for id := range centroids {
		ids = append(ids, id)
	}
	return d.inTx(ctx, func(tx *gorm.DB) error {
		_, err := d.bulkExec(ctx, tx, `INSERT INTO cluster_centroids (run_id, cluster_id, vector)`,
			`ON CONFLICT (run_id, cluster_id) DO UPDATE SET vector = excluded.vector`, 3, 200, len(ids),
			func(i int, dst []any) []any { return append(dst, runID, ids[i], EncodeVector(centroids[ids[i]])) })
		if err != nil {
			return fmt.Errorf("store: save centroids of %s: %w", runID, err)
		}
		return nil
	})
}

// Centroids returns a run's centroids by cluster id.
func (d *DB) Centroids(ctx context.Context, runID string) (map[int][]float32, error) {
	rows, err := d.db.WithContext(ctx).Raw(`SELECT cluster_id, vector FROM cluster_centroids WHERE run_id = ?`, runID).Rows()
	if err != nil {
		return nil, fmt.Errorf("store: centroids of %s: %w", runID, err)
	}
	defer rows.Close()
	out := map[int][]float32{}
	for rows.Next() {
		var c int
		var blob []byte
		if err := rows.Scan(&c, &blob); err != nil {
			return nil, err
		}
		v, err := DecodeVector(blob, nil)
		if err != nil {
			return nil, err
		}
		out[c] = v
	}
	return out, rows.Err()
}
