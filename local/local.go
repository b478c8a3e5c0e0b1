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
	"strings"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/clustering"
	"github.com/lmsys-go/lmsys/dataset"
	"github.com/lmsys-go/lmsys/dataset/demo"
	"github.com/lmsys-go/lmsys/embed"
	"github.com/lmsys-go/lmsys/hierarchy"
	ownerpkg "github.com/lmsys-go/lmsys/internal/owner"
	"github.com/lmsys-go/lmsys/llm"
	"github.com/lmsys-go/lmsys/search"
	"github.com/lmsys-go/lmsys/semantic"
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
	// EmbeddingModel is a provider/model string (default embed.DefaultModel, local/use-lite-i8).
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
	// NoIndex skips the last stage, which builds (or brings up to date) the run's
	// on-disk vector index in IndexDir, so that the first search after the analysis
	// answers at once instead of building it.
	NoIndex bool
	// ExtraStages run after the index stage.
	ExtraStages []lmsys.Stage
	// Backfill, when set, replaces embed.Backfill in the embed stage
	// (distributed.Client.Backfill hands the embedding to workers).
	Backfill func(ctx context.Context, st *store.DB, e lmsys.Embedder, f lmsys.QueryFilter, opts embed.BackfillOptions) (embed.BackfillStats, error)
	// SummarizeRun, when set, replaces summarize.Run in the summarize stage
	// (distributed.Client.SummarizeRun hands LLM summaries to workers).
	SummarizeRun func(ctx context.Context, st lmsys.Store, runID string, s lmsys.Summarizer, opts summarize.RunOptions) (summarize.Result, error)
}

// clusterAlgorithm names, with every parameter that decides its result, the k-means
// configuration the cluster stage runs; it is part of the stage's reuse key, so a
// change here makes the next analysis cluster again instead of reusing a run.
const clusterAlgorithm = "kmeans spherical ninit=3 train=256k refine=1 minibatch>200000"

// clusterKey fingerprints everything that decides the clustering run: the embedding
// space, the dataset and the queries it holds (count and id range) with how many of
// them have a vector, K, the seed and the algorithm.
func (a Analysis) clusterKey(space lmsys.Space, dataset string, n, minID, maxID, missing int64) string {
	return fingerprint(fmt.Sprintf("cluster|%s|%s|%d|%d-%d|%d|k=%d|seed=%d|%s", space, dataset, n, minID, maxID, missing, a.K, a.Seed, clusterAlgorithm))
}

func fingerprint(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:8])
}

// owner identifies this process in the runs it starts (see package owner).
func owner() string { return ownerpkg.Self() }

// ownerGone reports whether the process an owner string names is on this host and no
// longer alive.
func ownerGone(o string) bool { return ownerpkg.Gone(o) }

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
		lmsys.StageFunc{StageName: "embed", Fn: w.embedStage(a)},
		lmsys.StageFunc{StageName: "cluster", Fn: w.clusterStage(a)},
		lmsys.StageFunc{StageName: "summarize", Fn: w.summarizeStage(a)},
		lmsys.StageFunc{StageName: "merge", Fn: w.mergeStage(a)},
	}
	if !a.NoIndex {
		stages = append(stages, lmsys.StageFunc{StageName: "index", Fn: w.indexStage()})
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

func (w *Workspace) embedStage(a Analysis) func(context.Context, *lmsys.State) error {
	backfill := a.Backfill
	if backfill == nil {
		backfill = func(ctx context.Context, st *store.DB, e lmsys.Embedder, f lmsys.QueryFilter, opts embed.BackfillOptions) (embed.BackfillStats, error) {
			return embed.Backfill(ctx, st, e, f, opts)
		}
	}
	return func(ctx context.Context, s *lmsys.State) error {
		opts := embed.BackfillOptions{Progress: s.Progress}
		if w.Embedder.Space().Provider == "local" {
			// Offline embedders lose nothing but seconds to an interruption, so commit
			// 4096 vectors at a time: each commit rewrites the index pages it touched,
			// and larger batches touch each page fewer times (storing 200k vectors: 3.9
			// → 2.9 CPU-s).
			opts.BatchSize = 4096
		}
		st, err := backfill(ctx, w.Store, w.Embedder, w.filter(s), opts)
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
		if s.RunID != "" {
			r, err := w.Store.GetRun(ctx, s.RunID)
			if err != nil {
				return err
			}
			s.Note("cluster", "given run %s (%d clusters)", r.ID, r.NumClusters)
			return nil
		}
		n, minID, maxID, err := w.Store.QueryRange(ctx, f)
		if err != nil {
			return err
		}
		missing, err := w.Store.CountMissingEmbeddings(ctx, s.Space, f)
		if err != nil {
			return err
		}
		key := a.clusterKey(s.Space, s.Dataset, n, minID, maxID, missing)
		runs, err := w.Store.ListRuns(ctx)
		if err != nil {
			return err
		}
		why := "" // why a finished run of an earlier analysis is not reused
		for _, r := range runs {
			if r.Parameters["pipeline"] != "analyze" || r.Space != s.Space || r.Parameters["dataset"] != s.Dataset {
				continue
			}
			switch {
			case r.Status == lmsys.RunRunning && ownerGone(fmt.Sprint(r.Parameters["owner"])):
				// Killed mid-stage: its assignments are partial.
				if err := w.Store.ClearAssignments(ctx, r.ID); err != nil {
					return err
				}
				if err := w.Store.FinishRun(ctx, r.ID, lmsys.RunFailed, "interrupted: the process running it stopped before it finished", 0); err != nil {
					return err
				}
			case r.Status == lmsys.RunCompleted && r.Parameters["pipeline_key"] == key:
				s.RunID = r.ID
				s.Note("cluster", "reused run %s (%d clusters)", r.ID, r.NumClusters)
				return nil
			case r.Status == lmsys.RunCompleted && why == "":
				why = changedRun(r, n, a)
			}
		}
		if why == "" {
			why = "first clustering of these queries"
		}
		k := a.K
		if k <= 0 {
			k = 50
		}
		k = max(2, min(k, int(n/10)))
		params := map[string]any{"pipeline": "analyze", "pipeline_key": key, "owner": owner(), "dataset": s.Dataset,
			"dataset_queries": n, "requested_clusters": a.K, "n_clusters": k, "seed": a.Seed, "spherical": true}
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
		s.Note("cluster", "run %s: %d clusters over %d queries (new: %s)", run.ID, run.NumClusters, run.NumQueries, why)
		return nil
	}
}

// changedRun says why a finished run of an earlier analysis of the same dataset and
// space is not reused.
func changedRun(r lmsys.Run, n int64, a Analysis) string {
	was, _ := r.Parameters["dataset_queries"].(float64)
	switch {
	case int64(was) != n:
		return fmt.Sprintf("the dataset has %d queries, run %s covered %d", n, r.ID, int64(was))
	case fmt.Sprint(r.Parameters["requested_clusters"]) != fmt.Sprint(a.K) || fmt.Sprint(r.Parameters["seed"]) != fmt.Sprint(a.Seed):
		return fmt.Sprintf("--n-clusters or --seed differ from run %s", r.ID)
	default:
		return fmt.Sprintf("the queries, their embeddings or the algorithm changed since run %s", r.ID)
	}
}

// IndexDir is where the workspace keeps its vector index: the "index" directory beside
// the SQLite database (the default of `lmsys serve`, `search` and `verify`).
func (w *Workspace) IndexDir() string { return filepath.Join(w.Dir, "index") }

func (w *Workspace) indexStage() func(context.Context, *lmsys.State) error {
	return func(ctx context.Context, s *lmsys.State) error {
		idx, err := semantic.OpenIndex(ctx, semantic.IndexOptions{Dir: w.IndexDir()})
		if err != nil {
			return err
		}
		rep, err := search.New(w.Store, idx, search.Options{Progress: s.Progress}).Sync(ctx, s.RunID)
		if err != nil {
			return err
		}
		var done []string
		for _, c := range rep.Collections {
			done = append(done, fmt.Sprintf("%d %s", c.StoreCount, c.Kind))
		}
		s.Note("index", "%s in %s", strings.Join(done, ", "), w.IndexDir())
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
		hash := ""
		if d, ok := sum.(summarize.Described); ok {
			hash = d.PromptHash()
		}
		key := fingerprint(fmt.Sprintf("summarize|%s|%s|%s", s.RunID, want, hash))
		opts.Params = map[string]any{"pipeline_key": key}
		why := "first summary run of " + s.RunID
		for _, r := range runs {
			if r.Parameters["pipeline_key"] == key {
				opts.SummaryRunID, opts.Resume = r.SummaryRunID, true
				why = ""
				break
			}
			if r.Model != want {
				why = fmt.Sprintf("model %s, summary run %s used %s", want, r.SummaryRunID, r.Model)
			} else {
				why = fmt.Sprintf("the prompt changed since summary run %s", r.SummaryRunID)
			}
		}
		run := summarize.Run
		if a.SummarizeRun != nil {
			run = a.SummarizeRun
		}
		res, err := run(ctx, w.Store, s.RunID, sum, opts)
		if err != nil {
			return err
		}
		s.SummaryRunID = res.SummaryRun.SummaryRunID
		if why != "" {
			why = " (new: " + why + ")"
		}
		s.Note("summarize", "summary run %s (%s): %d summarised, %d failed, %d already done%s", s.SummaryRunID, res.SummaryRun.Model, res.Summarized, res.Failed, res.Skipped, why)
		return nil
	}
}

func (w *Workspace) mergeStage(a Analysis) func(context.Context, *lmsys.State) error {
	return func(ctx context.Context, s *lmsys.State) error {
		levels, ratio := a.TargetLevels, a.MergeRatio
		if levels <= 0 {
			levels = 3
		}
		if ratio <= 0 {
			ratio = 0.2
		}
		method := a.summaryModel()
		if method == "" {
			method = "offline"
		}
		key := fingerprint(fmt.Sprintf("merge|%s|%s|%d|%g|%s|%d|%s", s.RunID, s.SummaryRunID, levels, ratio, method, a.Seed, w.Embedder.Space()))
		why := "first hierarchy of " + s.RunID
		if s.HierarchyRunID == "" {
			ids, err := w.Store.Hierarchies(ctx, s.RunID)
			if err != nil {
				return err
			}
			for i, id := range ids {
				h, err := w.Store.HierarchyRun(ctx, id)
				if errors.Is(err, lmsys.ErrNotFound) {
					continue // a hierarchy without a record (the Python tool's) is never reused
				} else if err != nil {
					return err
				}
				if h.Parameters["pipeline_key"] == key {
					s.HierarchyRunID = id
					s.Note("merge", "reused hierarchy %s", id)
					return nil
				}
				if i == 0 {
					why = fmt.Sprintf("hierarchy %s was built with other settings (levels %v, merge ratio %v, %s)",
						id, h.Parameters["target_levels"], h.Parameters["merge_ratio"], h.Method+modelSuffix(h.Model))
				}
			}
		}
		opts := hierarchy.Options{TargetLevels: levels, MergeRatio: ratio, SummaryRun: s.SummaryRunID,
			Embedder: w.Embedder, Progress: s.Progress, Seed: int64(a.Seed), Parameters: map[string]any{"pipeline_key": key}}
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
		s.Note("merge", "hierarchy %s (new: %s)", s.HierarchyRunID, why)
		return nil
	}
}

func modelSuffix(m string) string {
	if m == "" {
		return ""
	}
	return " " + m
}

// DemoSource returns the bundled demo set (a few hundred hand-written queries in
// several languages, with models, timestamps and topic labels) as a source loading
// into dataset "demo".
func DemoSource() dataset.Source {
	return &dataset.ReaderSource{Label: "demo", Format: dataset.FormatJSONL, Reader: bytes.NewReader(demo.JSONL()), Dataset: "demo"}
}
