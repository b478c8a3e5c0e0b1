package distributed

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/embed"
	"github.com/lmsys-go/lmsys/store"
	"github.com/riverqueue/river"
)

// EmbedArgs is one embedding job: the queries of Dataset (empty: every dataset) whose
// ids are in (AfterID, LastID] and that have no vector in Space. Count is how many
// queries the range held when it was planned.
type EmbedArgs struct {
	Space   string `json:"space"`
	Dataset string `json:"dataset,omitempty"`
	AfterID int64  `json:"after_id"`
	LastID  int64  `json:"last_id"`
	Count   int    `json:"count"`
}

// Kind names the job kind in River's tables.
func (EmbedArgs) Kind() string { return "lmsys_embed" }

// InsertOpts puts embedding jobs in QueueEmbed, unique by their arguments: the same
// range in the same space is enqueued once while a job for it is waiting, running
// or completed.
func (EmbedArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueEmbed, MaxAttempts: maxAttempts, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// EmbedOutput is what an embedding job records when it completes.
type EmbedOutput struct {
	embed.BackfillStats
}

// DefaultEmbedBatch is the number of queries of one embedding job.
const DefaultEmbedBatch = 1024

// Range is one planned id range of queries, (AfterID, LastID], with Count queries of
// which Missing have no vector in the space.
type Range struct {
	AfterID, LastID int64
	Count, Missing  int
}

// PlanEmbed cuts the queries of dataset (empty: all) into ranges of batch queries in
// id order and counts each range's queries without a vector in space. The cuts depend
// only on the queries, not on what is embedded, so planning the same queries again
// gives the same ranges (and the same unique jobs); queries loaded later get ranges
// of their own after the last.
func PlanEmbed(ctx context.Context, st *store.DB, space lmsys.Space, dataset string, batch int) ([]Range, error) {
	if !st.Postgres() {
		return nil, fmt.Errorf("%w: distributed embedding needs the PostgreSQL store, not %s", lmsys.ErrInvalidInput, st.Where())
	}
	if batch <= 0 {
		batch = DefaultEmbedBatch
	}
	return planRanges(ctx, st, dataset, batch,
		`CASE WHEN EXISTS (SELECT 1 FROM embeddings e WHERE e.space = ? AND e.text_hash = q.text_hash) THEN 0 ELSE 1 END`, space.String())
}

// planRanges cuts the queries of dataset (empty: all) into ranges of batch queries in
// id order, counting in each the queries for which missing, a SQL expression over
// queries q taking arg, is 1.
func planRanges(ctx context.Context, st *store.DB, dataset string, batch int, missing string, arg any) ([]Range, error) {
	where, args := "", []any{arg}
	if dataset != "" {
		where = "WHERE q.dataset_id = (SELECT id FROM datasets WHERE name = ?)"
		args = append(args, dataset)
	}
	args = append(args, batch)
	rows, err := st.Gorm().WithContext(ctx).Raw(`SELECT MAX(id), COUNT(*), SUM(missing) FROM (
		SELECT q.id, `+missing+` AS missing, ROW_NUMBER() OVER (ORDER BY q.id) AS rn
		FROM queries q `+where+`) t
		GROUP BY (rn - 1) / ? ORDER BY MAX(id)`, args...).Rows()
	if err != nil {
		return nil, fmt.Errorf("distributed: plan jobs: %w", err)
	}
	defer rows.Close()
	var out []Range
	var after int64
	for rows.Next() {
		var r Range
		if err := rows.Scan(&r.LastID, &r.Count, &r.Missing); err != nil {
			return nil, fmt.Errorf("distributed: plan jobs: %w", err)
		}
		r.AfterID, after = after, r.LastID
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("distributed: plan jobs: %w", err)
	}
	return out, nil
}

// EnqueueEmbed enqueues one embedding job per range of batch queries of dataset that
// has queries without a vector in space. Ranges whose queries all have vectors are
// not enqueued; ranges already enqueued (or done) are not enqueued twice.
func (c *Client) EnqueueEmbed(ctx context.Context, st *store.DB, space lmsys.Space, dataset string, batch int) (*Batch, error) {
	if space.Dims <= 0 {
		return nil, fmt.Errorf("%w: embedding space %s has no dimension", lmsys.ErrInvalidInput, space)
	}
	ranges, err := PlanEmbed(ctx, st, space, dataset, batch)
	if err != nil {
		return nil, err
	}
	var params []river.InsertManyParams
	for _, r := range ranges {
		if r.Missing == 0 {
			continue
		}
		params = append(params, river.InsertManyParams{Args: EmbedArgs{Space: space.String(), Dataset: dataset, AfterID: r.AfterID, LastID: r.LastID, Count: r.Count}})
	}
	return c.insert(ctx, EmbedArgs{}.Kind(), params)
}

// Backfill is embed.Backfill done by workers: it enqueues the embedding of the queries
// f selects (only f.Dataset may be set) in batches of opts.BatchSize (default
// DefaultEmbedBatch), waits for the jobs, reporting ("embed", jobs done, jobs)
// progress, then embeds locally with e whatever is still missing (queries loaded
// meanwhile; normally nothing, which costs one count). The stats add up what the jobs
// recorded and the local pass. st must be the PostgreSQL store the workers use.
func (c *Client) Backfill(ctx context.Context, st *store.DB, e lmsys.Embedder, f lmsys.QueryFilter, opts embed.BackfillOptions) (embed.BackfillStats, error) {
	var stats embed.BackfillStats
	if f.Model != "" || f.Language != "" || f.Contains != "" || f.RunID != "" || len(f.IDs) > 0 || f.Label != "" || f.On != "" || f.AfterID != 0 || f.Limit != 0 {
		return stats, fmt.Errorf("%w: distributed embedding selects queries by dataset only", lmsys.ErrInvalidInput)
	}
	space := e.Space()
	if !opts.Space.IsZero() && opts.Space != space {
		return stats, fmt.Errorf("%w: backfill asked for %s but the embedder is %s", lmsys.ErrSpaceMismatch, opts.Space, space)
	}
	b, err := c.EnqueueEmbed(ctx, st, space, f.Dataset, opts.BatchSize)
	if err != nil {
		return stats, err
	}
	_, err = c.Wait(ctx, b, func(p Progress) { opts.Progress.Report("embed", int64(p.Completed+p.Failed), int64(p.Total)) })
	if err != nil {
		return stats, err
	}
	outs, err := outputs[EmbedOutput](ctx, c, b)
	if err != nil {
		return stats, err
	}
	for _, o := range outs {
		stats.Embedded += o.Embedded
	}
	local, err := embed.Backfill(ctx, st, e, f, embed.BackfillOptions{BatchSize: opts.BatchSize, MaxFailedBatches: opts.MaxFailedBatches})
	// The local pass sees every query: what it did not embed or fail on has a vector,
	// made by the jobs (Embedded) or before them (Cached).
	stats.Embedded += local.Embedded
	stats.Failed = local.Failed
	stats.Cached = max(0, local.Cached+local.Embedded-stats.Embedded)
	return stats, err
}

// embedWorker works EmbedArgs jobs.
type embedWorker struct {
	river.WorkerDefaults[EmbedArgs]
	w *Worker
}

func (ew *embedWorker) Work(ctx context.Context, job *river.Job[EmbedArgs]) error {
	a := job.Args
	space, err := lmsys.ParseSpace(a.Space)
	if err != nil {
		return river.JobCancel(err)
	}
	e, err := ew.w.embedder(space)
	if err != nil {
		// No attempt can succeed on this worker's configuration: give up at once.
		return river.JobCancel(err)
	}
	ew.w.event(job.ID, job.Kind, "start")
	rs := rangeStore{DB: ew.w.store, last: a.LastID, count: int64(a.Count)}
	st, err := embed.Backfill(ctx, rs, e, lmsys.QueryFilter{Dataset: a.Dataset, AfterID: a.AfterID}, embed.BackfillOptions{BatchSize: max(a.Count, 1), Space: space})
	if errors.Is(err, lmsys.ErrSpaceMismatch) {
		return river.JobCancel(err)
	}
	if err != nil {
		return err
	}
	return river.RecordOutput(ctx, EmbedOutput{st})
}

// rangeStore narrows a store's query scans to ids up to last, for embed.Backfill over
// one job's range.
type rangeStore struct {
	*store.DB
	last  int64
	count int64
}

// errRangeEnd stops a scan at the end of the range.
var errRangeEnd = errors.New("end of range")

func (r rangeStore) ScanQueries(ctx context.Context, f lmsys.QueryFilter, batch int, fn func([]lmsys.Query) error) error {
	err := r.DB.ScanQueries(ctx, f, batch, func(qs []lmsys.Query) error {
		n := sort.Search(len(qs), func(i int) bool { return qs[i].ID > r.last })
		if n > 0 {
			if err := fn(qs[:n]); err != nil {
				return err
			}
		}
		if n < len(qs) || qs[len(qs)-1].ID == r.last {
			return errRangeEnd
		}
		return nil
	})
	if errors.Is(err, errRangeEnd) {
		return nil
	}
	return err
}

// CountQueries returns the range's planned size: counting the range would cost as
// much as scanning it, and the count only scales progress.
func (r rangeStore) CountQueries(context.Context, lmsys.QueryFilter) (int64, error) {
	return r.count, nil
}

// CountMissingEmbeddings answers "some": the job was planned because the range had
// queries without a vector, and the scan looks each batch up anyway.
func (r rangeStore) CountMissingEmbeddings(context.Context, lmsys.Space, lmsys.QueryFilter) (int64, error) {
	return 1, nil
}
