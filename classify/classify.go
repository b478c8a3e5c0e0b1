// Package classify labels whole conversations: built-in offline classifiers
// (refusal, pushback, code, language, turns, length) and LLM classifier templates
// (YAML or JSON files, and the built-in Clio facet set). A classification run applies
// one classifier to a set of queries and stores one label per query and facet;
// labels are facets everywhere else in the library (facets, trends, search filters,
// export, the HTTP API and the viewer).
package classify

import (
	"context"

	"github.com/lmsys-go/lmsys"
)

// Facet is one answer a classifier gives about a conversation.
type Facet struct {
	// Name is the facet's name as it appears in facets, filters and exports
	// ("refusal", "code_language", "request").
	Name string `json:"name"`
	// Labels is the closed vocabulary of the facet; nil for a free-text facet
	// (such as the Clio request summary) or an open one (such as a language code).
	Labels []string `json:"labels,omitempty"`
	// Description says what the facet measures.
	Description string `json:"description,omitempty"`
}

// Cost is what classifying cost: model calls and their tokens, and the estimated
// price in US dollars. Offline classifiers cost nothing.
type Cost struct {
	Calls        int64   `json:"calls"`
	InputTokens  int64   `json:"input_tokens"`
	OutputTokens int64   `json:"output_tokens"`
	USD          float64 `json:"estimated_cost"`
}

// Add returns the sum of two costs.
func (c Cost) Add(o Cost) Cost {
	return Cost{Calls: c.Calls + o.Calls, InputTokens: c.InputTokens + o.InputTokens,
		OutputTokens: c.OutputTokens + o.OutputTokens, USD: c.USD + o.USD}
}

// Answer is one facet's label for one conversation.
type Answer struct {
	Facet     string `json:"facet"`
	Value     string `json:"label"`
	Reasoning string `json:"reasoning,omitempty"`
}

// Classifier labels one conversation at a time. Implementations are safe for
// concurrent use.
type Classifier interface {
	// Template describes the classifier as stored (name, source, content, hash).
	Template() lmsys.ClassificationTemplate
	// Facets lists the facets every answer covers.
	Facets() []Facet
	// ResultKey identifies the classifier's answers: the template hash plus every
	// parameter that changes them (model, temperature …). Equal keys mean a label
	// already stored can be reused.
	ResultKey() string
	// Classify answers every facet for c, and reports what it cost.
	Classify(ctx context.Context, c lmsys.Conversation) ([]Answer, Cost, error)
}

// Lister is implemented by classifiers with list facets (LLM templates' list type):
// facets answered with several items, stored joined by lmsys.ListSeparator. A run
// records them (lmsys.ListFacetsParameter), so counts and label filters take those
// facets item by item.
type Lister interface {
	// ListFacets returns the names of the list facets.
	ListFacets() []string
}

// Estimator is implemented by classifiers that call a model, so a run can print
// its calls, tokens and price before it starts (--dry-run) and stop at a cap.
type Estimator interface {
	// Estimate returns the expected cost of classifying c.
	Estimate(c lmsys.Conversation) Cost
}
