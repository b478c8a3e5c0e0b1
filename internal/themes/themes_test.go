package themes

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func names(ts []int) []string {
	var out []string
	for _, t := range ts {
		out = append(out, All[t].Name)
	}
	return out
}

func TestOf(t *testing.T) {
	cases := []struct {
		text string
		want []string
	}{
		{"ModuleNotFoundError: No module named 'numpy' when I run my script", []string{"Coding"}},
		{"Write a python function that reverses a string", []string{"Coding"}},
		{"write a short story about a dragon", []string{"Writing", "Roleplay"}},
		{"Write an apology email to my boss", []string{"Email", "Career"}},
		{"Translate this sentence into French", []string{"Translation"}},
		{"Solve the equation 2x + 3 = 7", []string{"Math"}},
		{"Is it safe to take melatonin every night?", []string{"Health"}},
		{"Give me a recipe with chicken and rice", []string{"Cooking"}},
		{"Plan a trip to Japan for ten days", []string{"Travel"}},
		{"Mein Vermieter hat die Miete ohne Begründung erhöht", []string{"Legal"}},
		{"Напиши письмо начальнику", []string{"Email"}},
		{"Помоги решить уравнение", []string{"Math"}},
		{"请把这段话翻译成英文", []string{"Translation"}},
		{"このコードのエラーを直して", []string{"Coding"}},
		{"Escribe un cuento corto", []string{"Writing"}},
		{"코드를 설명해 주세요", []string{"Coding"}},
		{"hello there", []string{"Chit-chat"}},
		{"the weather is nice today", nil},
		{"", nil},
		{"\xff\xfe broken bytes", nil},
	}
	for _, c := range cases {
		t.Run(c.text, func(t *testing.T) {
			assert.Equal(t, c.want, names(Of(nil, c.text)))
		})
	}
}

func TestShares(t *testing.T) {
	assert.Nil(t, Shares(nil))
	s := Shares([]string{"fix this python error", "write a poem", "debug my code", "hi"})
	require.Len(t, s, len(All))
	assert.InDelta(t, 0.5, s[0], 1e-9)  // Coding
	assert.InDelta(t, 0.25, s[1], 1e-9) // Writing
}

func TestCuesAreDistinctPerTheme(t *testing.T) {
	// Every theme has a name and cues, lists no cue twice, and Of never reports a
	// theme twice.
	for _, th := range All {
		assert.NotEmpty(t, th.Name)
		seen := map[string]bool{}
		for _, c := range strings.Fields(th.cues) {
			assert.False(t, seen[c], "%s lists %q twice", th.Name, c)
			seen[c] = true
		}
		assert.NotEmpty(t, seen, th.Name)
	}
	got := Of(nil, "python python code code error")
	assert.Equal(t, []string{"Coding"}, names(got))
}

func TestTitle(t *testing.T) {
	assert.Equal(t, "Coding requests", Title(0))
	assert.Equal(t, "Writing and coding requests", Title(1, 0))
	assert.Equal(t, "Math, health and cooking requests", Title(4, 5, 6))
	assert.Equal(t, "Chit-chat and test messages", Title(len(All)-1))
	assert.Equal(t, "", Title())
}

func TestList(t *testing.T) {
	assert.Equal(t, "", List())
	assert.Equal(t, "a", List("a"))
	assert.Equal(t, "a and b", List("a", "b"))
	assert.Equal(t, "a, b and c", List("a", "b", "c"))
	assert.Equal(t, []string{"Coding", "writing"}, Names(0, 1))
}

func TestLanguageTitle(t *testing.T) {
	for _, c := range []struct {
		codes []string
		want  string
	}{
		{[]string{"es"}, "Peticiones variadas en español"},
		{[]string{"ru"}, "Запросы на русском языке на разные темы"},
		{[]string{"zh"}, "各类中文请求"},
		{[]string{"tr"}, "Mixed requests in Turkish"},
		{[]string{"zh", "ja"}, "Mixed requests in Chinese and Japanese"},
		{[]string{"de", "fr", "es"}, "Mixed requests in German, French and Spanish"},
		{nil, ""},
	} {
		assert.Equal(t, c.want, LanguageTitle(c.codes...), c.codes)
	}
}

func TestLanguagesAndRanked(t *testing.T) {
	l := Languages([]string{"¿Cómo puedo ordenar un diccionario en Python?", "Escribe un poema sobre el mar",
		"Write a poem about the sea", "1234", ""}, 0)
	assert.InDelta(t, 2.0/3, l["es"], 1e-9)
	assert.InDelta(t, 1.0/3, l["en"], 1e-9)
	assert.Equal(t, []string{"es", "en"}, Ranked(l, 0.1, 3))
	assert.Equal(t, []string{"es"}, Ranked(l, 0.5, 3))
	assert.Nil(t, Languages([]string{"123"}, 0))
	assert.Equal(t, []int{1, 0}, Top([]float64{0.2, 0.5, 0.05}, 0.1, 3))
}

func ExampleOf() {
	for _, t := range Of(nil, "Write a cover letter for a data analyst job") {
		fmt.Println(All[t].Name)
	}
	// Output:
	// Email
	// Career
}
