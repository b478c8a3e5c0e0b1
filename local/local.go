// Package local wires the library's default, offline implementations into a
// ready-to-run lmsys.Pipeline: SQLite (or PostgreSQL) store, USE-lite embeddings
// (cached in the store), k-means, the offline c-TF-IDF summarizer (or an LLM when a
// model is named or OPENAI_API_KEY is set), the offline or Clio hierarchy merge, and
// the on-disk vector index.
//
//	ws, _ := local.Open(ctx, local.Config{Dir: "analysis"})
//	defer ws.Close()
//	st, err := ws.Pipeline(local.Analysis{Source: src, K: 50}).Run(ctx, nil)
//
// Every stage is idempotent, so running the same analysis again after it was killed
// resumes where it stopped: loading inserts only new rows, embedding fills only what
// is missing, and the cluster, summarize and merge stages reuse the run, summary run
// and hierarchy an earlier attempt finished.
package local

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/clustering"
	"github.com/lmsys-go/lmsys/dataset"
	"github.com/lmsys-go/lmsys/dataset/demo"
	"github.com/lmsys-go/lmsys/embed"
	"github.com/lmsys-go/lmsys/hierarchy"
	"github.com/lmsys-go/lmsys/llm"
	"github.com/lmsys-go/lmsys/store"
	"github.com/lmsys-go/lmsys/summarize"
)

// Config says where a workspace keeps its data and which models it uses.
type Config struct {
	// Dir holds queries.db (unless DBPath or DBURL is set) and the vector index.
	// Empty means the directory of store.DefaultPath().
	Dir string
	// DBPath and DBURL override the database (see store.Config).
	DBPath string
	DBURL  string
	// EmbeddingModel is a provider/model string (default local/use-lite).
	EmbeddingModel string
	// EmbedOptions tune the embedder (dimension, batch size, endpoints …).
	EmbedOptions []embed.Option
	// Progress receives every stage's progress.
	Progress lmsys.ProgressFunc
}

// Workspace is an open store with its embedder.
type Workspace struct {
	Store    *store.DB
	Embedder lmsys.Embedder
	// Dir is where the vector index lives.
	Dir      string
	progress lmsys.ProgressFunc
}

// Open opens (creating when needed) the workspace cfg describes.
func Open(ctx context.Context, cfg Config) (*Workspace, error) {
	dir := cfg.Dir
	if dir == "" {
		dir = filepath.Dir(store.DefaultPath())
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("local: create %s: %w", dir, err)
	}
	scfg := store.Config{Path: cfg.DBPath, URL: cfg.DBURL}
	if scfg.Path == "" && scfg.URL == "" {
		scfg.Path = filepath.Join(dir, "queries.db")
	}
	db, err := store.Open(ctx, scfg)
	if err != nil {
		return nil, err
	}
	model := cfg.EmbeddingModel
	if model == "" {
		model = embed.DefaultModel
	}
	e, err := embed.Open(model, cfg.EmbedOptions...)
	if err != nil {
		db.Close()
		return nil, err
	}
	return &Workspace{Store: db, Embedder: e, Dir: dir, progress: cfg.Progress}, nil
}

// Close closes the store.
func (w *Workspace) Close() error { return w.Store.Close() }

// Analysis describes a whole analysis: what to load and how to cluster, name and
// organise it.
type Analysis struct {
	// Source is loaded first when not nil (dataset.OpenFile, dataset.HF …).
	Source dataset.Source
	// DatasetName names the dataset loaded and analysed (default: the source's); with
	// no Source, an existing dataset (empty: every query).
	DatasetName string
	// Limit bounds the rows loaded (0: all).
	Limit int64
	// K is the number of clusters (default 50, at most a tenth of the queries).
	K    int
	Seed uint64
	// SummaryModel is an LLM provider/model for titles; empty means llm.Default(),
	// which is empty without OPENAI_API_KEY, selecting the offline summarizer.
	SummaryModel string
	// Offline forces the offline summarizer and merge even when a key is set.
	Offline bool
	// TargetLevels and MergeRatio shape the hierarchy (defaults 3 and 0.2).
	TargetLevels int
	MergeRatio   float64
	// ExtraStages run after the merge (for example building the search index).
	ExtraStages []lmsys.Stage
}

// key fingerprints the parts of an analysis that decide its clustering run, so a
// re-run finds the run an earlier attempt finished.
func (a Analysis) key(space lmsys.Space, dataset string) string {
	h := sha256.Sum256([]byte(fmt.Sprintf("%s|%s|%d|%d", space, dataset, a.K, a.Seed)))
	return hex.EncodeToString(h[:8])
}

// summaryModel returns the LLM model to summarise and merge with, or "" for offline.
func (a Analysis) summaryModel() string {
	if a.Offline {
		return ""
	}
	if a.SummaryModel != "" {
		return a.SummaryModel
	}
	return llm.Default()
}

// Pipeline returns the analysis as a pipeline of stages: load, embed, cluster,
// summarize, merge, then a.ExtraStages.
func (w *Workspace) Pipeline(a Analysis) *lmsys.Pipeline {
	if a.Seed == 0 {
		a.Seed = 42
	}
	stages := []lmsys.Stage{
		lmsys.StageFunc{StageName: "load", Fn: w.loadStage(a)},
		lmsys.StageFunc{StageName: "embed", Fn: w.embedStage()},
		lmsys.StageFunc{StageName: "cluster", Fn: w.clusterStage(a)},
		lmsys.StageFunc{StageName: "summarize", Fn: w.summarizeStage(a)},
		lmsys.StageFunc{StageName: "merge", Fn: w.mergeStage(a)},
	}
	stages = append(stages, a.ExtraStages...)
	return &lmsys.Pipeline{Store: w.Store, Stages: stages, Progress: w.progress}
}

func (w *Workspace) filter(s *lmsys.State) lmsys.QueryFilter {
	return lmsys.QueryFilter{Dataset: s.Dataset}
}

func (w *Workspace) loadStage(a Analysis) func(context.Context, *lmsys.State) error {
	return func(ctx context.Context, s *lmsys.State) error {
		s.Dataset = a.DatasetName
		s.Space = w.Embedder.Space()
		if a.Source == nil {
			n, err := w.Store.CountQueries(ctx, w.filter(s))
			if err != nil {
				return err
			}
			s.Note("load", "no source: analysing %d stored queries", n)
			return nil
		}
		ls, err := dataset.Load(ctx, a.Source, w.Store, dataset.LoadOptions{DatasetName: a.DatasetName, Limit: a.Limit, Progress: s.Progress})
		if err != nil {
			return err
		}
		s.Dataset = ls.Dataset
		s.Note("load", "%d rows read, %d new queries, %d already loaded, %d skipped into dataset %s", ls.Rows, ls.Inserted, ls.Existing, ls.SkippedTotal(), ls.Dataset)
		return nil
	}
}

func (w *Workspace) embedStage() func(context.Context, *lmsys.State) error {
	return func(ctx context.Context, s *lmsys.State) error {
		opts := embed.BackfillOptions{Progress: s.Progress}
		if w.Embedder.Space().Provider == "local" {
			// Offline embedders lose nothing but seconds to an interruption, so commit
			// 4096 vectors at a time: each commit rewrites the index pages it touched,
			// and larger batches touch each page fewer times (storing 200k vectors: 3.9
			// → 2.9 CPU-s).
			opts.BatchSize = 4096
		}
		st, err := embed.Backfill(ctx, w.Store, w.Embedder, w.filter(s), opts)
		if err != nil {
			return err
		}
		s.Note("embed", "%d embedded, %d cached, %d failed in %s", st.Embedded, st.Cached, st.Failed, w.Embedder.Space())
		return nil
	}
}

func (w *Workspace) clusterStage(a Analysis) func(context.Context, *lmsys.State) error {
	return func(ctx context.Context, s *lmsys.State) error {
		f := w.filter(s)
		key := a.key(s.Space, s.Dataset)
		if s.RunID == "" {
			runs, err := w.Store.ListRuns(ctx)
			if err != nil {
				return err
			}
			for _, r := range runs {
				if r.Status == lmsys.RunCompleted && r.Parameters["pipeline_key"] == key {
					s.RunID = r.ID
					s.Note("cluster", "reused run %s (%d clusters)", r.ID, r.NumClusters)
					return nil
				}
			}
		} else {
			r, err := w.Store.GetRun(ctx, s.RunID)
			if err != nil {
				return err
			}
			s.Note("cluster", "given run %s (%d clusters)", r.ID, r.NumClusters)
			return nil
		}
		n, err := w.Store.CountQueries(ctx, f)
		if err != nil {
			return err
		}
		k := a.K
		if k <= 0 {
			k = 50
		}
		k = max(2, min(k, int(n/10)))
		params := map[string]any{"pipeline_key": key, "n_clusters": k, "seed": a.Seed, "spherical": true}
		spec := clustering.RunSpec{Algorithm: "kmeans", K: k, Space: s.Space, Filter: f, Parameters: params,
			Description: "lmsys analyze", Progress: s.Progress}
		if n > 200_000 {
			spec.MiniBatch = &clustering.MiniBatch{K: k, Seed: a.Seed, Spherical: true}
			params["variant"] = "minibatch"
		} else {
			// Iterate on at most 256 rows per centroid (as FAISS does), then one pass
			// over every row: the same inertia as full Lloyd at a fraction of the time.
			spec.Clusterer = &clustering.KMeans{K: k, Seed: a.Seed, NInit: 3, Spherical: true, TrainSample: 256 * k, RefineIters: 1}
			params["variant"] = "lloyd"
		}
		run, err := clustering.Run(ctx, w.Store, spec)
		if err != nil {
			return err
		}
		s.RunID = run.ID
		s.Note("cluster", "run %s: %d clusters over %d queries", run.ID, run.NumClusters, run.NumQueries)
		return nil
	}
}

// Summarizer returns the summarizer for model ("" is the offline one), its LLM client
// reading and writing the store's LLM cache.
func (w *Workspace) Summarizer(model string, opts ...llm.Option) (lmsys.Summarizer, error) {
	if model == "" {
		return &summarize.Offline{}, nil
	}
	c, err := llm.Open(model, append([]llm.Option{llm.WithCache(w.Store.LLMCache())}, opts...)...)
	if err != nil {
		return nil, err
	}
	return summarize.NewLLM(c, summarize.LLMOptions{})
}

func (w *Workspace) summarizeStage(a Analysis) func(context.Context, *lmsys.State) error {
	return func(ctx context.Context, s *lmsys.State) error {
		model := a.summaryModel()
		sum, err := w.Summarizer(model)
		if err != nil {
			return err
		}
		opts := summarize.RunOptions{Progress: s.Progress, Space: s.Space}
		// Resume the summary run an earlier attempt started with the same summarizer.
		runs, err := w.Store.SummaryRuns(ctx, s.RunID)
		if err != nil {
			return err
		}
		want := summarize.OfflineModel
		if model != "" {
			want = model
		}
		for _, r := range runs {
			if r.Model == want {
				opts.SummaryRunID, opts.Resume = r.SummaryRunID, true
				break
			}
		}
		res, err := summarize.Run(ctx, w.Store, s.RunID, sum, opts)
		if err != nil {
			return err
		}
		s.SummaryRunID = res.SummaryRun.SummaryRunID
		s.Note("summarize", "summary run %s (%s): %d summarised, %d failed, %d already done", s.SummaryRunID, res.SummaryRun.Model, res.Summarized, res.Failed, res.Skipped)
		return nil
	}
}

func (w *Workspace) mergeStage(a Analysis) func(context.Context, *lmsys.State) error {
	return func(ctx context.Context, s *lmsys.State) error {
		if s.HierarchyRunID == "" {
			ids, err := w.Store.Hierarchies(ctx, s.RunID)
			if err != nil {
				return err
			}
			if len(ids) > 0 {
				s.HierarchyRunID = ids[0]
				s.Note("merge", "reused hierarchy %s", ids[0])
				return nil
			}
		}
		opts := hierarchy.Options{TargetLevels: a.TargetLevels, MergeRatio: a.MergeRatio, SummaryRun: s.SummaryRunID,
			Embedder: w.Embedder, Progress: s.Progress, Seed: int64(a.Seed)}
		if model := a.summaryModel(); model != "" {
			c, err := llm.Open(model, llm.WithCache(w.Store.LLMCache()))
			if err != nil {
				return err
			}
			opts.LLM, opts.Model = c, model
		}
		res, err := hierarchy.Run(ctx, w.Store, s.RunID, opts)
		if err != nil {
			if errors.Is(err, lmsys.ErrEmpty) {
				s.Note("merge", "skipped: %v", err)
				return nil
			}
			return err
		}
		s.HierarchyRunID = res.Report.HierarchyRunID
		s.Note("merge", "hierarchy %s", s.HierarchyRunID)
		return nil
	}
}

// DemoSource returns the bundled demo set (a few hundred hand-written queries in
// several languages, with models, timestamps and topic labels) as a source loading
// into dataset "demo".
func DemoSource() dataset.Source {
	return &dataset.ReaderSource{Label: "demo", Format: dataset.FormatJSONL, Reader: bytes.NewReader(demo.JSONL()), Dataset: "demo"}
}
