package classify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/lmsys-go/lmsys"
)

// BuiltinSource is the Source of every built-in classifier's template.
const BuiltinSource = "builtin"

// maxScan bounds how many bytes of one message the text-reading built-ins look
// at, so a megabyte message costs no more than a long one. Refusals, objections
// and the language show in a message's opening; code detection reads further
// (maxCodeScan).
const maxScan = 8 << 10

// builtin is one offline classifier: a pure function over a conversation with
// its documented rules, wrapped as a Classifier.
type builtin struct {
	name, version, description string
	// rules is the text description of the rules, stored as the template's
	// content: a change of the rules is a change of version.
	rules  string
	facets []Facet
	fn     func(c lmsys.Conversation) []Answer
}

// Template returns the built-in's stored description; its hash covers the name,
// the version and the rules.
func (b *builtin) Template() lmsys.ClassificationTemplate {
	return lmsys.ClassificationTemplate{
		ID:          "builtin-" + b.name,
		Name:        b.name,
		Version:     b.version,
		Description: b.description,
		Source:      BuiltinSource,
		Content:     b.rules,
		Hash:        b.hash(),
	}
}

func (b *builtin) hash() string {
	h := sha256.New()
	h.Write([]byte(b.name))
	h.Write([]byte{0})
	h.Write([]byte(b.version))
	h.Write([]byte{0})
	h.Write([]byte(b.rules))
	return hex.EncodeToString(h.Sum(nil))
}

// Facets lists the facets the built-in answers.
func (b *builtin) Facets() []Facet { return b.facets }

// ResultKey is "builtin:NAME@VERSION": built-ins take no parameters, so the name
// and version identify their answers.
func (b *builtin) ResultKey() string { return "builtin:" + b.name + "@" + b.version }

// Classify answers the built-in's facets for c. It costs nothing and fails only
// when ctx is done.
func (b *builtin) Classify(ctx context.Context, c lmsys.Conversation) ([]Answer, Cost, error) {
	if err := ctx.Err(); err != nil {
		return nil, Cost{}, err
	}
	return b.fn(c), Cost{}, nil
}

// builtins lists the built-in classifiers in a fixed order.
var builtins = []*builtin{refusalBuiltin, pushbackBuiltin, codeBuiltin, languageBuiltin, turnsBuiltin, lengthBuiltin}

// Builtins returns every built-in offline classifier: refusal, pushback, code,
// language, turns and length.
func Builtins() []Classifier {
	out := make([]Classifier, len(builtins))
	for i, b := range builtins {
		out[i] = b
	}
	return out
}

// BuiltinNames returns the names of the built-in classifiers in Builtins order.
func BuiltinNames() []string {
	out := make([]string, len(builtins))
	for i, b := range builtins {
		out[i] = b.name
	}
	return out
}

// Builtin returns the built-in classifier called name. An unknown name gives an
// error wrapping lmsys.ErrInvalidInput that lists the known names.
func Builtin(name string) (Classifier, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	for _, b := range builtins {
		if b.name == n {
			return b, nil
		}
	}
	return nil, fmt.Errorf("%w: unknown built-in classifier %q (known: %s)", lmsys.ErrInvalidInput, name, strings.Join(BuiltinNames(), ", "))
}

// firstOf returns the index of the first message with role after index from, or -1.
func firstOf(c lmsys.Conversation, role string, from int) int {
	for i := from + 1; i < len(c.Messages); i++ {
		if c.Messages[i].Role == role {
			return i
		}
	}
	return -1
}

// head returns the valid UTF-8 prefix of s of at most n bytes, cut at a rune
// boundary, with invalid bytes replaced.
func head(s string, n int) string {
	if len(s) > n {
		cut := n
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	return s
}

// cueSet is a set of patterns, each guarded by literal anchors, so a text pays
// for the few phrase families it could match rather than for all of them. A
// spec "anchor|anchor||pattern" runs pattern over a text holding one of the
// anchors; a spec "^anchor|anchor||pattern" says every match starts with one of
// the anchors, and runs pattern anchored at each anchor occurrence that starts
// a word, which keeps the regexp engine's work to the length of a match. A spec
// without "||" always runs its pattern.
type cueSet struct {
	cues []anchoredCue
}

type anchoredCue struct {
	anchors []string
	prefix  bool
	re      *regexp.Regexp
}

// newCueSet compiles specs; it panics on a bad pattern (they are constants).
func newCueSet(specs []string) *cueSet {
	s := &cueSet{}
	for _, spec := range specs {
		anchors, pattern, ok := strings.Cut(spec, "||")
		if !ok {
			anchors, pattern = "", spec
		}
		c := anchoredCue{}
		if strings.HasPrefix(anchors, "^") {
			c.prefix = true
			anchors = anchors[1:]
			pattern = "^(?:" + pattern + ")"
		}
		c.re = regexp.MustCompile(pattern)
		if anchors != "" {
			c.anchors = strings.Split(anchors, "|")
		}
		s.cues = append(s.cues, c)
	}
	return s
}

// maxMatch bounds the length of a prefix-anchored match: the pattern runs over
// this many bytes from its anchor.
const maxMatch = 240

// wordByte reports whether b continues an ASCII word (letters, digits, apostrophe).
func wordByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '\'' || b == '_'
}

// each calls fn with every match of c in text, at most n, until fn returns false.
func (c anchoredCue) each(text string, n int, fn func(m []int) bool) {
	if !c.prefix {
		if c.anchors != nil && !c.contains(text) {
			return
		}
		for _, m := range c.re.FindAllStringIndex(text, n) {
			if !fn(m) {
				return
			}
		}
		return
	}
	found := 0
	for _, a := range c.anchors {
		letter := wordByte(a[0])
		for off := 0; off < len(text); {
			i := strings.Index(text[off:], a)
			if i < 0 {
				break
			}
			pos := off + i
			off = pos + 1
			if letter && pos > 0 && wordByte(text[pos-1]) {
				continue
			}
			end := min(len(text), pos+maxMatch)
			if m := c.re.FindStringIndex(text[pos:end]); m != nil {
				found++
				if !fn([]int{pos + m[0], pos + m[1]}) || found >= n {
					return
				}
			}
		}
	}
}

func (c anchoredCue) contains(text string) bool {
	for _, a := range c.anchors {
		if strings.Contains(text, a) {
			return true
		}
	}
	return false
}

// MatchString reports whether any pattern matches text.
func (s *cueSet) MatchString(text string) bool {
	hit := false
	for _, c := range s.cues {
		c.each(text, 1, func([]int) bool { hit = true; return false })
		if hit {
			return true
		}
	}
	return false
}

// FindStringIndex returns the leftmost match of any pattern, or nil.
func (s *cueSet) FindStringIndex(text string) []int {
	var best []int
	for _, c := range s.cues {
		c.each(text, 64, func(m []int) bool {
			if best == nil || m[0] < best[0] {
				best = m
			}
			return true
		})
	}
	return best
}

// FindAllStringIndex returns the matches of every pattern, at most n a pattern,
// in no particular order.
func (s *cueSet) FindAllStringIndex(text string, n int) [][]int {
	var out [][]int
	for _, c := range s.cues {
		c.each(text, n, func(m []int) bool { out = append(out, m); return true })
	}
	return out
}
