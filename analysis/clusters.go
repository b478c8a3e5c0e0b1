package analysis

import (
	"context"
	"sort"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/store"
)

// ClusterRow is one cluster of a run as list-clusters and the API show it.
type ClusterRow struct {
	ClusterID   int      `json:"cluster_id"`
	NumQueries  int      `json:"num_queries"`
	Share       float64  `json:"share"`
	Title       string   `json:"title,omitempty"`
	Description string   `json:"description,omitempty"`
	Keywords    []string `json:"keywords,omitempty"`
	Examples    []string `json:"examples,omitempty"`
}

// ClusterList is a run's clusters, largest first.
type ClusterList struct {
	RunID        string       `json:"run_id"`
	SummaryRunID string       `json:"summary_run_id"`
	TotalQueries int          `json:"total_queries"`
	NumClusters  int          `json:"num_clusters"`
	Clusters     []ClusterRow `json:"clusters"`
}

// Clusters lists a run's clusters largest first (ties by id) with their sizes, shares
// and the titles of sums (the summaries of summary run summaryRunID, by cluster; may
// be empty). limit > 0 keeps the largest limit clusters; examples > 0 adds that many
// example queries to each.
func Clusters(ctx context.Context, db *store.DB, runID, summaryRunID string, sums map[int]lmsys.Summary, limit, examples int) (ClusterList, error) {
	sizes, err := db.ClusterSizes(ctx, runID)
	if err != nil {
		return ClusterList{}, err
	}
	total := 0
	for _, n := range sizes {
		total += n
	}
	rows := make([]ClusterRow, 0, len(sizes))
	for c, n := range sizes {
		s := sums[c]
		rows = append(rows, ClusterRow{ClusterID: c, NumQueries: n, Share: float64(n) / float64(max(total, 1)),
			Title: s.Title, Description: s.Description, Keywords: s.Keywords})
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].NumQueries != rows[j].NumQueries {
			return rows[i].NumQueries > rows[j].NumQueries
		}
		return rows[i].ClusterID < rows[j].ClusterID
	})
	if limit > 0 && len(rows) > limit {
		rows = rows[:limit]
	}
	for i := 0; examples > 0 && i < len(rows); i++ {
		c := rows[i].ClusterID
		qs, err := db.ListQueries(ctx, lmsys.QueryFilter{RunID: runID, ClusterID: &c, Limit: examples})
		if err != nil {
			return ClusterList{}, err
		}
		for _, q := range qs {
			rows[i].Examples = append(rows[i].Examples, q.Text)
		}
	}
	return ClusterList{RunID: runID, SummaryRunID: summaryRunID, TotalQueries: total, NumClusters: len(sizes), Clusters: rows}, nil
}
