package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"text/tabwriter"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/classify"
	"github.com/lmsys-go/lmsys/distributed"
	"github.com/lmsys-go/lmsys/llm"
	"github.com/lmsys-go/lmsys/store"
	"github.com/spf13/cobra"
)

func init() {
	commandRegistrars = append(commandRegistrars, registerClassify)
}

// classifierFlags choose a classifier: built-ins, a facet set or a template file,
// and the model settings of the LLM ones.
type classifierFlags struct {
	builtins                 []string
	facets, template         string
	model, baseURL, auditLog string
	concurrency, rpm         int
	maxInputChars, attempts  int
	temperature              float64
	noScrub                  bool
}

// classifyFlags are the flags of lmsys classify.
type classifyFlags struct {
	classifierFlags
	runID, dataset, id string
	clusterIDs         []int
	queryIDs           []int64
	maxCost            float64
	dryRun, retry      bool
	distributed        bool
	batch              int
}

func addClassifierFlags(cmd *cobra.Command, f *classifierFlags) {
	fs := cmd.Flags()
	fs.StringSliceVar(&f.builtins, "builtin", nil, "offline built-in classifiers, comma-separated ("+strings.Join(classify.BuiltinNames(), ", ")+")")
	fs.StringVar(&f.facets, "facets", "", "built-in LLM facet set ("+strings.Join(classify.FacetSetNames(), ", ")+")")
	fs.StringVar(&f.template, "template", "", "LLM classifier template file (YAML or JSON)")
	fs.StringVar(&f.model, "model", "", "LLM provider/model for --facets and --template (default: "+llm.DefaultModel+" when OPENAI_API_KEY is set)")
	fs.StringVar(&f.baseURL, "base-url", "", "LLM API endpoint (gateways, proxies, local OpenAI-compatible servers)")
	fs.IntVar(&f.concurrency, "concurrency", 10, "conversations classified at once (and LLM requests in flight)")
	fs.IntVar(&f.rpm, "rpm", 0, "LLM requests per minute (0: no limit)")
	fs.Float64Var(&f.temperature, "temperature", 0, "LLM sampling temperature (part of the result key)")
	fs.IntVar(&f.maxInputChars, "max-input-chars", classify.DefaultMaxInputChars, "characters of conversation shown to the model; longer ones are clipped")
	fs.IntVar(&f.attempts, "attempts", classify.DefaultAttempts, "asks per conversation before an invalid answer is recorded as "+classify.ErrorLabel)
	fs.BoolVar(&f.noScrub, "no-scrub", false, "send conversations unscrubbed (e-mails, phones, cards, IPs, keys)")
	fs.StringVar(&f.auditLog, "audit-log", "", "append one JSON line per LLM call to this file (query id, cache key, prompt hash, tokens, cost, reply)")
	cmd.MarkFlagsMutuallyExclusive("builtin", "facets", "template")
}

func registerClassify(root *cobra.Command, g *globals) {
	var f classifyFlags
	cmd := &cobra.Command{
		Use:   "classify (--builtin NAMES | --facets clio | --template FILE) [--run-id R [--cluster-ids 3,7]] [--dataset D] [--query-ids 1,2]",
		Short: "Label whole conversations: offline built-ins, the Clio facets or an LLM template",
		Long: `Label every conversation in scope and record a classification run; labels are facets
everywhere else (facets, trends, search filters, export, the HTTP API and the viewer).

--builtin runs offline classifiers (` + strings.Join(classify.BuiltinNames(), ", ") + `), one
classification run each. --facets clio asks a model for the Clio facets (request, task,
languages, concerning, frustration, assistant_errors) in one call per conversation;
--template FILE asks for the facets of a YAML or JSON template. Without --model the model is
` + llm.DefaultModel + ` when OPENAI_API_KEY is set.

A run is resumable: labels are saved as they come, and a re-run with the same template,
model and settings skips what is labelled (--retry-failed asks again where the model kept
answering invalidly, stored as ` + classify.ErrorLabel + `). --dry-run prints the calls, tokens
and estimated cost first (tokens estimated at 4 bytes a token, priced from the built-in
table); --max-cost stops cleanly before the estimated cost passes the cap. Conversation
text is scrubbed of e-mails, phone and card numbers, IP addresses and keys before it is sent,
unless --no-scrub. Replies are cached in the database, so a repeated prompt costs nothing;
--audit-log keeps one line per call.`,
		Example: `  lmsys classify --builtin refusal,pushback,code,language,turns
  lmsys classify --builtin refusal --run-id kmeans-200-20251004-170442
  lmsys classify --facets clio --model openai/gpt-4o-mini --run-id kmeans-200-20251004-170442 --dry-run
  lmsys classify --facets clio --model openai/gpt-4o-mini --max-cost 5 --concurrency 20
  lmsys classify --template code-placeholders.yaml --model anthropic/claude-3-5-haiku-latest --run-id R --cluster-ids 3,7,12
  lmsys classify predict --template code-placeholders.yaml --text "User: write a parser\nAssistant: # TODO"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runClassify(cmd, g, f)
		},
	}
	addClassifierFlags(cmd, &f.classifierFlags)
	fs := cmd.Flags()
	fs.StringVar(&f.runID, "run-id", "", "classify a clustering run's members")
	fs.IntSliceVar(&f.clusterIDs, "cluster-ids", nil, "only these clusters of --run-id (comma-separated)")
	fs.StringVar(&f.dataset, "dataset", "", "classify one dataset's queries")
	fs.Int64SliceVar(&f.queryIDs, "query-ids", nil, "classify only these queries (comma-separated)")
	fs.Float64Var(&f.maxCost, "max-cost", 0, "stop before the estimated cost passes this many US dollars (0: no cap)")
	fs.BoolVar(&f.dryRun, "dry-run", false, "print the planned calls, tokens and estimated cost; call and write nothing")
	fs.BoolVar(&f.retry, "retry-failed", false, "classify again the queries labelled "+classify.ErrorLabel+" under the same settings")
	fs.StringVar(&f.id, "classification-run-id", "", "id of the classification run (default classify-<name>-<timestamp>)")
	fs.BoolVar(&f.distributed, "distributed", false, "hand the conversations to 'lmsys worker' processes sharing the PostgreSQL database of --db-url, in jobs of --batch-size (scope: --dataset or every query)")
	fs.IntVar(&f.batch, "batch-size", distributed.DefaultClassifyBatch, "conversations per job with --distributed")
	cmd.AddCommand(newPredictCmd(g))
	root.AddCommand(cmd)
	root.AddCommand(newClassificationsCmd(g))
}

// auditWriter appends call records as JSON lines.
type auditWriter struct {
	mu  sync.Mutex
	enc *json.Encoder
	err error
}

func (a *auditWriter) write(r classify.CallRecord) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.err == nil {
		a.err = a.enc.Encode(r)
	}
}

// classifiers resolves the flags to the classifiers to run, in order. cache is the
// store's LLM cache (nil for predict without a store).
func (f *classifierFlags) classifiers(cmd *cobra.Command, g *globals, cache llm.Cache, dryRun bool) ([]classify.Classifier, string, error) {
	switch {
	case f.concurrency < 1:
		return nil, "", usagef("--concurrency must be at least 1, got %d", f.concurrency)
	case f.rpm < 0:
		return nil, "", usagef("--rpm must not be negative, got %d", f.rpm)
	case f.temperature < 0 || f.temperature > 2:
		return nil, "", usagef("--temperature must be between 0 and 2, got %g", f.temperature)
	}
	if len(f.builtins) > 0 {
		if f.model != "" || f.baseURL != "" || f.auditLog != "" {
			return nil, "", usagef("--model, --base-url and --audit-log are for --facets and --template; built-ins run offline")
		}
		var out []classify.Classifier
		seen := map[string]bool{}
		for _, name := range f.builtins {
			name = strings.TrimSpace(name)
			if name == "" || seen[name] {
				continue
			}
			seen[name] = true
			c, err := classify.Builtin(name)
			if err != nil {
				return nil, "", usageError{err}
			}
			out = append(out, c)
		}
		if len(out) == 0 {
			return nil, "", usagef("--builtin names no classifier (known: %s)", strings.Join(classify.BuiltinNames(), ", "))
		}
		return out, "offline built-in", nil
	}
	var tmpl *classify.Template
	var err error
	switch {
	case f.facets != "":
		tmpl, err = classify.FacetSet(f.facets)
	case f.template != "":
		tmpl, err = classify.LoadTemplate(f.template)
	default:
		return nil, "", usagef("give --builtin NAMES, --facets %s or --template FILE (see '%s --help')", strings.Join(classify.FacetSetNames(), "|"), cmd.CommandPath())
	}
	if err != nil {
		return nil, "", usageError{err}
	}
	model := f.model
	if model == "" {
		if model = llm.Default(); model == "" {
			return nil, "", usagef("--facets and --template need --model provider/model (or OPENAI_API_KEY for %s)", llm.DefaultModel)
		}
	}
	opts := []llm.Option{llm.WithConcurrency(f.concurrency), llm.WithRPM(f.rpm), llm.WithTemperature(f.temperature)}
	if cache != nil {
		opts = append(opts, llm.WithCache(cache))
	}
	if f.baseURL != "" {
		opts = append(opts, llm.WithBaseURL(f.baseURL))
	}
	client, err := llm.Open(model, opts...)
	if err != nil && dryRun && errors.Is(err, lmsys.ErrInvalidInput) && strings.Contains(err.Error(), "needs an API key") {
		// A dry run calls nothing: plan without a key.
		client, err = llm.Open(model, append(opts, llm.WithAPIKey("dry-run"))...)
	}
	if err != nil {
		return nil, "", usageError{err}
	}
	lo := classify.LLMOptions{NoScrub: f.noScrub, MaxInputChars: f.maxInputChars, Attempts: f.attempts}
	if f.auditLog != "" && !dryRun {
		file, err := os.OpenFile(f.auditLog, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			return nil, "", usagef("--audit-log: %v", err)
		}
		aw := &auditWriter{enc: json.NewEncoder(file)}
		g.onCloseErr(func() error {
			cerr := file.Close()
			if aw.err != nil {
				return fmt.Errorf("audit log %s: %w", f.auditLog, aw.err)
			}
			return cerr
		})
		lo.OnCall = aw.write
	}
	l, err := classify.NewLLM(client, tmpl, lo)
	if err != nil {
		return nil, "", usageError{err}
	}
	label := client.Model()
	if !f.noScrub {
		label += ", text scrubbed"
	}
	return []classify.Classifier{l}, label, nil
}

func runClassify(cmd *cobra.Command, g *globals, f classifyFlags) error {
	switch {
	case f.maxCost < 0:
		return usagef("--max-cost must not be negative, got %g", f.maxCost)
	case len(f.clusterIDs) > 0 && f.runID == "":
		return usagef("--cluster-ids needs --run-id")
	case f.id != "" && len(f.builtins) > 1:
		return usagef("--classification-run-id names one run; --builtin %s makes %d", strings.Join(f.builtins, ","), len(f.builtins))
	}
	if f.distributed {
		return runClassifyDistributed(cmd, g, f)
	}
	db, err := openStore(cmd, g)
	if err != nil {
		return err
	}
	cs, label, err := f.classifiers(cmd, g, db.LLMCache(), f.dryRun)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	scope := classify.Scope{Dataset: f.dataset, RunID: f.runID, ClusterIDs: f.clusterIDs, QueryIDs: f.queryIDs}
	info := cmd.OutOrStdout()
	if g.json {
		info = cmd.ErrOrStderr()
	}
	fmt.Fprintln(info, "Classifier:", label)
	return classifyAll(cmd, g, db, cs, f.dryRun, func(c classify.Classifier) (classify.Result, error) {
		p := newProgress(cmd)
		res, err := classify.Run(ctx, db, c, classify.Options{ID: f.id, Scope: scope, Concurrency: f.concurrency, MaxCost: f.maxCost,
			DryRun: f.dryRun, RetryErrors: f.retry, Progress: p.Func()})
		p.finish()
		if err != nil && res.Run.ID == "" && errors.Is(err, lmsys.ErrInvalidInput) {
			return res, usageError{err}
		}
		return res, err
	})
}

// classifyAll runs each classifier through run and prints each result, or with
// --json all of them (the ones so far when one fails). A failure before a run was
// recorded is returned as it is; after, the labels saved so far are kept and the
// error says that the same command resumes.
func classifyAll(cmd *cobra.Command, g *globals, db *store.DB, cs []classify.Classifier, dryRun bool,
	run func(classify.Classifier) (classify.Result, error)) error {
	var results []classify.Result
	for _, c := range cs {
		res, err := run(c)
		if err != nil && res.Run.ID == "" {
			return err
		}
		results = append(results, res)
		if !g.json {
			if perr := printClassifyResult(cmd.Context(), cmd.OutOrStdout(), db, c, res, dryRun); perr != nil {
				return perr
			}
		}
		if err != nil {
			if g.json {
				_ = printJSON(cmd.OutOrStdout(), results)
			}
			return fmt.Errorf("%w (labels so far are saved; the same command resumes)", err)
		}
	}
	if g.json {
		if len(results) == 1 {
			return printJSON(cmd.OutOrStdout(), results[0])
		}
		return printJSON(cmd.OutOrStdout(), results)
	}
	return nil
}

func printClassifyResult(ctx context.Context, w io.Writer, db *store.DB, c classify.Classifier, res classify.Result, dryRun bool) error {
	name := c.Template().Name
	if dryRun {
		pl := res.Plan
		fmt.Fprintf(w, "Plan for %s: %d queries in scope, %d already labelled, %d to classify\n", name, pl.Queries, pl.Labelled, pl.ToDo)
		if _, ok := c.(classify.Estimator); ok {
			e := pl.Estimate
			fmt.Fprintf(w, "Estimate: %d calls, %d input + %d output tokens (4 bytes a token), $%.4f\n", e.Calls, e.InputTokens, e.OutputTokens, e.USD)
		} else {
			fmt.Fprintln(w, "Estimate: offline, no calls, $0")
		}
		return nil
	}
	r := res.Run
	fmt.Fprintf(w, "Classification run %s (%s): %s; %d classified", r.ID, name, r.Status, res.Classified)
	if res.Skipped > 0 {
		fmt.Fprintf(w, ", %d already labelled", res.Skipped)
	}
	if res.Errors > 0 {
		fmt.Fprintf(w, ", %d %s", res.Errors, classify.ErrorLabel)
	}
	fmt.Fprintln(w)
	if _, ok := c.(classify.Estimator); ok {
		u := res.Cost
		m := res.Metrics
		fmt.Fprintf(w, "LLM: %d calls (%d asks, %d from the cache, %d replies rejected, %d of them refusals, %d retries); %d input + %d output tokens; estimated cost $%.4f\n",
			u.Calls, m["asks"], m["cache_hits"], m["rejected_replies"], m["refusals"], m["provider_retries"], u.InputTokens, u.OutputTokens, u.USD)
	}
	if r.Status == lmsys.ClassificationStopped {
		fmt.Fprintf(w, "Stopped at the cost cap; raise --max-cost and run the same command to finish.\n")
	}
	dist, err := distributions(ctx, db, r, 5)
	if err != nil {
		return err
	}
	return printDistributions(w, c.Facets(), dist)
}

// distributions counts each facet's labels under the run's result key, most common
// first, keeping top values (0: all).
func distributions(ctx context.Context, db *store.DB, r lmsys.ClassificationRun, top int) (map[string][]lmsys.Count, error) {
	out := map[string][]lmsys.Count{}
	for _, f := range r.Facets {
		cs, err := db.LabelCounts(ctx, lmsys.LabelFilter{Facet: f, ResultKey: r.ResultKey})
		if err != nil {
			return nil, err
		}
		if top > 0 && len(cs) > top {
			cs = cs[:top]
		}
		out[f] = cs
	}
	return out, nil
}

func printDistributions(w io.Writer, facets []classify.Facet, dist map[string][]lmsys.Count) error {
	tw := tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
	fmt.Fprintln(tw, "\nFACET\tLABEL\tQUERIES")
	for _, f := range facets {
		for i, c := range dist[f.Name] {
			name := ""
			if i == 0 {
				name = f.Name
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\n", name, firstLine(c.Key), c.Count)
		}
	}
	return tw.Flush()
}

func newPredictCmd(g *globals) *cobra.Command {
	var f classifierFlags
	var text string
	var showPrompt bool
	cmd := &cobra.Command{
		Use:   "predict (--template FILE | --facets clio | --builtin NAME) --text TEXT",
		Short: "Try a classifier on one text, without a database",
		Long: `Classify one text and print the answers; nothing is stored. A text whose lines open with
"User:" and "Assistant:" is read as a conversation of those turns; any other text is one
user message. --show-prompt prints the prompts as they are sent.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if strings.TrimSpace(text) == "" {
				return usagef("--text is empty")
			}
			if len(f.builtins) > 1 {
				return usagef("predict takes one --builtin, got %d", len(f.builtins))
			}
			cs, label, err := f.classifiers(cmd, g, nil, false)
			if err != nil {
				return err
			}
			c := cs[0]
			text = strings.ReplaceAll(text, `\n`, "\n")
			w := cmd.OutOrStdout()
			if l, ok := c.(*classify.LLM); ok && showPrompt {
				sys, user, err := l.Prompt(classify.ParseTranscript(text))
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "--- system ---\n%s\n--- user ---\n%s\n---\n", sys, user)
			}
			answers, cost, err := classify.Predict(cmd.Context(), c, text)
			if err != nil {
				if errors.Is(err, lmsys.ErrInvalidInput) {
					return usageError{err}
				}
				return err
			}
			if g.json {
				return printJSON(w, map[string]any{"classifier": label, "template": c.Template().Name, "answers": answers, "cost": cost})
			}
			tw := tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
			fmt.Fprintln(tw, "FACET\tLABEL\tREASONING")
			for _, a := range answers {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", a.Facet, a.Value, firstLine(a.Reasoning))
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			if cost.Calls > 0 {
				fmt.Fprintf(w, "\n%s: %d calls, %d input + %d output tokens, estimated cost $%.6f\n", label, cost.Calls, cost.InputTokens, cost.OutputTokens, cost.USD)
			}
			return nil
		},
	}
	addClassifierFlags(cmd, &f)
	cmd.Flags().StringVar(&text, "text", "", `the text to classify (\n starts a new line)`)
	cmd.Flags().BoolVar(&showPrompt, "show-prompt", false, "print the system and user prompts on stderr")
	return cmd
}

func newClassificationsCmd(g *globals) *cobra.Command {
	list := func(cmd *cobra.Command, args []string) error {
		db, err := openStore(cmd, g)
		if err != nil {
			return err
		}
		runs, err := db.ClassificationRuns(cmd.Context())
		if err != nil {
			return err
		}
		if g.json {
			if runs == nil {
				runs = []lmsys.ClassificationRun{}
			}
			return printJSON(cmd.OutOrStdout(), runs)
		}
		w := cmd.OutOrStdout()
		if len(runs) == 0 {
			fmt.Fprintln(w, "No classification runs yet: run `lmsys classify --builtin refusal` after loading conversations.")
			return nil
		}
		tw := tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
		fmt.Fprintln(tw, "CLASSIFICATION RUN\tMODEL\tFACETS\tSTATUS\tDONE\tERRORS\tCOST\tCREATED")
		for _, r := range runs {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d/%d\t%d\t$%.4f\t%s\n", r.ID, r.Model, strings.Join(r.Facets, ","), r.Status,
				r.ProcessedQueries, r.TotalQueries, r.ErrorCount, r.Cost, r.CreatedAt.Local().Format("2006-01-02 15:04"))
		}
		return tw.Flush()
	}
	cmd := &cobra.Command{
		Use:   "classifications [list | show CLASSIFICATION_RUN_ID]",
		Short: "List classification runs, or show one with its label counts",
		Args:  cobra.NoArgs,
		RunE:  list,
	}
	cmd.AddCommand(&cobra.Command{Use: "list", Short: "List classification runs, newest first", Args: cobra.NoArgs, RunE: list})
	var top int
	show := &cobra.Command{
		Use:   "show CLASSIFICATION_RUN_ID",
		Short: "Show a classification run: template, model, scope, counters, cost and each facet's labels",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if top < 0 {
				return usagef("--top must not be negative, got %d", top)
			}
			db, err := openStore(cmd, g)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			r, err := db.GetClassificationRun(ctx, args[0])
			if err != nil {
				return err
			}
			dist, err := distributions(ctx, db, r, top)
			if err != nil {
				return err
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), map[string]any{"classification_run": r, "labels": dist})
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "Classification run: %s\nTemplate:           %s (sha256 %s)\nResult key:         %s\nModel:              %s\n",
				r.ID, r.TemplateID, r.TemplateHash, r.ResultKey, r.Model)
			if len(r.Scope) > 0 {
				b, _ := json.Marshal(r.Scope)
				fmt.Fprintf(w, "Scope:              %s\n", b)
			} else {
				fmt.Fprintln(w, "Scope:              every query")
			}
			fmt.Fprintf(w, "Status:             %s\n", r.Status)
			if r.Error != "" {
				fmt.Fprintf(w, "Error:              %s\n", firstLine(r.Error))
			}
			fmt.Fprintf(w, "Queries:            %d of %d processed, %d %s\n", r.ProcessedQueries, r.TotalQueries, r.ErrorCount, classify.ErrorLabel)
			if r.Calls > 0 {
				fmt.Fprintf(w, "LLM:                %d calls, %d input + %d output tokens, estimated cost $%.4f\n", r.Calls, r.InputTokens, r.OutputTokens, r.Cost)
			}
			facets := make([]classify.Facet, len(r.Facets))
			for i, f := range r.Facets {
				facets[i] = classify.Facet{Name: f}
			}
			return printDistributions(w, facets, dist)
		},
	}
	show.Flags().IntVar(&top, "top", 10, "labels shown per facet (0: all)")
	cmd.AddCommand(show)
	return cmd
}

// runClassifyDistributed enqueues the classification of a dataset (or of every query)
// for the workers, one run per classifier, and waits for it.
func runClassifyDistributed(cmd *cobra.Command, g *globals, f classifyFlags) error {
	switch {
	case f.runID != "" || len(f.clusterIDs) > 0 || len(f.queryIDs) > 0:
		return usagef("--distributed classifies a --dataset or every query; --run-id, --cluster-ids and --query-ids run here")
	case f.dryRun || f.maxCost > 0 || f.retry || f.id != "" || f.auditLog != "":
		return usagef("--dry-run, --max-cost, --retry-failed, --classification-run-id and --audit-log are not for --distributed")
	case f.batch < 1:
		return usagef("--batch-size must be at least 1, got %d", f.batch)
	}
	url, err := distributedURL(g, "classify --distributed")
	if err != nil {
		return err
	}
	g.dbURL = url
	db, err := openStore(cmd, g)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	client, err := distributed.Open(ctx, url)
	if err != nil {
		return err
	}
	g.onClose(client.Close)
	// The classifiers here give the runs their templates and result keys; the
	// workers call the models (with their own keys), so none is needed here.
	cs, label, err := f.classifiers(cmd, g, db.LLMCache(), true)
	if err != nil {
		return err
	}
	info := cmd.OutOrStdout()
	if g.json {
		info = cmd.ErrOrStderr()
	}
	fmt.Fprintln(info, "Classifier:", label, "(on the workers)")
	client.OnEnqueue = func(b *distributed.Batch) {
		if len(b.JobIDs) == 0 {
			fmt.Fprintln(cmd.ErrOrStderr(), "  no classification job needed: every conversation is labelled")
			return
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "  %d classification jobs for the workers (%d of them queued or done before); waiting\n", len(b.JobIDs), b.Duplicates)
	}
	return classifyAll(cmd, g, db, cs, false, func(c classify.Classifier) (classify.Result, error) {
		spec := distributed.ClassifierSpec{Temperature: f.temperature, MaxInputChars: f.maxInputChars, Attempts: f.attempts, NoScrub: f.noScrub}
		if len(f.builtins) > 0 {
			spec = distributed.ClassifierSpec{Builtin: c.Template().Name}
		} else {
			spec.FacetSet = f.facets
			if m, ok := c.(interface{ Model() string }); ok {
				spec.Model = m.Model()
			}
		}
		p := newProgress(cmd)
		res, err := client.Classify(ctx, db, spec, c, f.dataset, f.batch, p.Func())
		p.finish()
		return res, err
	})
}
