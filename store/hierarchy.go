package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/lmsys-go/lmsys"
	"gorm.io/gorm"
)

// SaveHierarchy stores the nodes of one or more hierarchy runs in one transaction,
// replacing nodes already stored under the same hierarchy run id.
func (d *DB) SaveHierarchy(ctx context.Context, nodes []lmsys.HierarchyNode) error {
	if len(nodes) == 0 {
		return nil
	}
	now := time.Now().UTC()
	return d.inTx(ctx, func(tx *gorm.DB) error {
		ids := map[string]bool{}
		for _, n := range nodes {
			if n.HierarchyRunID == "" {
				return fmt.Errorf("%w: hierarchy node %d has no hierarchy run id", lmsys.ErrInvalidInput, n.ClusterID)
			}
			if !ids[n.HierarchyRunID] {
				ids[n.HierarchyRunID] = true
				if err := tx.Exec(`DELETE FROM cluster_hierarchies WHERE hierarchy_run_id = ?`, n.HierarchyRunID).Error; err != nil {
					return fmt.Errorf("store: replace hierarchy %s: %w", n.HierarchyRunID, err)
				}
			}
		}
		_, err := d.bulkExec(ctx, tx, `INSERT INTO cluster_hierarchies (hierarchy_run_id, run_id, cluster_id, parent_cluster_id, level,
			children_ids, title, description, created_at, num_queries)`, ``, 10, 200, len(nodes), func(i int, dst []any) []any {
			n := &nodes[i]
			children := n.ChildrenIDs
			if children == nil {
				children = []int{}
			}
			cj, _ := json.Marshal(children)
			var parent any
			if n.ParentClusterID != nil {
				parent = *n.ParentClusterID
			}
			created := n.CreatedAt
			if created.IsZero() {
				created = now
			}
			return append(dst, n.HierarchyRunID, n.RunID, n.ClusterID, parent, n.Level, string(cj), cleanText(n.Title),
				cleanText(n.Description), created.UTC(), n.NumQueries)
		})
		if err != nil {
			return fmt.Errorf("store: save %d hierarchy nodes: %w", len(nodes), err)
		}
		return nil
	})
}

// Hierarchy returns the nodes of one hierarchy run ordered by level (highest first)
// and cluster id.
func (d *DB) Hierarchy(ctx context.Context, hierarchyRunID string) ([]lmsys.HierarchyNode, error) {
	rows, err := d.db.WithContext(ctx).Raw(`SELECT hierarchy_run_id, run_id, cluster_id, parent_cluster_id, level, COALESCE(children_ids, '[]'),
		COALESCE(title, ''), COALESCE(description, ''), created_at, num_queries FROM cluster_hierarchies WHERE hierarchy_run_id = ?
		ORDER BY level DESC, cluster_id`, hierarchyRunID).Rows()
	if err != nil {
		return nil, fmt.Errorf("store: hierarchy %s: %w", hierarchyRunID, err)
	}
	defer rows.Close()
	out := []lmsys.HierarchyNode{}
	for rows.Next() {
		var n lmsys.HierarchyNode
		var parent sql.NullInt64
		var children string
		var created sql.NullTime
		if err := rows.Scan(&n.HierarchyRunID, &n.RunID, &n.ClusterID, &parent, &n.Level, &children, &n.Title, &n.Description, &created, &n.NumQueries); err != nil {
			return nil, err
		}
		if parent.Valid {
			p := int(parent.Int64)
			n.ParentClusterID = &p
		}
		if err := json.Unmarshal([]byte(children), &n.ChildrenIDs); err != nil {
			return nil, fmt.Errorf("store: hierarchy %s node %d: children_ids is not JSON: %w", hierarchyRunID, n.ClusterID, err)
		}
		n.CreatedAt = created.Time
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("hierarchy %q: %w", hierarchyRunID, lmsys.ErrNotFound)
	}
	return out, nil
}

// Hierarchies lists hierarchy run ids, newest first, of one run when runID is not empty.
func (d *DB) Hierarchies(ctx context.Context, runID string) ([]string, error) {
	stmt := `SELECT hierarchy_run_id FROM cluster_hierarchies`
	var args []any
	if runID != "" {
		stmt += ` WHERE run_id = ?`
		args = append(args, runID)
	}
	rows, err := d.db.WithContext(ctx).Raw(stmt+` GROUP BY hierarchy_run_id ORDER BY MAX(created_at) DESC, hierarchy_run_id DESC`, args...).Rows()
	if err != nil {
		return nil, fmt.Errorf("store: list hierarchies: %w", err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}
