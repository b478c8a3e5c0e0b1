package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/clustering"
	"github.com/lmsys-go/lmsys/dataset"
	"github.com/lmsys-go/lmsys/embed"
	"github.com/lmsys-go/lmsys/search"
	"github.com/lmsys-go/lmsys/semantic"
	"github.com/lmsys-go/lmsys/store"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

func init() {
	commandRegistrars = append(commandRegistrars, registerCluster)
}

// embeddingOptions are the flags that pick and tune an embedder.
type embeddingOptions struct {
	model       string
	dims        int
	batchSize   int
	concurrency int
	rpm         float64
	baseURL     string
}

// addEmbeddingFlags registers the embedding flags on fs.
func addEmbeddingFlags(fs *pflag.FlagSet, o *embeddingOptions) {
	fs.StringVar(&o.model, "embedding-model", embed.DefaultModel, "embedding model provider/model: local/use-lite-i8 (USE-lite in 8 bits), local/use-lite (float32), local/lexical, local/hybrid, cohere/embed-v4.0, openai/…, ollama/…")
	fs.IntVar(&o.dims, "embedding-dim", 0, "output dimension (Matryoshka models such as cohere/embed-v4.0: 256, 512, 1024, 1536; local/lexical)")
	fs.IntVar(&o.batchSize, "embed-batch-size", 0, "texts per embedding request (provider default when 0)")
	fs.IntVar(&o.concurrency, "embed-concurrency", 0, "embedding requests in flight (provider default when 0)")
	fs.Float64Var(&o.rpm, "embed-rpm", 0, "embedding requests per minute (no limit when 0)")
	fs.StringVar(&o.baseURL, "embed-base-url", "", "embedding API endpoint (gateways, proxies)")
}

// open resolves the embedder the flags name.
func (o *embeddingOptions) open() (lmsys.Embedder, error) {
	var opts []embed.Option
	if o.dims > 0 {
		opts = append(opts, embed.WithDims(o.dims))
	}
	if o.batchSize > 0 {
		opts = append(opts, embed.WithBatchSize(o.batchSize))
	}
	if o.concurrency > 0 {
		opts = append(opts, embed.WithConcurrency(o.concurrency))
	}
	if o.rpm > 0 {
		opts = append(opts, embed.WithRPM(o.rpm))
	}
	if o.baseURL != "" {
		opts = append(opts, embed.WithBaseURL(o.baseURL))
	}
	e, err := embed.Open(o.model, opts...)
	if err != nil {
		return nil, usageError{err}
	}
	return e, nil
}

// embedMissing backfills the embeddings of the queries f selects and reports counts
// on w (unless quiet).
func embedMissing(ctx context.Context, db *store.DB, e lmsys.Embedder, f lmsys.QueryFilter, p *progress, w io.Writer, quiet bool) (embed.BackfillStats, error) {
	start := time.Now()
	st, err := embed.Backfill(ctx, db, e, f, embed.BackfillOptions{Progress: p.Func()})
	p.finish()
	if err != nil {
		return st, err
	}
	if !quiet && st.Embedded > 0 {
		fmt.Fprintf(w, "Embedded %d queries in %s (%d cached, %d failed) in %.1fs\n", st.Embedded, e.Space(), st.Cached, st.Failed, time.Since(start).Seconds())
	}
	return st, nil
}

// clusterOptions are the flags of `cluster kmeans` and `cluster hdbscan`.
type clusterOptions struct {
	emb         embeddingOptions
	description string
	dataset     string
	on          string
	seed        uint64
	// k-means
	k           int
	maxIter     int
	nInit       int
	mbBatchSize int
	chunkSize   int
	algorithm   string
	trainSample int
	// buildIndex builds the run's vector index once the run is done (--build-index).
	buildIndex bool

	// hdbscan
	minClusterSize int
	minSamples     int
	epsilon        float64
	pcaDims        int
	reassignNoise  bool
}

func registerCluster(root *cobra.Command, g *globals) {
	cluster := &cobra.Command{
		Use:   "cluster",
		Short: "Cluster the queries (embedding what is missing first): kmeans or hdbscan",
	}
	var ko clusterOptions
	kmeans := &cobra.Command{
		Use:   "kmeans",
		Short: "k-means: Lloyd with k-means++ (in memory), or mini-batch streamed from the database with --mb-batch-size / --chunk-size",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if ko.k < 1 {
				return usagef("--n-clusters must be at least 1, not %d", ko.k)
			}
			streaming := cmd.Flags().Changed("mb-batch-size") || cmd.Flags().Changed("chunk-size") || ko.algorithm == "minibatch"
			if ko.algorithm != "" && ko.algorithm != "lloyd" && ko.algorithm != "minibatch" {
				return usagef("--algorithm must be lloyd or minibatch, not %q", ko.algorithm)
			}
			params := map[string]any{"n_clusters": ko.k, "seed": ko.seed, "max_iter": ko.maxIter, "n_init": ko.nInit, "spherical": true}
			spec := clustering.RunSpec{Algorithm: "kmeans", K: ko.k}
			if streaming {
				params["variant"] = "minibatch"
				params["mb_batch_size"] = ko.mbBatchSize
				params["chunk_size"] = ko.chunkSize
				spec.MiniBatch = &clustering.MiniBatch{K: ko.k, BatchSize: ko.mbBatchSize, ChunkSize: ko.chunkSize, Seed: ko.seed, NInit: ko.nInit, Spherical: true}
			} else {
				params["variant"] = "lloyd"
				sample := ko.trainSample
				if sample == 0 {
					sample = 256 * ko.k
				}
				params["train_sample"] = sample
				spec.Clusterer = &clustering.KMeans{K: ko.k, MaxIter: ko.maxIter, NInit: ko.nInit, Seed: ko.seed, Spherical: true,
					TrainSample: sample, RefineIters: 1}
			}
			spec.Parameters = params
			return runCluster(cmd, g, &ko, spec)
		},
	}
	addEmbeddingFlags(kmeans.Flags(), &ko.emb)
	kmeans.Flags().IntVar(&ko.k, "n-clusters", 100, "number of clusters")
	kmeans.Flags().BoolVar(&ko.buildIndex, "build-index", false, "build the run's vector index (beside the database) when the run is done, so the first search answers at once")
	kmeans.Flags().StringVar(&ko.description, "description", "", "description recorded on the run")
	kmeans.Flags().StringVar(&ko.dataset, "dataset", "", "cluster only this dataset's queries")
	kmeans.Flags().StringVar(&ko.on, "on", "", "cluster a text facet's labels (e.g. request, from classify --facets clio) instead of the first messages")
	kmeans.Flags().Uint64Var(&ko.seed, "seed", 42, "random seed (same seed, same data: same clusters)")
	kmeans.Flags().IntVar(&ko.maxIter, "max-iter", 100, "Lloyd iterations per init")
	kmeans.Flags().IntVar(&ko.nInit, "n-init", 3, "k-means++ inits; the best (lowest inertia) is kept")
	kmeans.Flags().IntVar(&ko.mbBatchSize, "mb-batch-size", 8192, "mini-batch size (setting it streams vectors with mini-batch k-means)")
	kmeans.Flags().IntVar(&ko.chunkSize, "chunk-size", 65536, "vectors read from the database at a time in mini-batch mode")
	kmeans.Flags().StringVar(&ko.algorithm, "algorithm", "", "lloyd (default, in memory) or minibatch (streamed)")
	kmeans.Flags().IntVar(&ko.trainSample, "train-sample", 0, "Lloyd iterates on this many sampled rows, then labels all (default 256 per cluster; more rows than the data means all)")

	var ho clusterOptions
	hdb := &cobra.Command{
		Use:   "hdbscan",
		Short: "HDBSCAN: density clusters, noise as cluster -1 (optionally reassigned), optional PCA first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if ho.minClusterSize < 2 {
				return usagef("--min-cluster-size must be at least 2, not %d", ho.minClusterSize)
			}
			h := &clustering.HDBSCAN{MinClusterSize: ho.minClusterSize, MinSamples: ho.minSamples, ClusterSelectionEpsilon: ho.epsilon,
				PCADims: ho.pcaDims, ReassignNoise: ho.reassignNoise}
			spec := clustering.RunSpec{Algorithm: "hdbscan", Clusterer: h, Parameters: map[string]any{
				"min_cluster_size": ho.minClusterSize, "min_samples": ho.minSamples, "cluster_selection_epsilon": ho.epsilon,
				"pca_dims": ho.pcaDims, "reassign_noise": ho.reassignNoise}}
			return runCluster(cmd, g, &ho, spec)
		},
	}
	addEmbeddingFlags(hdb.Flags(), &ho.emb)
	hdb.Flags().IntVar(&ho.minClusterSize, "min-cluster-size", 25, "smallest cluster")
	hdb.Flags().BoolVar(&ho.buildIndex, "build-index", false, "build the run's vector index (beside the database) when the run is done, so the first search answers at once")
	hdb.Flags().IntVar(&ho.minSamples, "min-samples", 0, "neighbours defining a core point (default: min-cluster-size)")
	hdb.Flags().Float64Var(&ho.epsilon, "cluster-selection-epsilon", 0, "merge clusters closer than this distance")
	hdb.Flags().IntVar(&ho.pcaDims, "pca-dims", 50, "reduce to this many dimensions with PCA first (0: no reduction)")
	hdb.Flags().BoolVar(&ho.reassignNoise, "reassign-noise", false, "put noise points in their nearest cluster, with their probability recorded")
	hdb.Flags().StringVar(&ho.description, "description", "", "description recorded on the run")
	hdb.Flags().StringVar(&ho.dataset, "dataset", "", "cluster only this dataset's queries")
	hdb.Flags().StringVar(&ho.on, "on", "", "cluster a text facet's labels (e.g. request, from classify --facets clio) instead of the first messages")
	hdb.Flags().Uint64Var(&ho.seed, "seed", 42, "random seed")
	cluster.AddCommand(kmeans, hdb)
	root.AddCommand(cluster)
	registerEval(root, g)
}

// runCluster embeds what is missing, runs spec and prints the run.
func runCluster(cmd *cobra.Command, g *globals, o *clusterOptions, spec clustering.RunSpec) error {
	ctx := cmd.Context()
	e, err := o.emb.open()
	if err != nil {
		return err
	}
	db, err := openStore(cmd, g)
	if err != nil {
		return err
	}
	f := lmsys.QueryFilter{Dataset: o.dataset, On: o.on}
	if o.on != "" {
		// The facet's labels must be text a classifier wrote for these queries.
		if _, err := db.LatestResultKey(ctx, o.on); err != nil {
			return fmt.Errorf("--on %s: %w (label it first, e.g. lmsys classify --facets clio --model …)", o.on, err)
		}
		spec.Parameters["on"] = o.on
	}
	p := newProgress(cmd)
	w := cmd.ErrOrStderr()
	if _, err := embedMissing(ctx, db, e, f, p, w, g.json); err != nil {
		return err
	}
	spec.Space = e.Space()
	spec.Filter = f
	spec.Description = o.description
	spec.Parameters["embedding_model"] = o.emb.model
	if o.dataset != "" {
		spec.Parameters["dataset"] = o.dataset
	}
	spec.Progress = p.Func()
	start := time.Now()
	run, err := clustering.Run(ctx, db, spec)
	if err == nil && o.buildIndex {
		err = buildRunIndex(ctx, db, run.ID, p)
	}
	p.finish()
	if err != nil {
		return err
	}
	if g.json {
		return printJSON(cmd.OutOrStdout(), run)
	}
	sizes, err := db.ClusterSizes(ctx, run.ID)
	if err != nil {
		return err
	}
	noise := sizes[-1]
	fmt.Fprintf(cmd.OutOrStdout(), "Run %s: %d clusters over %d queries in %s, %.1fs", run.ID, run.NumClusters, run.NumQueries, run.Space, time.Since(start).Seconds())
	if noise > 0 {
		fmt.Fprintf(cmd.OutOrStdout(), " (%d noise)", noise)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "\nNext: lmsys summarize %s   then   lmsys list-clusters %s\n", run.ID, run.ID)
	noteLanguages(ctx, db, run, cmd.ErrOrStderr())
	return nil
}

// buildRunIndex brings the run's vector index in the default index directory up to
// date with the store, as the run's first search would.
func buildRunIndex(ctx context.Context, db *store.DB, runID string, p *progress) error {
	idx, err := semantic.OpenIndex(ctx, semantic.IndexOptions{Dir: defaultIndexDir(db)})
	if err != nil {
		return err
	}
	_, err = search.New(db, idx, search.Options{Progress: p.Func()}).Sync(ctx, runID)
	return err
}

func registerEval(root *cobra.Command, g *globals) {
	var o clusterOptions
	var input, textField, labelField, algo string
	cmd := &cobra.Command{
		Use:   "eval",
		Short: "Check a configuration on labelled data: load, embed, cluster (k = number of labels) and score NMI, ARI, V-measure",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if input == "" {
				return usagef("--input is required (a labelled JSONL/CSV/Parquet file)")
			}
			ctx := cmd.Context()
			e, err := o.emb.open()
			if err != nil {
				return err
			}
			if g.dbPath == "" && g.dbURL == "" {
				dir, err := os.MkdirTemp("", "lmsys-eval-")
				if err != nil {
					return err
				}
				g.onClose(func() { os.RemoveAll(dir) })
				g.dbPath = filepath.Join(dir, "eval.db")
			}
			db, err := openStore(cmd, g)
			if err != nil {
				return err
			}
			src, err := dataset.OpenFile(input, dataset.Mapping{Text: textField})
			if err != nil {
				return usageError{err}
			}
			name := "eval-" + strings.TrimSuffix(filepath.Base(input), filepath.Ext(input))
			p := newProgress(cmd)
			if _, err := dataset.Load(ctx, src, db, dataset.LoadOptions{DatasetName: name, Progress: p.Func()}); err != nil {
				return err
			}
			p.finish()
			f := lmsys.QueryFilter{Dataset: name}
			truth := map[int64]string{}
			err = db.ScanQueries(ctx, f, 10000, func(qs []lmsys.Query) error {
				for _, q := range qs {
					if l, ok := q.Metadata[labelField]; ok && l != nil {
						truth[q.ID] = fmt.Sprint(l)
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
			classes := map[string]bool{}
			for _, l := range truth {
				classes[l] = true
			}
			if len(classes) < 2 {
				return fmt.Errorf("%w: %s has %d distinct values in label field %q (need at least 2)", lmsys.ErrInvalidInput, input, len(classes), labelField)
			}
			if _, err := embedMissing(ctx, db, e, f, p, cmd.ErrOrStderr(), g.json); err != nil {
				return err
			}
			k := o.k
			if k == 0 {
				k = len(classes)
			}
			spec := clustering.RunSpec{Algorithm: "kmeans", K: k, Space: e.Space(), Filter: f, Description: "eval " + input,
				Parameters: map[string]any{"eval_input": input, "label_field": labelField}}
			switch algo {
			case "kmeans":
				spec.Clusterer = &clustering.KMeans{K: k, Seed: o.seed, NInit: o.nInit, Spherical: true}
			case "hdbscan":
				spec.Algorithm, spec.K = "hdbscan", 0
				spec.Clusterer = &clustering.HDBSCAN{MinClusterSize: o.minClusterSize, PCADims: o.pcaDims}
			default:
				return usagef("--algorithm must be kmeans or hdbscan, not %q", algo)
			}
			start := time.Now()
			run, err := clustering.Run(ctx, db, spec)
			if err != nil {
				return err
			}
			as, err := db.Assignments(ctx, run.ID, nil)
			if err != nil {
				return err
			}
			var yTrue []string
			var yPred []int
			sizes := map[int]int{}
			for _, a := range as {
				if l, ok := truth[a.QueryID]; ok {
					yTrue = append(yTrue, l)
					yPred = append(yPred, a.ClusterID)
					sizes[a.ClusterID]++
				}
			}
			scores, err := clustering.Evaluate(yTrue, yPred)
			if err != nil {
				return err
			}
			spread := sizeSpread(sizes)
			out := map[string]any{"input": input, "queries": len(yTrue), "labels": len(classes), "embedding_space": e.Space().String(),
				"algorithm": spec.Algorithm, "n_clusters": run.NumClusters, "run_id": run.ID, "nmi": scores.NMI, "ari": scores.ARI,
				"v_measure": scores.VMeasure, "homogeneity": scores.Homogeneity, "completeness": scores.Completeness,
				"cluster_sizes": spread, "cluster_seconds": time.Since(start).Seconds()}
			if g.json {
				return printJSON(cmd.OutOrStdout(), out)
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "%s: %d queries, %d labels, %s, %s with %d clusters\n", input, len(yTrue), len(classes), e.Space(), spec.Algorithm, run.NumClusters)
			fmt.Fprintf(w, "NMI %.4f  ARI %.4f  V-measure %.4f  homogeneity %.4f  completeness %.4f\n", scores.NMI, scores.ARI, scores.VMeasure, scores.Homogeneity, scores.Completeness)
			fmt.Fprintf(w, "cluster sizes: min %d, median %d, max %d, noise %d\n", spread["min"], spread["median"], spread["max"], spread["noise"])
			return nil
		},
	}
	addEmbeddingFlags(cmd.Flags(), &o.emb)
	cmd.Flags().StringVar(&input, "input", "", "labelled file (JSONL, JSON, CSV or Parquet, optionally .gz)")
	cmd.Flags().StringVar(&textField, "text-field", "", "field holding the text (default: text, query, prompt …)")
	cmd.Flags().StringVar(&labelField, "label-field", "label", "field holding the true label")
	cmd.Flags().StringVar(&algo, "algorithm", "kmeans", "kmeans or hdbscan")
	cmd.Flags().IntVar(&o.k, "n-clusters", 0, "number of clusters (default: number of distinct labels)")
	cmd.Flags().IntVar(&o.nInit, "n-init", 3, "k-means++ inits")
	cmd.Flags().Uint64Var(&o.seed, "seed", 42, "random seed")
	cmd.Flags().IntVar(&o.minClusterSize, "min-cluster-size", 10, "HDBSCAN smallest cluster")
	cmd.Flags().IntVar(&o.pcaDims, "pca-dims", 50, "HDBSCAN: PCA dimensions first (0: none)")
	root.AddCommand(cmd)
}

// sizeSpread summarises cluster sizes (noise, cluster −1, apart).
func sizeSpread(sizes map[int]int) map[string]int {
	var s []int
	for c, n := range sizes {
		if c >= 0 {
			s = append(s, n)
		}
	}
	sort.Ints(s)
	out := map[string]int{"noise": sizes[-1], "clusters": len(s)}
	if len(s) > 0 {
		out["min"], out["median"], out["max"] = s[0], s[len(s)/2], s[len(s)-1]
	}
	return out
}
