package web

import (
	"context"
	"net/http"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/clustering"
	"github.com/lmsys-go/lmsys/embed"
)

// The clustering-run endpoints: the run list and one run with its status, and the
// k-means and HDBSCAN runs started over HTTP.

// KMeansRequest is the body of POST /api/clustering/kmeans.
type KMeansRequest struct {
	NClusters      int    `json:"n_clusters"`
	Seed           uint64 `json:"seed"`
	MaxIter        int    `json:"max_iter"`
	NInit          int    `json:"n_init"`
	Algorithm      string `json:"algorithm"`
	MBBatchSize    int    `json:"mb_batch_size"`
	ChunkSize      int    `json:"chunk_size"`
	EmbeddingModel string `json:"embedding_model"`
	Dataset        string `json:"dataset"`
	Description    string `json:"description"`
}

func (s *server) apiKMeans(r *http.Request) (any, error) {
	req := KMeansRequest{NClusters: 100, Seed: 42, MaxIter: 100, NInit: 3, MBBatchSize: 8192, ChunkSize: 65536}
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	if req.NClusters < 1 {
		return nil, badRequest("n_clusters must be at least 1, got %d", req.NClusters)
	}
	if req.MaxIter < 1 || req.NInit < 1 || req.MBBatchSize < 1 || req.ChunkSize < 1 {
		return nil, badRequest("max_iter, n_init, mb_batch_size and chunk_size must be positive")
	}
	params := map[string]any{"n_clusters": req.NClusters, "seed": req.Seed, "max_iter": req.MaxIter, "n_init": req.NInit, "spherical": true}
	spec := clustering.RunSpec{Algorithm: "kmeans", K: req.NClusters}
	switch req.Algorithm {
	case "", "lloyd":
		params["variant"] = "lloyd"
		spec.Clusterer = &clustering.KMeans{K: req.NClusters, MaxIter: req.MaxIter, NInit: req.NInit, Seed: req.Seed, Spherical: true}
	case "minibatch":
		params["variant"] = "minibatch"
		params["mb_batch_size"] = req.MBBatchSize
		params["chunk_size"] = req.ChunkSize
		spec.MiniBatch = &clustering.MiniBatch{K: req.NClusters, BatchSize: req.MBBatchSize, ChunkSize: req.ChunkSize, Seed: req.Seed, NInit: req.NInit, Spherical: true}
	default:
		return nil, badRequest("algorithm must be lloyd or minibatch, not %q", req.Algorithm)
	}
	spec.Parameters = params
	return s.runClustering(r.Context(), spec, req.EmbeddingModel, req.Dataset, req.Description)
}

// HDBSCANRequest is the body of POST /api/clustering/hdbscan.
type HDBSCANRequest struct {
	MinClusterSize          int     `json:"min_cluster_size"`
	MinSamples              int     `json:"min_samples"`
	ClusterSelectionEpsilon float64 `json:"cluster_selection_epsilon"`
	PCADims                 int     `json:"pca_dims"`
	ReassignNoise           bool    `json:"reassign_noise"`
	EmbeddingModel          string  `json:"embedding_model"`
	Dataset                 string  `json:"dataset"`
	Description             string  `json:"description"`
}

func (s *server) apiHDBSCAN(r *http.Request) (any, error) {
	req := HDBSCANRequest{MinClusterSize: 25, PCADims: 50}
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	if req.MinClusterSize < 2 {
		return nil, badRequest("min_cluster_size must be at least 2, got %d", req.MinClusterSize)
	}
	if req.MinSamples < 0 || req.PCADims < 0 || req.ClusterSelectionEpsilon < 0 {
		return nil, badRequest("min_samples, pca_dims and cluster_selection_epsilon must not be negative")
	}
	h := &clustering.HDBSCAN{MinClusterSize: req.MinClusterSize, MinSamples: req.MinSamples, ClusterSelectionEpsilon: req.ClusterSelectionEpsilon,
		PCADims: req.PCADims, ReassignNoise: req.ReassignNoise}
	spec := clustering.RunSpec{Algorithm: "hdbscan", Clusterer: h, Parameters: map[string]any{
		"min_cluster_size": req.MinClusterSize, "min_samples": req.MinSamples, "cluster_selection_epsilon": req.ClusterSelectionEpsilon,
		"pca_dims": req.PCADims, "reassign_noise": req.ReassignNoise}}
	return s.runClustering(r.Context(), spec, req.EmbeddingModel, req.Dataset, req.Description)
}

// runClustering embeds the missing queries and runs spec, as `lmsys cluster` does.
func (s *server) runClustering(ctx context.Context, spec clustering.RunSpec, model, dataset, description string) (any, error) {
	if model == "" {
		model = embed.DefaultModel
	}
	e, err := s.deps.Embedder(model)
	if err != nil {
		return nil, err
	}
	f := lmsys.QueryFilter{Dataset: dataset}
	if _, err := embed.Backfill(ctx, s.deps.Store, e, f, embed.BackfillOptions{}); err != nil {
		return nil, err
	}
	spec.Space = e.Space()
	spec.Filter = f
	spec.Description = description
	spec.Parameters["embedding_model"] = model
	if dataset != "" {
		spec.Parameters["dataset"] = dataset
	}
	run, err := clustering.Run(ctx, s.deps.Store, spec)
	if err != nil {
		return nil, err
	}
	return created{run}, nil
}

func (s *server) apiRuns(r *http.Request) (any, error) {
	p := newParams(r)
	algorithm := p.str("algorithm")
	page, limit := p.page(50)
	if p.err != nil {
		return nil, p.err
	}
	return s.runsPage(r.Context(), algorithm, page, limit)
}

// runsPage lists page page (of limit runs) of the clustering runs, newest first, of
// one algorithm when algorithm is set.
func (s *server) runsPage(ctx context.Context, algorithm string, page, limit int) (ListPage[RunItem], error) {
	runs, err := s.deps.Store.ListRuns(ctx)
	if err != nil {
		return ListPage[RunItem]{}, err
	}
	items := []RunItem{}
	for _, run := range runs {
		if algorithm == "" || run.Algorithm == algorithm {
			items = append(items, runItem(run))
		}
	}
	return paginate(items, page, limit), nil
}

func (s *server) runDetail(ctx context.Context, id string) (RunDetail, error) {
	run, err := s.deps.Store.GetRun(ctx, id)
	if err != nil {
		return RunDetail{}, err
	}
	assigned, err := s.runTotal(ctx, run)
	if err != nil {
		return RunDetail{}, err
	}
	d := RunDetail{RunItem: runItem(run), Metrics: map[string]any{"num_queries": run.NumQueries, "num_clusters": run.NumClusters, "assigned_queries": assigned}}
	if run.Error != "" {
		d.LatestErrors = []string{run.Error}
	}
	return d, nil
}

func (s *server) apiRun(r *http.Request) (any, error) {
	return s.runDetail(r.Context(), r.PathValue("run_id"))
}

func (s *server) apiRunStatus(r *http.Request) (any, error) {
	ctx := r.Context()
	run, err := s.deps.Store.GetRun(ctx, r.PathValue("run_id"))
	if err != nil {
		return nil, err
	}
	n, err := s.deps.Store.CountQueries(ctx, lmsys.QueryFilter{RunID: run.ID})
	if err != nil {
		return nil, err
	}
	return RunStatus{RunID: run.ID, Status: run.Status, Processed: n, NumClusters: run.NumClusters, NumQueries: run.NumQueries,
		Error: run.Error, CreatedAt: run.CreatedAt, FinishedAt: run.FinishedAt}, nil
}
