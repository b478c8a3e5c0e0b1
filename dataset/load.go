package dataset

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/sync/semaphore"

	"github.com/lmsys-go/lmsys"
)

// groupRows is the most rows of prepared batches Load writes in one transaction.
const groupRows = 25_000

// inflightText bounds the text (query texts and conversation contents) of the
// batches Load has read but not yet written, queued or being written, beyond the
// first of them (a batch of more text than this takes the whole budget). It is what holds memory during a load: 25,000 rows of ~600
// characters of plain text fit, the five batches of 5,000 rows queued behind the
// writer and as many in its transaction, while chat rows, with more than twice the
// text, queue fewer batches (300k generated chats: 222–238 MB RSS instead of
// 328–347, at the same speed).
var inflightText int64 = 32 << 20 // a variable for tests

// DefaultBatchSize is the number of queries Load hands to the store at a time.
const DefaultBatchSize = 5000

// LoadOptions configure Load.
type LoadOptions struct {
	// DatasetName is the dataset the queries load under; empty means the source's
	// DatasetName.
	DatasetName string
	// Description is stored on the dataset when Load creates it.
	Description string
	// BatchSize is the number of queries per batch, each one InsertQueries call (one
	// transaction), or, for a lmsys.QueryPreparer, prepared at once; the batches that
	// queue up behind a preparer's writer are written together, in one transaction of
	// up to 25,000 queries. 0 means DefaultBatchSize.
	BatchSize int
	// Limit stops after this many usable queries (skipped rows do not count); 0 means
	// no limit.
	Limit int64
	// Strict stops at the first bad row with an error naming its file and line,
	// instead of counting and skipping it.
	Strict bool
	// Progress receives a report after every batch (stage "load").
	Progress lmsys.ProgressFunc
}

// LoadStats describes a finished (or interrupted) load.
type LoadStats struct {
	Dataset string `json:"dataset"`
	Source  string `json:"source"`
	// Rows counts the rows read, bad ones included.
	Rows int64 `json:"rows_read"`
	// Queries counts the usable rows handed to the store.
	Queries int64 `json:"queries"`
	// Inserted counts the queries that were new; Existing the ones already stored
	// (same dataset and conversation id), so loading a source twice inserts nothing
	// the second time.
	Inserted int64 `json:"inserted"`
	Existing int64 `json:"already_loaded"`
	// Skipped counts skipped rows per reason (the Reason constants).
	Skipped map[string]int64 `json:"skipped"`
	// Repaired counts texts whose invalid UTF-8 or NUL bytes were replaced.
	Repaired int64 `json:"repaired_text"`
	// DerivedIDs counts rows without an id that got a derived one.
	DerivedIDs int64 `json:"derived_ids"`
	// CutConversations counts the chats stored shortened, per reason (CutTooManyTurns,
	// CutTooLong); their query text is whole.
	CutConversations map[string]int64 `json:"cut_conversations,omitempty"`
	Seconds          float64          `json:"seconds"`
}

// SkippedTotal returns the number of skipped rows over all reasons.
func (s LoadStats) SkippedTotal() int64 {
	var n int64
	for _, c := range s.Skipped {
		n += c
	}
	return n
}

// totaler is implemented by sources that know their row count up front.
type totaler interface {
	Total(ctx context.Context) (int64, error)
}

// idDeriver gives rows without an id a deterministic one: the hex of the first 16
// bytes of SHA-256(dataset NUL text NUL n), where n counts earlier id-less rows of the
// same dataset with the same text in this source. Loading the same file again derives
// the same ids, so reloads stay idempotent, while repeated texts ("hi") remain
// separate queries.
type idDeriver struct {
	seen map[uint64]uint32
	buf  []byte
}

func (d *idDeriver) derive(dataset, text string) string {
	if d.seen == nil {
		d.seen = map[uint64]uint32{}
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte(dataset))
	_, _ = h.Write([]byte{0})
	_, _ = h.Write([]byte(text))
	key := h.Sum64()
	n := d.seen[key]
	d.seen[key] = n + 1
	d.buf = append(d.buf[:0], dataset...)
	d.buf = append(d.buf, 0)
	d.buf = append(d.buf, text...)
	d.buf = append(d.buf, 0)
	d.buf = strconv.AppendUint(d.buf, uint64(n), 10)
	sum := sha256.Sum256(d.buf)
	return hex.EncodeToString(sum[:16])
}

// DeriveID returns the id Load gives the first id-less row with this text in
// dataset (see Load).
func DeriveID(dataset, text string) string {
	var d idDeriver
	return d.derive(dataset, text)
}

// cleanText repairs invalid UTF-8 (each bad sequence becomes U+FFFD) and removes NUL
// bytes, which PostgreSQL cannot store. It reports whether anything changed.
func cleanText(s string) (string, bool) {
	changed := false
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
		changed = true
	}
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "")
		changed = true
	}
	return s, changed
}

func cleanField(s string) string {
	s, _ = cleanText(s)
	return strings.TrimSpace(s)
}

// Load streams the records of src into st.
//
// It creates the dataset (opts.DatasetName, else src.DatasetName()) when missing, once
// the first usable row is read, and inserts queries in batches of opts.BatchSize (see LoadOptions). Reading
// and writing overlap: rows are parsed while the previous batch is written. Load is
// idempotent: the store ignores queries whose (dataset, conversation id) exists, and
// a row without an id gets a deterministic one (see DeriveID), so loading a source
// twice inserts nothing new, and a load interrupted at any point and run again ends
// with exactly the rows of one complete load.
//
// Rows whose text is empty or white space only are skipped, as are bad rows
// (RowError) unless opts.Strict is set, in which case Load stops at the first one
// with an error naming its file and line. Invalid UTF-8 in texts is repaired, and
// the full text is kept. The returned stats are valid even when Load fails.
func Load(ctx context.Context, src Source, st lmsys.QueryStore, opts LoadOptions) (stats LoadStats, err error) {
	start := time.Now()
	name := opts.DatasetName
	if name == "" {
		name = src.DatasetName()
	}
	stats = LoadStats{Dataset: name, Source: src.Name(), Skipped: map[string]int64{}}
	defer func() { stats.Seconds = time.Since(start).Seconds() }()
	name = cleanField(name)
	if name == "" {
		return stats, fmt.Errorf("%w: empty dataset name", lmsys.ErrInvalidInput)
	}
	batchSize := opts.BatchSize
	if batchSize <= 0 {
		batchSize = DefaultBatchSize
	}
	// Datasets are created when their first query is ready, so a source that fails
	// at once (a refused download, a file that is not JSON) leaves nothing behind.
	datasets := map[string]int64{}
	var total int64
	if opts.Limit > 0 {
		total = opts.Limit
	}
	if t, ok := src.(totaler); ok {
		if n, err := t.Total(ctx); err == nil && (total == 0 || n < total) {
			total = n
		}
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Up to groupRows rows of prepared batches wait for the writer, which takes all
	// those waiting in one transaction (see below).
	ps, _ := st.(lmsys.QueryPreparer)
	queue := 2
	if ps != nil {
		queue = min(max(2, groupRows/batchSize), 64)
	}
	batches := make(chan loadBatch, queue)
	free := make(chan loadBatch, 3)
	prodErr := make(chan error, 1)
	inflight := semaphore.NewWeighted(inflightText)
	// The producer owns stats fields Rows, Queries, Skipped, Repaired and
	// DerivedIDs until it closes batches; the consumer owns Inserted.
	go func() {
		defer close(batches)
		prodErr <- produce(ctx, src, st, ps, opts, name, datasets, batchSize, &stats, batches, free, inflight)
	}()
	var inserted, queued int64
	var werr error
	var group []loadBatch
	var prepared []lmsys.PreparedQueries
	for b := range batches {
		// Prepared batches that queued up while the previous transaction ran go into
		// one transaction together. Conversation ids are often random (LMSYS's are hex
		// digests), and then every transaction rewrites most pages of the (dataset,
		// conversation id) index, whatever its size: fewer, larger transactions write
		// far less (1M such rows: 17 s in 5,000-row transactions).
		group, prepared = append(group[:0], b), prepared[:0]
		rows := len(b.qs)
	drain:
		for ps != nil && rows < groupRows {
			select {
			case next, ok := <-batches:
				if !ok {
					break drain
				}
				group = append(group, next)
				rows += len(next.qs)
			default:
				break drain
			}
		}
		if werr == nil {
			var n int
			var err error
			if ps != nil {
				for _, g := range group {
					prepared = append(prepared, g.prepared)
				}
				n, err = ps.InsertPrepared(ctx, prepared...)
			} else {
				n, err = st.InsertQueries(ctx, b.qs)
			}
			if err != nil && ctx.Err() != nil {
				werr = fmt.Errorf("load interrupted after %d queries: %w", queued, ctx.Err())
				cancel()
			} else if err != nil {
				werr = fmt.Errorf("inserting queries %d–%d: %w", queued+1, queued+int64(rows), err)
				cancel()
			} else {
				inserted += int64(n)
				queued += int64(rows)
				opts.Progress.Report("load", queued, total)
			}
		}
		// Batches go back for reuse, up to the free list's three; the others are
		// garbage. A reused batch's queries are cleared, but its prepared arguments
		// (texts included) stay until the batch is prepared again.
		for _, g := range group {
			inflight.Release(g.text)
			g.text = 0
			clear(g.qs)
			g.qs = g.qs[:0]
			select {
			case free <- g:
			default:
			}
		}
	}
	perr := <-prodErr
	stats.Inserted = inserted
	stats.Existing = queued - inserted
	stats.Queries = queued
	switch {
	case werr != nil:
		return stats, werr
	case perr != nil:
		return stats, perr
	}
	return stats, nil
}

// loadBatch is one batch of queries on its way from the producer to the writer,
// prepared when the store is a lmsys.QueryPreparer: the producer then does the
// cleaning, hashing and encoding, so the writer only writes and the two cores split
// the work.
type loadBatch struct {
	qs       []lmsys.Query
	prepared lmsys.PreparedQueries
	text     int64 // bytes of text, at most inflightText of them held in the semaphore
}

// produce reads src into batches; with ps set, it prepares each batch for ps.
func produce(ctx context.Context, src Source, st lmsys.QueryStore, ps lmsys.QueryPreparer, opts LoadOptions, name string, datasets map[string]int64,
	batchSize int, stats *LoadStats, batches chan<- loadBatch, free <-chan loadBatch, inflight *semaphore.Weighted) error {
	var ids idDeriver
	var accepted int64
	batch := loadBatch{qs: make([]lmsys.Query, 0, batchSize)}
	send := func() bool {
		if len(batch.qs) == 0 {
			return true
		}
		if ps != nil {
			batch.prepared = ps.PrepareQueries(batch.qs, batch.prepared)
			// The prepared batch holds what the writer needs: the queries (their
			// messages, most of the memory of a chat row, and metadata maps) can go
			// while it waits for the writer. The writer only counts them.
			clear(batch.qs)
		}
		batch.text = min(batch.text, inflightText)
		if inflight.Acquire(ctx, batch.text) != nil {
			return false
		}
		select {
		case batches <- batch:
		case <-ctx.Done():
			return false
		}
		select {
		case batch = <-free:
		default:
			batch = loadBatch{qs: make([]lmsys.Query, 0, batchSize)}
		}
		return true
	}
	now := time.Now().UTC()
	for rec, err := range src.Records(ctx) {
		if err != nil {
			var re *RowError
			if !errors.As(err, &re) {
				return err
			}
			stats.Rows++
			if opts.Strict {
				return fmt.Errorf("stopping at the first bad row (strict): %w", err)
			}
			stats.Skipped[re.Reason]++
			continue
		}
		stats.Rows++
		text, repaired := cleanText(rec.Text)
		if strings.TrimSpace(text) == "" {
			if opts.Strict {
				return fmt.Errorf("stopping at the first bad row (strict): %w", rowErr(rec.Pos, ReasonEmpty, nil))
			}
			stats.Skipped[ReasonEmpty]++
			continue
		}
		if repaired {
			stats.Repaired++
		}
		dsName := name
		if rec.Dataset != "" {
			dsName = cleanField(rec.Dataset)
		}
		dsID, ok := datasets[dsName]
		if !ok {
			d := lmsys.Dataset{Name: dsName, Source: src.Name()}
			if dsName == name {
				d.Description = opts.Description
			}
			d, err := st.EnsureDataset(ctx, d)
			if err != nil {
				return fmt.Errorf("creating dataset %q: %w", dsName, err)
			}
			dsID = d.ID
			datasets[dsName] = dsID
		}
		id := cleanField(rec.ID)
		if id == "" {
			id = ids.derive(dsName, text)
			stats.DerivedIDs++
		}
		batch.qs = append(batch.qs, lmsys.Query{
			DatasetID:       dsID,
			ConversationID:  id,
			Model:           cleanField(rec.Model),
			Text:            text,
			Language:        cleanField(rec.Language),
			Timestamp:       rec.Timestamp,
			Metadata:        rec.Metadata,
			CreatedAt:       now,
			Conversation:    rec.Conversation,
			ConversationCut: rec.ConversationCut,
		})
		batch.text += int64(len(text))
		for _, m := range rec.Conversation {
			batch.text += int64(len(m.Content))
		}
		if rec.ConversationCut != "" {
			if stats.CutConversations == nil {
				stats.CutConversations = map[string]int64{}
			}
			stats.CutConversations[rec.ConversationCut]++
		}
		accepted++
		if len(batch.qs) >= batchSize && !send() {
			return ctx.Err()
		}
		if opts.Limit > 0 && accepted >= opts.Limit {
			break
		}
	}
	if !send() {
		return ctx.Err()
	}
	return ctx.Err()
}
