package search

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/lmsys-go/lmsys"
)

// ErrIndexBuilding is wrapped by the error of a search on a Service with
// Options.Background whose run's vector index is still being built.
var ErrIndexBuilding = errors.New("the run's vector index is being built")

// BuildingError tells a search that came too early how far its run's background index
// build has come. It wraps ErrIndexBuilding.
type BuildingError struct {
	RunID string `json:"run_id"`
	// Stage is the build's current step ("index queries <space>" …), Done of Total
	// items (Total 0 when unknown).
	Stage string `json:"stage"`
	Done  int64  `json:"done"`
	Total int64  `json:"total"`
}

// Error says what is being built and how far it is.
func (e *BuildingError) Error() string {
	if e.Total > 0 {
		return fmt.Sprintf("the vector index of run %s is being built (%s: %d of %d); try again shortly", e.RunID, e.Stage, e.Done, e.Total)
	}
	return fmt.Sprintf("the vector index of run %s is being built (%s); try again shortly", e.RunID, e.Stage)
}

// Unwrap returns ErrIndexBuilding.
func (e *BuildingError) Unwrap() error { return ErrIndexBuilding }

// build is one background check-and-sync of a run's collections.
type build struct {
	runID string
	done  chan struct{}
	err   error // set before done is closed

	mu       sync.Mutex
	progress lmsys.Progress
}

func (b *build) report(p lmsys.Progress) {
	b.mu.Lock()
	b.progress = p
	b.mu.Unlock()
}

func (b *build) state() *BuildingError {
	b.mu.Lock()
	defer b.mu.Unlock()
	stage := b.progress.Stage
	if stage == "" {
		stage = "waiting to start"
	}
	return &BuildingError{RunID: b.runID, Stage: stage, Done: b.progress.Done, Total: b.progress.Total}
}

// startBuild returns the run's background build, starting one unless one is running.
// A build that failed is forgotten, so the next search tries again.
func (s *Service) startBuild(run lmsys.Run) *build {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b := s.builds[run.ID]; b != nil {
		return b
	}
	b := &build{runID: run.ID, done: make(chan struct{})}
	s.builds[run.ID] = b
	go func() {
		err := s.syncFresh(context.Background(), run, b)
		b.err = err
		s.mu.Lock()
		delete(s.builds, run.ID)
		s.mu.Unlock()
		close(b.done)
	}()
	return b
}

func (s *Service) ensureFreshBackground(ctx context.Context, run lmsys.Run) error {
	if s.opts.BuildWait <= 0 {
		return s.awaitBuild(ctx, run, closedTimer)
	}
	t := time.NewTimer(s.opts.BuildWait)
	defer t.Stop()
	return s.awaitBuild(ctx, run, t.C)
}

// closedTimer fires at once: a search that may not wait at all.
var closedTimer = func() <-chan time.Time {
	c := make(chan time.Time)
	close(c)
	return c
}()

// awaitBuild starts (or joins) the run's background build unless the run is fresh,
// and waits for it until it ends, ctx is done, or giveUp fires (nil: never), when it
// answers the build's state.
func (s *Service) awaitBuild(ctx context.Context, run lmsys.Run, giveUp <-chan time.Time) error {
	s.mu.Lock()
	ok := s.fresh[run.ID]
	s.mu.Unlock()
	if ok {
		return nil
	}
	b := s.startBuild(run)
	select {
	case <-b.done:
		return b.err
	default:
	}
	select {
	case <-b.done:
		return b.err
	case <-ctx.Done():
		return ctx.Err()
	case <-giveUp:
		return b.state()
	}
}

// Prepare checks the run's vector index against the store and builds or brings it up
// to date, as the run's first search would; a server calls it at start for the runs
// people will search, so that their first search answers at once. On a Service with
// Options.Background it shares the background build searches wait for.
func (s *Service) Prepare(ctx context.Context, runID string) error {
	run, err := s.runSpace(ctx, runID)
	if err != nil {
		return err
	}
	if !s.opts.Background {
		return s.syncFresh(ctx, run, nil)
	}
	return s.awaitBuild(ctx, run, nil)
}
