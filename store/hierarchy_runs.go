package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/lmsys-go/lmsys"
)

// SaveHierarchyRun inserts or replaces the record of how a hierarchy was built.
func (d *DB) SaveHierarchyRun(ctx context.Context, h lmsys.HierarchyRun) error {
	if h.CreatedAt.IsZero() {
		h.CreatedAt = time.Now().UTC()
	}
	params, err := json.Marshal(h.Parameters)
	if err != nil {
		return fmt.Errorf("store: hierarchy run %s parameters: %w", h.HierarchyRunID, err)
	}
	report, err := json.Marshal(h.Report)
	if err != nil {
		return fmt.Errorf("store: hierarchy run %s report: %w", h.HierarchyRunID, err)
	}
	err = d.db.WithContext(ctx).Exec(`INSERT INTO hierarchy_runs (hierarchy_run_id, run_id, method, model, parameters, report, created_at)
		VALUES (?,?,?,?,?,?,?) ON CONFLICT (hierarchy_run_id) DO UPDATE SET method = excluded.method, model = excluded.model,
		parameters = excluded.parameters, report = excluded.report`,
		h.HierarchyRunID, h.RunID, h.Method, nullString(h.Model), cleanText(string(params)), cleanText(string(report)), h.CreatedAt.UTC()).Error
	if err != nil {
		return fmt.Errorf("store: save hierarchy run %s: %w", h.HierarchyRunID, err)
	}
	return nil
}

// HierarchyRun returns the record of one hierarchy run. Hierarchies written by the seed
// tool have none: the error then wraps lmsys.ErrNotFound.
func (d *DB) HierarchyRun(ctx context.Context, id string) (lmsys.HierarchyRun, error) {
	h := lmsys.HierarchyRun{HierarchyRunID: id}
	var model, params, report sql.NullString
	var created sql.NullTime
	err := d.db.WithContext(ctx).Raw(`SELECT run_id, method, model, parameters, report, created_at FROM hierarchy_runs WHERE hierarchy_run_id = ?`, id).
		Row().Scan(&h.RunID, &h.Method, &model, &params, &report, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return h, fmt.Errorf("hierarchy run record %q: %w", id, lmsys.ErrNotFound)
	}
	if err != nil {
		return h, fmt.Errorf("store: hierarchy run %s: %w", id, err)
	}
	h.Model = model.String
	h.CreatedAt = created.Time
	if params.Valid && params.String != "" {
		if err := json.Unmarshal([]byte(params.String), &h.Parameters); err != nil {
			return h, fmt.Errorf("store: hierarchy run %s: parameters is not a JSON object: %w", id, err)
		}
	}
	if report.Valid && report.String != "" {
		if err := json.Unmarshal([]byte(report.String), &h.Report); err != nil {
			return h, fmt.Errorf("store: hierarchy run %s: report is not a JSON object: %w", id, err)
		}
	}
	return h, nil
}
