package embed

import (
	"context"
	"errors"
	"fmt"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/internal/retry"
)

// BackfillStore is what Backfill needs of a Store; every lmsys.Store has it.
type BackfillStore interface {
	CountQueries(ctx context.Context, f lmsys.QueryFilter) (int64, error)
	ScanQueries(ctx context.Context, f lmsys.QueryFilter, batch int, fn func([]lmsys.Query) error) error
	CountMissingEmbeddings(ctx context.Context, space lmsys.Space, f lmsys.QueryFilter) (int64, error)
	GetEmbeddings(ctx context.Context, space lmsys.Space, hashes []string) (map[string][]float32, error)
	PutEmbeddings(ctx context.Context, space lmsys.Space, vectors map[string][]float32) error
}

// BackfillOptions tunes Backfill. The zero value is valid.
type BackfillOptions struct {
	// BatchSize is the number of queries read, embedded and stored at a time
	// (default 1024). Each batch is committed before the next is read, so an
	// interrupted backfill loses at most one batch of work.
	BatchSize int
	// Space, when set, is the space the caller expects (a run's, a flag's); an
	// embedder of another space is refused with lmsys.ErrSpaceMismatch.
	Space lmsys.Space
	// Progress receives Progress{Stage: "embed", Done, Total} after each batch: Done
	// queries of Total have been looked at (cached ones go fast).
	Progress lmsys.ProgressFunc
	// MaxFailedBatches is how many batches in a row may fail (after the embedder's
	// own retries) before Backfill stops (default 3).
	MaxFailedBatches int
}

// BackfillStats counts the queries a backfill saw; every query is in exactly one
// count.
type BackfillStats struct {
	// Embedded counts queries whose text was embedded by this backfill (one per
	// distinct text).
	Embedded int64 `json:"embedded"`
	// Cached counts queries whose text already had a vector in the space, stored
	// earlier or by an earlier query of the same batch.
	Cached int64 `json:"cached"`
	// Failed counts queries whose text the embedder could not embed.
	Failed int64 `json:"failed"`
}

// Backfill embeds the texts of the queries f selects that have no embedding in e's
// space and stores the vectors. It is resumable and idempotent: queries already
// embedded cost one lookup, a text shared by many queries is embedded once, and
// re-running after an interruption embeds only what is still missing.
//
// A batch the embedder fails on (after its retries) is counted in Failed and the
// backfill goes on; after MaxFailedBatches failed batches in a row it stops. When
// any query failed, the returned error wraps the last embedder error. Cancellation,
// store errors and vectors of the wrong dimension (lmsys.ErrSpaceMismatch) stop it at
// once. The stats are valid in every case.
func Backfill(ctx context.Context, store BackfillStore, e lmsys.Embedder, f lmsys.QueryFilter, opts BackfillOptions) (BackfillStats, error) {
	var st BackfillStats
	if c, ok := e.(*CachedEmbedder); ok {
		e = c.Unwrap() // Backfill does its own lookups
	}
	space := e.Space()
	if !opts.Space.IsZero() && opts.Space != space {
		return st, fmt.Errorf("%w: backfill asked for %s but the embedder is %s", lmsys.ErrSpaceMismatch, opts.Space, space)
	}
	if space.Dims <= 0 {
		return st, fmt.Errorf("%w: embedder %s has no dimension", lmsys.ErrInvalidInput, space)
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 1024
	}
	if opts.MaxFailedBatches <= 0 {
		opts.MaxFailedBatches = 3
	}
	total, err := store.CountQueries(ctx, f)
	if err != nil {
		return st, fmt.Errorf("embed: backfill: %w", err)
	}
	if f.Limit > 0 && int64(f.Limit) < total {
		total = int64(f.Limit)
	}
	missing, err := store.CountMissingEmbeddings(ctx, space, f)
	if err != nil {
		return st, fmt.Errorf("embed: backfill: %w", err)
	}
	if missing == 0 {
		st.Cached = total
		opts.Progress.Report("embed", total, total)
		return st, nil
	}
	b := &backfiller{ctx: ctx, store: store, e: e, space: space, opts: opts, st: &st, total: total}
	opts.Progress.Report("embed", 0, total)
	err = store.ScanQueries(ctx, f, opts.BatchSize, b.batch)
	if err != nil {
		if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
			err = fmt.Errorf("embed: backfill: %w", ctx.Err())
		}
		return st, err
	}
	if st.Failed > 0 {
		return st, fmt.Errorf("embed: backfill in %s: %d queries failed: %w", space, st.Failed, b.lastErr)
	}
	return st, nil
}

type backfiller struct {
	ctx       context.Context
	store     BackfillStore
	e         lmsys.Embedder
	space     lmsys.Space
	opts      BackfillOptions
	st        *BackfillStats
	total     int64
	done      int64
	failedRun int
	lastErr   error
}

// batch handles one page of queries (the slice is reused by the store after return).
func (b *backfiller) batch(qs []lmsys.Query) error {
	hashes := make([]string, len(qs))
	first := make(map[string]int, len(qs))
	unique := make([]string, 0, len(qs))
	for i, q := range qs {
		h := lmsys.TextHash(q.Text)
		hashes[i] = h
		if _, ok := first[h]; !ok {
			first[h] = i
			unique = append(unique, h)
		}
	}
	have, err := b.store.GetEmbeddings(b.ctx, b.space, unique)
	if err != nil {
		return fmt.Errorf("embed: backfill lookup: %w", err)
	}
	var texts, missHashes []string
	for _, h := range unique {
		if _, ok := have[h]; !ok {
			texts = append(texts, qs[first[h]].Text)
			missHashes = append(missHashes, h)
		}
	}
	fresh := map[string][]float32{}
	if len(texts) > 0 {
		var embedErr error
		fresh, embedErr = b.embed(texts, missHashes)
		if err := b.ctx.Err(); err != nil {
			return fmt.Errorf("embed: backfill: %w", err)
		}
		if errors.Is(embedErr, lmsys.ErrSpaceMismatch) {
			return embedErr
		}
		if len(fresh) > 0 {
			if err := b.store.PutEmbeddings(b.ctx, b.space, fresh); err != nil {
				return fmt.Errorf("embed: backfill store: %w", err)
			}
		}
		if embedErr != nil {
			b.lastErr = embedErr
			if len(fresh) == 0 {
				b.failedRun++
			}
		} else {
			b.failedRun = 0
		}
	}
	for i, h := range hashes {
		switch _, stored := have[h]; {
		case stored:
			b.st.Cached++
		case fresh[h] == nil:
			b.st.Failed++
		case first[h] == i:
			b.st.Embedded++
		default:
			b.st.Cached++
		}
	}
	b.done += int64(len(qs))
	b.opts.Progress.Report("embed", b.done, b.total)
	if b.failedRun >= b.opts.MaxFailedBatches {
		return fmt.Errorf("embed: backfill stopped after %d failed batches in a row: %w", b.failedRun, b.lastErr)
	}
	return nil
}

// embed embeds texts, returning the vectors it got by hash. When a batch is refused
// because of its content (lmsys.ErrInvalidInput, or HTTP 400, 413 or 422 from a
// provider: one empty or over-long text), it splits the batch in halves and retries
// them, so that only the offending texts fail.
func (b *backfiller) embed(texts, hashes []string) (map[string][]float32, error) {
	out := make(map[string][]float32, len(texts))
	err := b.embedSplit(texts, hashes, out)
	return out, err
}

func (b *backfiller) embedSplit(texts, hashes []string, out map[string][]float32) error {
	vecs, err := b.e.Embed(b.ctx, texts, lmsys.PurposeClustering)
	if err == nil {
		if err := checkVectors(b.space, vecs, len(texts)); err != nil {
			return err
		}
		for i, v := range vecs {
			out[hashes[i]] = v
		}
		return nil
	}
	if len(texts) == 1 || !refusedContent(err) || b.ctx.Err() != nil {
		return err
	}
	mid := len(texts) / 2
	errA := b.embedSplit(texts[:mid], hashes[:mid], out)
	if errors.Is(errA, lmsys.ErrSpaceMismatch) || b.ctx.Err() != nil {
		return errA
	}
	errB := b.embedSplit(texts[mid:], hashes[mid:], out)
	if errB != nil {
		return errB
	}
	return errA
}

// refusedContent reports whether err says the input itself was refused, so that a
// smaller batch may succeed.
func refusedContent(err error) bool {
	if errors.Is(err, lmsys.ErrInvalidInput) {
		return true
	}
	var re *retry.Error
	if errors.As(err, &re) {
		switch re.Status {
		case 400, 413, 422:
			return true
		}
	}
	return false
}
