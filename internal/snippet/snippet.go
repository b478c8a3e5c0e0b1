// Package snippet shortens texts for display: the query texts that search results and
// the web viewer show are cut on a rune boundary by it, so one long pasted prompt does
// not fill a page.
package snippet

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Of returns text with its runs of white space collapsed to single spaces and trimmed,
// cut to n runes with a final "…" when longer (n−1 runes of text and the ellipsis).
// Only the first n runes are examined, so a long text costs no more than a short one.
// Invalid UTF-8 bytes become U+FFFD.
func Of(text string, n int) string {
	n = max(n, 1)
	var b strings.Builder
	count, cut := 0, 0 // cut: bytes of the first n−1 runes
	pending := false   // white space seen after the last rune written
	emit := func(r string) bool {
		if count == n {
			return false
		}
		if count == n-1 {
			cut = b.Len()
		}
		b.WriteString(r)
		count++
		return true
	}
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		raw := text[i : i+size]
		if r == utf8.RuneError && size == 1 {
			raw = "\uFFFD"
		}
		i += size
		if unicode.IsSpace(r) {
			pending = count > 0
			continue
		}
		if pending {
			pending = false
			if !emit(" ") {
				return b.String()[:cut] + "…"
			}
		}
		if !emit(raw) {
			return b.String()[:cut] + "…"
		}
	}
	return b.String()
}
