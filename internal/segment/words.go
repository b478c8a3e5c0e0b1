package segment

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/lmsys-go/lmsys/internal/stopwords"
)

// MaxBytes bounds how much of one text Words reads: a pasted 100 kB log says no more
// about its topic than its first few kilobytes.
const MaxBytes = 4096

// Word is one word of a text: Norm is its lower-cased form, Surface as written, Stop
// marks a function word (of any language stopwords lists, or chat filler such as
// "please"), and Start a word that opens its text or sentence (where case says
// nothing about the word). A Word with an empty Norm is a break: punctuation, a
// change of script or omitted function material, across which no phrase runs.
type Word struct {
	Norm, Surface string
	Stop, Start   bool
}

// IsBreak reports whether w is a break.
func (w Word) IsBreak() bool { return w.Norm == "" }

// filler are words of chat requests that say nothing about their topic, beyond the
// function words of stopwords: greetings and thanks, and the request verbs that open
// most prompts in the commonest languages of chat logs ("write", "explain", "напиши",
// "escribe"), which would otherwise name half the clusters of a run. A title made of
// phrases never starts or ends with one ("Cover letter", not "Write and resume").
// English participles that point at a name or at other text ("named", "called",
// "following", "attached") are filler too: "module named" is not a topic.
var filler = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`hi hello hey please pls plz thanks thank thx ok okay yes yeah sure
		could would can may might should must will shall i me my you your we our it its
		write explain create generate make give tell describe provide show help answer find
		named called titled entitled labeled labelled based regarding following attached mentioned
		provided listed shown described given
		привет пожалуйста спасибо напиши напишите помоги помогите объясни объясните расскажи создай дай сделай
		hola gracias escribe escriba explica explique dame crea haz genera
		bonjour merci écris écrivez rédige rédigez explique expliquez donne donnez crée créez
		hallo danke bitte schreibe schreib erkläre erkläre erstelle gib
		olá obrigado obrigada escreva explique crie faça fazer criar me
		ciao grazie scrivi spiega crea
		请 请问 谢谢 你好 您好 帮 帮我 给我 我 你 写 解释 生成 创建 ください お願い します です ます 書いて
		안녕하세요 주세요 해주세요 써주세요`) {
		filler[w] = true
	}
}

// IsStop reports whether the lower-cased word is a function word or chat filler.
func IsStop(norm string) bool { return filler[norm] || stopwords.Is(norm) }

// Words splits text into words of any script: words separated by spaces or
// punctuation as written (Korean, Arabic, Cyrillic, Latin and the rest), Chinese and
// Japanese segmented by Split. Words of one letter that are not function words,
// all-digit words, and words over 40 bytes are breaks. dst is reused.
func Words(dst []Word, text string) []Word {
	if len(text) > MaxBytes {
		cut := MaxBytes
		for cut > 0 && !utf8.RuneStart(text[cut]) {
			cut--
		}
		text = text[:cut]
	}
	if !utf8.ValidString(text) {
		text = strings.ToValidUTF8(text, " ")
	}
	dst = dst[:0]
	japanese := HasKana(text)
	start := true
	brk := func() {
		if n := len(dst); n > 0 && !dst[n-1].IsBreak() {
			dst = append(dst, Word{})
		}
	}
	add := func(surface string) {
		norm := strings.ToLower(surface)
		if utf8.RuneCountInString(norm) == 1 && IsStop(norm) {
			// "a", "i", "и", "y": function words of one letter stay inside phrases.
			dst = append(dst, Word{Norm: norm, Surface: surface, Stop: true, Start: start})
			start = false
			return
		}
		if len(norm) > 40 || utf8.RuneCountInString(norm) < 2 || allDigits(norm) {
			brk()
			start = false
			return
		}
		dst = append(dst, Word{Norm: norm, Surface: surface, Stop: IsStop(norm), Start: start})
		start = false
	}
	i := 0
	for i < len(text) {
		r, n := utf8.DecodeRuneInString(text[i:])
		switch {
		case NoSpaces(r):
			j := i
			for j < len(text) {
				r2, n2 := utf8.DecodeRuneInString(text[j:])
				if !NoSpaces(r2) {
					break
				}
				j += n2
			}
			brk()
			for _, w := range Split(text[i:j], japanese) {
				if w == "" {
					brk()
					continue
				}
				if onlyThai(w) {
					add(w)
					continue
				}
				// A one-character Chinese or Japanese word (a particle, a verb complement,
				// a measure word) may sit inside a phrase but not begin or end one.
				dst = append(dst, Word{Norm: w, Surface: w, Stop: IsStop(w) || utf8.RuneCountInString(w) == 1})
			}
			brk()
			i = j
			continue
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r) || r == '_':
			j := i
			for j < len(text) {
				r2, n2 := utf8.DecodeRuneInString(text[j:])
				if NoSpaces(r2) || !(unicode.IsLetter(r2) || unicode.IsDigit(r2) || unicode.IsMark(r2) || r2 == '_' || r2 == '-' && j+n2 < len(text) && isLetterAt(text, j+n2)) {
					break
				}
				j += n2
			}
			// c++, c#, f#: keep the sign on short words.
			for j < len(text) && j-i < 3 && (text[j] == '+' || text[j] == '#') {
				j++
			}
			add(text[i:j])
			i = j
			continue
		case r == '\'' || r == '’':
			// "user's" → "user" + break: the clitic goes.
			brk()
			i += n
			for i < len(text) {
				r2, n2 := utf8.DecodeRuneInString(text[i:])
				if !unicode.IsLetter(r2) || NoSpaces(r2) {
					break
				}
				i += n2
			}
			continue
		case unicode.IsSpace(r):
		default:
			brk()
			if r == '.' || r == '?' || r == '!' || r == '\n' || r == '。' || r == '？' || r == '！' || r == ':' || r == '：' {
				start = true
			}
		}
		if r == '\n' {
			start = true
		}
		i += n
	}
	for len(dst) > 0 && dst[len(dst)-1].IsBreak() {
		dst = dst[:len(dst)-1]
	}
	return dst
}

func isLetterAt(s string, i int) bool {
	r, _ := utf8.DecodeRuneInString(s[i:])
	return unicode.IsLetter(r) && !NoSpaces(r)
}

// NoSpacesWord reports whether w is written in a script without spaces (a one
// character Chinese word is a word).
func NoSpacesWord(w string) bool {
	r, _ := utf8.DecodeRuneInString(w)
	return NoSpaces(r)
}

func onlyThai(w string) bool {
	r, _ := utf8.DecodeRuneInString(w)
	return unicode.In(r, unicode.Thai, unicode.Lao, unicode.Khmer, unicode.Myanmar)
}

func allDigits(w string) bool {
	for i := 0; i < len(w); i++ {
		if w[i] < '0' || w[i] > '9' {
			return false
		}
	}
	return true
}

// Join writes the words of a phrase as text: with spaces, except between two words of
// a script written without spaces.
func Join(words []string) string {
	var b strings.Builder
	for i, w := range words {
		if i > 0 && !(NoSpacesWord(words[i-1]) && NoSpacesWord(w)) {
			b.WriteByte(' ')
		}
		b.WriteString(w)
	}
	return b.String()
}

// Capitalize upper-cases the first letter of s, as a title is written in the languages
// whose scripts have case, unless its first word has capitals inside ("iPhone");
// other scripts are unchanged.
func Capitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError || !unicode.IsLower(r) {
		return s
	}
	first, _, _ := strings.Cut(s, " ")
	for _, c := range first[n:] {
		if unicode.IsUpper(c) {
			// "iPhone", "eBay": a brand keeps its own case.
			return s
		}
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

// And returns the word for "and" in the language of word's script and, for Latin
// script, of lang (an ISO 639-1 code or a language name as datasets give it; "" for
// English).
func And(lang, word string) string {
	r, _ := utf8.DecodeRuneInString(word)
	switch {
	case unicode.Is(unicode.Cyrillic, r):
		return "и"
	case unicode.Is(unicode.Han, r):
		return "和"
	case unicode.In(r, unicode.Hiragana, unicode.Katakana):
		return "と"
	case unicode.Is(unicode.Hangul, r):
		return "및"
	case unicode.Is(unicode.Arabic, r):
		return "و"
	}
	switch strings.ToLower(lang) {
	case "es", "spanish":
		return "y"
	case "fr", "french":
		return "et"
	case "de", "german":
		return "und"
	case "pt", "portuguese", "it", "italian":
		return "e"
	case "nl", "dutch":
		return "en"
	case "pl", "polish":
		return "i"
	case "tr", "turkish":
		return "ve"
	case "id", "indonesian":
		return "dan"
	case "vi", "vietnamese":
		return "và"
	}
	return "and"
}

// MaxPhraseWords is the longest phrase Phrases proposes.
const MaxPhraseWords = 4

// Phrases calls fn(i, j) for every candidate phrase words[i:j]: a span of one to
// MaxPhraseWords words inside a run without breaks that starts and ends with a word
// that is not a function word, holds at most one function word, and repeats no word.
// A phrase is thus text that really occurs, and never starts or ends with a function
// word. content(i) may narrow which words a phrase may hold (nil: any that is not a
// function word).
func Phrases(words []Word, content func(i int) bool, fn func(i, j int)) {
	spans(words, MaxPhraseWords, 1, content, fn)
}

// Spans calls fn(i, j) for every span words[i:j] of one to maxWords words inside a run
// without breaks that starts and ends with a word that is not a function word, holds
// at most maxStops function words, and repeats no word: the longer phrases a title
// falls back on when a cluster shares no short one.
func Spans(words []Word, maxWords, maxStops int, fn func(i, j int)) {
	spans(words, maxWords, maxStops, nil, fn)
}

func spans(words []Word, maxWords, maxStops int, content func(i int) bool, fn func(i, j int)) {
	ok := func(i int) bool { return !words[i].Stop && (content == nil || content(i)) }
	for i := range words {
		if words[i].IsBreak() || !ok(i) {
			continue
		}
		stops := 0
		for j := i; j < len(words) && j-i < maxWords; j++ {
			w := words[j]
			if w.IsBreak() {
				break
			}
			if w.Stop {
				stops++
				if stops > maxStops {
					break
				}
				continue
			}
			if j > i && repeats(words[i:j], w.Norm) {
				break
			}
			if !ok(j) {
				// Every content word of a phrase must pass content on its own.
				break
			}
			fn(i, j+1)
		}
	}
}

func repeats(ws []Word, norm string) bool {
	for _, w := range ws {
		if w.Norm == norm {
			return true
		}
	}
	return false
}

// PhraseLen returns the number of words of a phrase key (Norms joined by spaces) and
// of those that are not function words.
func PhraseLen(key string) (words, content int) {
	for _, w := range strings.Split(key, " ") {
		words++
		if !IsStop(w) {
			content++
		}
	}
	return words, content
}

// InnerCapital reports whether s has an ASCII capital after its first letter
// ("iPhone", "SQL"): a word whose writing says something beyond sentence case.
func InnerCapital(s string) bool {
	for i, r := range s {
		if i > 0 && r >= 'A' && r <= 'Z' {
			return true
		}
	}
	return false
}
