package search

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/embed"
	"github.com/lmsys-go/lmsys/fulltext"
	"github.com/lmsys-go/lmsys/internal/snippet"
	"github.com/lmsys-go/lmsys/store"
)

// Collection kinds, the first part of a collection's name (lmsys.Space.Collection).
const (
	KindQueries   = "queries"
	KindSummaries = "cluster_summaries"
)

// EmbedderFunc returns the embedder of a space.
type EmbedderFunc func(lmsys.Space) (lmsys.Embedder, error)

// OpenEmbedder is the default EmbedderFunc: embed.Open(space.Name(),
// embed.WithDims(space.Dims)).
func OpenEmbedder(space lmsys.Space) (lmsys.Embedder, error) {
	return embed.Open(space.Name(), embed.WithDims(space.Dims))
}

// Options configures a Service.
type Options struct {
	// Embedder resolves the embedder of a run's space (default OpenEmbedder). The
	// result is cached per space.
	Embedder EmbedderFunc
	// Progress receives the progress of syncing the index.
	Progress lmsys.ProgressFunc
	// BatchSize is the number of vectors per index upsert while syncing (2000).
	BatchSize int
	// TextIndex answers full-text and hybrid searches of whole runs from an in-memory
	// BM25 index of every query's text (package fulltext) instead of the store's
	// full-text index: ~50× less CPU per search, for ~20 MB per 100,000 short queries and a
	// build on first use (see WarmTextIndex). For long-running servers; a one-shot
	// search is faster through the store.
	TextIndex bool
	// Background is for servers: a search whose run's vector index must first be
	// built or brought up to date starts that work in the background, waits for it at
	// most BuildWait, and then fails with a *BuildingError (wrapping ErrIndexBuilding)
	// that says how far the build has come, instead of holding the request for the
	// minutes a large run's build takes. Later searches of the run answer once the
	// build is done.
	Background bool
	// BuildWait bounds how long a search waits for a background build (0: not at all).
	BuildWait time.Duration
}

// ItemLister is implemented by indexes that can list a collection's ids and metadata
// (semantic.Index). Without it Verify can only compare counts, and Sync upserts
// instead of diffing.
type ItemLister interface {
	ListItems(ctx context.Context, collection string, fn func(id string, meta map[string]string) error) error
}

// dimser is implemented by indexes that report a collection's dimension.
type dimser interface {
	CollectionDims(ctx context.Context, collection string) (int, error)
}

type dropper interface {
	Drop(ctx context.Context, collection string) error
}

// reserver is implemented by indexes that can size a collection for the items about
// to be upserted into it (semantic.Index).
type reserver interface {
	Reserve(ctx context.Context, collection string, n int) error
}

type flusher interface {
	Flush(ctx context.Context) error
}

// Service searches the runs of one store through one vector index. It is safe for
// concurrent use.
type Service struct {
	db    *store.DB
	index lmsys.VectorIndex
	opts  Options

	mu        sync.Mutex
	embedders map[lmsys.Space]lmsys.Embedder
	fresh     map[string]bool       // runs checked against the store in this Service
	sizes     map[string]int        // queries per run, see runSize
	syncMu    sync.Mutex            // serialises syncs
	text      *fulltext.Index       // Options.TextIndex; guarded by mu
	textSync  sync.Mutex            // serialises text index syncs
	builds    map[string]*build     // background builds by run id; guarded by mu
	members   memberCache           // run memberships for CountText
	current   atomic.Pointer[build] // the build syncing now, fed by the progress reports
}

// New returns a Service over db and index.
func New(db *store.DB, index lmsys.VectorIndex, opts Options) *Service {
	if opts.Embedder == nil {
		opts.Embedder = OpenEmbedder
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 2000
	}
	s := &Service{db: db, index: index, opts: opts, embedders: map[lmsys.Space]lmsys.Embedder{}, fresh: map[string]bool{}, sizes: map[string]int{},
		text: fulltext.New(), builds: map[string]*build{}}
	if opts.Background {
		// Progress reports also tell the searches that wait how far the build is.
		user := opts.Progress
		s.opts.Progress = func(p lmsys.Progress) {
			if b := s.current.Load(); b != nil {
				b.report(p)
			}
			if user != nil {
				user(p)
			}
		}
	}
	return s
}

// Index returns the vector index the Service uses.
func (s *Service) Index() lmsys.VectorIndex { return s.index }

// embedder returns the (cached) embedder of space, checking that it keeps to it.
func (s *Service) embedder(space lmsys.Space) (lmsys.Embedder, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.embedders[space]; ok {
		return e, nil
	}
	e, err := s.opts.Embedder(space)
	if err != nil {
		return nil, fmt.Errorf("search: embedder of space %s: %w", space, err)
	}
	if got := e.Space(); got != space {
		return nil, fmt.Errorf("search: embedder for %s works in %s: %w", space, got, lmsys.ErrSpaceMismatch)
	}
	// Concurrent searches embed their texts in one call (see embed.Batched).
	e = embed.Batched(e, 64)
	s.embedders[space] = e
	return e, nil
}

// runSpace returns a run and its embedding space.
func (s *Service) runSpace(ctx context.Context, runID string) (lmsys.Run, error) {
	if strings.TrimSpace(runID) == "" {
		return lmsys.Run{}, fmt.Errorf("%w: a run id is required", lmsys.ErrInvalidInput)
	}
	run, err := s.db.GetRun(ctx, runID)
	if err != nil {
		return run, err
	}
	if run.Space.IsZero() || run.Space.Dims <= 0 {
		return run, fmt.Errorf("%w: run %q records no embedding space", lmsys.ErrInvalidInput, runID)
	}
	return run, nil
}

// embedText embeds one search text in space.
func (s *Service) embedText(ctx context.Context, space lmsys.Space, text string) ([]float32, error) {
	e, err := s.embedder(space)
	if err != nil {
		return nil, err
	}
	vs, err := e.Embed(ctx, []string{text}, lmsys.PurposeQuery)
	if err != nil {
		return nil, fmt.Errorf("search: embed %q: %w", snippet.Of(text, 40), err)
	}
	if len(vs) != 1 || len(vs[0]) != space.Dims {
		return nil, fmt.Errorf("search: embedder of %s returned a malformed vector: %w", space, lmsys.ErrSpaceMismatch)
	}
	return vs[0], nil
}

func checkText(text string) (string, error) {
	t := strings.TrimSpace(text)
	if t == "" {
		return "", fmt.Errorf("%w: search text is empty", lmsys.ErrInvalidInput)
	}
	if len(t) > 100_000 {
		return "", fmt.Errorf("%w: search text has %d bytes, at most 100000 are allowed", lmsys.ErrInvalidInput, len(t))
	}
	return t, nil
}

// Item ids.
func queryItemID(id int64) string { return "query_" + strconv.FormatInt(id, 10) }

func clusterItemID(runID string, cluster int) string {
	return "cluster_" + runID + "_" + strconv.Itoa(cluster)
}

func parseQueryItemID(id string) (int64, bool) {
	rest, ok := strings.CutPrefix(id, "query_")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(rest, 10, 64)
	return n, err == nil
}

// isNotFound reports a missing collection.
func isNotFound(err error) bool { return errors.Is(err, lmsys.ErrNotFound) }
