package lmsys

import (
	"context"
	"fmt"
	"time"
)

// Stage is one step of a Pipeline: load, embed, cluster, summarize, merge, index.
// Run reads what earlier stages left in the state and the Store and records its own
// results in both. Stages are idempotent: a stage that finds its work already done in
// the Store does only what is missing, which is what makes a pipeline resumable after
// it was killed.
type Stage interface {
	Name() string
	Run(ctx context.Context, s *State) error
}

// StageFunc adapts a function to Stage.
type StageFunc struct {
	StageName string
	Fn        func(ctx context.Context, s *State) error
}

// Name returns the stage's name.
func (f StageFunc) Name() string { return f.StageName }

// Run calls the function.
func (f StageFunc) Run(ctx context.Context, s *State) error { return f.Fn(ctx, s) }

// State is what the stages of one pipeline run share.
type State struct {
	Store    Store
	Progress ProgressFunc
	// Dataset names the dataset the run works on (empty: every query).
	Dataset string
	// Space is the embedding space of the run.
	Space Space
	// RunID, SummaryRunID and HierarchyRunID are set by the cluster, summarize and
	// merge stages (or given, to resume from them).
	RunID          string
	SummaryRunID   string
	HierarchyRunID string
	// Results holds one line of results per stage, for the final report.
	Results map[string]string
}

// Note records a stage's result line.
func (s *State) Note(stage, format string, a ...any) {
	if s.Results == nil {
		s.Results = map[string]string{}
	}
	s.Results[stage] = fmt.Sprintf(format, a...)
}

// StageReport tells how one stage went.
type StageReport struct {
	Stage   string
	Elapsed time.Duration
	Err     error
}

// Pipeline runs stages in order over one Store. The zero value runs nothing; the
// wiring package local builds one on embedded defaults.
type Pipeline struct {
	Store  Store
	Stages []Stage
	// Progress receives progress reports from every stage.
	Progress ProgressFunc
	// OnStage, when set, is called when each stage starts (Elapsed 0) and ends.
	OnStage func(StageReport)
}

// Run runs every stage in order, stopping at the first error, which it returns
// wrapped with the stage's name. st may carry ids to resume from; nil starts fresh.
func (p *Pipeline) Run(ctx context.Context, st *State) (*State, error) {
	if st == nil {
		st = &State{}
	}
	st.Store = p.Store
	st.Progress = p.Progress
	for _, stage := range p.Stages {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		if p.OnStage != nil {
			p.OnStage(StageReport{Stage: stage.Name()})
		}
		start := time.Now()
		err := stage.Run(ctx, st)
		if p.OnStage != nil {
			p.OnStage(StageReport{Stage: stage.Name(), Elapsed: time.Since(start), Err: err})
		}
		if err != nil {
			return st, fmt.Errorf("%s: %w", stage.Name(), err)
		}
	}
	return st, nil
}
