package classify

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/internal/owner"
)

func timeNow() time.Time { return time.Now().UTC() }

// Store is what a classification run reads and writes: conversations, and templates,
// runs and labels. When it also has GetRun (lmsys.RunStore) a scope's clustering run
// is checked to exist, and when it has CountQueries (lmsys.QueryStore) the run knows
// its total before it starts.
type Store interface {
	lmsys.ConversationStore
	lmsys.LabelStore
}

// Scope selects the queries a run classifies. The zero Scope is every query.
type Scope struct {
	// Dataset keeps one dataset's queries (by name).
	Dataset string `json:"dataset,omitempty"`
	// RunID keeps a clustering run's members; with ClusterIDs, only those clusters'.
	RunID      string `json:"run_id,omitempty"`
	ClusterIDs []int  `json:"cluster_ids,omitempty"`
	// QueryIDs keeps only these queries.
	QueryIDs []int64 `json:"query_ids,omitempty"`
}

// filters returns the query filters the scope scans, one per cluster when it names
// clusters.
func (s Scope) filters() []lmsys.QueryFilter {
	base := lmsys.QueryFilter{Dataset: s.Dataset, RunID: s.RunID, IDs: s.QueryIDs}
	if len(s.ClusterIDs) == 0 {
		return []lmsys.QueryFilter{base}
	}
	out := make([]lmsys.QueryFilter, len(s.ClusterIDs))
	for i, c := range s.ClusterIDs {
		f := base
		f.ClusterID = &c
		out[i] = f
	}
	return out
}

// record returns the scope as the run records it.
func (s Scope) record() map[string]any {
	m := map[string]any{}
	if s.Dataset != "" {
		m["dataset"] = s.Dataset
	}
	if s.RunID != "" {
		m["run_id"] = s.RunID
	}
	if len(s.ClusterIDs) > 0 {
		m["cluster_ids"] = s.ClusterIDs
	}
	if len(s.QueryIDs) > 0 {
		m["query_ids"] = s.QueryIDs
	}
	if len(m) == 0 {
		return nil
	}
	return m
}

// Options configures Run.
type Options struct {
	// ID is the classification run's id (default lmsys.NewClassificationRunID of the
	// template name, with a -2, -3 … suffix when that id is taken).
	ID    string
	Scope Scope
	// Concurrency is the number of conversations classified at once (default 16).
	// An LLM client has its own limit on requests in flight; set both.
	Concurrency int
	// MaxCost stops the run once its estimated cost in US dollars would pass this
	// (0: no cap). A conversation is started only when the cost so far plus the
	// estimates of the calls in flight and of its own call stay within the cap, so
	// the run ends under it unless the model's replies run longer than estimated.
	// The run then has status lmsys.ClassificationStopped and keeps its labels.
	MaxCost float64
	// DryRun plans without calling the classifier or writing anything: Result.Plan
	// has the queries to classify, the calls, tokens and estimated cost.
	DryRun bool
	// RetryErrors classifies again the queries whose labels under the same result
	// key are ErrorLabel; by default a re-run skips every labelled query.
	RetryErrors bool
	// SaveEvery is how many classified queries are saved together (default 64):
	// a killed run keeps all but the last unsaved ones.
	SaveEvery int
	// Progress receives ("classify", done, total) reports.
	Progress lmsys.ProgressFunc
	// Join adds this run's labels to the classification run that ID names, which
	// CreateRun recorded with the same result key: Run creates no record and leaves
	// the record's status and counters alone. Package distributed runs one joined Run
	// per job and counts the whole run when the jobs are done.
	Join bool
}

// Plan is what a run would do: the queries in scope, those already labelled under the
// classifier's result key, and the calls, tokens and cost of the rest.
type Plan struct {
	Queries  int64 `json:"queries"`
	Labelled int64 `json:"already_labelled"`
	ToDo     int64 `json:"to_classify"`
	Estimate Cost  `json:"estimate"`
}

// Result is what Run did.
type Result struct {
	// Run is the classification run as recorded (zero for a dry run).
	Run lmsys.ClassificationRun `json:"classification_run"`
	// Plan counts the scope; for a dry run it is the whole answer.
	Plan Plan `json:"plan"`
	// Classified counts the queries labelled by this run, Errors those given
	// ErrorLabel; Skipped those already labelled under the result key.
	Classified int64 `json:"classified"`
	Errors     int64 `json:"errors"`
	Skipped    int64 `json:"skipped"`
	// Cost is what this run spent.
	Cost Cost `json:"cost"`
	// Stopped is true when MaxCost ended the run early.
	Stopped bool `json:"stopped"`
	// Metrics counts what the classifier's calls did during the run, for classifiers
	// that count them (LLM.Metrics: asks, cache hits, rejected replies, refusals,
	// retries, failed calls); nil otherwise.
	Metrics map[string]int64 `json:"metrics,omitempty"`
}

type counter interface {
	CountQueries(ctx context.Context, f lmsys.QueryFilter) (int64, error)
}

type runGetter interface {
	GetRun(ctx context.Context, id string) (lmsys.Run, error)
}

type modeler interface{ Model() string }

type paramser interface{ Params() map[string]any }

// metricser is implemented by classifiers that count their calls (LLM).
type metricser interface{ Metrics() map[string]int64 }

// errStop ends a scan early when the cost cap is reached.
var errStop = errors.New("cost cap reached")

var runNameRe = regexp.MustCompile(`[^a-z0-9_.-]+`)

// Run applies c to every query of the scope that has no label under c's result key
// yet, and records a lmsys.ClassificationRun with the template. Labels are saved
// SaveEvery queries at a time while the run goes on, with the run's counters, so a
// killed run keeps its work and a re-run with the same result key does only the rest.
// A conversation the classifier keeps answering invalidly (ErrInvalidAnswer) gets
// ErrorLabel on every facet, with the reason as reasoning, and counts as an error;
// any other classifier error (a provider that gave up after its retries) stops the
// run with status failed, keeping what was saved. Cancelling ctx stops it the same
// way. Classifiers that implement Estimator are planned and capped by cost.
func Run(ctx context.Context, st Store, c Classifier, opts Options) (Result, error) {
	if st == nil || c == nil {
		return Result{}, fmt.Errorf("%w: classify: Run needs a store and a classifier", lmsys.ErrInvalidInput)
	}
	if opts.Concurrency == 0 {
		opts.Concurrency = 16
	}
	if opts.SaveEvery == 0 {
		opts.SaveEvery = 64
	}
	switch {
	case opts.Concurrency < 1:
		return Result{}, fmt.Errorf("%w: classify: concurrency %d must be at least 1", lmsys.ErrInvalidInput, opts.Concurrency)
	case opts.MaxCost < 0:
		return Result{}, fmt.Errorf("%w: classify: max cost %g must not be negative", lmsys.ErrInvalidInput, opts.MaxCost)
	case len(opts.Scope.ClusterIDs) > 0 && opts.Scope.RunID == "":
		return Result{}, fmt.Errorf("%w: classify: cluster ids need the clustering run they belong to", lmsys.ErrInvalidInput)
	}
	if opts.Scope.RunID != "" {
		if rg, ok := st.(runGetter); ok {
			if _, err := rg.GetRun(ctx, opts.Scope.RunID); err != nil {
				return Result{}, fmt.Errorf("classify: clustering run %q: %w", opts.Scope.RunID, err)
			}
		}
	}
	r := &runner{st: st, c: c, opts: opts, key: c.ResultKey()}
	r.est, _ = c.(Estimator)
	var err error
	if r.plan.Queries, err = r.count(ctx); err != nil {
		return Result{}, err
	}
	if opts.DryRun {
		err := r.scan(ctx, func(todo []lmsys.Conversation) error {
			for _, cv := range todo {
				r.plan.ToDo++
				if r.est != nil {
					r.plan.Estimate = r.plan.Estimate.Add(r.est.Estimate(cv))
				}
			}
			return nil
		})
		if err != nil {
			return Result{}, err
		}
		if r.plan.Queries == 0 {
			r.plan.Queries = r.plan.ToDo + r.plan.Labelled
		}
		return Result{Plan: r.plan, Skipped: r.plan.Labelled}, nil
	}
	return r.run(ctx)
}

// CreateRun records a classification run of c over opts.Scope (and its template)
// without classifying anything, as Run would at its start: its status is running,
// its total the scope's size when the store counts queries. Runs with Options.Join
// then add labels to it.
func CreateRun(ctx context.Context, st Store, c Classifier, opts Options) (lmsys.ClassificationRun, error) {
	if st == nil || c == nil {
		return lmsys.ClassificationRun{}, fmt.Errorf("%w: classify: CreateRun needs a store and a classifier", lmsys.ErrInvalidInput)
	}
	r := &runner{st: st, c: c, opts: opts, key: c.ResultKey()}
	var err error
	if r.plan.Queries, err = r.count(ctx); err != nil {
		return lmsys.ClassificationRun{}, err
	}
	if err := r.create(ctx); err != nil {
		return lmsys.ClassificationRun{}, err
	}
	return r.rec, nil
}

// join loads the run that a joined Run adds its labels to.
func (r *runner) join(ctx context.Context) error {
	rec, err := r.st.GetClassificationRun(ctx, r.opts.ID)
	if err != nil {
		return fmt.Errorf("classify: join run %q: %w", r.opts.ID, err)
	}
	if rec.ResultKey != r.key {
		return fmt.Errorf("%w: classify: run %s has result key %s, this classifier %s", lmsys.ErrInvalidInput, rec.ID, rec.ResultKey, r.key)
	}
	r.rec = rec
	return nil
}

// runner holds the state of one run.
type runner struct {
	st   Store
	c    Classifier
	est  Estimator
	opts Options
	key  string
	plan Plan
	rec  lmsys.ClassificationRun

	metrics0 map[string]int64 // the classifier's counters when the run started

	mu       sync.Mutex
	spent    Cost
	reserved float64
	stopped  bool
}

func (r *runner) count(ctx context.Context) (int64, error) {
	cq, ok := r.st.(counter)
	if !ok {
		return 0, nil
	}
	var n int64
	for _, f := range r.opts.Scope.filters() {
		k, err := cq.CountQueries(ctx, f)
		if err != nil {
			return 0, fmt.Errorf("classify: count queries: %w", err)
		}
		n += k
	}
	return n, nil
}

// scan streams the scope's conversations and hands fn those still to classify
// (copied: the store may reuse its batch), counting the labelled ones in the plan.
func (r *runner) scan(ctx context.Context, fn func([]lmsys.Conversation) error) error {
	for _, f := range r.opts.Scope.filters() {
		err := r.st.ScanConversations(ctx, f, 256, func(batch []lmsys.Conversation) error {
			ids := make([]int64, len(batch))
			for i, cv := range batch {
				ids[i] = cv.QueryID
			}
			done, err := r.st.LabeledQueryIDs(ctx, r.key, ids)
			if err != nil {
				return fmt.Errorf("classify: labelled queries: %w", err)
			}
			if r.opts.RetryErrors && len(done) > 0 {
				if err := r.unmarkErrors(ctx, done); err != nil {
					return err
				}
			}
			todo := make([]lmsys.Conversation, 0, len(batch))
			for _, cv := range batch {
				if done[cv.QueryID] {
					r.plan.Labelled++
					continue
				}
				cv.Messages = append([]lmsys.Message(nil), cv.Messages...)
				todo = append(todo, cv)
			}
			return fn(todo)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// unmarkErrors removes from done the queries whose label under the key is ErrorLabel.
func (r *runner) unmarkErrors(ctx context.Context, done map[int64]bool) error {
	facets := r.c.Facets()
	if len(facets) == 0 {
		return nil
	}
	ids := make([]int64, 0, len(done))
	for id := range done {
		ids = append(ids, id)
	}
	ls, err := r.st.Labels(ctx, lmsys.LabelFilter{Facet: facets[0].Name, ResultKey: r.key, QueryIDs: ids})
	if err != nil {
		return fmt.Errorf("classify: labels: %w", err)
	}
	for _, l := range ls {
		if l.Value == ErrorLabel {
			delete(done, l.QueryID)
		}
	}
	return nil
}

// outcome is one classified conversation.
type outcome struct {
	id      int64
	answers []Answer
	cost    Cost
	failed  string
}

func (r *runner) newRecord() lmsys.ClassificationRun {
	tmpl := r.c.Template()
	model, provider := "builtin/"+tmpl.Name, "builtin"
	if m, ok := r.c.(modeler); ok {
		model = m.Model()
		provider, _, _ = strings.Cut(model, "/")
	}
	var params map[string]any
	if p, ok := r.c.(paramser); ok {
		params = p.Params()
	}
	if params == nil {
		params = map[string]any{}
	}
	if r.opts.MaxCost > 0 {
		params["max_cost"] = r.opts.MaxCost
	}
	// The process running it, so a later run can tell one killed mid-way.
	params["owner"] = owner.Self()
	var names []string
	for _, f := range r.c.Facets() {
		names = append(names, f.Name)
	}
	if l, ok := r.c.(Lister); ok && len(l.ListFacets()) > 0 {
		// The store counts and filters these facets item by item.
		params[lmsys.ListFacetsParameter] = l.ListFacets()
	}
	return lmsys.ClassificationRun{ID: r.opts.ID, TemplateID: tmpl.ID, TemplateHash: tmpl.Hash, ResultKey: r.key,
		Provider: provider, Model: model, Facets: names, Parameters: params, Scope: r.opts.Scope.record(),
		Status: lmsys.ClassificationRunning, TotalQueries: r.plan.Queries, CreatedAt: timeNow()}
}

// create saves the template and the run record, finding a free id when none is given.
func (r *runner) create(ctx context.Context) error {
	tmpl := r.c.Template()
	rec := r.newRecord()
	explicit := rec.ID != ""
	if !explicit {
		name := strings.Trim(runNameRe.ReplaceAllString(strings.ToLower(tmpl.Name), "-"), "-")
		rec.ID = lmsys.NewClassificationRunID(name, rec.CreatedAt)
	}
	base := rec.ID
	for n := 2; ; n++ {
		_, err := r.st.GetClassificationRun(ctx, rec.ID)
		if errors.Is(err, lmsys.ErrNotFound) {
			break
		}
		if err != nil {
			return fmt.Errorf("classify: %w", err)
		}
		if explicit {
			return fmt.Errorf("%w: classification run %q exists", lmsys.ErrInvalidInput, rec.ID)
		}
		rec.ID = fmt.Sprintf("%s-%d", base, n)
	}
	if err := r.st.SaveTemplate(ctx, tmpl); err != nil {
		return fmt.Errorf("classify: save template: %w", err)
	}
	if err := r.st.CreateClassificationRun(ctx, rec); err != nil {
		return fmt.Errorf("classify: create run: %w", err)
	}
	r.rec = rec
	return r.closeInterrupted(ctx)
}

// closeInterrupted marks the earlier runs of this result key that still say running
// but whose process is gone (killed mid-way) as failed, naming the run that takes
// their work over: their labels are kept and this run skips them.
func (r *runner) closeInterrupted(ctx context.Context) error {
	runs, err := r.st.ClassificationRuns(ctx)
	if err != nil {
		return fmt.Errorf("classify: %w", err)
	}
	for _, old := range runs {
		o, _ := old.Parameters["owner"].(string)
		if old.ID == r.rec.ID || old.ResultKey != r.key || old.Status != lmsys.ClassificationRunning || !owner.Gone(o) {
			continue
		}
		now := timeNow()
		old.Status, old.CompletedAt = lmsys.ClassificationFailed, &now
		old.Error = fmt.Sprintf("interrupted: its process (%s) ended before it finished; %s resumes its work", o, r.rec.ID)
		if err := r.st.UpdateClassificationRun(ctx, old); err != nil {
			return fmt.Errorf("classify: close interrupted run %s: %w", old.ID, err)
		}
	}
	return nil
}

// admit reserves the estimated cost of classifying cv, or reports that the cap
// forbids it (and from then on refuses everything).
func (r *runner) admit(cv lmsys.Conversation) (float64, bool) {
	if r.opts.MaxCost <= 0 || r.est == nil {
		return 0, true
	}
	e := r.est.Estimate(cv).USD
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped || r.spent.USD+r.reserved+e > r.opts.MaxCost {
		r.stopped = true
		return 0, false
	}
	r.reserved += e
	return e, true
}

func (r *runner) settle(reserved float64, c Cost) {
	r.mu.Lock()
	r.reserved -= reserved
	r.spent = r.spent.Add(c)
	r.mu.Unlock()
}

func (r *runner) run(ctx context.Context) (Result, error) {
	start := r.create
	if r.opts.Join {
		start = r.join
	}
	if err := start(ctx); err != nil {
		return Result{}, err
	}
	if m, ok := r.c.(metricser); ok {
		r.metrics0 = m.Metrics()
	}
	res := Result{}
	type job struct {
		cv       lmsys.Conversation
		reserved float64
	}
	work := make(chan job)
	outs := make(chan outcome, r.opts.Concurrency)
	wctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	var wg sync.WaitGroup
	for range r.opts.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range work {
				cv := j.cv
				answers, cost, err := r.c.Classify(wctx, cv)
				r.settle(j.reserved, cost)
				o := outcome{id: cv.QueryID, answers: answers, cost: cost}
				switch {
				case err == nil:
				case errors.Is(err, ErrInvalidAnswer):
					o.failed = err.Error()
				default:
					// Not the conversation's fault: stop the run, label nothing.
					cancel(err)
					outs <- outcome{id: -1, cost: cost}
					continue
				}
				outs <- o
			}
		}()
	}

	// The collector saves labels in batches, with the run's counters; res counts
	// only what is saved.
	var saveErr error
	collected := make(chan struct{})
	go func() {
		defer close(collected)
		var pending []lmsys.Label
		queued, okQueued, errQueued := 0, int64(0), int64(0)
		flush := func() {
			if queued == 0 || saveErr != nil {
				return
			}
			// Save with a context that survives cancellation: the work is done and paid for.
			sctx := context.WithoutCancel(ctx)
			if err := r.st.SaveLabels(sctx, pending); err != nil {
				saveErr = fmt.Errorf("classify: save labels: %w", err)
				cancel(saveErr)
				return
			}
			res.Classified += okQueued
			res.Errors += errQueued
			r.rec.ProcessedQueries = res.Classified + res.Errors
			r.rec.ErrorCount = res.Errors
			r.setCost(res.Cost)
			if r.opts.Join {
				pending, queued, okQueued, errQueued = pending[:0], 0, 0, 0
				return
			}
			if err := r.st.UpdateClassificationRun(sctx, r.rec); err != nil {
				saveErr = fmt.Errorf("classify: update run: %w", err)
				cancel(saveErr)
				return
			}
			pending, queued, okQueued, errQueued = pending[:0], 0, 0, 0
		}
		for o := range outs {
			res.Cost = res.Cost.Add(o.cost)
			if o.id < 0 {
				continue
			}
			now := timeNow()
			if o.failed != "" {
				errQueued++
				for _, f := range r.c.Facets() {
					pending = append(pending, lmsys.Label{QueryID: o.id, Facet: f.Name, Value: ErrorLabel, Reasoning: o.failed,
						ClassificationRunID: r.rec.ID, ResultKey: r.key, CreatedAt: now})
				}
			} else {
				okQueued++
				for _, a := range o.answers {
					pending = append(pending, lmsys.Label{QueryID: o.id, Facet: a.Facet, Value: a.Value, Reasoning: a.Reasoning,
						ClassificationRunID: r.rec.ID, ResultKey: r.key, CreatedAt: now})
				}
			}
			queued++
			total := r.plan.Queries
			r.opts.Progress.Report("classify", r.plan.Labelled+res.Classified+res.Errors+okQueued+errQueued, total)
			if queued >= r.opts.SaveEvery {
				flush()
			}
		}
		flush()
	}()

	scanErr := r.scan(wctx, func(todo []lmsys.Conversation) error {
		for _, cv := range todo {
			reserved, ok := r.admit(cv)
			if !ok {
				return errStop
			}
			select {
			case work <- job{cv, reserved}:
			case <-wctx.Done():
				r.settle(reserved, Cost{})
				return context.Cause(wctx)
			}
		}
		return nil
	})
	close(work)
	wg.Wait()
	close(outs)
	<-collected

	res.Plan = r.plan
	res.Skipped = r.plan.Labelled
	r.mu.Lock()
	res.Stopped = r.stopped
	r.mu.Unlock()
	if r.rec.TotalQueries == 0 {
		r.rec.TotalQueries = r.plan.Labelled + res.Classified + res.Errors
	}
	runErr := context.Cause(wctx)
	if runErr == nil && scanErr != nil && !errors.Is(scanErr, errStop) {
		runErr = scanErr
	}
	if saveErr != nil {
		runErr = saveErr
	}
	if runErr == nil && ctx.Err() != nil {
		runErr = ctx.Err()
	}
	done := timeNow()
	r.rec.CompletedAt = &done
	r.rec.ProcessedQueries = res.Classified + res.Errors
	r.rec.ErrorCount = res.Errors
	r.setCost(res.Cost)
	switch {
	case runErr != nil:
		r.rec.Status, r.rec.Error = lmsys.ClassificationFailed, runErr.Error()
	case res.Stopped:
		r.rec.Status = lmsys.ClassificationStopped
		r.rec.Error = fmt.Sprintf("stopped at the cost cap of $%.4f", r.opts.MaxCost)
	default:
		r.rec.Status = lmsys.ClassificationCompleted
	}
	// A joined run's record is its creator's to finish.
	if !r.opts.Join {
		if err := r.st.UpdateClassificationRun(context.WithoutCancel(ctx), r.rec); err != nil && runErr == nil {
			runErr = fmt.Errorf("classify: update run: %w", err)
		}
	}
	res.Run = r.rec
	res.Metrics = r.metrics()
	if runErr != nil {
		return res, runErr
	}
	return res, nil
}

func (r *runner) setCost(c Cost) {
	r.rec.Calls, r.rec.InputTokens, r.rec.OutputTokens, r.rec.Cost = c.Calls, c.InputTokens, c.OutputTokens, c.USD
}

// metrics returns what the run's calls added to the classifier's counters, or nil.
func (r *runner) metrics() map[string]int64 {
	m, ok := r.c.(metricser)
	if !ok {
		return nil
	}
	now := m.Metrics()
	diff := make(map[string]int64, len(now))
	for k, v := range now {
		diff[k] = v - r.metrics0[k]
	}
	return diff
}

// Predict classifies one text without a store, for trying a template. A text whose
// lines open with "User:" and "Assistant:" is read as a conversation of those turns;
// any other text is one user message.
func Predict(ctx context.Context, c Classifier, text string) ([]Answer, Cost, error) {
	if strings.TrimSpace(text) == "" {
		return nil, Cost{}, fmt.Errorf("%w: classify: empty text", lmsys.ErrInvalidInput)
	}
	return c.Classify(ctx, ParseTranscript(text))
}

var turnRe = regexp.MustCompile(`(?im)^(user|human|assistant|agent|bot|gpt|system)\s*:\s?`)

// ParseTranscript reads "User: …" / "Assistant: …" turns (also "Human:", "Agent:", "Bot:", "GPT:",
// "System:") from text; text without such a first line is one user message.
func ParseTranscript(text string) lmsys.Conversation {
	locs := turnRe.FindAllStringSubmatchIndex(text, -1)
	if len(locs) == 0 || strings.TrimSpace(text[:locs[0][0]]) != "" {
		return lmsys.Conversation{Messages: []lmsys.Message{{Role: lmsys.RoleUser, Content: strings.TrimSpace(text)}}}
	}
	var c lmsys.Conversation
	for i, l := range locs {
		end := len(text)
		if i+1 < len(locs) {
			end = locs[i+1][0]
		}
		role := lmsys.RoleUser
		switch strings.ToLower(text[l[2]:l[3]]) {
		case "assistant", "agent", "bot", "gpt":
			role = lmsys.RoleAssistant
		case "system":
			role = lmsys.RoleSystem
		}
		c.Messages = append(c.Messages, lmsys.Message{Role: role, Content: strings.TrimSpace(text[l[1]:end])})
	}
	return c
}
