package distributed

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/classify"
	"github.com/lmsys-go/lmsys/llm"
	"github.com/lmsys-go/lmsys/store"
	"github.com/riverqueue/river"
)

// ClassifierSpec names a classifier so that any worker can build the same one: a
// built-in (Builtin), or an LLM classifier of a built-in facet set (FacetSet) or of a
// template stored in the database (TemplateHash, as classify.CreateRun stores it),
// with the settings that are part of its result key. Keys and endpoints are the
// worker's own (WorkerConfig.LLMOptions).
type ClassifierSpec struct {
	Builtin       string  `json:"builtin,omitempty"`
	FacetSet      string  `json:"facet_set,omitempty"`
	TemplateHash  string  `json:"template_hash,omitempty"`
	Model         string  `json:"model,omitempty"`
	Temperature   float64 `json:"temperature,omitempty"`
	MaxInputChars int     `json:"max_input_chars,omitempty"`
	Attempts      int     `json:"attempts,omitempty"`
	NoScrub       bool    `json:"no_scrub,omitempty"`
}

// Open builds the classifier the spec names. LLM classifiers read and write st's LLM
// cache and take opts (keys, endpoints, concurrency).
func (s ClassifierSpec) Open(ctx context.Context, st *store.DB, opts ...llm.Option) (classify.Classifier, error) {
	if s.Builtin != "" {
		return classify.Builtin(s.Builtin)
	}
	var t *classify.Template
	var err error
	switch {
	case s.FacetSet != "":
		t, err = classify.FacetSet(s.FacetSet)
	case s.TemplateHash != "":
		t, err = storedTemplate(ctx, st, s.TemplateHash)
	default:
		return nil, fmt.Errorf("%w: a classifier spec names a built-in, a facet set or a stored template", lmsys.ErrInvalidInput)
	}
	if err != nil {
		return nil, err
	}
	if s.Model == "" {
		return nil, fmt.Errorf("%w: an LLM classifier spec needs a model", lmsys.ErrInvalidInput)
	}
	all := append([]llm.Option{llm.WithCache(st.LLMCache()), llm.WithTemperature(s.Temperature)}, opts...)
	c, err := llm.Open(s.Model, all...)
	if err != nil {
		return nil, err
	}
	return classify.NewLLM(c, t, classify.LLMOptions{NoScrub: s.NoScrub, MaxInputChars: s.MaxInputChars, Attempts: s.Attempts})
}

// storedTemplate parses the stored template whose hash is hash.
func storedTemplate(ctx context.Context, st *store.DB, hash string) (*classify.Template, error) {
	ts, err := st.Templates(ctx)
	if err != nil {
		return nil, err
	}
	for _, t := range ts {
		if t.Hash == hash {
			return classify.ParseTemplate([]byte(t.Content))
		}
	}
	return nil, fmt.Errorf("%w: no stored classification template has hash %s", lmsys.ErrNotFound, hash)
}

// ClassifyArgs is one classification job: label the conversations of Dataset (empty:
// every dataset) whose ids are in (AfterID, LastID] and that have no label under
// ResultKey, into classification run RunID.
type ClassifyArgs struct {
	RunID      string         `json:"classification_run_id"`
	Classifier ClassifierSpec `json:"classifier"`
	ResultKey  string         `json:"result_key"`
	Dataset    string         `json:"dataset,omitempty"`
	AfterID    int64          `json:"after_id"`
	LastID     int64          `json:"last_id"`
	Count      int            `json:"count"`
}

// Kind names the job kind in River's tables.
func (ClassifyArgs) Kind() string { return "lmsys_classify" }

// InsertOpts puts classification jobs in QueueClassify, unique by their arguments.
func (ClassifyArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueClassify, MaxAttempts: maxAttempts, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// ClassifyOutput is what a classification job records when it completes.
type ClassifyOutput struct {
	Classified int64         `json:"classified"`
	Errors     int64         `json:"errors"`
	Skipped    int64         `json:"skipped"`
	Cost       classify.Cost `json:"cost"`
}

// DefaultClassifyBatch is the number of conversations of one classification job.
const DefaultClassifyBatch = 256

// Classify is classify.Run done by workers over one dataset (empty: every query):
// it records the classification run (classify.CreateRun), enqueues a job per range
// of batch conversations that has some without a label under the classifier's
// result key, waits, and finishes the run's record with the counts and cost the jobs
// recorded. c is the enqueuer's copy of the classifier named by spec; it is used for
// its template and result key, never called.
func (c *Client) Classify(ctx context.Context, st *store.DB, spec ClassifierSpec, cl classify.Classifier, dataset string, batch int, progress lmsys.ProgressFunc) (classify.Result, error) {
	var res classify.Result
	if !st.Postgres() {
		return res, fmt.Errorf("%w: distributed classification needs the PostgreSQL store, not %s", lmsys.ErrInvalidInput, st.Where())
	}
	if batch <= 0 {
		batch = DefaultClassifyBatch
	}
	tmpl := cl.Template()
	if spec.Builtin == "" && spec.FacetSet == "" {
		spec.TemplateHash = tmpl.Hash
	}
	rec, err := classify.CreateRun(ctx, st, cl, classify.Options{Scope: classify.Scope{Dataset: dataset}})
	if err != nil {
		return res, err
	}
	key := cl.ResultKey()
	ranges, err := planRanges(ctx, st, dataset, batch,
		`CASE WHEN EXISTS (SELECT 1 FROM query_classifications l WHERE l.query_id = q.id AND l.result_key = ?) THEN 0 ELSE 1 END`, key)
	if err != nil {
		return res, err
	}
	var params []river.InsertManyParams
	for _, r := range ranges {
		res.Plan.Queries += int64(r.Count)
		res.Plan.Labelled += int64(r.Count - r.Missing)
		if r.Missing == 0 {
			continue
		}
		params = append(params, river.InsertManyParams{Args: ClassifyArgs{RunID: rec.ID, Classifier: spec, ResultKey: key, Dataset: dataset,
			AfterID: r.AfterID, LastID: r.LastID, Count: r.Count}})
	}
	res.Plan.ToDo = res.Plan.Queries - res.Plan.Labelled
	b, err := c.insert(ctx, ClassifyArgs{}.Kind(), params)
	if err != nil {
		return res, err
	}
	_, waitErr := c.Wait(ctx, b, func(p Progress) { progress.Report("classify jobs", int64(p.Completed+p.Failed), int64(p.Total)) })
	outs, err := outputs[ClassifyOutput](context.WithoutCancel(ctx), c, b)
	if err != nil && waitErr == nil {
		waitErr = err
	}
	for _, o := range outs {
		res.Classified += o.Classified
		res.Errors += o.Errors
		res.Cost = res.Cost.Add(o.Cost)
	}
	// Queries a killed attempt labelled before it died count as done by the job that
	// resumed it; the run's counts are what its jobs labelled, whoever did it.
	done := time.Now().UTC()
	rec.CompletedAt = &done
	rec.TotalQueries = res.Plan.Queries
	rec.ProcessedQueries = res.Plan.ToDo
	if waitErr != nil {
		rec.Status, rec.Error = lmsys.ClassificationFailed, waitErr.Error()
		rec.ProcessedQueries = res.Classified + res.Errors
	} else {
		rec.Status = lmsys.ClassificationCompleted
	}
	rec.ErrorCount = res.Errors
	rec.Calls, rec.InputTokens, rec.OutputTokens, rec.Cost = res.Cost.Calls, res.Cost.InputTokens, res.Cost.OutputTokens, res.Cost.USD
	if err := st.UpdateClassificationRun(context.WithoutCancel(ctx), rec); err != nil && waitErr == nil {
		waitErr = fmt.Errorf("classify: update run: %w", err)
	}
	res.Run = rec
	res.Skipped = res.Plan.Labelled
	return res, waitErr
}

// classifyWorker works ClassifyArgs jobs.
type classifyWorker struct {
	river.WorkerDefaults[ClassifyArgs]
	w *Worker
}

func (cw *classifyWorker) Work(ctx context.Context, job *river.Job[ClassifyArgs]) error {
	a := job.Args
	c, err := a.Classifier.Open(ctx, cw.w.store, cw.w.cfg.LLMOptions...)
	if err != nil {
		return river.JobCancel(err)
	}
	if c.ResultKey() != a.ResultKey {
		return river.JobCancel(fmt.Errorf("%w: this worker's classifier has result key %s, the run's %s (other settings or library version?)",
			lmsys.ErrInvalidInput, c.ResultKey(), a.ResultKey))
	}
	cw.w.event(job.ID, job.Kind, "start")
	rs := labelRange{Store: cw.w.store, after: a.AfterID, last: a.LastID}
	res, err := classify.Run(ctx, rs, c, classify.Options{ID: a.RunID, Join: true, Scope: classify.Scope{Dataset: a.Dataset}})
	if err != nil {
		if errors.Is(err, lmsys.ErrInvalidInput) || errors.Is(err, lmsys.ErrNotFound) {
			return river.JobCancel(err)
		}
		return err
	}
	return river.RecordOutput(ctx, ClassifyOutput{Classified: res.Classified, Errors: res.Errors, Skipped: res.Skipped, Cost: res.Cost})
}

// labelRange narrows a store's conversation scans to ids in (after, last]. It has
// only classify.Store's methods, so classify.Run neither counts the whole scope nor
// looks up runs for it.
type labelRange struct {
	classify.Store
	after, last int64
}

func (r labelRange) ScanConversations(ctx context.Context, f lmsys.QueryFilter, batch int, fn func([]lmsys.Conversation) error) error {
	f.AfterID = max(f.AfterID, r.after)
	err := r.Store.ScanConversations(ctx, f, batch, func(cs []lmsys.Conversation) error {
		n := sort.Search(len(cs), func(i int) bool { return cs[i].QueryID > r.last })
		if n > 0 {
			if err := fn(cs[:n]); err != nil {
				return err
			}
		}
		if n < len(cs) || cs[len(cs)-1].QueryID == r.last {
			return errRangeEnd
		}
		return nil
	})
	if errors.Is(err, errRangeEnd) {
		return nil
	}
	return err
}
