// Command gen converts the stopwords-iso JSON file (the npm package stopwords-iso, MIT
// licence) into the compact list package stopwords embeds: one line per language, the
// ISO 639-1 code, a tab, then the language's words separated by spaces, sorted.
//
// It keeps the languages LMSYS-Chat-1M has most of, lower-cases every word, drops
// entries that are punctuation, digits or hold a space, and drops the few topic words
// the English list carries ("computer", "research", "website"), which name what a
// query is about and must stay in titles and keywords, and the few words of other
// lists that are common English topic words ("email" of Czech, "car" of French).
//
//	npm pack stopwords-iso@1.1.0 && tar xzf stopwords-iso-1.1.0.tgz
//	go run ./internal/gen -in package/stopwords-iso.json -out words.txt
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"unicode"
)

// languages are the ISO 639-1 codes kept: the languages of LMSYS-Chat-1M with the most
// conversations, then the other large languages of chat logs.
var languages = []string{"en", "pt", "ru", "zh", "es", "de", "fr", "ja", "it", "ko", "pl", "ar", "id", "vi", "tr",
	"nl", "uk", "fa", "hi", "th", "cs", "sv", "ro", "el", "he", "hu", "fi", "da", "no", "bg"}

// topicWords are words of the source lists that name a topic rather than hold a
// sentence together; they are not stop words here.
var topicWords = map[string][]string{
	"en": strings.Fields(`area areas bill billion biol computer copy date detail face faces fact facts fire free goods
		group grouped grouping groups home homepage html http index information interest interests invention join
		keys length line microsoft million mill msie name names netscape novel null number numbers open order orders
		page pages part parts place places point points problem problems research results ring room rooms second
		seconds section site state states system test text thousand trillion value webpage website width words work
		world year years young`),
	// Words that other languages' lists hold and that are common English topic words;
	// the lists are used together on text whose language is unknown.
	"cs": {"email"},
	"de": {"war"},
	"fr": {"car"},
}

func main() {
	in := flag.String("in", "", "stopwords-iso.json of the npm package stopwords-iso")
	out := flag.String("out", "words.txt", "file to write")
	flag.Parse()
	if err := run(*in, *out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(in, out string) error {
	if in == "" {
		return fmt.Errorf("-in is required (the unpacked package's stopwords-iso.json)")
	}
	raw, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	var all map[string][]string
	if err := json.Unmarshal(raw, &all); err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for _, lang := range languages {
		list, ok := all[lang]
		if !ok {
			f.Close()
			return fmt.Errorf("%s has no %q list", in, lang)
		}
		drop := map[string]bool{}
		for _, t := range topicWords[lang] {
			drop[t] = true
		}
		seen := map[string]bool{}
		var words []string
		for _, word := range list {
			word = strings.ToLower(strings.TrimSpace(word))
			if word == "" || drop[word] || seen[word] || !wordLike(word) {
				continue
			}
			seen[word] = true
			words = append(words, word)
		}
		sort.Strings(words)
		fmt.Fprintf(w, "%s\t%s\n", lang, strings.Join(words, " "))
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// wordLike reports whether s is one word holding a letter.
func wordLike(s string) bool {
	letter := false
	for _, r := range s {
		if unicode.IsSpace(r) {
			return false
		}
		if unicode.IsLetter(r) {
			letter = true
		}
	}
	return letter
}
