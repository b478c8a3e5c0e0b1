package report

import (
	"strings"
	"unicode"
)

// command returns the lmsys command line of args, each argument quoted for a POSIX
// shell when it needs to be.
func command(args ...string) string {
	var b strings.Builder
	b.WriteString("lmsys")
	for _, a := range args {
		b.WriteByte(' ')
		b.WriteString(shellQuote(a))
	}
	return b.String()
}

// shellQuote returns s as one POSIX shell word.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("-_./,:=@%+", r)))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// clean returns user text on one line: runs of white space and control characters
// become one space, and the invisible characters that reorder or hide text (bidi
// controls, zero-width marks) are dropped, so a text cannot spoof the lines around it.
func clean(s string) string { return cleanN(s, -1) }

// cleanN is clean stopping after n characters of output (n < 0: no limit), so a
// clipped megabyte costs what a clipped line costs.
func cleanN(s string, n int) string {
	var b strings.Builder
	b.Grow(min(len(s), max(4*n, 0)+16))
	space := false
	written := 0
	for _, r := range s {
		switch {
		case unicode.IsSpace(r) || unicode.IsControl(r):
			space = b.Len() > 0
			continue
		case hidden(r):
			continue
		}
		if n >= 0 && written+1 > n {
			break
		}
		if space {
			b.WriteByte(' ')
			space = false
			written++
			if n >= 0 && written >= n {
				break
			}
		}
		b.WriteRune(r)
		written++
	}
	return b.String()
}

// hidden reports the format characters clean drops: bidi embeddings, overrides and
// isolates, zero-width spaces and joiners, the byte-order mark.
func hidden(r rune) bool {
	switch {
	case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069, r >= 0x200B && r <= 0x200F, r == 0x061C, r == 0xFEFF, r == 0x2060:
		return true
	}
	return false
}

// clip returns clean(s) cut to n characters with an ellipsis.
func clip(s string, n int) string {
	if n <= 0 {
		return clean(s)
	}
	c := cleanN(s, n+1)
	if r := []rune(c); len(r) > n {
		return strings.TrimRightFunc(string(r[:n-1]), unicode.IsSpace) + "…"
	}
	return c
}
