// Package stopwords knows the function words of the languages chat logs are written
// in: the stop-word lists of the npm package stopwords-iso 1.1.0 (MIT licence, see
// LICENSE) for thirty languages, converted once by internal/gen into words.txt, which
// is embedded. Words are matched lower-cased.
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
	}
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
	out := make([]string, 0, len(byLang))
	for l := range byLang {
		out = append(out, l)
	}
	sort.Strings(out)
	return out
}
