// Package segment splits text of the scripts written without spaces into words.
// Chinese is segmented by github.com/go-ego/gse (a Go port of jieba's dictionary and
// HMM method) with the most frequent 109,000 words of gse's simplified-Chinese
// dictionary, embedded compressed (690 kB; NOTICE gives its licences) and loaded on
// first use. Japanese is cut where the script changes: runs of kanji and of katakana
// are words, hiragana runs are the particles and inflections between them. Thai, Lao,
// Khmer and Myanmar runs, which those languages separate by spaces into phrases, are
// kept whole.
//
// The offline summarizer and the offline hierarchy merge cut query texts into words
// through it before they pick phrases for titles.
package segment

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"fmt"
	"io"
	"strings"
	"sync"
	"unicode"

	"github.com/go-ego/gse"
)

//go:generate sh -c "go run ./internal/gen -in \"$(go env GOMODCACHE)/github.com/go-ego/gse@v0.80.3/data/dict/zh/s_1.txt\" -out zh.dict.gz"

//go:embed zh.dict.gz
var zhDict []byte

var (
	once    sync.Once
	seg     gse.Segmenter
	loadErr error
)

func load() {
	zr, err := gzip.NewReader(bytes.NewReader(zhDict))
	if err != nil {
		loadErr = fmt.Errorf("segment: Chinese dictionary: %w", err)
		return
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		loadErr = fmt.Errorf("segment: Chinese dictionary: %w", err)
		return
	}
	seg.SkipLog = true
	if err := seg.LoadDictStr(string(raw)); err != nil {
		loadErr = fmt.Errorf("segment: Chinese dictionary: %w", err)
	}
}

// Load reads the Chinese dictionary now (it is otherwise read by the first call that
// needs it, which then takes about a second) and returns any error doing so.
func Load() error {
	once.Do(load)
	return loadErr
}

// NoSpaces reports whether r belongs to a script written without spaces between words.
func NoSpaces(r rune) bool {
	if r < 0x0E00 {
		return false
	}
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Thai, unicode.Lao, unicode.Khmer, unicode.Myanmar) ||
		r == 'ー' || r == '々'
}

// HasKana reports whether s holds hiragana or katakana, which marks it as Japanese.
func HasKana(s string) bool {
	for _, r := range s {
		if r >= 0x3040 && r <= 0x30FF {
			return true
		}
	}
	return false
}

// Split cuts run, a string of NoSpaces characters, into words, with "" where function
// material (Japanese particles and inflections) stood between them. japanese says that
// the text run came from is Japanese (see HasKana), so kanji runs are words of their
// own rather than Chinese to segment. A Chinese dictionary that cannot be read (which
// a test of this package rules out) leaves each Han run whole.
func Split(run string, japanese bool) []string {
	if run == "" {
		return nil
	}
	var out []string
	var cur strings.Builder
	curClass := classNone
	flush := func() {
		if cur.Len() == 0 {
			return
		}
		s := cur.String()
		cur.Reset()
		switch {
		case curClass == classHiragana:
			out = append(out, "")
		case curClass == classHan && !japanese:
			out = append(out, chinese(s)...)
		default:
			out = append(out, s)
		}
	}
	for _, r := range run {
		c := classOf(r)
		if c != curClass {
			// A long-vowel mark or iteration mark continues the run it follows.
			if !(c == classMark && curClass != classNone) {
				flush()
				curClass = c
			}
		}
		cur.WriteRune(r)
	}
	flush()
	return out
}

func chinese(s string) []string {
	if Load() != nil {
		return []string{s}
	}
	words := seg.Cut(s, true)
	out := words[:0]
	for _, w := range words {
		if w = strings.TrimSpace(w); w != "" {
			out = append(out, w)
		}
	}
	return out
}

type class int8

const (
	classNone class = iota
	classHan
	classHiragana
	classKatakana
	classMark
	classOther
)

func classOf(r rune) class {
	switch {
	case r == 'ー' || r == '々':
		return classMark
	case r >= 0x3040 && r <= 0x309F:
		return classHiragana
	case r >= 0x30A0 && r <= 0x30FF:
		return classKatakana
	case unicode.Is(unicode.Han, r):
		return classHan
	}
	return classOther
}
