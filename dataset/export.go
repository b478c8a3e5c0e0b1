package dataset

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/lmsys-go/lmsys"
)

// ExportStore is what Export reads: queries, and a run's assignments and summaries.
// lmsys.Store satisfies it.
type ExportStore interface {
	lmsys.QueryStore
	lmsys.RunStore
	lmsys.SummaryStore
}

// datasetLister is implemented by stores that can name datasets (store.DB does).
type datasetLister interface {
	Datasets(ctx context.Context) ([]lmsys.Dataset, error)
}

// Export formats.
var ExportFormats = []string{FormatCSV, FormatJSON, FormatJSONL, FormatParquet}

// ExportOptions configure Export.
type ExportOptions struct {
	// Format is csv, json, jsonl or parquet.
	Format string
	// Filter selects the queries (its Limit, Offset and RunID are ignored; use RunID
	// and Limit). With AfterID it starts after that query id, in id order.
	Filter lmsys.QueryFilter
	// Limit, when positive, stops after that many queries: with Filter.AfterID, one
	// page of an export.
	Limit int
	// RunID, when set, exports only the queries assigned in that run, each with its
	// cluster id, confidence and cluster title (from SummaryRef).
	RunID string
	// SummaryRef names the summary run (id or alias) titles come from; empty means
	// the latest. Missing summaries leave titles empty.
	SummaryRef string
	// BatchSize is the number of queries read from the store at a time (default 5000).
	BatchSize int
	// Conversations adds each query's whole conversation (when the store keeps
	// them: lmsys.ConversationStore) as "conversation".
	Conversations bool
}

// labelReader is implemented by stores that hold classifier labels (store.DB does):
// each exported row then carries its labels.
type labelReader interface {
	LabelFacets(ctx context.Context) ([]lmsys.Count, error)
	Labels(ctx context.Context, f lmsys.LabelFilter) ([]lmsys.Label, error)
}

// ExportRow is one exported query. CSV columns and Parquet fields use the JSON names.
type ExportRow struct {
	ID             int64           `json:"id" parquet:"id"`
	Dataset        string          `json:"dataset,omitempty" parquet:"dataset,optional"`
	ConversationID string          `json:"conversation_id" parquet:"conversation_id"`
	Model          string          `json:"model,omitempty" parquet:"model,optional"`
	Language       string          `json:"language,omitempty" parquet:"language,optional"`
	Timestamp      *time.Time      `json:"timestamp,omitempty" parquet:"timestamp,optional,timestamp(millisecond)"`
	Text           string          `json:"query_text" parquet:"query_text"`
	Metadata       json.RawMessage `json:"extra_metadata,omitempty" parquet:"-"`
	MetadataText   string          `json:"-" parquet:"extra_metadata,optional"`
	CreatedAt      time.Time       `json:"created_at" parquet:"created_at,timestamp(millisecond)"`
	RunID          string          `json:"run_id,omitempty" parquet:"run_id,optional"`
	ClusterID      *int64          `json:"cluster_id,omitempty" parquet:"cluster_id,optional"`
	Confidence     *float64        `json:"confidence_score,omitempty" parquet:"confidence_score,optional"`
	ClusterTitle   string          `json:"cluster_title,omitempty" parquet:"cluster_title,optional"`
	// Labels maps each classified facet to this query's label (the newest
	// classifier configuration of each facet). CSV and Parquet hold it as JSON.
	Labels     map[string]string `json:"labels,omitempty" parquet:"-"`
	LabelsText string            `json:"-" parquet:"labels,optional"`
	// Conversation is the whole chat, with ExportOptions.Conversations.
	Conversation     []lmsys.Message `json:"conversation,omitempty" parquet:"-"`
	ConversationText string          `json:"-" parquet:"conversation,optional"`
}

var csvHeader = []string{"id", "dataset", "conversation_id", "model", "language", "timestamp", "query_text", "extra_metadata", "created_at", "run_id", "cluster_id", "confidence_score", "cluster_title", "labels", "conversation"}

func (r *ExportRow) csv(dst []string) []string {
	ts := ""
	if r.Timestamp != nil {
		ts = r.Timestamp.UTC().Format(time.RFC3339Nano)
	}
	cid, conf := "", ""
	if r.ClusterID != nil {
		cid = strconv.FormatInt(*r.ClusterID, 10)
	}
	if r.Confidence != nil {
		conf = strconv.FormatFloat(*r.Confidence, 'g', -1, 64)
	}
	return append(dst[:0], strconv.FormatInt(r.ID, 10), r.Dataset, r.ConversationID, r.Model, r.Language, ts, r.Text,
		r.MetadataText, r.CreatedAt.UTC().Format(time.RFC3339Nano), r.RunID, cid, conf, r.ClusterTitle, r.LabelsText, r.ConversationText)
}

// rowWriter writes rows in one format.
type rowWriter interface {
	write(rows []ExportRow) error
	close() error
}

type csvRowWriter struct {
	w   *csv.Writer
	rec []string
}

func (c *csvRowWriter) write(rows []ExportRow) error {
	for i := range rows {
		c.rec = rows[i].csv(c.rec)
		if err := c.w.Write(c.rec); err != nil {
			return err
		}
	}
	c.w.Flush()
	return c.w.Error()
}

func (c *csvRowWriter) close() error { c.w.Flush(); return c.w.Error() }

type jsonRowWriter struct {
	bw    *bufio.Writer
	enc   *json.Encoder
	array bool
	n     int
}

func (j *jsonRowWriter) write(rows []ExportRow) error {
	for i := range rows {
		if j.array {
			sep := ",\n"
			if j.n == 0 {
				sep = "[\n"
			}
			if _, err := j.bw.WriteString(sep); err != nil {
				return err
			}
		}
		if err := j.enc.Encode(&rows[i]); err != nil {
			return err
		}
		j.n++
	}
	return j.bw.Flush()
}

func (j *jsonRowWriter) close() error {
	if j.array {
		end := "]\n"
		if j.n == 0 {
			end = "[]\n"
		}
		if _, err := j.bw.WriteString(end); err != nil {
			return err
		}
	}
	return j.bw.Flush()
}

// trimNewline writes JSON values without the trailing newline json.Encoder adds
// when rows are array elements.
type trimNewline struct{ w *bufio.Writer }

func (t trimNewline) Write(p []byte) (int, error) {
	if n := len(p); n > 0 && p[n-1] == '\n' {
		_, err := t.w.Write(p[:n-1])
		return n, err
	}
	return t.w.Write(p)
}

type parquetRowWriter struct {
	w *parquet.GenericWriter[ExportRow]
}

func (p *parquetRowWriter) write(rows []ExportRow) error {
	_, err := p.w.Write(rows)
	return err
}

func (p *parquetRowWriter) close() error { return p.w.Close() }

func newRowWriter(format string, w io.Writer) (rowWriter, error) {
	switch format {
	case FormatCSV:
		cw := csv.NewWriter(w)
		if err := cw.Write(csvHeader); err != nil {
			return nil, err
		}
		return &csvRowWriter{w: cw}, nil
	case FormatJSONL:
		bw := bufio.NewWriterSize(w, 1<<16)
		enc := json.NewEncoder(bw)
		enc.SetEscapeHTML(false)
		return &jsonRowWriter{bw: bw, enc: enc}, nil
	case FormatJSON:
		bw := bufio.NewWriterSize(w, 1<<16)
		enc := json.NewEncoder(trimNewline{bw})
		enc.SetEscapeHTML(false)
		return &jsonRowWriter{bw: bw, enc: enc, array: true}, nil
	case FormatParquet:
		return &parquetRowWriter{w: parquet.NewGenericWriter[ExportRow](w, parquet.Compression(&parquet.Snappy), parquet.MaxRowsPerRowGroup(50000))}, nil
	}
	return nil, fmt.Errorf("%w: export format %q (want csv, json, jsonl or parquet)", lmsys.ErrInvalidInput, format)
}

// Export writes the queries selected by opts to w in opts.Format, streaming them
// from the store a batch at a time, and returns how many it wrote. With opts.RunID
// it writes the run's assigned queries with their cluster ids, confidences and
// titles; an unknown run fails with an error wrapping lmsys.ErrNotFound.
func Export(ctx context.Context, st ExportStore, w io.Writer, opts ExportOptions) (int64, error) {
	rw, err := newRowWriter(opts.Format, w)
	if err != nil {
		return 0, err
	}
	batch := opts.BatchSize
	if batch <= 0 {
		batch = DefaultBatchSize
	}
	f := opts.Filter
	f.Limit, f.Offset, f.RunID, f.ClusterID = max(opts.Limit, 0), 0, "", nil
	var assign map[int64]lmsys.Assignment
	titles := map[int]string{}
	if opts.RunID != "" {
		if _, err := st.GetRun(ctx, opts.RunID); err != nil {
			return 0, fmt.Errorf("export: run %q: %w", opts.RunID, err)
		}
		as, err := st.Assignments(ctx, opts.RunID, nil)
		if err != nil {
			return 0, fmt.Errorf("export: assignments of run %q: %w", opts.RunID, err)
		}
		assign = make(map[int64]lmsys.Assignment, len(as))
		for _, a := range as {
			assign[a.QueryID] = a
		}
		sums, err := st.Summaries(ctx, opts.RunID, opts.SummaryRef)
		if err != nil && !(errors.Is(err, lmsys.ErrNotFound) && opts.SummaryRef == "") {
			return 0, fmt.Errorf("export: summaries of run %q: %w", opts.RunID, err)
		}
		for _, s := range sums {
			titles[s.ClusterID] = s.Title
		}
		f.RunID = opts.RunID
	}
	names := map[int64]string{}
	if dl, ok := st.(datasetLister); ok {
		ds, err := dl.Datasets(ctx)
		if err != nil {
			return 0, fmt.Errorf("export: listing datasets: %w", err)
		}
		for _, d := range ds {
			names[d.ID] = d.Name
		}
	}
	lr, _ := st.(labelReader)
	var facets []lmsys.Count
	if lr != nil {
		if facets, err = lr.LabelFacets(ctx); err != nil {
			return 0, fmt.Errorf("export: label facets: %w", err)
		}
	}
	cr, _ := st.(lmsys.ConversationStore)
	if opts.Conversations && cr == nil {
		return 0, fmt.Errorf("%w: export: this store keeps no conversations", lmsys.ErrInvalidInput)
	}
	var n int64
	rows := make([]ExportRow, 0, batch)
	err = st.ScanQueries(ctx, f, batch, func(qs []lmsys.Query) error {
		rows = rows[:0]
		labels, convs, err := rowExtras(ctx, lr, facets, cr, opts.Conversations, qs)
		if err != nil {
			return err
		}
		for _, q := range qs {
			r := ExportRow{ID: q.ID, Dataset: names[q.DatasetID], ConversationID: q.ConversationID, Model: q.Model,
				Language: q.Language, Timestamp: q.Timestamp, Text: q.Text, CreatedAt: q.CreatedAt}
			if len(q.Metadata) > 0 {
				b, err := json.Marshal(q.Metadata)
				if err != nil {
					return fmt.Errorf("query %d metadata: %w", q.ID, err)
				}
				r.Metadata, r.MetadataText = b, string(b)
			}
			if assign != nil {
				a, ok := assign[q.ID]
				if !ok {
					continue
				}
				cid, conf := int64(a.ClusterID), a.Confidence
				r.RunID, r.ClusterID, r.Confidence, r.ClusterTitle = opts.RunID, &cid, &conf, titles[a.ClusterID]
			}
			if l := labels[q.ID]; len(l) > 0 {
				b, _ := json.Marshal(l) // a map of strings cannot fail
				r.Labels, r.LabelsText = l, string(b)
			}
			if c, ok := convs[q.ID]; ok {
				b, _ := json.Marshal(c.Messages)
				r.Conversation, r.ConversationText = c.Messages, string(b)
			}
			rows = append(rows, r)
		}
		n += int64(len(rows))
		return rw.write(rows)
	})
	if err != nil {
		return n, fmt.Errorf("export: %w", err)
	}
	if err := rw.close(); err != nil {
		return n, fmt.Errorf("export: %w", err)
	}
	return n, nil
}

// rowExtras reads the labels (by query, facet) and, when asked, the conversations
// of one batch of exported queries.
func rowExtras(ctx context.Context, lr labelReader, facets []lmsys.Count, cr lmsys.ConversationStore, withConv bool,
	qs []lmsys.Query) (map[int64]map[string]string, map[int64]lmsys.Conversation, error) {
	ids := make([]int64, len(qs))
	for i, q := range qs {
		ids[i] = q.ID
	}
	var labels map[int64]map[string]string
	for _, fc := range facets {
		ls, err := lr.Labels(ctx, lmsys.LabelFilter{Facet: fc.Key, QueryIDs: ids})
		if err != nil {
			return nil, nil, fmt.Errorf("labels of facet %s: %w", fc.Key, err)
		}
		for _, l := range ls {
			if labels == nil {
				labels = map[int64]map[string]string{}
			}
			if labels[l.QueryID] == nil {
				labels[l.QueryID] = map[string]string{}
			}
			labels[l.QueryID][l.Facet] = l.Value
		}
	}
	if !withConv {
		return labels, nil, nil
	}
	convs := make(map[int64]lmsys.Conversation, len(qs))
	err := cr.ScanConversations(ctx, lmsys.QueryFilter{IDs: ids}, len(ids), func(cs []lmsys.Conversation) error {
		for _, c := range cs {
			convs[c.QueryID] = lmsys.Conversation{QueryID: c.QueryID, Messages: append([]lmsys.Message(nil), c.Messages...)}
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("conversations: %w", err)
	}
	return labels, convs, nil
}
