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

// Layout is a run's stored 2-D map: the place of each of its queries, and the seed and
// parameters it was computed with.
type Layout struct {
	RunID      string
	Seed       uint64
	Parameters map[string]any
	CreatedAt  time.Time
	QueryIDs   []int64
	X, Y       []float32
}

// SaveLayout replaces the run's layout with l, in one transaction.
func (d *DB) SaveLayout(ctx context.Context, l Layout) error {
	if len(l.QueryIDs) != len(l.X) || len(l.X) != len(l.Y) {
		return fmt.Errorf("%w: layout of %s has %d ids for %d×%d coordinates", lmsys.ErrInvalidInput, l.RunID, len(l.QueryIDs), len(l.X), len(l.Y))
	}
	params, err := json.Marshal(l.Parameters)
	if err != nil {
		return fmt.Errorf("store: layout parameters of %s: %w", l.RunID, err)
	}
	if l.CreatedAt.IsZero() {
		l.CreatedAt = time.Now().UTC()
	}
	return d.inTx(ctx, func(tx *gorm.DB) error {
		for _, stmt := range []string{`DELETE FROM query_layouts WHERE run_id = ?`, `DELETE FROM layout_runs WHERE run_id = ?`} {
			if err := tx.Exec(stmt, l.RunID).Error; err != nil {
				return fmt.Errorf("store: replace layout of %s: %w", l.RunID, err)
			}
		}
		if err := tx.Exec(`INSERT INTO layout_runs (run_id, seed, num_points, parameters, created_at) VALUES (?, ?, ?, ?, ?)`,
			l.RunID, int64(l.Seed), len(l.QueryIDs), string(params), l.CreatedAt).Error; err != nil {
			return fmt.Errorf("store: save layout of %s: %w", l.RunID, err)
		}
		_, err := d.bulkExec(ctx, tx, `INSERT INTO query_layouts (run_id, query_id, x, y)`, ``, 4, 250, len(l.QueryIDs),
			func(i int, dst []any) []any { return append(dst, l.RunID, l.QueryIDs[i], l.X[i], l.Y[i]) })
		if err != nil {
			return fmt.Errorf("store: save layout of %s: %w", l.RunID, err)
		}
		return nil
	})
}

// HasLayout reports whether the run has a stored layout.
func (d *DB) HasLayout(ctx context.Context, runID string) (bool, error) {
	var n int64
	if err := d.db.WithContext(ctx).Raw(`SELECT COUNT(*) FROM layout_runs WHERE run_id = ?`, runID).Row().Scan(&n); err != nil {
		return false, fmt.Errorf("store: layout of %s: %w", runID, err)
	}
	return n > 0, nil
}

// GetLayout returns the run's stored layout, points in query id order; a run without
// one fails with lmsys.ErrNotFound.
func (d *DB) GetLayout(ctx context.Context, runID string) (Layout, error) {
	l := Layout{RunID: runID}
	var seed int64
	var params string
	var created anyTime
	row := d.db.WithContext(ctx).Raw(`SELECT seed, COALESCE(parameters, ''), created_at FROM layout_runs WHERE run_id = ?`, runID).Row()
	if err := row.Scan(&seed, &params, &created); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return l, fmt.Errorf("layout of run %s: %w", runID, lmsys.ErrNotFound)
		}
		return l, fmt.Errorf("store: layout of %s: %w", runID, err)
	}
	l.Seed, l.CreatedAt = uint64(seed), time.Time(created)
	if params != "" {
		if err := json.Unmarshal([]byte(params), &l.Parameters); err != nil {
			return l, fmt.Errorf("store: layout of %s: parameters are not JSON: %w", runID, err)
		}
	}
	rows, err := d.db.WithContext(ctx).Raw(`SELECT query_id, x, y FROM query_layouts WHERE run_id = ? ORDER BY query_id`, runID).Rows()
	if err != nil {
		return l, fmt.Errorf("store: layout of %s: %w", runID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var x, y float64
		if err := rows.Scan(&id, &x, &y); err != nil {
			return l, fmt.Errorf("store: layout of %s: %w", runID, err)
		}
		l.QueryIDs = append(l.QueryIDs, id)
		l.X = append(l.X, float32(x))
		l.Y = append(l.Y, float32(y))
	}
	return l, rows.Err()
}
