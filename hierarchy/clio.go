package hierarchy

import (
	"context"
	"fmt"

	"github.com/lmsys-go/lmsys"
)

// Completer asks a language model for a JSON answer. CompleteJSON sends the system
// and user prompts, decodes the answer into out and calls validate (when not nil) on
// it; an answer that fails to decode or validate may be asked again by the
// implementation. *llm.Client satisfies it.
type Completer interface {
	CompleteJSON(ctx context.Context, system, prompt string, out any, validate func() error) error
}

func buildClio(ctx context.Context, runID string, leaves []Leaf, opts Options) (Result, error) {
	return Result{}, fmt.Errorf("%w: the LLM merge is not available yet", lmsys.ErrInvalidInput)
}
