package gate

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// recorder is a testing.TB that keeps the gate's errors.
type recorder struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *recorder) Errorf(format string, a ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, a...))
}

// limited runs total calls of g.Pass through a semaphore of size limit.
func limited(g *Gate, limit, total int) {
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	for range total {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			g.Pass()
		}()
	}
	wg.Wait()
}

// TestOnceLetsDependentCallsThrough checks that, once the first group has gathered,
// calls pass one at a time too (a re-ask after its own call).
func TestOnceLetsDependentCallsThrough(t *testing.T) {
	r := &recorder{TB: t}
	g := Once(r, 2)
	limited(g, 2, 2)
	for range 3 {
		g.Pass()
	}
	assert.Empty(t, r.errs)
}

// TestGateSeesTooMany lets a fourth call in while a group of three is forming (the
// group of four cannot gather before it comes: three of its calls wait for it).
func TestGateSeesTooMany(t *testing.T) {
	for _, g := range []func(testing.TB) *Gate{
		func(tb testing.TB) *Gate { return New(tb, 3, 4) },
		func(tb testing.TB) *Gate { return Once(tb, 3) },
	} {
		r := &recorder{TB: t}
		gt := g(r)
		gt.gather, gt.left = 4, 4 // gather four, while the limit checked stays three
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() { defer wg.Done(); gt.Pass() }()
		}
		wg.Wait()
		assert.Contains(t, r.errs, "gate: 4 calls ran at once, the limit is 3")
	}
}

func TestGate(t *testing.T) {
	cases := []struct {
		name         string
		once         bool
		n, limit, of int
		want         string
	}{
		{"limit n, total a multiple of n", false, 3, 3, 12, ""},
		{"limit n, a last short group", false, 3, 3, 11, ""},
		{"one at a time", false, 1, 1, 5, ""},
		{"fewer than n at once", false, 3, 2, 6, "gate: only 2 of 3 calls ever ran at once"},
		{"once: limit n", true, 3, 3, 10, ""},
		{"once: fewer than n at once", true, 3, 2, 6, "gate: only 2 of 3 calls ever ran at once"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := &recorder{TB: t}
			g := New(r, tc.n, tc.of)
			if tc.once {
				g = Once(r, tc.n)
			}
			if tc.limit < tc.n {
				g.wait = 50 * time.Millisecond // the failure path only: a serial limiter never gathers
			}
			limited(g, tc.limit, tc.of)
			if tc.want == "" {
				assert.Empty(t, r.errs)
				assert.Equal(t, tc.n, g.Peak())
				return
			}
			assert.Contains(t, r.errs, tc.want)
		})
	}
}
