package summarize

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/dataset/demo"
	"github.com/lmsys-go/lmsys/embed/lexical"
	"github.com/lmsys-go/lmsys/internal/segment"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// demoTopics makes one cluster per topic of the demo set, split further by language
// for the topics written in several, as a clustering of its embeddings would.
func demoTopics() []lmsys.ClusterInput {
	type key struct{ topic, lang string }
	groups := map[key][]demo.Row{}
	for _, r := range demo.Rows() {
		lang := "English"
		if r.Language != "English" {
			lang = "other"
		}
		groups[key{r.Topic, lang}] = append(groups[key{r.Topic, lang}], r)
	}
	keys := make([]key, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].topic != keys[j].topic {
			return keys[i].topic < keys[j].topic
		}
		return keys[i].lang < keys[j].lang
	})
	var out []lmsys.ClusterInput
	for i, k := range keys {
		in := lmsys.ClusterInput{ClusterID: i, Size: len(groups[k]), Languages: map[string]int{}, Models: map[string]int{}}
		for _, r := range groups[k] {
			in.Queries = append(in.Queries, r.Text)
			in.Languages[r.Language]++
			in.Models[r.Model]++
		}
		out = append(out, in)
	}
	return out
}

// TestOfflineDemoGolden pins the titles of the demo set's topics: phrases taken from
// the queries, never a list of keywords, never opening or closing on a function word.
func TestOfflineDemoGolden(t *testing.T) {
	in := demoTopics()
	got, err := (&Offline{}).Summarize(context.Background(), in)
	require.NoError(t, err)
	var lines []string
	for i, s := range got {
		require.Empty(t, s.Error)
		lines = append(lines, fmt.Sprintf("%s/%d: %s", strings.Fields(in[i].Queries[0])[0], in[i].Size, s.Title))
		assert.NotContains(t, s.Title, ", ", "no keyword list: %q", s.Title)
		ws := segment.Words(nil, s.Title)
		require.NotEmpty(t, ws)
		assert.False(t, ws[0].Stop, "%q starts with a function word", s.Title)
		assert.False(t, ws[len(ws)-1].Stop, "%q ends with a function word", s.Title)
		n := 0
		for _, w := range ws {
			if !w.IsBreak() {
				n++
			}
		}
		assert.True(t, n >= 1 && n <= 6, "%q has %d words", s.Title, n)
		assert.NotContains(t, s.Description, "Queries about")
		assert.Contains(t, s.Description, "A typical one: “")
	}
	t.Log(strings.Join(lines, "\n"))
	titles := map[string]bool{}
	for _, s := range got {
		assert.False(t, titles[s.Title], "duplicate title %q", s.Title)
		titles[s.Title] = true
	}
	golden := []string{
		"CORS error and code",
		"Bucle",
		"Simple explanation",
		"Fonctionne un arc-en-ciel",
		"Apology email and draft",
		"E-mail pour remercier",
		"Chit-chat and test messages",
		"Дела",
		"Hours a night and day",
		"Alimentos ajudam",
		"Filters and content policy",
		"Instrucciones anteriores",
		"JS app and javascript",
		"Formulário em javascript",
		"Legal to record",
		"Begründung erhöhen",
		"Selling accounting and business",
		"Marketing digital",
		"2x",
		"5x",
		"Acrostic poem",
		"Estilo de Pablo",
		"Python class",
		"Python прочитать",
		"Recipe for authentic and cook",
		"Klassischen Apfelstrudel",
		"Resume and cover letter",
		"Ayúdame a escribir",
		"Roleplay a negotiation and pretend",
		"Actúa como un camarero and Aires",
		"Mysql query and SQL",
		"Consulta SQL",
		"Short story and novel",
		"Biblioteca de su abuelo",
		"Summarize the key and year",
		"Scientifiques appellent",
		"Translate into portuguese and English",
		"Traduis en anglais",
		"Plan a romantic and visit",
		"Passeios para fazer em Florianópolis",
	}
	all := make([]string, len(got))
	for i, s := range got {
		all[i] = s.Title
	}
	assert.Equal(t, golden, all)
}

// TestOfflineRerank re-ranks with a real (lexical) embedder: the titles stay phrases of
// the queries, the run records the space, and the keywords repeat no title word.
func TestOfflineRerank(t *testing.T) {
	e, err := lexical.New(lexical.Options{})
	require.NoError(t, err)
	o := &Offline{Embedder: e}
	got, err := o.Summarize(context.Background(), demoClusters())
	require.NoError(t, err)
	assert.Equal(t, e.Space().Name(), o.Params()["rerank_space"])
	for _, s := range got[:4] {
		require.NotEmpty(t, s.Title)
		title := map[string]bool{}
		for _, w := range segment.Words(nil, s.Title) {
			title[w.Norm] = true
		}
		for _, k := range s.Keywords {
			// A keyword is either new words, or (when the cluster shares nothing else) one
			// word of the title itself.
			ws := segment.Words(nil, k)
			if len(ws) == 1 && title[ws[0].Norm] {
				continue
			}
			for _, w := range ws {
				if !w.IsBreak() && !w.Stop && title[w.Norm] {
					t.Errorf("keyword %q of %q repeats %q", k, s.Title, w.Norm)
				}
			}
		}
	}
	assert.Contains(t, strings.ToLower(got[1].Title), "poem")
}
