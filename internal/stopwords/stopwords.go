// Package stopwords knows the function words of the languages chat logs are written
// in: the stop-word lists of the npm package stopwords-iso 1.1.0 (MIT licence, see
// LICENSE) for thirty languages, converted once by internal/gen into words.txt, which
// is embedded. Words are matched lower-cased. The offline summarizer uses them so that
// no title starts or ends on a function word, and package segment's IsStop builds on them.
package stopwords

import (
	_ "embed"
	"sort"
	"strings"
	"sync"
)

//go:generate go run ./internal/gen -in $STOPWORDS_ISO_JSON -out words.txt

//go:embed words.txt
var data string

var (
	once   sync.Once
	every  map[string]struct{}
	byLang map[string]map[string]struct{}
	langs  []string // byLang's keys, sorted
)

func load() {
	every = make(map[string]struct{}, 1<<14)
	byLang = make(map[string]map[string]struct{})
	for _, line := range strings.Split(data, "\n") {
		lang, words, ok := strings.Cut(line, "\t")
		if !ok {
			continue
		}
		set := make(map[string]struct{})
		for _, w := range strings.Fields(words) {
			set[w] = struct{}{}
			every[w] = struct{}{}
		}
		byLang[lang] = set
		langs = append(langs, lang)
	}
	sort.Strings(langs)
}

// Is reports whether word (lower-cased) is a function word of any language listed.
func Is(word string) bool {
	once.Do(load)
	_, ok := every[word]
	return ok
}

// In reports whether word (lower-cased) is a function word of the language with ISO
// 639-1 code lang; an unknown language has none.
func In(lang, word string) bool {
	once.Do(load)
	_, ok := byLang[lang][word]
	return ok
}

// Languages returns the ISO 639-1 codes of the languages listed, sorted.
func Languages() []string {
	once.Do(load)
	return append([]string(nil), langs...)
}

// Guess returns the ISO 639-1 code of the language whose function words are most of
// words (lower-cased), or "" when none is; ties go to the code first in order. It is
// a rough guess, good enough to tell the language of a sentence of chat.
func Guess(words []string) string {
	once.Do(load)
	best, bn := "", 0
	for _, lang := range langs {
		set := byLang[lang]
		n := 0
		for _, w := range words {
			if _, ok := set[w]; ok {
				n++
			}
		}
		if n > bn {
			best, bn = lang, n
		}
	}
	return best
}
