package web

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sort"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/analysis"
	"github.com/lmsys-go/lmsys/store"
)

// The classification endpoints: classification runs, the labelled facets, a
// cluster's label distribution and a label's clusters (the two pivots of the
// Python tool's classification plan).

// LabelShare is one label of a facet with its count and share of the labelled
// queries. For a list facet the label is one item, counted once for every query
// whose list holds it, so the shares of a list facet's items can sum past 1.
type LabelShare struct {
	Label string  `json:"label"`
	Count int64   `json:"count"`
	Share float64 `json:"share"`
}

// FacetDistribution is a facet's labels inside one cluster beside the whole run.
// List marks a list facet (such as the Clio set's languages): its labels are items,
// and its shares, of the labelled queries, can sum past 1.
type FacetDistribution struct {
	Facet   string       `json:"facet"`
	List    bool         `json:"list,omitempty"`
	Cluster []LabelShare `json:"cluster"`
	Run     []LabelShare `json:"run"`
}

// ClusterLabels answers GET /api/clustering/runs/{run_id}/clusters/{cluster_id}/labels.
type ClusterLabels struct {
	RunID     string              `json:"run_id"`
	ClusterID int                 `json:"cluster_id"`
	Facets    []FacetDistribution `json:"facets"`
}

// shares returns a distribution's labels with their shares of its labelled queries.
func shares(d store.Distribution) []LabelShare {
	out := make([]LabelShare, len(d.Counts))
	for i, c := range d.Counts {
		out[i] = LabelShare{Label: c.Key, Count: c.Count, Share: float64(c.Count) / float64(max(d.Queries, 1))}
	}
	return out
}

func (s *server) apiClassificationRuns(r *http.Request) (any, error) {
	runs, err := s.deps.Store.ClassificationRuns(r.Context())
	if err != nil {
		return nil, err
	}
	if runs == nil {
		runs = []lmsys.ClassificationRun{}
	}
	return map[string]any{"items": runs, "total": len(runs)}, nil
}

func (s *server) apiClassificationRun(r *http.Request) (any, error) {
	return s.deps.Store.GetClassificationRun(r.Context(), r.PathValue("classification_run_id"))
}

func (s *server) apiLabelFacets(r *http.Request) (any, error) {
	fs, err := s.deps.Store.LabelFacets(r.Context())
	if err != nil {
		return nil, err
	}
	lists, err := s.deps.Store.ListFacets(r.Context())
	if err != nil {
		return nil, err
	}
	out := make([]map[string]any, len(fs))
	for i, f := range fs {
		out[i] = map[string]any{"facet": f.Key, "labels": f.Count}
		if lists[f.Key] {
			out[i]["list"] = true
		}
	}
	return map[string]any{"facets": out}, nil
}

// clusterLabels returns the label distribution of every labelled facet inside one
// cluster of a run, beside the run's.
func (s *server) clusterLabels(ctx context.Context, runID string, clusterID int) (ClusterLabels, error) {
	v, last, err := s.labelStamp(ctx, runID)
	if err != nil {
		return ClusterLabels{}, err
	}
	return cachedLabels(&s.labels, func(c *labelCache) *map[string]ClusterLabels { return &c.clusters }, v,
		fmt.Sprintf("%s\x00%d\x00%d", runID, clusterID, last), 4096, func() (ClusterLabels, error) {
			return s.countClusterLabels(ctx, runID, clusterID, v, last)
		})
}

// countClusterLabels counts what clusterLabels returns.
func (s *server) countClusterLabels(ctx context.Context, runID string, clusterID int, v string, last int64) (ClusterLabels, error) {
	out := ClusterLabels{RunID: runID, ClusterID: clusterID, Facets: []FacetDistribution{}}
	dists, err := s.deps.Store.ClusterLabelDistributions(ctx, runID, clusterID)
	if err != nil {
		return out, err
	}
	for _, facet := range slices.Sorted(maps.Keys(dists)) {
		all, err := s.runLabelCounts(ctx, runID, facet, v, last)
		if err != nil {
			return out, err
		}
		out.Facets = append(out.Facets, FacetDistribution{Facet: facet, List: dists[facet].List, Cluster: shares(dists[facet]), Run: shares(all)})
	}
	return out, nil
}

func (s *server) apiClusterLabels(r *http.Request) (any, error) {
	runID, err := s.runParam(r, r.PathValue("run_id"))
	if err != nil {
		return nil, err
	}
	cid, err := pathInt(r, "cluster_id")
	if err != nil {
		return nil, err
	}
	sizes, err := s.deps.Store.ClusterSizes(r.Context(), runID)
	if err != nil {
		return nil, err
	}
	if _, ok := sizes[cid]; !ok {
		return nil, fmt.Errorf("%w: cluster %d in run %s", lmsys.ErrNotFound, cid, runID)
	}
	return s.clusterLabels(r.Context(), runID, cid)
}

// LabelClusters answers GET /api/analysis/runs/{run_id}/labels/{facet}: for each
// label of the facet, the clusters that hold it most, by share of the cluster. Shares
// are of queries; a list facet (List) counts each item once for every query whose
// list holds it, so its shares can sum past 1.
type LabelClusters struct {
	RunID  string                      `json:"run_id"`
	Facet  string                      `json:"facet"`
	List   bool                        `json:"list,omitempty"`
	Total  int64                       `json:"total_queries"`
	Labels []LabelShare                `json:"labels"`
	By     map[string][]LabelInCluster `json:"clusters_by_label"`
}

// LabelInCluster is one cluster's count and share of one label.
type LabelInCluster struct {
	ClusterID int     `json:"cluster_id"`
	Title     string  `json:"title,omitempty"`
	Count     int64   `json:"count"`
	Size      int64   `json:"num_queries"`
	Share     float64 `json:"share"`
	Lift      float64 `json:"lift"`
}

func (s *server) labelClusters(ctx context.Context, runID, facet, ref string, top int) (LabelClusters, error) {
	fs, err := analysis.Facets(ctx, s.deps.Store, runID, analysis.FacetOptions{Fields: []string{facet}, Top: 1 << 20, SummaryRef: ref})
	if err != nil {
		return LabelClusters{}, err
	}
	f := fs[0]
	out := LabelClusters{RunID: runID, Facet: facet, List: f.List, Total: f.Total, Labels: []LabelShare{}, By: map[string][]LabelInCluster{}}
	base := map[string]float64{}
	for _, v := range f.Overall {
		out.Labels = append(out.Labels, LabelShare{Label: v.Key, Count: v.Count, Share: v.Share})
		base[v.Key] = v.Share
	}
	for _, c := range f.Clusters {
		for _, v := range c.Values {
			lift := 0.0
			if base[v.Key] > 0 {
				lift = v.Share / base[v.Key]
			}
			out.By[v.Key] = append(out.By[v.Key], LabelInCluster{ClusterID: c.ClusterID, Title: c.Title, Count: v.Count, Size: c.Size, Share: v.Share, Lift: lift})
		}
	}
	for k, cs := range out.By {
		sort.Slice(cs, func(i, j int) bool {
			if cs[i].Share != cs[j].Share {
				return cs[i].Share > cs[j].Share
			}
			if cs[i].Count != cs[j].Count {
				return cs[i].Count > cs[j].Count
			}
			return cs[i].ClusterID < cs[j].ClusterID
		})
		if len(cs) > top {
			out.By[k] = cs[:top]
		}
	}
	return out, nil
}

func (s *server) apiLabelClusters(r *http.Request) (any, error) {
	runID, err := s.runParam(r, r.PathValue("run_id"))
	if err != nil {
		return nil, err
	}
	top, err := queryInt(r, "top", 20)
	if err != nil {
		return nil, err
	}
	ref, err := summaryRef(r)
	if err != nil {
		return nil, err
	}
	facet := r.PathValue("facet")
	if _, err := s.deps.Store.LatestResultKey(r.Context(), facet); err != nil {
		return nil, err
	}
	return s.labelClusters(r.Context(), runID, facet, ref, top)
}

func (s *server) viewLabel(r *http.Request) (string, any, error) {
	runID, err := s.runParam(r, r.PathValue("run_id"))
	if err != nil {
		return "", nil, err
	}
	facet := r.PathValue("facet")
	if _, err := s.deps.Store.LatestResultKey(r.Context(), facet); err != nil {
		return "", nil, err
	}
	lc, err := s.labelClusters(r.Context(), runID, facet, "", 15)
	if err != nil {
		return "", nil, err
	}
	return "Label " + facet + " in " + runID, lc, nil
}
