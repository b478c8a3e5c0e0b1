package classify

import (
	"strings"
	"unicode"

	"github.com/abadojack/whatlanggo"

	"github.com/lmsys-go/lmsys"
)

// Undetermined is the language label of a text with no letters to go by (ISO
// 639-2 "und").
const Undetermined = "und"

// langCodes maps whatlanggo's languages to ISO 639-1 codes, or ISO 639-3 where a
// language has no two-letter code (Cebuano "ceb"). Built once: whatlanggo builds
// its own table on every call.
var langCodes = func() map[whatlanggo.Lang]string {
	m := map[whatlanggo.Lang]string{}
	for l := whatlanggo.Lang(0); ; l++ {
		three := l.Iso6393()
		if three == "" {
			break
		}
		if two := l.Iso6391(); two != "" {
			m[l] = two
		} else {
			m[l] = three
		}
	}
	return m
}()

// langNames maps the codes DetectLanguage returns to whatlanggo's English names
// ("ru" → "Russian"), the form LMSYS-Chat-1M's language column uses.
var langNames = func() map[string]string {
	m := map[string]string{Undetermined: "unknown"}
	for l, code := range langCodes {
		m[code] = l.String()
	}
	m["zh"] = "Chinese" // whatlanggo's "Mandarin"; LMSYS-Chat-1M writes Chinese
	return m
}()

// LanguageName returns the English name of a code DetectLanguage returns, as
// LMSYS-Chat-1M's language column writes it ("ru" → "Russian"), and "unknown" for
// Undetermined. Any other value is returned unchanged, so a column that already
// holds names passes through.
func LanguageName(code string) string {
	if n, ok := langNames[code]; ok {
		return n
	}
	return code
}

// LanguageCode returns the code DetectLanguage would return for a language given
// by its English name as LMSYS-Chat-1M's column writes it ("Russian" → "ru", any
// case) or by that code itself, and "" for a value it does not know.
func LanguageCode(name string) string {
	if name == "" {
		return ""
	}
	if _, ok := langNames[name]; ok {
		return name
	}
	return langCodeOf[strings.ToLower(name)]
}

// langCodeOf maps lower-cased English names to codes, the inverse of langNames.
var langCodeOf = func() map[string]string {
	m := map[string]string{}
	for code, n := range langNames {
		m[strings.ToLower(n)] = code
	}
	m["mandarin"] = "zh"
	return m
}()

// DetectLanguage returns the ISO 639-1 code of the language text is written in
// (ISO 639-3 for a language without one), or Undetermined when text has no
// letters. It reads at most the first 8 KB, leaves out fenced code blocks so that
// code does not outvote the prose around it, and detects with whatlanggo
// (trigram profiles of 84 languages), with three corrections: a text holding
// kana is Japanese even when its kanji outnumber them, one mostly of Hangul is
// Korean, and a short ASCII text made largely of English function words is
// English (trigrams call "how do i fix this" Norwegian).
func DetectLanguage(text string) string {
	text = head(text, maxScan)
	if prose := stripFences(text); strings.TrimSpace(prose) != "" {
		text = prose
	}
	letters, ascii, kana, hangul := 0, 0, 0, 0
	for _, r := range text {
		if !unicode.IsLetter(r) {
			continue
		}
		letters++
		switch {
		case r < 0x80:
			ascii++
		case unicode.In(r, unicode.Hiragana, unicode.Katakana):
			kana++
		case unicode.Is(unicode.Hangul, r):
			hangul++
		}
	}
	if letters == 0 {
		return Undetermined
	}
	if kana > 0 && kana*10 >= letters {
		return "ja"
	}
	if hangul*2 >= letters {
		return "ko"
	}
	if looksEnglish(text, letters, ascii) {
		return "en"
	}
	info := whatlanggo.Detect(text)
	if code, ok := langCodes[info.Lang]; ok {
		return code
	}
	return Undetermined
}

// englishWords are English function words. Trigram profiles confuse short
// English texts with other Latin-script languages ("how do i fix this" is not
// Norwegian); a text of ASCII letters that is mostly these words is English.
var englishWords = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`the and is are was were to of in that it for you with have has what how this be on not
		do does can my me i a an why who where when your would should could will about from they there some any please if
		or which did am its it's i'm don't can't write give tell make`) {
		englishWords[w] = true
	}
}

// looksEnglish reports whether text (with letters, asciiLetters of them ASCII)
// has at least two English function words, a third or more of its first 200
// words.
func looksEnglish(text string, letters, asciiLetters int) bool {
	if asciiLetters*100 < letters*98 {
		return false
	}
	words, hits := 0, 0
	for _, w := range strings.FieldsFunc(text, func(r rune) bool { return !unicode.IsLetter(r) && r != '\'' }) {
		if words++; words > 200 {
			words = 200
			break
		}
		if englishWords[strings.ToLower(w)] {
			hits++
		}
	}
	return hits >= 2 && hits*3 >= words
}

// Language returns the language of c's first user message (DetectLanguage), or
// Undetermined when c has no user message.
func Language(c lmsys.Conversation) string {
	i := c.FirstUser()
	if i < 0 {
		return Undetermined
	}
	return DetectLanguage(c.Messages[i].Content)
}

var languageBuiltin = &builtin{
	name:        "language",
	version:     "1",
	description: "The language of the first user message, as an ISO 639-1 code.",
	rules: `language detects the language of the first user message with whatlanggo v1.0.1 (trigram profiles,
84 languages) over its first 8 KB, fenced code blocks left out unless nothing else is left. A text whose letters are
at least 10% kana is Japanese ("ja"); one whose letters are at least half Hangul is Korean ("ko"); one of ASCII letters
with at least two English function words, a third of its first 200 words, is English ("en"). The label is the
ISO 639-1 code (ISO 639-3 where a language has none), or "und" when the message has no letters or there is no user
message.`,
	facets: []Facet{{Name: "language", Description: "ISO 639-1 code of the first user message's language, or und."}},
	fn: func(c lmsys.Conversation) []Answer {
		return []Answer{{Facet: "language", Value: Language(c)}}
	},
}
