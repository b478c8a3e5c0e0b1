// Package gate is a test helper that proves a concurrency limit both ways: that no
// more than n calls run at once, and that n calls really do run at once.
//
// Each limited call runs Gate.Pass. A call that enters while n others are inside
// fails the test. A call waits inside until n calls (or, for the last ones, every
// call still to come) are inside together, then all of them leave (New); or only the
// first n calls wait for each other and the rest pass (Once: for calls that depend on
// one another, such as a retry after a reply, which cannot all gather). A limiter that
// runs fewer than n calls at once therefore never lets the first group gather: the
// calls wait until the gate's failsafe (a minute, only there so a broken limiter
// fails the test with a message instead of hanging it) and the test fails saying how
// many gathered: too little concurrency always fails. Too much fails whenever a call
// comes in beside n others, which calls held at the gate make likely but the
// scheduler does not promise. A correct limiter never waits for the clock.
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
	t testing.TB
	// limit is the most calls that may be inside; gather how many a group waits for
	// (both n; the package's tests set them apart).
	limit, gather int
	mu            sync.Mutex
	left          int           // calls still to come, this group's included
	in            int           // calls inside now
	group         int           // calls that reached the current group
	open          chan struct{} // closed when the current group has gathered
	peak          int
	once          bool // Once: only the first group gathers
	free          bool // Once: the first group has gathered
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
	return &Gate{t: t, limit: n, gather: n, left: total, open: make(chan struct{}), wait: failsafe}
}

// Once returns a gate whose first n calls must run at once; the calls after them
// pass without waiting, but no more than n at a time either.
func Once(t testing.TB, n int) *Gate {
	t.Helper()
	if n <= 0 {
		t.Fatalf("gate: n (%d) must be positive", n)
	}
	return &Gate{t: t, limit: n, gather: n, left: n, open: make(chan struct{}), wait: failsafe, once: true}
}

// Pass is what each limited call runs: it fails the test when more than n calls are
// inside, and returns once its group (n calls, or every remaining call) has gathered.
func (g *Gate) Pass() {
	g.mu.Lock()
	g.in++
	if g.in > g.peak {
		g.peak = g.in
	}
	if g.in > g.limit {
		g.t.Errorf("gate: %d calls ran at once, the limit is %d", g.in, g.limit)
	}
	if g.once && g.free {
		g.in--
		g.mu.Unlock()
		return
	}
	if g.left <= 0 {
		g.t.Errorf("gate: more calls than the total New was given")
		g.in--
		g.mu.Unlock()
		return
	}
	g.group++
	open := g.open
	want := min(g.gather, g.left)
	if g.group >= want {
		// The group has gathered: let it go and start the next one.
		g.left -= g.group
		g.group = 0
		g.free = g.once
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
