package hierarchy

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/lmsys-go/lmsys/internal/gate"
	"github.com/lmsys-go/lmsys/llm/llmtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestClioConcurrencyLimit checks that Options.Concurrency bounds the LLM calls of
// each parallel step (propose, assign, rename) and that the merge really runs that
// many at once: every call of a step goes through a gate that fails the test when a
// fourth runs beside three, and holds the step's first calls until three run
// together. The client itself would allow eight. (gate.Once, not gate.New: a re-ask
// follows its own call, so a step's last calls cannot always gather.)
func TestClioConcurrencyLimit(t *testing.T) {
	leaves := func() []Leaf {
		ls := planted(4, 4, 4, 7)
		for i := range ls {
			w := strings.Fields(ls[i].Title)
			ls[i].Description = fmt.Sprintf("%s requests, %s questions about %s", w[0], w[0], w[1])
		}
		return ls
	}
	opts := func(h llmtest.Handler) Options {
		_, client := openFake(t, h)
		return Options{LLM: client, Embedder: wordEmbedder{}, TargetLevels: 2, MergeRatio: 0.25, NeighborhoodSize: 16,
			ContextClusters: 3, Concurrency: 3, Now: fixedNow}
	}
	steps := []string{"propose", "assign", "rename"}
	fake := &taxonomist{steps: map[string]int{}, orders: map[string]bool{}}
	gates := map[string]*gate.Gate{}
	for _, s := range steps {
		gates[s] = gate.Once(t, 3)
	}
	gated := func(r llmtest.Request) llmtest.Reply {
		p := r.User
		switch {
		case strings.Contains(p, "Propose between"):
			gates["propose"].Pass()
		case strings.Contains(p, "<categories>"):
			gates["assign"].Pass()
		case strings.Contains(p, "were grouped under the category"):
			gates["rename"].Pass()
		}
		return fake.handle(r)
	}
	_, err := Build(context.Background(), "run-7", leaves(), opts(gated))
	require.NoError(t, err)
	for _, s := range steps {
		assert.Equal(t, 3, gates[s].Peak(), "step %s", s)
		assert.Greater(t, fake.steps[s], 3, "step %s made more calls than the limit", s)
	}
}
