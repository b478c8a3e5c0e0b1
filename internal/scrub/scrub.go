// Package scrub removes personal data and secrets from text before it leaves the
// machine: e-mail addresses, phone numbers, credit-card numbers (Luhn-checked), IPv4
// and IPv6 addresses, and API keys, bearer tokens, JWTs and long hex or base64 secrets.
// Each is replaced by a placeholder such as [EMAIL] that says what was there. The
// stages that send text to a remote model (summarize, hierarchy, classify) and the agent's
// tool results pass through it unless scrubbing is turned off.
package scrub

import (
	"net"
	"regexp"
	"strings"
)

// Placeholders written in place of what was removed.
const (
	Email      = "[EMAIL]"
	Phone      = "[PHONE]"
	CreditCard = "[CREDIT_CARD]"
	IP         = "[IP]"
	APIKey     = "[API_KEY]"
	Token      = "[TOKEN]"
	Secret     = "[SECRET]"
)

// rule replaces the matches of re that keep accepts (all when keep is nil).
type rule struct {
	re          *regexp.Regexp
	placeholder string
	// keep reports whether the match s (at s[i:j] of text) is really of this kind.
	keep func(text string, i, j int) bool
}

var (
	// Provider key formats: OpenAI/Anthropic sk-…, AWS access key ids, GitHub, Slack,
	// Google, Stripe, Hugging Face.
	keyRe = regexp.MustCompile(`\b(?:sk-(?:proj-|ant-|live-|test-)?[A-Za-z0-9_\-]{16,}|(?:AKIA|ASIA)[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{22,}|xox[abprs]-[A-Za-z0-9\-]{10,}|AIza[0-9A-Za-z_\-]{35}|(?:rk|pk|sk)_(?:live|test)_[0-9A-Za-z]{16,}|hf_[A-Za-z0-9]{30,})`)
	// Bearer and Basic authorisation values, and JWTs.
	bearerRe = regexp.MustCompile(`(?i)\b(bearer|basic|token)(\s+|\s*[:=]\s*)([A-Za-z0-9._~+/\-]{16,}=*)`)
	jwtRe    = regexp.MustCompile(`\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}`)
	emailRe  = regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}`)
	ipv4Re   = regexp.MustCompile(`\b(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\b`)
	ipv6Re   = regexp.MustCompile(`[0-9A-Fa-f:]*:[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*`)
	cardRe   = regexp.MustCompile(`\b\d(?:[ \-]?\d){12,18}\b`)
	phoneRe  = regexp.MustCompile(`(?:\+\d{1,3}[\s.\-]?)?(?:\(\d{1,4}\)[\s.\-]?)?\d{2,4}(?:[\s.\-]\d{2,4}){1,4}`)
	hexRe    = regexp.MustCompile(`\b[0-9a-fA-F]{32,}\b`)
	b64Re    = regexp.MustCompile(`[A-Za-z0-9+/_\-]{32,}={0,2}`)
	dateRe   = regexp.MustCompile(`^(?:\d{4}[\-./ ]\d{1,2}[\-./ ]\d{1,2}|\d{1,2}[\-./ ]\d{1,2}[\-./ ]\d{2,4})$`)
)

// features are cheap facts about a text that rule out most rules before any regular
// expression runs: replacements only remove digits, '@', ':' and long runs, so facts of
// the original text bound those of every intermediate one.
type features struct {
	digits   int
	at       bool
	colons   int
	dots     bool
	longRun  int // longest run of [A-Za-z0-9+/_-]
	keyHint  bool
	authHint bool
	jwtHint  bool
}

func featuresOf(s string) features {
	var f features
	run := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case isDigit(c):
			f.digits++
		case c == '@':
			f.at = true
		case c == ':':
			f.colons++
		case c == '.':
			f.dots = true
		}
		if isWordByte(c) || c == '+' || c == '/' || c == '-' {
			run++
			f.longRun = max(f.longRun, run)
		} else {
			run = 0
		}
	}
	if f.longRun >= 16 {
		for _, h := range []string{"sk-", "AKIA", "ASIA", "gh", "github_pat_", "xox", "AIza", "_live_", "_test_", "hf_"} {
			if strings.Contains(s, h) {
				f.keyHint = true
				break
			}
		}
		f.jwtHint = strings.Contains(s, "eyJ")
		f.authHint = containsFold(s, "bearer") || containsFold(s, "basic") || containsFold(s, "token")
	}
	return f
}

// containsFold reports whether s contains the lower-case ASCII word w in any case.
func containsFold(s, w string) bool {
	for i := 0; i+len(w) <= len(s); i++ {
		j := 0
		for j < len(w) && (s[i+j]|0x20) == w[j] {
			j++
		}
		if j == len(w) {
			return true
		}
	}
	return false
}

var rules = []struct {
	rule
	need func(f features) bool
}{
	{rule{re: jwtRe, placeholder: Token}, func(f features) bool { return f.jwtHint }},
	{rule{re: emailRe, placeholder: Email}, func(f features) bool { return f.at }},
	{rule{re: ipv4Re, placeholder: IP, keep: notInsideNumber}, func(f features) bool { return f.dots && f.digits >= 4 }},
	{rule{re: ipv6Re, placeholder: IP, keep: isIPv6}, func(f features) bool { return f.colons >= 2 }},
	{rule{re: cardRe, placeholder: CreditCard, keep: isCard}, func(f features) bool { return f.digits >= 13 }},
	{rule{re: phoneRe, placeholder: Phone, keep: isPhone}, func(f features) bool { return f.digits >= 7 }},
	{rule{re: hexRe, placeholder: Secret}, func(f features) bool { return f.longRun >= 32 }},
	{rule{re: b64Re, placeholder: Secret, keep: isBase64Secret}, func(f features) bool { return f.longRun >= 32 }},
}

// Text returns s with personal data and secrets replaced by placeholders. It is safe
// for concurrent use, and Text(Text(s)) == Text(s).
func Text(s string) string {
	out, _ := Count(s)
	return out
}

// Count is Text that also returns how many items of each placeholder it replaced.
func Count(s string) (string, map[string]int) {
	var counts map[string]int
	add := func(p string) {
		if counts == nil {
			counts = map[string]int{}
		}
		counts[p]++
	}
	f := featuresOf(s)
	// Known key formats first, so "token ghp_…" is named as the key it is.
	if f.keyHint && keyRe.MatchString(s) {
		s = keyRe.ReplaceAllStringFunc(s, func(string) string { add(APIKey); return APIKey })
	}
	// Bearer tokens keep their scheme word so the text still reads naturally.
	if f.authHint && bearerRe.MatchString(s) {
		s = bearerRe.ReplaceAllStringFunc(s, func(m string) string {
			sub := bearerRe.FindStringSubmatch(m)
			if strings.HasPrefix(sub[3], "[") || !hasDigitOrMixed(sub[3]) {
				return m
			}
			add(Token)
			return sub[1] + sub[2] + Token
		})
	}
	for _, r := range rules {
		if !r.need(f) {
			continue
		}
		locs := r.re.FindAllStringIndex(s, -1)
		if len(locs) == 0 {
			continue
		}
		var b strings.Builder
		last := 0
		for _, loc := range locs {
			i, j := loc[0], loc[1]
			if r.keep != nil && !r.keep(s, i, j) {
				continue
			}
			b.WriteString(s[last:i])
			b.WriteString(r.placeholder)
			last = j
			add(r.placeholder)
		}
		if last == 0 {
			continue
		}
		b.WriteString(s[last:])
		s = b.String()
	}
	return s, counts
}

// hasDigitOrMixed reports whether a token looks machine-made: it has a digit, or both
// upper- and lower-case letters.
func hasDigitOrMixed(s string) bool {
	var digit, upper, lower bool
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			digit = true
		case c >= 'A' && c <= 'Z':
			upper = true
		case c >= 'a' && c <= 'z':
			lower = true
		}
	}
	return digit || (upper && lower)
}

// notInsideNumber rejects matches glued to more digits or dots (version strings
// like 1.2.3.4.5 are not addresses).
func notInsideNumber(s string, i, j int) bool {
	if i > 0 && (s[i-1] == '.' || isDigit(s[i-1])) {
		return false
	}
	if j < len(s) && (isDigit(s[j]) || (s[j] == '.' && j+1 < len(s) && isDigit(s[j+1]))) {
		return false
	}
	return true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isWordByte(c byte) bool {
	return c == '_' || isDigit(c) || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// isIPv6 accepts a candidate that parses as an IPv6 address, stands alone (not part of
// an identifier like std::vector) and has at least three groups.
func isIPv6(s string, i, j int) bool {
	m := strings.TrimRight(s[i:j], ":.")
	if (i > 0 && isWordByte(s[i-1])) || (i+len(m) < len(s) && isWordByte(s[i+len(m)])) {
		return false
	}
	ip := net.ParseIP(m)
	if ip == nil || ip.To4() != nil && !strings.Contains(m, "::") && strings.Count(m, ":") < 2 {
		return false
	}
	groups := 0
	for _, g := range strings.Split(m, ":") {
		if g != "" {
			groups++
		}
	}
	return groups >= 3
}

// isCard accepts 13–19 digits that pass the Luhn check.
func isCard(s string, i, j int) bool {
	var digits []byte
	for k := i; k < j; k++ {
		if isDigit(s[k]) {
			digits = append(digits, s[k]-'0')
		}
	}
	if len(digits) < 13 || len(digits) > 19 {
		return false
	}
	return Luhn(digits)
}

// Luhn reports whether the digits (values 0–9) pass the Luhn checksum.
func Luhn(digits []byte) bool {
	sum := 0
	double := false
	for k := len(digits) - 1; k >= 0; k-- {
		d := int(digits[k])
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}

// isPhone accepts 7–15 digits written with separators or a + prefix, that are not a
// date and not glued to other digits, letters or decimal points.
func isPhone(s string, i, j int) bool {
	m := s[i:j]
	if i > 0 && (isWordByte(s[i-1]) || s[i-1] == '.' || s[i-1] == ',' || s[i-1] == '+') {
		return false
	}
	if j < len(s) && (isWordByte(s[j]) || ((s[j] == '.' || s[j] == ',') && j+1 < len(s) && isDigit(s[j+1]))) {
		return false
	}
	n := 0
	for k := 0; k < len(m); k++ {
		if isDigit(m[k]) {
			n++
		}
	}
	if n < 7 || n > 15 {
		return false
	}
	if dateRe.MatchString(m) {
		return false
	}
	// Plain runs of dotted numbers (1.234.567) are amounts, not phones, unless prefixed by +.
	if !strings.HasPrefix(m, "+") && !strings.ContainsAny(m, " -()") {
		return false
	}
	return true
}

// isBase64Secret accepts a long token mixing upper case, lower case and digits with
// frequent switches between them, which ordinary words, paths and identifiers rarely do.
func isBase64Secret(s string, i, j int) bool {
	if i > 0 && (isWordByte(s[i-1]) || s[i-1] == '[') {
		return false
	}
	m := s[i:j]
	var digit, upper, lower, switches int
	prev := 0
	for k := 0; k < len(m); k++ {
		c := m[k]
		class := 0
		switch {
		case isDigit(c):
			digit++
			class = 1
		case c >= 'A' && c <= 'Z':
			upper++
			class = 2
		case c >= 'a' && c <= 'z':
			lower++
			class = 3
		}
		if class != prev {
			switches++
		}
		prev = class
	}
	// Random base64 changes character class about every other byte; CamelCase
	// identifiers and words change once a word.
	return digit >= 1 && upper >= 3 && lower >= 3 && switches*5 >= len(m)*2
}
