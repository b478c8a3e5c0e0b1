package embed

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/lmsys-go/lmsys"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recorder embeds each text as a vector holding its length and first byte, records
// the calls it gets, holds its first call until release is closed, and fails any
// call holding the text "bad".
type recorder struct {
	mu      sync.Mutex
	calls   [][]string
	first   sync.Once
	entered chan struct{}
	release chan struct{}
}

func (r *recorder) Space() lmsys.Space { return lmsys.Space{Provider: "test", Model: "rec", Dims: 2} }

func (r *recorder) Embed(_ context.Context, texts []string, _ lmsys.Purpose) ([][]float32, error) {
	r.first.Do(func() {
		close(r.entered)
		<-r.release
	})
	r.mu.Lock()
	r.calls = append(r.calls, append([]string(nil), texts...))
	r.mu.Unlock()
	out := make([][]float32, len(texts))
	for i, t := range texts {
		if t == "bad" {
			return nil, errors.New("bad text")
		}
		out[i] = []float32{float32(len(t)), float32(t[0])}
	}
	return out, nil
}

// queued waits, without a clock, until n calls are queued behind the running one.
func queued(b *batched, n int) {
	for {
		b.mu.Lock()
		got := len(b.queue)
		b.mu.Unlock()
		if got >= n {
			return
		}
		runtime.Gosched()
	}
}

func TestBatched(t *testing.T) {
	cases := []struct {
		name  string
		texts []string // one call each, after a first call that holds the embedder
		// wantCalls is the number of calls the embedder gets after the first one.
		wantCalls int
		wantErr   map[string]bool
	}{
		{"gathered into one call", []string{"a", "bb", "ccc", "dddd", "eeeee"}, 1, nil},
		{"a bad text fails only its caller", []string{"a", "bad", "ccc"}, 1 + 3, map[string]bool{"bad": true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := &recorder{entered: make(chan struct{}), release: make(chan struct{})}
			b := Batched(r, 64).(*batched)
			ctx := context.Background()
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := b.Embed(ctx, []string{"first"}, lmsys.PurposeQuery)
				assert.NoError(t, err)
			}()
			<-r.entered
			results := make([][][]float32, len(tc.texts))
			errs := make([]error, len(tc.texts))
			for i, text := range tc.texts {
				wg.Add(1)
				go func() {
					defer wg.Done()
					results[i], errs[i] = b.Embed(ctx, []string{text}, lmsys.PurposeQuery)
				}()
			}
			queued(b, len(tc.texts))
			close(r.release)
			wg.Wait()
			for i, text := range tc.texts {
				if tc.wantErr[text] {
					assert.Error(t, errs[i], text)
					continue
				}
				require.NoError(t, errs[i], text)
				assert.Equal(t, [][]float32{{float32(len(text)), float32(text[0])}}, results[i], "each caller gets its own vector")
			}
			assert.Len(t, r.calls, 1+tc.wantCalls, "calls: %v", r.calls)
			assert.Len(t, r.calls[1], len(tc.texts), "the queued calls went together")
		})
	}
}

func TestBatchedKeepsPurposesApartAndBounds(t *testing.T) {
	r := &recorder{entered: make(chan struct{}), release: make(chan struct{})}
	b := Batched(r, 3).(*batched)
	ctx := context.Background()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _, _ = b.Embed(ctx, []string{"first"}, lmsys.PurposeQuery) }()
	<-r.entered
	purposes := []lmsys.Purpose{lmsys.PurposeQuery, lmsys.PurposeDocument, lmsys.PurposeQuery, lmsys.PurposeQuery, lmsys.PurposeQuery}
	for i, p := range purposes {
		wg.Add(1)
		go func() { defer wg.Done(); _, _ = b.Embed(ctx, []string{fmt.Sprint("t", i)}, p) }()
	}
	queued(b, len(purposes))
	close(r.release)
	wg.Wait()
	// After the first: the first queued purpose's calls up to three texts, then the
	// rest: never more than three texts, never two purposes in one call.
	for _, c := range r.calls[1:] {
		assert.LessOrEqual(t, len(c), 3, "%v", r.calls)
	}
	assert.Len(t, r.calls, 1+3, "query ×3, document, query: %v", r.calls)

	// A call of maxTexts texts or more goes straight to the embedder.
	vs, err := b.Embed(ctx, []string{"x", "yy", "zzz"}, lmsys.PurposeQuery)
	require.NoError(t, err)
	assert.Len(t, vs, 3)

	// A caller that gives up gets its context's error.
	r2 := &recorder{entered: make(chan struct{}), release: make(chan struct{})}
	b2 := Batched(r2, 8)
	go func() { _, _ = b2.Embed(ctx, []string{"held"}, lmsys.PurposeQuery) }()
	<-r2.entered
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = b2.Embed(cctx, []string{"late"}, lmsys.PurposeQuery)
	assert.ErrorIs(t, err, context.Canceled)
	close(r2.release)
}
