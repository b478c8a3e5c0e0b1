package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/analysis"
)

// The cluster endpoints of a run: the cluster list and one cluster with its member
// queries.

// ClusterPage is a page of a run's clusters, largest first (the Python tool's
// ClusterListResponse): TotalQueries is the run's assigned queries (null when neither
// counts nor percentages are asked for). SummaryRunID is the summary run the titles
// come from ("" when none) and NumClusters the run's clusters over all pages.
type ClusterPage struct {
	ListPage[ClusterItem]
	TotalQueries *int   `json:"total_queries"`
	RunID        string `json:"run_id"`
	SummaryRunID string `json:"summary_run_id"`
	NumClusters  int    `json:"num_clusters"`
}

// clusterOptions select and page a run's clusters.
type clusterOptions struct {
	ref                 string // summary run id or alias ("" latest)
	limit               int    // keep the largest limit clusters (0: all)
	examples            int    // example queries per cluster
	counts, percentages bool
	page, pageLimit     int // pageLimit 0: one page of every cluster
	unknownRunEmpty     bool
}

// clusterPage lists a run's clusters with their summaries. An unknown run or summary
// run is an empty page when o.unknownRunEmpty (the API, as the Python tool) and
// lmsys.ErrNotFound otherwise (the viewer).
func (s *server) clusterPage(ctx context.Context, runID string, o clusterOptions) (ClusterPage, error) {
	empty := func() ClusterPage {
		out := ClusterPage{ListPage: newPage([]ClusterItem(nil), 0, o.page, o.pageLimit), RunID: runID}
		if o.counts || o.percentages {
			zero := 0
			out.TotalQueries = &zero
		}
		return out
	}
	run, err := s.deps.Store.GetRun(ctx, runID)
	if err != nil {
		if errors.Is(err, lmsys.ErrNotFound) && o.unknownRunEmpty {
			return empty(), nil
		}
		return ClusterPage{}, err
	}
	srID, sums, err := s.summaries(ctx, run.ID, o.ref)
	if err != nil {
		if errors.Is(err, lmsys.ErrNotFound) && o.unknownRunEmpty {
			return empty(), nil
		}
		return ClusterPage{}, err
	}
	cl, err := analysis.Clusters(ctx, s.deps.Store, run.ID, srID, sums, o.limit, o.examples)
	if err != nil {
		return ClusterPage{}, err
	}
	items := make([]ClusterItem, len(cl.Clusters))
	for i, c := range cl.Clusters {
		sm, ok := sums[c.ClusterID]
		items[i] = clusterItem(run.ID, c.ClusterID, c.NumQueries, cl.TotalQueries, sm, ok)
		items[i].Examples = c.Examples
		if !o.percentages {
			items[i].Percentage = nil
		}
	}
	limit := o.pageLimit
	if limit == 0 {
		limit = max(len(items), 1)
	}
	out := ClusterPage{ListPage: paginate(items, o.page, limit), RunID: run.ID, SummaryRunID: srID, NumClusters: cl.NumClusters}
	if o.counts || o.percentages {
		t := cl.TotalQueries
		out.TotalQueries = &t
	}
	return out, nil
}

func (s *server) apiClusters(r *http.Request) (any, error) {
	p := newParams(r)
	o := clusterOptions{counts: p.boolean("include_counts", true), percentages: p.boolean("include_percentages", true),
		limit: p.intIn("limit", 0, 1, 1000), examples: p.intIn("examples", 0, 0, 50), page: p.intIn("page", 1, 1, -1),
		pageLimit: p.intIn("page_limit", 50, 1, 100), unknownRunEmpty: true}
	ref, err := summaryRef(r)
	if err != nil {
		return nil, err
	}
	if p.err != nil {
		return nil, p.err
	}
	o.ref = ref
	return s.clusterPage(r.Context(), r.PathValue("run_id"), o)
}

// ClusterDetail is one cluster with a page of its queries (the Python tool's
// ClusterDetailResponse), plus its run and id, its summary in full, its annotations
// and the page described as our earlier answers did.
type ClusterDetail struct {
	Cluster    ClusterItem    `json:"cluster"`
	Queries    QueryPage      `json:"queries"`
	RunID      string         `json:"run_id"`
	ClusterID  int            `json:"cluster_id"`
	NumQueries int64          `json:"num_queries"`
	Summary    *lmsys.Summary `json:"summary,omitempty"`
	Metadata   MetadataItem   `json:"metadata"`
	Pagination Page           `json:"pagination"`
}

func (s *server) clusterDetail(ctx context.Context, runID string, clusterID int, ref string, page, limit int, cursor int64) (ClusterDetail, error) {
	run, err := s.deps.Store.GetRun(ctx, runID)
	if err != nil {
		return ClusterDetail{}, err
	}
	qp, p, err := s.listPage(ctx, lmsys.QueryFilter{RunID: run.ID, ClusterID: &clusterID}, page, limit, cursor)
	if err != nil {
		return ClusterDetail{}, err
	}
	_, sums, err := s.summaries(ctx, run.ID, ref)
	if err != nil {
		return ClusterDetail{}, err
	}
	total, err := s.runTotal(ctx, run)
	if err != nil {
		return ClusterDetail{}, err
	}
	sm, ok := sums[clusterID]
	if p.Total == 0 && !ok {
		return ClusterDetail{}, fmt.Errorf("cluster %d not found in run %s: %w", clusterID, run.ID, lmsys.ErrNotFound)
	}
	d := ClusterDetail{Cluster: clusterItem(run.ID, clusterID, int(p.Total), int(total), sm, ok), Queries: qp, RunID: run.ID, ClusterID: clusterID,
		NumQueries: p.Total, Pagination: p}
	if ok {
		d.Summary = &sm
	}
	m, err := s.deps.Store.ClusterMetadata(ctx, run.ID, clusterID)
	if err != nil {
		return ClusterDetail{}, err
	}
	d.Metadata = metadataItem(m)
	return d, nil
}

func (s *server) apiCluster(r *http.Request) (any, error) {
	id, err := pathInt(r, "cluster_id")
	if err != nil {
		return nil, err
	}
	ref, err := summaryRef(r)
	if err != nil {
		return nil, err
	}
	p := newParams(r)
	page, limit, cursor := pageParams(p, 50)
	if p.err != nil {
		return nil, p.err
	}
	return s.clusterDetail(r.Context(), r.PathValue("run_id"), id, ref, page, limit, cursor)
}
