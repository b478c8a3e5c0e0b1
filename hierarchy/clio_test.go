package hierarchy

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/llm"
	"github.com/lmsys-go/lmsys/llm/llmtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// wordEmbedder embeds a text as its normalised bag of hashed lower-case words.
type wordEmbedder struct{}

func (wordEmbedder) Space() lmsys.Space {
	return lmsys.Space{Provider: "test", Model: "words", Dims: 4096}
}

func (wordEmbedder) Embed(_ context.Context, texts []string, _ lmsys.Purpose) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i, t := range texts {
		v := make([]float32, 4096)
		for _, w := range strings.FieldsFunc(strings.ToLower(t), func(r rune) bool { return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9') }) {
			h := fnv.New32a()
			h.Write([]byte(w))
			v[h.Sum32()%4096]++
		}
		out[i] = normalized(v)
		if out[i] == nil {
			out[i] = v
		}
	}
	return out, nil
}

var (
	lineRe  = regexp.MustCompile(`(?m)^- ([^:\n]+)`)
	titleRe = regexp.MustCompile(`(?m)^Title: (.+)$`)
)

// section returns the text between <tag> and </tag>.
func section(s, tag string) string {
	_, after, ok := strings.Cut(s, "<"+tag+">")
	if !ok {
		return ""
	}
	body, _, _ := strings.Cut(after, "</"+tag+">")
	return body
}

func names(s string) []string {
	var out []string
	for _, m := range lineRe.FindAllStringSubmatch(s, -1) {
		out = append(out, strings.TrimSpace(m[1]))
	}
	return out
}

// prefix returns the first n words of a title, lower-cased.
func prefix(title string, n int) string {
	w := strings.Fields(strings.ToLower(title))
	return strings.Join(w[:min(n, len(w))], " ")
}

// taxonomist is a fake LLM that answers each step of the Clio method by reading the
// planted topic words off the titles, with misbehaviour planted in:
// a refusal to the first proposal for the cooking neighbourhood, cross-neighbourhood
// duplicates and near-duplicates, an invented parent name answered first for one
// child and always for another, an explicit "none", and a misspelt parent name.
type taxonomist struct {
	mu     sync.Mutex
	steps  map[string]int
	orders map[string]bool
}

func (f *taxonomist) count(step string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.steps[step]++
}

func (f *taxonomist) handle(r llmtest.Request) llmtest.Reply {
	p := r.User
	reasked := strings.Contains(p, "Your previous reply was")
	js := func(v any) llmtest.Reply {
		b, _ := json.Marshal(v)
		return llmtest.Reply{Text: "Sure! Here is the JSON:\n```json\n" + string(b) + "\n```"}
	}
	switch {
	case strings.Contains(p, "Propose between"):
		f.count("propose")
		titles := names(section(p, "clusters"))
		if !reasked && strings.HasPrefix(titles[0], "cooking") {
			return llmtest.Reply{Text: "I'm sorry, but I can't help with organising these requests."}
		}
		var lo, hi int
		fmt.Sscanf(p[strings.Index(p, "Propose between"):], "Propose between %d and %d", &lo, &hi)
		words := 1
		if regexp.MustCompile(` n\d+$`).MatchString(titles[0]) {
			words = 2
		}
		var cats []category
		seen := map[string]bool{}
		for _, t := range titles {
			k := prefix(t, words)
			if !seen[k] {
				seen[k] = true
				cats = append(cats, category{Name: titleCase(k) + " requests", Description: "Requests about " + k + "."})
			}
		}
		// Duplicates from the context: the same name in other words, and a near one.
		for i, t := range names(section(p, "context")) {
			k := prefix(t, words)
			if len(cats) < hi {
				if i%2 == 0 {
					cats = append(cats, category{Name: strings.ToUpper(k) + " REQUESTS!", Description: "Requests about " + k + "."})
				} else {
					cats = append(cats, category{Name: titleCase(k) + " questions", Description: "Questions on " + k + "."})
				}
			}
		}
		return js(categoriesReply{Categories: cats[:min(len(cats), hi)]})
	case strings.Contains(p, "<candidates>"):
		f.count("dedupe")
		var cats []category
		seen := map[string]bool{}
		for _, n := range names(section(p, "candidates")) {
			w := strings.Fields(strings.ToLower(n))
			k := strings.Join(w[:len(w)-1], " ")
			if !seen[k] {
				seen[k] = true
				cats = append(cats, category{Name: titleCase(k) + " requests", Description: "Requests about " + k + "."})
			}
		}
		return js(categoriesReply{Categories: cats})
	case strings.Contains(p, "<categories>"):
		f.count("assign")
		title := strings.TrimSpace(titleRe.FindStringSubmatch(p)[1])
		cats := names(section(p, "categories"))
		f.mu.Lock()
		f.orders[strings.Join(cats, "|")] = true
		f.mu.Unlock()
		best, bestLen := "", -1
		tw := strings.Fields(strings.ToLower(title))
		for _, c := range cats {
			cw := strings.Fields(strings.ToLower(c))
			n := 0
			for n < len(cw) && n < len(tw) && cw[n] == tw[n] {
				n++
			}
			if n > bestLen {
				best, bestLen = c, n
			}
		}
		switch {
		case strings.HasPrefix(title, "email emaalpha n300"):
			return js(assignReply{Parent: "Totally Invented Category"})
		case strings.HasPrefix(title, "email emabravo n311"):
			return js(assignReply{Parent: "none"})
		case strings.HasPrefix(title, "music musalpha n102") && !reasked:
			return js(assignReply{Parent: "Music Stuff"})
		case strings.HasPrefix(title, "weather weaalpha n203"):
			return js(assignReply{Parent: strings.ToLower(best[:len(best)-2])}) // "…reques"
		}
		return js(assignReply{Parent: best})
	case strings.Contains(p, "were grouped under the category"):
		f.count("rename")
		old := regexp.MustCompile(`category "([^"]+)"`).FindStringSubmatch(p)[1]
		w := strings.Fields(nameKey(old))
		k := strings.Join(w[:len(w)-1], " ")
		return js(category{Name: titleCase(k) + " help", Description: "Help with " + strings.ToLower(k) + "."})
	}
	return llmtest.Reply{Status: http.StatusBadRequest, Text: "unexpected prompt"}
}

func openFake(t *testing.T, h llmtest.Handler) (*llmtest.Server, *llm.Client) {
	t.Helper()
	srv := llmtest.OpenAI(h)
	t.Cleanup(srv.Close)
	c, err := llm.Open("openai/gpt-4o-mini", llm.WithBaseURL(srv.BaseURL()), llm.WithAPIKey("sk-test"),
		llm.WithConcurrency(8), llm.WithRetries(1), llm.WithBackoff(time.Millisecond, 5*time.Millisecond))
	require.NoError(t, err)
	return srv, c
}

func TestClioThreeLevels(t *testing.T) {
	fake := &taxonomist{steps: map[string]int{}, orders: map[string]bool{}}
	srv, client := openFake(t, fake.handle)
	leaves := planted(4, 4, 4, 7)
	for i := range leaves {
		w := strings.Fields(leaves[i].Title)
		leaves[i].Description = fmt.Sprintf("%s requests, %s questions about %s", w[0], w[0], w[1])
	}
	res, err := Build(context.Background(), "run-7", leaves, Options{
		LLM: client, Embedder: wordEmbedder{}, MergeRatio: 0.25, NeighborhoodSize: 16, ContextClusters: 3, Now: fixedNow,
	})
	require.NoError(t, err)
	require.NoError(t, Validate(res.Nodes))
	rep := res.Report
	assert.Equal(t, "llm", rep.Method)
	assert.Equal(t, "openai/gpt-4o-mini", rep.Model)
	require.Len(t, rep.Levels, 2)

	l1 := byLevel(res.Nodes, 1)
	var unassigned *lmsys.HierarchyNode
	for i, p := range l1 {
		if p.Title == UnassignedTitle {
			unassigned = &l1[i]
			continue
		}
		// Each real parent holds leaves of one planted subtopic and was renamed.
		for _, c := range p.ChildrenIDs {
			assert.Equal(t, p.ChildrenIDs[0]/10, c/10, "parent %q mixes subtopics %v", p.Title, p.ChildrenIDs)
		}
		assert.True(t, strings.HasSuffix(p.Title, " help"), p.Title)
	}
	// The invented answer and the explicit "none" land in Unassigned, nothing else.
	require.NotNil(t, unassigned)
	assert.ElementsMatch(t, []int{300, 311}, unassigned.ChildrenIDs)
	assert.Equal(t, 2, rep.Levels[0].Unassigned)
	assert.Len(t, l1, 17)
	// The misspelt answer was matched, the wrong one re-asked.
	assert.GreaterOrEqual(t, rep.Levels[0].Reasked, 1+3)
	assert.Greater(t, rep.Levels[0].Candidates, rep.Levels[0].DedupedCandidates)
	assert.Equal(t, 16, rep.Levels[0].DedupedCandidates)
	assert.NotEmpty(t, rep.Levels[0].Failures)

	// Level 2: the four topics, plus Unassigned carried up on its own.
	l2 := byLevel(res.Nodes, 2)
	require.Len(t, l2, 5)
	topicOf := map[int]int{}
	for _, p := range l1 {
		topicOf[p.ClusterID] = p.ChildrenIDs[0] / 100
	}
	for _, p := range l2 {
		if p.Title == UnassignedTitle {
			assert.Equal(t, []int{unassigned.ClusterID}, p.ChildrenIDs)
			continue
		}
		require.Len(t, p.ChildrenIDs, 4, p.Title)
		for _, c := range p.ChildrenIDs {
			assert.Equal(t, topicOf[p.ChildrenIDs[0]], topicOf[c])
		}
	}
	assert.Equal(t, 0, rep.Levels[1].Unassigned)

	// Calls: one assignment per child and level, one rename per real parent; the
	// categories were shown in many orders.
	assert.Equal(t, rep.LLMCalls, rep.Levels[0].LLMCalls["propose"]+rep.Levels[0].LLMCalls["dedupe"]+
		rep.Levels[0].LLMCalls["assign"]+rep.Levels[0].LLMCalls["rename"]+
		rep.Levels[1].LLMCalls["propose"]+rep.Levels[1].LLMCalls["dedupe"]+rep.Levels[1].LLMCalls["assign"]+rep.Levels[1].LLMCalls["rename"])
	assert.Equal(t, 64, rep.Levels[0].LLMCalls["assign"])
	assert.Equal(t, 16, rep.Levels[1].LLMCalls["assign"])
	assert.Equal(t, 16, rep.Levels[0].LLMCalls["rename"])
	assert.Equal(t, 4, rep.Levels[0].LLMCalls["propose"])
	assert.Greater(t, len(fake.orders), 10)
	assert.Equal(t, int64(srv.Calls()), rep.Usage.Calls)
	assert.Greater(t, srv.Calls(), rep.LLMCalls, "re-asks add calls")
}

func TestClioProviderFailureStops(t *testing.T) {
	_, client := openFake(t, func(llmtest.Request) llmtest.Reply {
		return llmtest.Reply{Status: http.StatusInternalServerError, Text: "boom"}
	})
	_, err := Build(context.Background(), "r", planted(2, 2, 3, 1), Options{LLM: client, Embedder: wordEmbedder{}})
	require.Error(t, err)
	assert.ErrorIs(t, err, lmsys.ErrProvider)
}

func TestClioAllRefusalsFail(t *testing.T) {
	_, client := openFake(t, llmtest.Text("I cannot help with that."))
	_, err := Build(context.Background(), "r", planted(2, 2, 3, 1), Options{LLM: client, Embedder: wordEmbedder{}})
	require.Error(t, err)
	assert.ErrorIs(t, err, llm.ErrInvalidReply)
}

func TestClioNeedsEmbedder(t *testing.T) {
	_, client := openFake(t, llmtest.Text("{}"))
	_, err := Build(context.Background(), "r", planted(2, 2, 3, 1), Options{LLM: client})
	assert.ErrorIs(t, err, lmsys.ErrInvalidInput)
}

func TestMatchCategory(t *testing.T) {
	cands := []category{{Name: "Cooking and Recipes"}, {Name: "Cooking and Recipe Videos"}, {Name: "Cooking and Recipe Vide"}, {Name: "Email Management"}}
	tests := []struct {
		answer string
		want   int
		ok     bool
	}{
		{"Email Management", 3, true},
		{"  email management. ", 3, true},
		{"Emial Management", 3, true},
		{"none", -1, true},
		{"Unassigned", -1, true},
		{"Cooking and Recipes", 0, true},
		{"Cooking and Recipe", 0, true},
		{"Cooking and Recipe Video", -2, false}, // close to two names: ambiguous
		{"Travel", -2, false},
		{"", -2, false},
	}
	for _, tt := range tests {
		got, err := matchCategory(tt.answer, cands)
		if !tt.ok {
			assert.Error(t, err, tt.answer)
			continue
		}
		require.NoError(t, err, tt.answer)
		assert.Equal(t, tt.want, got, tt.answer)
	}
}

func TestCountRange(t *testing.T) {
	for _, tt := range []struct {
		d      float64
		lo, hi int
	}{{1, 1, 2}, {4, 2, 6}, {0.3, 1, 1}, {10, 5, 15}} {
		lo, hi := countRange(tt.d)
		assert.Equal(t, []int{tt.lo, tt.hi}, []int{lo, hi}, "%g", tt.d)
	}
}

func FuzzMatchCategory(f *testing.F) {
	cands := []category{{Name: "Cooking and Recipes"}, {Name: "Email Management"}, {Name: "Café Reviews"}}
	for _, s := range []string{"Email Management", "none", "", "emial managment", "Café", "\xff\xfe", strings.Repeat("a", 500)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, answer string) {
		i, err := matchCategory(answer, cands)
		if err != nil {
			return
		}
		if i < -1 || i >= len(cands) {
			t.Fatalf("index %d out of range for %q", i, answer)
		}
		if i >= 0 && similarityRatio(nameKey(answer), nameKey(cands[i].Name)) < 0.85 {
			t.Fatalf("%q matched %q", answer, cands[i].Name)
		}
		_ = tokens(nil, answer)
	})
}
