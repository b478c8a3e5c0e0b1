// Package lmsys finds out how users use an LLM system from its conversation logs.
//
// It loads logs, embeds every first user query, clusters the vectors, names each
// cluster, organises clusters into a multi-level taxonomy (the way Anthropic's Clio
// does), searches them semantically, lets people curate them by hand with a full audit
// trail, and exports or serves the result.
//
// The data flows through the stages like this; every arrow into or out of the Store
// is a call on one of its role interfaces:
//
//	JSONL / Parquet / Hugging Face rows
//	           │ dataset.Load
//	           ▼
//	┌──────── Store (store: SQLite or PostgreSQL) ────────────────────────────┐
//	│ queries ─► embeddings ─► runs + assignments ─► summaries ─► hierarchies │
//	└───┬────────────▲─────────────▲──────────────────▲────────────▲─────────┘
//	    │ texts      │ vectors     │ Partition        │ Summary    │ nodes
//	    ▼            │             │                  │            │
//	 Embedder ───────┴──► Clusterer ──► (labels) ──► Summarizer ──► hierarchy.Run
//	 (embed/…)            (clustering)               (summarize)    (hierarchy)
//	    │ vectors of queries and summaries
//	    ▼
//	VectorIndex (semantic) ◄── search.Service ──► web (REST API + viewer)
//	                                 ▲                   │
//	                                 └── curation edits ◄┘ (audit trail, undo)
//
// The root package holds the domain types, the small interfaces every stage is written
// against (Embedder, Clusterer, Summarizer, VectorIndex and the Store role interfaces),
// the sentinel errors, and Pipeline, which runs the stages over those interfaces. It
// imports no subpackage: implementations live in store/, dataset/, embed/,
// clustering/, summarize/, hierarchy/, semantic/, curation/ and web/; package local
// wires the offline defaults into a ready Pipeline.
package lmsys

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Query is the first user message of one conversation, the unit everything counts.
type Query struct {
	ID             int64          `json:"id"`
	DatasetID      int64          `json:"dataset_id,omitempty"`
	ConversationID string         `json:"conversation_id"`
	Model          string         `json:"model,omitempty"`
	Text           string         `json:"query_text"`
	Language       string         `json:"language,omitempty"`
	Timestamp      *time.Time     `json:"timestamp,omitempty"`
	Metadata       map[string]any `json:"extra_metadata,omitempty"`
	CreatedAt      time.Time      `json:"created_at"`
	// Conversation holds every turn of the chat the query came from, when the source
	// row was a chat; stores write it beside the query and fill it only where a
	// caller asks for conversations. ConversationCut says why it was shortened.
	Conversation    []Message `json:"conversation,omitempty"`
	ConversationCut string    `json:"conversation_cut,omitempty"`
}

// Dataset is a named source of queries (LMSYS-Chat-1M, a company's support logs …).
type Dataset struct {
	ID          int64     `json:"id"`
	Name        string    `json:"name"`
	Source      string    `json:"source"`
	Description string    `json:"description,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
}

// Space names one embedding space: vectors from different spaces are never compared.
type Space struct {
	Provider string `json:"provider"`
	Model    string `json:"model"`
	Dims     int    `json:"dimension"`
}

// String returns "provider/model@dims", the form stored on runs and embeddings.
func (s Space) String() string {
	return fmt.Sprintf("%s/%s@%d", s.Provider, s.Model, s.Dims)
}

// Name returns the model string "provider/model" that resolvers accept.
func (s Space) Name() string { return s.Provider + "/" + s.Model }

// IsZero reports whether the space is unset.
func (s Space) IsZero() bool { return s.Provider == "" && s.Model == "" && s.Dims == 0 }

// Collection returns the vector-index collection name for kind ("queries" or
// "cluster_summaries") in this space, as the seed tool names its Chroma collections:
// kind_provider_model_dims with characters outside [A-Za-z0-9_-] replaced by '-'.
func (s Space) Collection(kind string) string {
	clean := func(x string) string {
		return strings.Map(func(r rune) rune {
			switch {
			case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-':
				return r
			}
			return '-'
		}, x)
	}
	return fmt.Sprintf("%s_%s_%s_%d", kind, clean(s.Provider), clean(s.Model), s.Dims)
}

// ParseSpace parses the String form "provider/model@dims".
func ParseSpace(v string) (Space, error) {
	at := strings.LastIndexByte(v, '@')
	slash := strings.IndexByte(v, '/')
	if at < 0 || slash < 0 || slash > at {
		return Space{}, fmt.Errorf("%w: embedding space %q is not provider/model@dims", ErrInvalidInput, v)
	}
	var dims int
	if _, err := fmt.Sscanf(v[at+1:], "%d", &dims); err != nil || dims <= 0 {
		return Space{}, fmt.Errorf("%w: embedding space %q has no positive dimension", ErrInvalidInput, v)
	}
	return Space{Provider: v[:slash], Model: v[slash+1 : at], Dims: dims}, nil
}

// Purpose tells an embedder what its vectors are for; some providers embed documents,
// search queries and clustering inputs differently.
type Purpose int

// The purposes an Embedder is asked for.
const (
	PurposeClustering Purpose = iota
	PurposeDocument
	PurposeQuery
)

// String returns the purpose's lower-case name.
func (p Purpose) String() string {
	switch p {
	case PurposeDocument:
		return "document"
	case PurposeQuery:
		return "query"
	default:
		return "clustering"
	}
}

// Embedder turns texts into vectors of one Space. Implementations return exactly one
// vector of Space().Dims floats per text, in order, and are safe for concurrent use.
//
// It is the first stage after loading: the pipeline embeds every query for
// clustering (PurposeClustering), search embeds the text asked for (PurposeQuery), and
// the vectors are cached in the Store's EmbeddingStore under their Space, so a
// Space names one vector space for good (provider, model, dimension). Implementations:
// embed/uselite (offline, the default), embed/lexical, embed/cohere, embed/openai,
// embed/ollama; embed.Open turns a "provider/model" string into one.
type Embedder interface {
	Space() Space
	Embed(ctx context.Context, texts []string, p Purpose) ([][]float32, error)
}

// Partition is a clusterer's answer for n vectors.
type Partition struct {
	// Labels holds one cluster id per vector; -1 marks noise.
	Labels []int
	// Confidence holds one value in [0, 1] per vector: how surely it belongs to its cluster.
	Confidence []float32
	// Centroids holds one vector per cluster id (index = cluster id).
	Centroids [][]float32
	// Outlier optionally holds an outlier score per vector (GLOSH for HDBSCAN).
	Outlier []float32
}

// K returns the number of clusters (noise excluded).
func (p Partition) K() int {
	k := len(p.Centroids)
	for _, l := range p.Labels {
		if l+1 > k {
			k = l + 1
		}
	}
	return k
}

// Clusterer groups vectors: it receives the vectors of a run's queries, in the order
// the pipeline read them, and returns a Partition with one label per vector (-1 for
// noise) and one centroid per cluster. The pipeline stores the labels as the run's
// assignments and the centroids beside them; summaries, the hierarchy, search and
// curation all work on those stored clusters, never on the Clusterer again.
// Implementations: clustering.KMeans and clustering.HDBSCAN; clustering.MiniBatch is
// the streaming form for runs too large to hold in memory.
type Clusterer interface {
	Cluster(ctx context.Context, vectors [][]float32) (Partition, error)
}

// Run status values.
const (
	RunRunning   = "running"
	RunCompleted = "completed"
	RunFailed    = "failed"
)

// Run is one clustering experiment.
type Run struct {
	ID          string         `json:"run_id"`
	Algorithm   string         `json:"algorithm"`
	NumClusters int            `json:"num_clusters"`
	Parameters  map[string]any `json:"parameters"`
	Description string         `json:"description,omitempty"`
	Space       Space          `json:"embedding_space"`
	Status      string         `json:"status"`
	NumQueries  int            `json:"num_queries"`
	Error       string         `json:"error,omitempty"`
	CreatedAt   time.Time      `json:"created_at"`
	FinishedAt  *time.Time     `json:"finished_at,omitempty"`
}

// NewRunID returns an id in the seed's format: algorithm-k-YYYYMMDD-HHMMSS.
func NewRunID(algorithm string, k int, t time.Time) string {
	return fmt.Sprintf("%s-%d-%s", algorithm, k, t.UTC().Format("20060102-150405"))
}

// Assignment places one query in one cluster of a run.
type Assignment struct {
	RunID      string  `json:"run_id"`
	QueryID    int64   `json:"query_id"`
	ClusterID  int     `json:"cluster_id"`
	Confidence float64 `json:"confidence_score"`
	// Late marks a query assigned after the run by `assign`, not by the clustering itself.
	Late bool `json:"late,omitempty"`
}

// ClusterInput is what a Summarizer sees of one cluster.
type ClusterInput struct {
	ClusterID int
	Size      int
	// Queries are distinct sample texts, nearest the centroid first.
	Queries []string
	// Contrast holds example texts from the nearest other clusters.
	Contrast []string
	// Languages and Models count the cluster's queries by those fields.
	Languages map[string]int
	Models    map[string]int
}

// Summary names one cluster in one summary run.
type Summary struct {
	RunID                 string         `json:"run_id"`
	ClusterID             int            `json:"cluster_id"`
	SummaryRunID          string         `json:"summary_run_id"`
	Alias                 string         `json:"alias,omitempty"`
	Title                 string         `json:"title"`
	Description           string         `json:"description"`
	Summary               string         `json:"summary,omitempty"`
	NumQueries            int            `json:"num_queries"`
	RepresentativeQueries []string       `json:"representative_queries"`
	Keywords              []string       `json:"keywords,omitempty"`
	Coherence             int            `json:"coherence,omitempty"`
	Mixed                 bool           `json:"mixed,omitempty"`
	Model                 string         `json:"model"`
	Parameters            map[string]any `json:"parameters,omitempty"`
	// Error is set when the summarizer gave up on this cluster; Title is then empty.
	Error       string    `json:"error,omitempty"`
	GeneratedAt time.Time `json:"generated_at"`
}

// Summarizer names clusters. It receives every cluster of a run at once so it can
// contrast them and spread the work; it returns one Summary per input, in order
// (RunID, SummaryRunID and Alias are filled in by the caller).
//
// It is the stage after clustering: summarize.Prepare builds the ClusterInputs from a
// stored run (sizes, centroids, sample and representative queries, nearest
// neighbours), and summarize.Run records the summaries as one summary run in the
// Store's SummaryStore, where the hierarchy merge, cluster search and the viewer read
// them. Implementations: summarize.Offline (phrase titles, no network) and
// summarize.LLM (any chat model through package llm).
type Summarizer interface {
	Summarize(ctx context.Context, clusters []ClusterInput) ([]Summary, error)
}

// HierarchyNode is one node of a cluster taxonomy. Level 0 nodes are the run's clusters.
type HierarchyNode struct {
	HierarchyRunID  string    `json:"hierarchy_run_id"`
	RunID           string    `json:"run_id"`
	ClusterID       int       `json:"cluster_id"`
	ParentClusterID *int      `json:"parent_cluster_id"`
	Level           int       `json:"level"`
	ChildrenIDs     []int     `json:"children_ids"`
	Title           string    `json:"title"`
	Description     string    `json:"description"`
	NumQueries      int       `json:"num_queries"`
	CreatedAt       time.Time `json:"created_at"`
}

// HierarchyRun records how one hierarchy was built: the method (offline or an LLM
// method), the model, the parameters, and a report of counts per level.
type HierarchyRun struct {
	HierarchyRunID string         `json:"hierarchy_run_id"`
	RunID          string         `json:"run_id"`
	Method         string         `json:"method"`
	Model          string         `json:"model,omitempty"`
	Parameters     map[string]any `json:"parameters,omitempty"`
	Report         map[string]any `json:"report,omitempty"`
	CreatedAt      time.Time      `json:"created_at"`
}

// NewHierarchyRunID returns an id in the seed's format: hier-<run_id>-YYYYMMDD-HHMMSS.
func NewHierarchyRunID(runID string, t time.Time) string {
	return fmt.Sprintf("hier-%s-%s", runID, t.UTC().Format("20060102-150405"))
}

// NewSummaryRunID returns an id in the seed's format: summary-<model>-YYYYMMDD-HHMMSS,
// with the provider prefix and characters other than letters, digits, '.', '_' and
// '-' removed from the model.
func NewSummaryRunID(model string, t time.Time) string {
	if i := strings.LastIndexByte(model, '/'); i >= 0 {
		model = model[i+1:]
	}
	model = strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			return r
		}
		return -1
	}, model)
	return fmt.Sprintf("summary-%s-%s", model, t.UTC().Format("20060102-150405"))
}

// Edit is one audited change made by hand to a run.
type Edit struct {
	ID        int64          `json:"id"`
	RunID     string         `json:"run_id"`
	ClusterID *int           `json:"cluster_id,omitempty"`
	EditType  string         `json:"edit_type"`
	Editor    string         `json:"editor"`
	OldValue  map[string]any `json:"old_value,omitempty"`
	NewValue  map[string]any `json:"new_value,omitempty"`
	Reason    string         `json:"reason,omitempty"`
	CreatedAt time.Time      `json:"timestamp"`
}

// ClusterMetadata holds the hand-made annotations of one cluster.
type ClusterMetadata struct {
	RunID     string    `json:"run_id"`
	ClusterID int       `json:"cluster_id"`
	Coherence *int      `json:"coherence_score,omitempty"`
	Quality   string    `json:"quality,omitempty"`
	Flags     []string  `json:"flags,omitempty"`
	Notes     string    `json:"notes,omitempty"`
	UpdatedAt time.Time `json:"last_edited,omitzero"` // left out when the cluster was never annotated
}

// OrphanedQuery is a query taken out of its cluster (by a delete) and not yet placed.
type OrphanedQuery struct {
	ID                int64     `json:"id"`
	RunID             string    `json:"run_id"`
	QueryID           int64     `json:"query_id"`
	OriginalClusterID *int      `json:"original_cluster_id,omitempty"`
	Reason            string    `json:"reason,omitempty"`
	OrphanedAt        time.Time `json:"orphaned_at"`
}

// Vector is one item of a vector index collection.
type Vector struct {
	ID       string            `json:"id"`
	Values   []float32         `json:"-"`
	Metadata map[string]string `json:"metadata,omitempty"`
	Document string            `json:"document,omitempty"`
}

// Hit is one search result. Distance is the cosine distance 1 − cos for normalised
// vectors (smaller is closer), the convention the seed's JSON shapes use.
type Hit struct {
	ID       string            `json:"id"`
	Distance float32           `json:"distance"`
	Metadata map[string]string `json:"metadata,omitempty"`
	Document string            `json:"document,omitempty"`
}

// Filter restricts a vector search. The zero Filter matches everything.
type Filter struct {
	// IDs, when non-nil, limits results to these item ids.
	IDs []string
	// Where requires each listed metadata key to equal the given value.
	Where map[string]string
}

// VectorIndex stores vectors in named collections and finds the nearest ones. Search
// returns up to k hits ordered by cosine distance 1 − cos, restricted by Filter (ids or
// metadata equality); Upsert replaces items with the same id.
//
// The index is derived data: the Store is the system of record, and search.Service
// fills one collection per Space and kind (queries, cluster summaries) from it,
// verifies the two agree and re-syncs when they do not. Implementations:
// semantic.HNSW, semantic.Exact and the on-disk semantic.OpenIndex; semantic.Chroma
// speaks to a Chroma server.
type VectorIndex interface {
	Upsert(ctx context.Context, collection string, items []Vector) error
	Search(ctx context.Context, collection string, q []float32, k int, f Filter) ([]Hit, error)
	Delete(ctx context.Context, collection string, ids []string) error
	Count(ctx context.Context, collection string) (int, error)
}

// Progress reports how far a long job is. Total is 0 when unknown.
type Progress struct {
	Stage string
	Done  int64
	Total int64
	Note  string
}

// ProgressFunc receives progress reports. A nil ProgressFunc is valid and ignored.
type ProgressFunc func(Progress)

// Report calls f when it is not nil.
func (f ProgressFunc) Report(stage string, done, total int64) {
	if f != nil {
		f(Progress{Stage: stage, Done: done, Total: total})
	}
}
