package segment

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
)

// render writes words as "content (stop) | break" for compact expectations.
func render(ws []Word) string {
	var out []string
	for _, w := range ws {
		switch {
		case w.IsBreak():
			out = append(out, "|")
		case w.Stop:
			out = append(out, "("+w.Norm+")")
		default:
			out = append(out, w.Norm)
		}
	}
	return strings.Join(out, " ")
}

func TestWords(t *testing.T) {
	for _, tc := range []struct{ lang, in, want string }{
		{"en", "How do I sort a list in Python?", "(how) (do) (i) sort (a) list (in) python"},
		{"en code", "Write C++ code, then C# code", "(write) c++ code | (then) c# code"},
		{"en clitic", "user's data 2024 x", "user | data | (x)"},
		{"ru", "Которые из этих писем напиши начальнику", "(которые) (из) (этих) писем (напиши) начальнику"},
		{"pt", "Quais são as melhores receitas", "(quais) (são) (as) melhores receitas"},
		{"es", "Escribe un poema sobre el mar", "(escribe) (un) poema (sobre) (el) mar"},
		{"de", "Schreibe eine E-Mail an meinen Vermieter", "(schreibe) (eine) e-mail (an) (meinen) vermieter"},
		{"fr", "Traduis ce texte en anglais", "traduis (ce) texte (en) anglais"},
		{"zh", "请帮我写一个Python排序代码", "(请) (帮) (我) (写) (一个) | python | 排序 代码"},
		{"zh translate", "翻译成英文：今天天气很好", "翻译 (成) 英文 | 今天 天气 (很) (好)"},
		{"ja", "日本語の文章を英語に翻訳してください", "日本語 | 文章 | 英語 | 翻訳"},
		{"ko keeps words", "파이썬 코드를 작성해 주세요", "파이썬 코드를 작성해 (주세요)"},
		{"ar keeps words", "اكتب قصة قصيرة عن البحر", "اكتب قصة قصيرة (عن) البحر"},
		{"th keeps runs", "เขียนโค้ด Python", "เขียนโค้ด | python"},
		{"empty", "", ""},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			assert.Equal(t, tc.want, render(Words(nil, tc.in)))
		})
	}
}

func TestPhrases(t *testing.T) {
	ws := Words(nil, "Write a short story about a dragon and a knight, please")
	var got []string
	Phrases(ws, nil, func(i, j int) {
		var p []string
		for _, w := range ws[i:j] {
			p = append(p, w.Norm)
		}
		got = append(got, strings.Join(p, " "))
	})
	assert.Equal(t, []string{"short", "short story", "story", "dragon", "knight"}, got,
		"phrases hold at most one function word inside, and none at their edges")
}

func TestJoinCapitalizeAnd(t *testing.T) {
	assert.Equal(t, "排序代码", Join([]string{"排序", "代码"}))
	assert.Equal(t, "python 排序", Join([]string{"python", "排序"}))
	assert.Equal(t, "Резюме", Capitalize("резюме"))
	assert.Equal(t, "iPhone", Capitalize("iPhone"), "only a lower-case first letter is raised")
	assert.Equal(t, "и", And("", "письма"))
	assert.Equal(t, "y", And("Spanish", "poema"))
	assert.Equal(t, "and", And("", "poem"))
}

func FuzzWords(f *testing.F) {
	for _, s := range []string{"How do I sort a list?", "请帮我写代码", "c++ and c#", "don't", "\xff\xfe", "สวัสดีครับ", "日本語の文章"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, w := range Words(nil, s) {
			if w.IsBreak() {
				continue
			}
			if !utf8.ValidString(w.Norm) {
				t.Fatalf("word %q of %q is not valid UTF-8", w.Norm, s)
			}
			if strings.ContainsAny(w.Norm, " \t\n") {
				t.Fatalf("word %q holds white space", w.Norm)
			}
		}
	})
}

func TestPhrasesDoNotEndOnPointingParticiples(t *testing.T) {
	// "module named" and "column called" point at a name; they are not topics.
	ws := Words(nil, "ModuleNotFoundError: No module named numpy, the column called total")
	var got []string
	Phrases(ws, nil, func(i, j int) {
		var p []string
		for _, w := range ws[i:j] {
			p = append(p, w.Norm)
		}
		got = append(got, strings.Join(p, " "))
	})
	assert.NotContains(t, got, "module named")
	assert.NotContains(t, got, "column called")
	assert.Contains(t, got, "module")
	assert.Contains(t, got, "column")
}
