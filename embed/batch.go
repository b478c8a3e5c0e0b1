package embed

import (
	"context"
	"sync"

	"github.com/lmsys-go/lmsys"
)

// Batched returns an embedder that gathers concurrent Embed calls into one call of e.
// A server embedding one search text per request pays, per call, for streaming every
// weight of the model through the cache; fifty requests in flight become one call of
// fifty texts that streams them once. No call waits for a timer: a call that finds e
// idle goes at once, and the calls that arrive while e works go together next, up to
// maxTexts texts (64 when 0 or less). Calls of different purposes are never mixed. When
// a gathered call fails, each of its callers is retried alone, so one bad text fails
// only its own caller.
func Batched(e lmsys.Embedder, maxTexts int) lmsys.Embedder {
	if maxTexts <= 0 {
		maxTexts = 64
	}
	return &batched{e: e, max: maxTexts}
}

type batched struct {
	e   lmsys.Embedder
	max int

	mu      sync.Mutex
	queue   []*batchCall
	running bool
}

type batchCall struct {
	texts []string
	p     lmsys.Purpose
	out   [][]float32
	err   error
	done  chan struct{}
}

// Space returns the wrapped embedder's space.
func (b *batched) Space() lmsys.Space { return b.e.Space() }

// Unwrap returns the wrapped embedder.
func (b *batched) Unwrap() lmsys.Embedder { return b.e }

// Embed embeds texts with the calls gathered beside it; it returns when its own
// vectors are ready or ctx is done.
func (b *batched) Embed(ctx context.Context, texts []string, p lmsys.Purpose) ([][]float32, error) {
	if len(texts) == 0 || len(texts) >= b.max {
		return b.e.Embed(ctx, texts, p)
	}
	c := &batchCall{texts: texts, p: p, done: make(chan struct{})}
	b.mu.Lock()
	b.queue = append(b.queue, c)
	if !b.running {
		b.running = true
		go b.loop()
	}
	b.mu.Unlock()
	select {
	case <-c.done:
		return c.out, c.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// loop embeds what is queued, batch after batch, until the queue is empty.
func (b *batched) loop() {
	for {
		b.mu.Lock()
		if len(b.queue) == 0 {
			b.running = false
			b.mu.Unlock()
			return
		}
		p := b.queue[0].p
		var batch, rest []*batchCall
		n := 0
		for _, c := range b.queue {
			if c.p == p && n+len(c.texts) <= b.max {
				batch = append(batch, c)
				n += len(c.texts)
			} else {
				rest = append(rest, c)
			}
		}
		b.queue = rest
		b.mu.Unlock()
		b.run(batch, n)
	}
}

func (b *batched) run(batch []*batchCall, n int) {
	// The callers' contexts are theirs to give up on; the batch runs for all of them.
	ctx := context.Background()
	if len(batch) == 1 {
		c := batch[0]
		c.out, c.err = b.e.Embed(ctx, c.texts, c.p)
		close(c.done)
		return
	}
	texts := make([]string, 0, n)
	for _, c := range batch {
		texts = append(texts, c.texts...)
	}
	vs, err := b.e.Embed(ctx, texts, batch[0].p)
	if err == nil && len(vs) != len(texts) {
		err = lmsys.ErrSpaceMismatch
	}
	at := 0
	for _, c := range batch {
		if err != nil {
			c.out, c.err = b.e.Embed(ctx, c.texts, c.p)
		} else {
			c.out = vs[at : at+len(c.texts) : at+len(c.texts)]
			at += len(c.texts)
		}
		close(c.done)
	}
}
