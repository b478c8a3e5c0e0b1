package classify_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/classify"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoadTemplateFiles(t *testing.T) {
	yml, err := classify.LoadTemplate("testdata/full.yaml")
	require.NoError(t, err)
	js, err := classify.LoadTemplate("testdata/full.json")
	require.NoError(t, err)
	assert.Equal(t, yml.Hash(), js.Hash(), "the same template in YAML and JSON has one canonical hash")
	assert.Equal(t, "json", js.Stored(time0).Source)
	assert.Equal(t, "yaml", yml.Stored(time0).Source)
	assert.Equal(t, "2", yml.Version, "a numeric version is read as text")
	require.Len(t, yml.Facets, 4)
	assert.Equal(t, classify.TemplateFacet{Name: "severity", Type: classify.TypeInteger, Min: 1, Max: 5}, yml.Facets[1])
	assert.Equal(t, 200, yml.Facets[2].MaxChars)
	assert.Equal(t, []classify.Facet{
		{Name: "placeholder", Labels: []string{"placeholder", "runnable", "no_code"}, Description: "Whether the code is complete."},
		{Name: "severity"}, {Name: "note"}, {Name: "languages"},
	}, yml.ClassifierFacets())
	assert.True(t, strings.HasPrefix(yml.ID(), "code-placeholders-"))
	assert.Len(t, yml.Hash(), 64)

	sys := yml.System()
	assert.Contains(t, sys, `"placeholder": exactly one of "placeholder", "runnable", "no_code"`)
	assert.Contains(t, sys, `"severity": an integer from 1 to 5`)
	assert.Contains(t, sys, `"reasoning"`)
	assert.Contains(t, sys, `<answer>{"reasoning": "The body is a TODO.", "placeholder": "placeholder", "severity": 4, "note": "a stub", "languages": ["en"]}</answer>`)

	py, err := classify.LoadTemplate("testdata/python-format.yaml")
	require.NoError(t, err)
	require.Len(t, py.Facets, 1)
	assert.Equal(t, "answer-quality", py.Facets[0].Name)
	assert.Equal(t, []classify.TemplateLabel{
		{Name: "placeholder_code", Description: `The reply has comments or "..." where the code should be.`},
		{Name: "runnable_code", Description: "The reply holds complete code."},
		{Name: "no_code", Description: "The reply has no code."},
	}, py.Facets[0].Labels)
	assert.Equal(t, classify.InputConversation, py.Input)
	assert.Equal(t, map[string]any{"answer-quality": "placeholder_code"}, py.Examples[0].Answer)
	p, err := py.Render(classify.PromptData{Conversation: "User: hi", Query: "hi"})
	require.NoError(t, err)
	assert.Contains(t, p, "Conversation:\nUser: hi")
}

func TestTemplateHashIgnoresLayout(t *testing.T) {
	a, err := classify.ParseTemplate([]byte("name: t\nfacets:\n  - {name: f, labels: [a, b]}\n"))
	require.NoError(t, err)
	b, err := classify.ParseTemplate([]byte("# a comment\nfacets:\n- name: f\n  labels:\n  - a\n  - b\nname:   t\n"))
	require.NoError(t, err)
	c, err := classify.ParseTemplate([]byte("name: t\nfacets:\n  - {name: f, labels: [a, c]}\n"))
	require.NoError(t, err)
	assert.Equal(t, a.Hash(), b.Hash())
	assert.NotEqual(t, a.Hash(), c.Hash())
}

func TestParseTemplateErrors(t *testing.T) {
	const facets = "facets:\n  - {name: f, labels: [a, b]}\n"
	for _, tc := range []struct {
		name, src, want string
	}{
		{"empty", "", "empty template"},
		{"not a map", "- a\n- b\n", "not a template"},
		{"unknown field", "name: t\nlables: [a, b]\n", "field lables not found"},
		{"no name", facets, "name: missing"},
		{"bad name", "name: Bad Name\n" + facets, "name: \"Bad Name\""},
		{"two documents", "name: t\n" + facets + "---\nname: u\n", "more than one YAML document"},
		{"no facets", "name: t\n", "facets: missing"},
		{"facets and labels", "name: t\nlabels: [a, b]\n" + facets, "give facets, or labels"},
		{"bad input", "name: t\ninput: reply\n" + facets, `input: "reply"`},
		{"bad prompt", "name: t\nprompt: '{{.Conversation'\n" + facets, "prompt:"},
		{"unknown field in prompt", "name: t\nprompt: '{{.Conversation}} {{.Reply}}'\n" + facets, "prompt:"},
		{"prompt without input", "name: t\nprompt: classify it\n" + facets, "never shows the conversation"},
		{"query prompt without query", "name: t\ninput: query\nprompt: '{{.Turns}}'\n" + facets, "never shows the query"},
		{"query input shows conversation", "name: t\ninput: query\nprompt: '{{.Query}} {{.Conversation}}'\n" + facets, "input is query"},
		{"both prompts", "name: t\nprompt: '{{.Conversation}}'\ninput_template: '{{ conversation_text }}'\n" + facets, "give one, not both"},
		{"jinja statement", "name: t\ninput_template: '{% for m in x %}{{ m }}{% endfor %}'\n" + facets, "input_template: statements ({% … %}) and comments of Jinja"},
		{"jinja filter", "name: t\ninput_template: '{{ conversation_text | upper }}'\n" + facets, "input_template: only plain variables"},
		{"jinja unknown var", "name: t\ninput_template: '{{ cluster }}'\n" + facets, `input_template: variable "cluster"`},
		{"post_process", "name: t\npost_process: fix\n" + facets, "post_process:"},
		{"output_schema", "name: t\noutput_schema: {a: 1}\n" + facets, "output_schema:"},
		{"facet without name", "name: t\nfacets:\n  - {labels: [a, b]}\n", "facets[0]: name: missing"},
		{"facet bad name", "name: t\nfacets:\n  - {name: F, labels: [a, b]}\n", `facets[0]: name: "F"`},
		{"facet duplicate", "name: t\nfacets:\n  - {name: f, labels: [a, b]}\n  - {name: f, type: text}\n", `facets[1].name: "f" appears twice`},
		{"facet reasoning", "name: t\nfacets:\n  - {name: reasoning, type: text}\n", "reserved"},
		{"facet no type", "name: t\nfacets:\n  - {name: f}\n", "facets[0]: type: missing"},
		{"facet bad type", "name: t\nfacets:\n  - {name: f, type: float}\n", `facets[0]: type: "float"`},
		{"one label", "name: t\nfacets:\n  - {name: f, labels: [a]}\n", "facets[0]: labels: 1 labels"},
		{"duplicate label", "name: t\nfacets:\n  - {name: f, labels: [a, b, A]}\n", `facets[0]: labels: [2]: label "A" repeats labels[0]`},
		{"ERROR label", "name: t\nfacets:\n  - {name: f, labels: [ok, error]}\n", "reserved"},
		{"empty label", "name: t\nfacets:\n  - {name: f, labels: [a, '']}\n", "empty label name"},
		{"label with quote", "name: t\nfacets:\n  - {name: f, labels: [a, 'b\"c']}\n", "holds a quote"},
		{"label unknown key", "name: t\nfacets:\n  - name: f\n    labels:\n      - {name: a, colour: red}\n      - b\n", "field colour not found"},
		{"labels wrong shape", "name: t\nfacets:\n  - {name: f, labels: abc}\n", "a list of labels or a map"},
		{"text with labels", "name: t\nfacets:\n  - {name: f, type: text, labels: [a, b]}\n", "a text facet has no labels"},
		{"label with range", "name: t\nfacets:\n  - {name: f, labels: [a, b], range: 1-5}\n", "only an integer facet has a range"},
		{"integer no range", "name: t\nfacets:\n  - {name: f, type: integer}\n", "range: missing"},
		{"integer bad range", "name: t\nfacets:\n  - {name: f, range: one to five}\n", `range: "one to five"`},
		{"integer empty range", "name: t\nfacets:\n  - {name: f, range: 5-1}\n", "empty or a single value"},
		{"integer huge range", "name: t\nfacets:\n  - {name: f, range: 0-100000}\n", "more than 1000"},
		{"integer range and min", "name: t\nfacets:\n  - {name: f, range: 1-5, min: 1}\n", "not both"},
		{"max_chars on label", "name: t\nfacets:\n  - {name: f, labels: [a, b], max_chars: 3}\n", "only a text facet has max_chars"},
		{"example without input", "name: t\n" + facets + "examples:\n  - {answer: {f: a}}\n", "examples[0]: input: missing"},
		{"example without answer", "name: t\n" + facets + "examples:\n  - {input: x}\n", "examples[0]: answer: missing"},
		{"example bad label", "name: t\n" + facets + "examples:\n  - {input: x, answer: {f: z}}\n", `examples[0]: answer.f: is "z", which is not one of "a", "b"`},
		{"example unknown facet", "name: t\n" + facets + "examples:\n  - {input: x, answer: {f: a, g: 1}}\n", "examples[0]: answer.g: no such facet"},
		{"example missing facet", "name: t\nfacets:\n  - {name: f, labels: [a, b]}\n  - {name: g, type: text}\nexamples:\n  - {input: x, answer: {f: a}}\n", "examples[0]: answer.g: missing"},
		{"example label on many facets", "name: t\nfacets:\n  - {name: f, labels: [a, b]}\n  - {name: g, type: text}\nexamples:\n  - {input: x, label: a}\n", "examples[0]: label: only a template with one label facet"},
		{"example without reasoning", "name: t\nreasoning: true\n" + facets + "examples:\n  - {input: x, answer: {f: a}}\n", "examples[0]: reasoning: missing"},
		{"example out of range", "name: t\nfacets:\n  - {name: f, range: 1-5}\nexamples:\n  - {input: x, answer: {f: 9}}\n", "examples[0]: answer.f: is 9, outside 1 to 5"},
		{"not utf-8", "name: t\xff\n" + facets, "not UTF-8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := classify.ParseTemplate([]byte(tc.src))
			require.Error(t, err)
			assert.True(t, errors.Is(err, lmsys.ErrInvalidInput), "%v", err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestLoadTemplateNamesFile(t *testing.T) {
	_, err := classify.LoadTemplate("testdata/missing.yaml")
	require.ErrorIs(t, err, lmsys.ErrInvalidInput)
	assert.Contains(t, err.Error(), "missing.yaml")
}

func TestParseReply(t *testing.T) {
	tmpl, err := classify.LoadTemplate("testdata/full.yaml")
	require.NoError(t, err)
	for _, tc := range []struct {
		name, reply string
		want        []string
		err         string
	}{
		{"good", `{"reasoning": "r", "placeholder": "runnable", "severity": 2, "note": " fine\n code ", "languages": ["en", "ru", "en"]}`,
			[]string{"runnable", "2", "fine code", "en, ru"}, ""},
		{"integer as string", `{"reasoning": "r", "placeholder": "runnable", "severity": "3", "note": "n", "languages": ["en"]}`,
			[]string{"runnable", "3", "n", "en"}, ""},
		{"label not in set", `{"reasoning": "r", "placeholder": "Runnable", "severity": 2, "note": "n", "languages": ["en"]}`,
			nil, `"placeholder" is "Runnable", which is not one of`},
		{"missing facet", `{"reasoning": "r", "placeholder": "runnable", "note": "n", "languages": ["en"]}`, nil, `"severity" is missing`},
		{"out of range", `{"reasoning": "r", "placeholder": "runnable", "severity": 7, "note": "n", "languages": ["en"]}`, nil, "outside 1 to 5"},
		{"fraction", `{"reasoning": "r", "placeholder": "runnable", "severity": 2.5, "note": "n", "languages": ["en"]}`, nil, "not an integer"},
		{"text too long", `{"reasoning": "r", "placeholder": "runnable", "severity": 2, "note": "` + strings.Repeat("x", 201) + `", "languages": ["en"]}`, nil, "at most 200"},
		{"list not list", `{"reasoning": "r", "placeholder": "runnable", "severity": 2, "note": "n", "languages": "en"}`, nil, "not a list"},
		{"empty list", `{"reasoning": "r", "placeholder": "runnable", "severity": 2, "note": "n", "languages": []}`, nil, "is empty"},
		{"no reasoning", `{"placeholder": "runnable", "severity": 2, "note": "n", "languages": ["en"]}`, nil, `"reasoning" is missing`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var raw map[string]json.RawMessage
			require.NoError(t, json.Unmarshal([]byte(tc.reply), &raw))
			got, err := tmpl.ParseReply(raw)
			if tc.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.err)
				return
			}
			require.NoError(t, err)
			var vals []string
			for _, a := range got {
				vals = append(vals, a.Value)
				assert.Equal(t, "r", a.Reasoning)
			}
			assert.Equal(t, tc.want, vals)
		})
	}
}

func TestFacetSetClio(t *testing.T) {
	assert.Equal(t, []string{"clio"}, classify.FacetSetNames())
	c, err := classify.FacetSet("clio")
	require.NoError(t, err)
	var names []string
	for _, f := range c.Facets {
		names = append(names, f.Name)
	}
	assert.Equal(t, []string{"request", "task", "languages", "concerning", "frustration", "assistant_errors"}, names)
	assert.Equal(t, "builtin", c.Stored(time0).Source)
	_, err = classify.FacetSet("kura")
	assert.ErrorIs(t, err, lmsys.ErrInvalidInput)
}

// FuzzParseTemplate checks that no input makes the parser panic, that every error
// wraps ErrInvalidInput, and that an accepted template renders and hashes stably.
func FuzzParseTemplate(f *testing.F) {
	for _, p := range []string{"testdata/full.yaml", "testdata/full.json", "testdata/python-format.yaml", "templates/clio.yaml"} {
		b, err := readFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("name: t\nfacets:\n  - {name: f, range: 1-5}\n"))
	f.Add([]byte("name: t\nlabels: {a: x, b: {description: y}}\ninput_template: '{{ query_text }}'\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		tmpl, err := classify.ParseTemplate(b)
		if err != nil {
			if !errors.Is(err, lmsys.ErrInvalidInput) {
				t.Fatalf("error does not wrap ErrInvalidInput: %v", err)
			}
			return
		}
		if _, err := tmpl.Render(classify.PromptData{Conversation: "User: x", Query: "x", Turns: 1}); err != nil {
			t.Fatalf("accepted template does not render: %v", err)
		}
		again, err := classify.ParseTemplate(b)
		if err != nil || again.Hash() != tmpl.Hash() {
			t.Fatalf("re-parse differs: %v", err)
		}
		_ = tmpl.System()
	})
}
