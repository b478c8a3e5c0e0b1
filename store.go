package lmsys

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"
	"unsafe"
)

// TextHash returns the key under which an embedding of text is cached: the first
// 16 bytes of its SHA-256, in hex. The text is hashed in place: converting it to a
// byte slice copied every text a load stores.
func TextHash(text string) string {
	h := sha256.Sum256(unsafe.Slice(unsafe.StringData(text), len(text))) // read only
	return hex.EncodeToString(h[:16])
}

// QueryFilter selects queries. Zero fields do not filter.
type QueryFilter struct {
	Dataset  string
	Model    string
	Language string
	// Contains keeps queries whose text contains this substring (case-insensitive).
	Contains string
	// RunID with ClusterID keeps the members of one cluster; RunID alone keeps the
	// queries assigned in that run.
	RunID     string
	ClusterID *int
	// IDs keeps only these query ids.
	IDs []int64
	// Label, "facet=value" (refusal=refused), keeps the queries the newest
	// classifier configuration of that facet gave that label.
	Label string
	// On names a text facet ("request": the LLM's one-sentence summary of the
	// conversation) that stands for each query instead of its first message: scans
	// return that text, embeddings are looked up by its hash, and queries without
	// it are left out. Empty means the query text. A clustering run records it, and
	// reading a run's vectors (RunID set, On empty) follows the run's choice.
	On string
	// AfterID keeps ids greater than this (keyset pagination).
	AfterID int64
	Limit   int
	Offset  int
}

// Count is one key with its number of queries, used by status and facets.
type Count struct {
	Key   string `json:"key"`
	Count int64  `json:"count"`
}

// Status describes what a store holds.
type Status struct {
	TotalQueries int64   `json:"total_queries"`
	Datasets     []Count `json:"datasets"`
	Languages    []Count `json:"languages"`
	Models       []Count `json:"models"`
	Runs         int64   `json:"clustering_runs"`
	Embeddings   []Count `json:"embeddings"`
}

// QueryStore holds datasets and queries.
type QueryStore interface {
	// EnsureDataset returns the dataset of that name, creating it when missing.
	EnsureDataset(ctx context.Context, d Dataset) (Dataset, error)
	// InsertQueries inserts queries whose (dataset, conversation id) is new and ignores
	// the others; it returns how many were inserted. It is one transaction.
	InsertQueries(ctx context.Context, qs []Query) (int, error)
	// GetQuery returns one query or an error wrapping ErrNotFound.
	GetQuery(ctx context.Context, id int64) (Query, error)
	// ListQueries returns the queries selected by f, in id order.
	ListQueries(ctx context.Context, f QueryFilter) ([]Query, error)
	// CountQueries counts the queries selected by f (Limit and Offset ignored).
	CountQueries(ctx context.Context, f QueryFilter) (int64, error)
	// ScanQueries streams the queries selected by f in id order, batch at a time.
	ScanQueries(ctx context.Context, f QueryFilter, batch int, fn func([]Query) error) error
	// Status summarises the store.
	Status(ctx context.Context) (Status, error)
	// Clear deletes every row of every table (the schema stays).
	Clear(ctx context.Context) error
}

// PreparedQueries is a batch of queries a QueryPreparer made ready to insert.
type PreparedQueries interface {
	// Len returns the number of queries in the batch.
	Len() int
}

// QueryPreparer is an optional extension of QueryStore for bulk loads: a loader
// prepares each batch (cleaning, hashing, encoding) on its own goroutine while the
// store writes the previous one, so the writing goroutine only writes.
type QueryPreparer interface {
	// PrepareQueries prepares qs for InsertPrepared, reusing the memory of reuse (a
	// batch this store prepared and no longer in use) when it is not nil. It may be
	// called from any goroutine.
	PrepareQueries(qs []Query, reuse PreparedQueries) PreparedQueries
	// InsertPrepared inserts batches this store prepared, as InsertQueries inserts
	// queries, and returns how many were inserted. It is one transaction for all of
	// them: a loader that falls behind hands over the batches it has queued at once.
	InsertPrepared(ctx context.Context, batches ...PreparedQueries) (int, error)
}

// EmbeddingStore caches embeddings keyed by (space, TextHash(text)).
type EmbeddingStore interface {
	// GetEmbeddings returns the cached vectors of the given hashes that exist.
	GetEmbeddings(ctx context.Context, space Space, hashes []string) (map[string][]float32, error)
	// PutEmbeddings stores vectors by hash, ignoring hashes already stored.
	PutEmbeddings(ctx context.Context, space Space, vectors map[string][]float32) error
	// ScanQueryVectors streams (query id, vector) pairs of the queries selected by f
	// that have an embedding in space, in id order, batch at a time. The slices passed
	// to fn are reused after it returns.
	ScanQueryVectors(ctx context.Context, space Space, f QueryFilter, batch int, fn func(ids []int64, vecs [][]float32) error) error
	// CountMissingEmbeddings counts queries selected by f without an embedding in space.
	CountMissingEmbeddings(ctx context.Context, space Space, f QueryFilter) (int64, error)
}

// RunStore holds clustering runs, their assignments and centroids.
type RunStore interface {
	CreateRun(ctx context.Context, r Run) error
	GetRun(ctx context.Context, id string) (Run, error)
	ListRuns(ctx context.Context) ([]Run, error)
	// FinishRun records the end of a run: status RunCompleted or RunFailed.
	FinishRun(ctx context.Context, id, status, errMsg string, numQueries int) error
	DeleteRun(ctx context.Context, id string) error
	// SaveAssignments inserts or replaces assignments, in batched transactions.
	SaveAssignments(ctx context.Context, as []Assignment) error
	// Assignments returns a run's assignments (of one cluster when clusterID is not nil).
	Assignments(ctx context.Context, runID string, clusterID *int) ([]Assignment, error)
	// ClusterSizes returns the number of queries per cluster id of a run.
	ClusterSizes(ctx context.Context, runID string) (map[int]int, error)
	SaveCentroids(ctx context.Context, runID string, centroids map[int][]float32) error
	Centroids(ctx context.Context, runID string) (map[int][]float32, error)
}

// SummaryRun describes one summarization pass over a run.
type SummaryRun struct {
	SummaryRunID string         `json:"summary_run_id"`
	RunID        string         `json:"run_id"`
	Alias        string         `json:"alias,omitempty"`
	Model        string         `json:"model"`
	PromptHash   string         `json:"prompt_hash,omitempty"`
	Parameters   map[string]any `json:"parameters,omitempty"`
	InputTokens  int64          `json:"input_tokens"`
	OutputTokens int64          `json:"output_tokens"`
	CostUSD      float64        `json:"estimated_cost_usd"`
	NumClusters  int            `json:"num_clusters"`
	NumFailed    int            `json:"num_failed"`
	CreatedAt    time.Time      `json:"created_at"`
}

// SummaryStore holds summary runs and their summaries.
type SummaryStore interface {
	SaveSummaryRun(ctx context.Context, r SummaryRun) error
	SummaryRuns(ctx context.Context, runID string) ([]SummaryRun, error)
	// SaveSummaries inserts or replaces summaries keyed by (summary run, cluster).
	SaveSummaries(ctx context.Context, ss []Summary) error
	// Summaries returns the summaries of a run. ref names a summary run by id or alias;
	// empty means the latest one. It fails with ErrNotFound when none exists.
	Summaries(ctx context.Context, runID, ref string) ([]Summary, error)
}

// HierarchyStore holds hierarchy runs.
type HierarchyStore interface {
	SaveHierarchy(ctx context.Context, nodes []HierarchyNode) error
	Hierarchy(ctx context.Context, hierarchyRunID string) ([]HierarchyNode, error)
	// Hierarchies lists hierarchy run ids, newest first; runID filters when not empty.
	Hierarchies(ctx context.Context, runID string) ([]string, error)
}

// Store is the system of record: every stage reads from and writes to it, through the
// role it needs. Loading writes QueryStore; embedding reads queries and caches vectors
// in EmbeddingStore; clustering writes runs, assignments and centroids to RunStore;
// naming writes SummaryStore; merging writes HierarchyStore. Search, curation and the
// web server read all of them, and the vector index is rebuilt from them. Stages take
// the narrowest role that serves them, so a test or another backend can supply just
// that role. The implementation is store.DB on SQLite or PostgreSQL.
type Store interface {
	QueryStore
	EmbeddingStore
	RunStore
	SummaryStore
	HierarchyStore
	Close() error
}
