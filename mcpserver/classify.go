package mcpserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/classify"
	"github.com/lmsys-go/lmsys/llm"
)

// ClassifyInput is the input of classify.
type ClassifyInput struct {
	Builtin     []string `json:"builtin,omitempty" jsonschema:"offline built-in classifiers to run, one classification run each"`
	Facets      string   `json:"facets,omitempty" jsonschema:"a built-in LLM facet set (clio: request, task, languages, concerning, frustration, assistant_errors)"`
	Template    string   `json:"template,omitempty" jsonschema:"an LLM classifier template, as YAML or JSON text"`
	Model       string   `json:"model,omitempty" jsonschema:"provider/model the LLM classifiers ask (openai/gpt-4o-mini, anthropic/claude-3-5-haiku-latest …); required with facets and template"`
	MaxCost     float64  `json:"max_cost,omitempty" jsonschema:"stop before the estimated cost passes this many US dollars; required and positive with facets and template unless dry_run"`
	RunID       string   `json:"run_id,omitempty" jsonschema:"classify this clustering run's members"`
	ClusterIDs  []int    `json:"cluster_ids,omitempty" jsonschema:"only these clusters of run_id"`
	Dataset     string   `json:"dataset,omitempty" jsonschema:"classify this dataset's queries"`
	QueryIDs    []int64  `json:"query_ids,omitempty" jsonschema:"classify only these queries"`
	DryRun      bool     `json:"dry_run,omitempty" jsonschema:"plan only: the queries in scope, those already labelled, and the calls, tokens and estimated cost; nothing is called or written"`
	RetryFailed bool     `json:"retry_failed,omitempty" jsonschema:"classify again the queries a model kept answering invalidly (labelled ERROR)"`
	Concurrency int      `json:"concurrency,omitempty" jsonschema:"conversations classified at once, 1 to 32 (default 8)"`
}

// ClassifyOutput is the answer of classify: one result per classification run (the
// JSON of `lmsys classify --json`), and the classifier's description.
type ClassifyOutput struct {
	Classifier string            `json:"classifier"`
	Results    []classify.Result `json:"results"`
}

func (s *server) addClassify(srv *mcp.Server) {
	desc := "Label whole conversations and record a classification run, exactly as `lmsys classify` does; the labels are then facets " +
		"everywhere (facets by, search and trends label filters, export). Give builtin (offline, free: " + strings.Join(classify.BuiltinNames(), ", ") +
		"), facets (an LLM facet set) or template (an LLM template's YAML). The LLM ones need model and max_cost (a cost cap in US dollars); " +
		"dry_run plans the calls and cost first. A run is resumable: the same call skips what is labelled."
	if s.opts.MaxCost > 0 {
		desc += fmt.Sprintf(" This server allows max_cost up to %g.", s.opts.MaxCost)
	}
	addTool(s, srv, &mcp.Tool{Name: ToolClassify, Description: desc,
		Annotations: &mcp.ToolAnnotations{DestructiveHint: ptr(false), IdempotentHint: true, OpenWorldHint: ptr(true)}},
		func(sc *jsonschema.Schema) {
			enum(sc, "builtin", classify.BuiltinNames()...)
			enum(sc, "facets", classify.FacetSetNames()...)
		}, s.classify)
}

// classifiers resolves classify's input to its classifiers and their description.
func (s *server) classifiers(in ClassifyInput) ([]classify.Classifier, string, error) {
	given := 0
	for _, b := range []bool{len(in.Builtin) > 0, in.Facets != "", strings.TrimSpace(in.Template) != ""} {
		if b {
			given++
		}
	}
	if given != 1 {
		return nil, "", badArg("builtin", "give exactly one of builtin, facets and template (built-ins: %s; facet sets: %s)",
			strings.Join(classify.BuiltinNames(), ", "), strings.Join(classify.FacetSetNames(), ", "))
	}
	if len(in.Builtin) > 0 {
		if in.Model != "" {
			return nil, "", badArg("model", "built-in classifiers run offline: leave model out")
		}
		var out []classify.Classifier
		seen := map[string]bool{}
		for _, name := range in.Builtin {
			if seen[name] {
				continue
			}
			seen[name] = true
			c, err := classify.Builtin(name)
			if err != nil {
				return nil, "", badArg("builtin", "%v", err)
			}
			out = append(out, c)
		}
		return out, "offline built-in", nil
	}
	var tmpl *classify.Template
	var err error
	field := "facets"
	if in.Facets != "" {
		tmpl, err = classify.FacetSet(in.Facets)
	} else {
		field = "template"
		tmpl, err = classify.ParseTemplate([]byte(in.Template))
	}
	if err != nil {
		return nil, "", badArg(field, "%v", err)
	}
	if strings.TrimSpace(in.Model) == "" {
		return nil, "", badArg("model", "required with %s: a provider/model such as %s", field, llm.DefaultModel)
	}
	if !in.DryRun && in.MaxCost <= 0 {
		return nil, "", badArg("max_cost", "required with %s: a positive cost cap in US dollars (dry_run estimates the cost first)", field)
	}
	if s.opts.MaxCost > 0 && in.MaxCost > s.opts.MaxCost {
		return nil, "", badArg("max_cost", "%g is over this server's ceiling of %g US dollars", in.MaxCost, s.opts.MaxCost)
	}
	opts := []llm.Option{llm.WithConcurrency(in.Concurrency)}
	client, err := s.deps.LLM(in.Model, opts...)
	if err != nil && in.DryRun && errors.Is(err, lmsys.ErrInvalidInput) && strings.Contains(err.Error(), "needs an API key") {
		// A dry run calls nothing: plan without a key.
		client, err = s.deps.LLM(in.Model, append(opts, llm.WithAPIKey("dry-run"))...)
	}
	if err != nil {
		if errors.Is(err, lmsys.ErrInvalidInput) {
			return nil, "", badArg("model", "%v", err)
		}
		return nil, "", err
	}
	l, err := classify.NewLLM(client, tmpl, classify.LLMOptions{})
	if err != nil {
		return nil, "", badArg(field, "%v", err)
	}
	return []classify.Classifier{l}, client.Model() + ", text scrubbed", nil
}

func (s *server) classify(ctx context.Context, req *mcp.CallToolRequest, in ClassifyInput) (json.RawMessage, error) {
	if in.Concurrency == 0 {
		in.Concurrency = 8
	}
	switch {
	case in.Concurrency < 1 || in.Concurrency > 32:
		return nil, badArg("concurrency", "%d is out of range: give 1 to 32 (default 8)", in.Concurrency)
	case in.MaxCost < 0:
		return nil, badArg("max_cost", "%g must not be negative", in.MaxCost)
	case len(in.ClusterIDs) > 0 && in.RunID == "":
		return nil, badArg("cluster_ids", "needs run_id, the run the clusters belong to")
	}
	if in.RunID != "" {
		if _, err := s.run(ctx, "run_id", in.RunID); err != nil {
			return nil, err
		}
		for _, c := range in.ClusterIDs {
			if err := s.cluster(ctx, in.RunID, "cluster_ids", c); err != nil {
				return nil, err
			}
		}
	}
	cs, label, err := s.classifiers(in)
	if err != nil {
		return nil, err
	}
	out := ClassifyOutput{Classifier: label, Results: []classify.Result{}}
	scope := classify.Scope{Dataset: in.Dataset, RunID: in.RunID, ClusterIDs: in.ClusterIDs, QueryIDs: in.QueryIDs}
	for _, c := range cs {
		res, err := classify.Run(ctx, s.deps.Store, c, classify.Options{Scope: scope, Concurrency: in.Concurrency, MaxCost: in.MaxCost,
			DryRun: in.DryRun, RetryErrors: in.RetryFailed, Progress: progress(ctx, req)})
		if err != nil {
			if res.Run.ID != "" {
				return nil, fmt.Errorf("classification run %s: %w (labels so far are saved; the same call resumes)", res.Run.ID, err)
			}
			return nil, err
		}
		out.Results = append(out.Results, res)
	}
	return s.fit(out, fitSpec{})
}

// progress reports a classification run's progress to the caller when it asked for
// progress notifications: at most one notification per percent done.
func progress(ctx context.Context, req *mcp.CallToolRequest) lmsys.ProgressFunc {
	if req == nil || req.Params == nil || req.Session == nil {
		return nil
	}
	tok := req.Params.GetProgressToken()
	if tok == nil {
		return nil
	}
	var mu sync.Mutex
	last := int64(-1)
	return func(p lmsys.Progress) {
		pct := int64(100)
		if p.Total > 0 {
			pct = p.Done * 100 / p.Total
		}
		mu.Lock()
		skip := pct == last
		last = pct
		mu.Unlock()
		if skip {
			return
		}
		_ = req.Session.NotifyProgress(ctx, &mcp.ProgressNotificationParams{ProgressToken: tok, Progress: float64(p.Done), Total: float64(p.Total),
			Message: p.Stage})
	}
}
