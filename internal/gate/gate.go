// Package gate is a test helper that proves a concurrency limit both ways: that no
// more than n calls run at once, and that n calls really do run at once.
//
// Each limited call runs Gate.Pass. A call that enters while n others are inside
// fails the test. A call waits inside until n calls (or, for the last ones, every
// call still to come) are inside together, then all of them leave. A limiter that
// runs fewer than n calls at once therefore never lets the first group gather: the
// calls wait until the gate's failsafe (a minute, only there so a broken limiter
// fails the test with a message instead of hanging it) and the test fails saying how
// many gathered. A correct limiter never waits for the clock.
package gate

import (
	"sync"
	"testing"
	"time"
)

// failsafe bounds how long a group waits to gather before the test fails.
const failsafe = time.Minute

// Gate lets calls through in groups of n.
type Gate struct {
	t     testing.TB
	n     int
	mu    sync.Mutex
	left  int           // calls still to come, this group's included
	in    int           // calls inside now
	group int           // calls that reached the current group
	open  chan struct{} // closed when the current group has gathered
	peak  int
	// wait is how long a group may take to gather (failsafe; the package's own tests
	// shorten it to see a broken limiter fail).
	wait time.Duration
}

// New returns a gate for total calls, to be run at most n at a time.
func New(t testing.TB, n, total int) *Gate {
	t.Helper()
	if n <= 0 || total <= 0 {
		t.Fatalf("gate: n (%d) and total (%d) must be positive", n, total)
	}
	return &Gate{t: t, n: n, left: total, open: make(chan struct{}), wait: failsafe}
}

// Pass is what each limited call runs: it fails the test when more than n calls are
// inside, and returns once its group (n calls, or every remaining call) has gathered.
func (g *Gate) Pass() {
	g.mu.Lock()
	g.in++
	if g.in > g.peak {
		g.peak = g.in
	}
	if g.in > g.n {
		g.t.Errorf("gate: %d calls ran at once, the limit is %d", g.in, g.n)
	}
	if g.left <= 0 {
		g.t.Errorf("gate: more calls than the total New was given")
		g.in--
		g.mu.Unlock()
		return
	}
	g.group++
	open := g.open
	want := min(g.n, g.left)
	if g.group >= want {
		// The group has gathered: let it go and start the next one.
		g.left -= g.group
		g.group = 0
		g.open = make(chan struct{})
		close(open)
	}
	g.mu.Unlock()

	select {
	case <-open:
	case <-time.After(g.wait):
		g.mu.Lock()
		g.t.Errorf("gate: only %d of %d calls ever ran at once", g.group, want)
		g.mu.Unlock()
	}
	g.mu.Lock()
	g.in--
	g.mu.Unlock()
}

// Peak returns the most calls that were inside at once.
func (g *Gate) Peak() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.peak
}
