package classify

import (
	"embed"
	"fmt"
	"sort"
	"strings"

	"github.com/lmsys-go/lmsys"
)

//go:embed templates/*.yaml
var facetSetFS embed.FS

// FacetSetNames lists the built-in LLM facet sets (templates/NAME.yaml).
func FacetSetNames() []string {
	ents, err := facetSetFS.ReadDir("templates")
	if err != nil {
		panic(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	sort.Strings(out)
	return out
}

// FacetSet returns a built-in LLM template by name. "clio" is the Clio and Kura facet
// set: request (one English sentence, whatever the conversation's language), task (a
// closed set), languages (ISO 639-1 codes), concerning (1–5), frustration (1–5) and
// assistant_errors (a closed set), all answered in one call per conversation. An
// unknown name is an error wrapping lmsys.ErrInvalidInput.
func FacetSet(name string) (*Template, error) {
	b, err := facetSetFS.ReadFile("templates/" + name + ".yaml")
	if err != nil {
		return nil, fmt.Errorf("%w: no built-in facet set %q (have %s)", lmsys.ErrInvalidInput, name, strings.Join(FacetSetNames(), ", "))
	}
	t, err := ParseTemplate(b)
	if err != nil {
		return nil, fmt.Errorf("built-in facet set %s: %w", name, err)
	}
	t.source = "builtin"
	return t, nil
}
