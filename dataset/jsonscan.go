package dataset

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// This file holds a small validating JSON scanner. It walks one object or array
// without building a tree, handing out the raw bytes of members, so a JSON Lines row
// of which only a few string fields are wanted costs one pass and one allocation per
// wanted string. It accepts exactly what encoding/json's Valid accepts (the fuzz test
// checks this), including its nesting limit.

const maxJSONDepth = 10000

var errJSONDepth = errors.New("exceeded max depth")

type jsonSyntaxError struct {
	off int
	msg string
}

func (e *jsonSyntaxError) Error() string {
	return fmt.Sprintf("invalid JSON at byte %d: %s", e.off, e.msg)
}

func synErr(off int, format string, a ...any) error {
	return &jsonSyntaxError{off: off, msg: fmt.Sprintf(format, a...)}
}

func skipWS(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// Bytes repeated in each byte of a word, for plainRun.
const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// plainRun returns how many leading bytes of b, in whole 8-byte words, are plain
// string content: no quote, no backslash, no control character. It tests a word at a
// time: for a word v, (v − ones) &^ v has a high bit set exactly when some byte of v
// is zero, so applied to v XOR a repeated byte it finds that byte, and applied with
// 0x20 in each byte it finds the bytes below 0x20. Long texts are scanned several
// times faster than byte by byte.
func plainRun(b []byte) int {
	n := 0
	for ; n+8 <= len(b); n += 8 {
		v := binary.LittleEndian.Uint64(b[n:])
		q := v ^ (ones * '"')
		bs := v ^ (ones * '\\')
		if ((q-ones)&^q|(bs-ones)&^bs|(v-ones*0x20)&^v)&highs != 0 {
			break
		}
	}
	return n
}

// scanString validates the string starting at data[i] == '"' and returns the index
// after its closing quote and whether it contains escapes.
func scanString(data []byte, i int) (int, bool, error) {
	esc := false
	i++
	for i < len(data) {
		if i += plainRun(data[i:]); i >= len(data) {
			break
		}
		c := data[i]
		switch {
		case c == '"':
			return i + 1, esc, nil
		case c == '\\':
			esc = true
			if i+1 >= len(data) {
				return 0, false, synErr(i, "unterminated escape")
			}
			switch c := data[i+1]; {
			case shortEscapes[c] != 0:
				i += 2
			case c == 'u':
				if i+6 > len(data) {
					return 0, false, synErr(i, "short \\u escape")
				}
				for _, h := range data[i+2 : i+6] {
					if !isHex(h) {
						return 0, false, synErr(i, "bad \\u escape")
					}
				}
				i += 6
			default:
				return 0, false, synErr(i, "bad escape \\%c", data[i+1])
			}
		case c < 0x20:
			return 0, false, synErr(i, "control character in string")
		default:
			i++
		}
	}
	return 0, false, synErr(i, "unterminated string")
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func scanNumber(data []byte, i int) (int, error) {
	start := i
	if i < len(data) && data[i] == '-' {
		i++
	}
	switch {
	case i < len(data) && data[i] == '0':
		i++
	case i < len(data) && data[i] >= '1' && data[i] <= '9':
		for i < len(data) && data[i] >= '0' && data[i] <= '9' {
			i++
		}
	default:
		return 0, synErr(start, "bad number")
	}
	if i < len(data) && data[i] == '.' {
		i++
		d := i
		for i < len(data) && data[i] >= '0' && data[i] <= '9' {
			i++
		}
		if i == d {
			return 0, synErr(start, "bad number")
		}
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		d := i
		for i < len(data) && data[i] >= '0' && data[i] <= '9' {
			i++
		}
		if i == d {
			return 0, synErr(start, "bad number")
		}
	}
	return i, nil
}

func scanLiteral(data []byte, i int, lit string) (int, error) {
	if len(data)-i < len(lit) || string(data[i:i+len(lit)]) != lit {
		return 0, synErr(i, "unexpected character")
	}
	return i + len(lit), nil
}

// scanValue validates the value starting at data[i] (no leading space) and returns
// the index after it.
func scanValue(data []byte, i, depth int) (int, error) {
	if i >= len(data) {
		return 0, synErr(i, "unexpected end of input")
	}
	switch c := data[i]; {
	case c == '"':
		end, _, err := scanString(data, i)
		return end, err
	case c == '{':
		return scanMembers(data, i, depth+1, nil, nil)
	case c == '[':
		return scanElements(data, i, depth+1, nil)
	case c == 't':
		return scanLiteral(data, i, "true")
	case c == 'f':
		return scanLiteral(data, i, "false")
	case c == 'n':
		return scanLiteral(data, i, "null")
	case c == '-' || c >= '0' && c <= '9':
		return scanNumber(data, i)
	default:
		return 0, synErr(i, "unexpected character %q", c)
	}
}

// valueScanner validates the value at data[i] as scanValue does, doing more with it
// on the way, and returns the index after it.
type valueScanner func(data []byte, i, depth int) (int, error)

// scanMembers validates the object at data[i] == '{', calling fn (when not nil) with
// each member's raw key (between the quotes) and raw value. A member whose key hook
// (when not nil) gives a valueScanner has its value scanned by that instead.
func scanMembers(data []byte, i, depth int, hook func(key []byte) valueScanner, fn func(key, val []byte) error) (int, error) {
	if depth > maxJSONDepth {
		return 0, errJSONDepth
	}
	i = skipWS(data, i+1)
	if i < len(data) && data[i] == '}' {
		return i + 1, nil
	}
	for {
		if i >= len(data) || data[i] != '"' {
			return 0, synErr(i, "expected object key")
		}
		kend, _, err := scanString(data, i)
		if err != nil {
			return 0, err
		}
		key := data[i+1 : kend-1]
		i = skipWS(data, kend)
		if i >= len(data) || data[i] != ':' {
			return 0, synErr(i, "expected ':'")
		}
		i = skipWS(data, i+1)
		vstart := i
		var h valueScanner
		if hook != nil {
			h = hook(key)
		}
		if h != nil {
			i, err = h(data, i, depth)
		} else {
			i, err = scanValue(data, i, depth)
		}
		if err != nil {
			return 0, err
		}
		if fn != nil {
			if err := fn(key, data[vstart:i]); err != nil {
				return 0, err
			}
		}
		i = skipWS(data, i)
		if i >= len(data) {
			return 0, synErr(i, "unterminated object")
		}
		switch data[i] {
		case ',':
			i = skipWS(data, i+1)
		case '}':
			return i + 1, nil
		default:
			return 0, synErr(i, "expected ',' or '}'")
		}
	}
}

// scanElements validates the array at data[i] == '[', calling fn (when not nil) with
// each element's raw value.
func scanElements(data []byte, i, depth int, fn func(val []byte) error) (int, error) {
	if depth > maxJSONDepth {
		return 0, errJSONDepth
	}
	i = skipWS(data, i+1)
	if i < len(data) && data[i] == ']' {
		return i + 1, nil
	}
	for {
		vstart := i
		var err error
		if i, err = scanValue(data, i, depth); err != nil {
			return 0, err
		}
		if fn != nil {
			if err := fn(data[vstart:i]); err != nil {
				return 0, err
			}
		}
		i = skipWS(data, i)
		if i >= len(data) {
			return 0, synErr(i, "unterminated array")
		}
		switch data[i] {
		case ',':
			i = skipWS(data, i+1)
		case ']':
			return i + 1, nil
		default:
			return 0, synErr(i, "expected ',' or ']'")
		}
	}
}

// scanObject validates that data is exactly one JSON object (surrounding white space
// allowed) and calls fn with each member's raw key and value.
func scanObject(data []byte, fn func(key, val []byte) error) error {
	return scanObjectHook(data, nil, fn)
}

// scanObjectHook is scanObject with scanMembers' hook.
func scanObjectHook(data []byte, hook func(key []byte) valueScanner, fn func(key, val []byte) error) error {
	i := skipWS(data, 0)
	if i >= len(data) || data[i] != '{' {
		return synErr(i, "expected '{'")
	}
	end, err := scanMembers(data, i, 1, hook, fn)
	if err != nil {
		return err
	}
	if j := skipWS(data, end); j != len(data) {
		return synErr(j, "data after the object")
	}
	return nil
}

// scanArray validates that data is exactly one JSON array and calls fn with each
// element's raw value.
func scanArray(data []byte, fn func(val []byte) error) error {
	i := skipWS(data, 0)
	if i >= len(data) || data[i] != '[' {
		return synErr(i, "expected '['")
	}
	end, err := scanElements(data, i, 1, fn)
	if err != nil {
		return err
	}
	if j := skipWS(data, end); j != len(data) {
		return synErr(j, "data after the array")
	}
	return nil
}

// rawTurn is one element of a chat array as scanTurns found it: whether it is an
// object and, when it is, the raw values of its role and content members (see
// chatTurns for which members count).
type rawTurn struct {
	obj           bool
	role, content []byte
	contentRank   int
}

// scanTurns validates the value at data[i] as scanValue(data, i, depth) does and,
// when it is an array, appends a rawTurn for each of its elements to dst: a chat is
// validated and taken apart in one pass.
func scanTurns(data []byte, i, depth int, dst []rawTurn) (int, []rawTurn, error) {
	if i >= len(data) || data[i] != '[' {
		end, err := scanValue(data, i, depth)
		return end, dst, err
	}
	depth++ // the array's own, as scanValue gives scanElements
	if depth > maxJSONDepth {
		return 0, dst, errJSONDepth
	}
	var t rawTurn
	member := func(k, v []byte) error {
		switch string(k) {
		case "role", "from", "author":
			t.role = v
		case "content":
			t.content, t.contentRank = v, 0
		case "value":
			if t.contentRank > 1 {
				t.content, t.contentRank = v, 1
			}
		case "text":
			if t.contentRank > 2 {
				t.content, t.contentRank = v, 2
			}
		}
		return nil
	}
	i = skipWS(data, i+1)
	if i < len(data) && data[i] == ']' {
		return i + 1, dst, nil
	}
	for {
		var err error
		t = rawTurn{contentRank: 99}
		if i < len(data) && data[i] == '{' {
			t.obj = true
			i, err = scanMembers(data, i, depth+1, nil, member)
		} else {
			i, err = scanValue(data, i, depth)
		}
		if err != nil {
			return 0, dst, err
		}
		dst = append(dst, t)
		i = skipWS(data, i)
		if i >= len(data) {
			return 0, dst, synErr(i, "unterminated array")
		}
		switch data[i] {
		case ',':
			i = skipWS(data, i+1)
		case ']':
			return i + 1, dst, nil
		default:
			return 0, dst, synErr(i, "expected ',' or ']'")
		}
	}
}

// decodeString decodes a raw JSON string value (quotes included, already
// validated). Strings without escapes are copied as they are, invalid UTF-8 included
// (Load repairs it and counts the repair); strings with escapes are unescaped as
// encoding/json does (unescapeTo), invalid UTF-8 becoming U+FFFD. The text is built
// in one allocation, where encoding/json took reflection, a copy of the quoted value
// and two more: with the \n and \" of real chats, a third of a load's time.
func decodeString(raw []byte) (string, error) {
	var b strings.Builder
	b.Grow(max(len(raw)-2, 0)) // escapes only shrink; invalid UTF-8 may grow
	if err := decodeStringTo(&b, raw); err != nil {
		return "", err
	}
	return b.String(), nil
}

// decodeStringTo writes the text of a raw JSON string value (quotes included,
// already validated) to b, as decodeString returns it.
func decodeStringTo(b *strings.Builder, raw []byte) error {
	if len(raw) < 2 || raw[0] != '"' {
		return errNotString
	}
	body := raw[1 : len(raw)-1]
	k := bytes.IndexByte(body, '\\')
	if k < 0 {
		b.Write(body)
		return nil
	}
	if !unescapeTo(b, body, k) {
		return synErr(0, "bad escape in string")
	}
	return nil
}

// shortEscapes maps the letter after a backslash to the byte it stands for, for
// every escape but \u (0: not one).
var shortEscapes = [256]byte{'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}

// unescapeTo writes to b the text of the body of a JSON string (between its quotes)
// whose first backslash is at k, as encoding/json decodes it: escapes replaced, a \u
// surrogate pair combined and a lone surrogate replaced by U+FFFD, and each byte of
// invalid UTF-8 replaced by U+FFFD. The body is one the scanner validated; it
// reports false, rather than read out of bounds, for a bad or cut escape, and b then
// holds part of the text.
func unescapeTo(b *strings.Builder, body []byte, k int) bool {
	writeUTF8(b, body[:k])
	body = body[k:]
	for {
		// body[0] is a backslash.
		if len(body) < 2 {
			return false
		}
		switch c := body[1]; {
		case shortEscapes[c] != 0:
			b.WriteByte(shortEscapes[c])
			body = body[2:]
		case c == 'u':
			r := hex4(body[2:])
			if r < 0 {
				return false
			}
			body = body[6:]
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if len(body) >= 2 && body[0] == '\\' && body[1] == 'u' {
					r2 = hex4(body[2:])
				}
				if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
					r = dec
					body = body[6:]
				} else {
					r = utf8.RuneError
				}
			}
			b.WriteRune(r)
		default:
			return false
		}
		// Up to the next backslash: ASCII is copied as it is, the rest once checked.
		k := asciiRun(body)
		if k < len(body) && body[k] >= utf8.RuneSelf {
			j := bytes.IndexByte(body[k:], '\\')
			if j < 0 {
				j = len(body)
			} else {
				j += k
			}
			writeUTF8(b, body[:j])
			body = body[j:]
		} else {
			b.Write(body[:k])
			body = body[k:]
		}
		if len(body) == 0 {
			return true
		}
	}
}

// asciiRun returns the length of the run of ASCII bytes other than a backslash
// that b starts with. It tests a word at a time as plainRun does; the lowest flagged
// byte of a word is the first such byte (a borrow only flags bytes above a true one).
func asciiRun(b []byte) int {
	n := 0
	for ; n+8 <= len(b); n += 8 {
		v := binary.LittleEndian.Uint64(b[n:])
		bs := v ^ (ones * '\\')
		if m := ((bs-ones)&^bs | v) & highs; m != 0 {
			return n + bits.TrailingZeros64(m)/8
		}
	}
	for ; n < len(b); n++ {
		if c := b[n]; c == '\\' || c >= utf8.RuneSelf {
			break
		}
	}
	return n
}

// writeUTF8 writes p to b with each byte of invalid UTF-8 replaced by U+FFFD.
func writeUTF8(b *strings.Builder, p []byte) {
	if utf8.Valid(p) {
		b.Write(p)
		return
	}
	for len(p) > 0 {
		r, size := utf8.DecodeRune(p)
		if r == utf8.RuneError && size == 1 {
			b.WriteString("\uFFFD")
		} else {
			b.Write(p[:size])
		}
		p = p[size:]
	}
}

// hex4 returns the value of the four hex digits b starts with, or -1.
func hex4(b []byte) rune {
	if len(b) < 4 {
		return -1
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}

var errNotString = errors.New("not a string")

// decodeKey returns a member key as a string, unescaping it when needed.
func decodeKey(key []byte) string {
	if k := bytes.IndexByte(key, '\\'); k >= 0 {
		var b strings.Builder
		if unescapeTo(&b, key, k) {
			return b.String()
		}
	}
	return string(key)
}

// scalarString renders a raw JSON scalar as a string: strings are decoded, numbers
// and booleans kept as written; null gives ok == false. Objects and arrays are not
// scalars.
func scalarString(raw []byte) (s string, ok bool, err error) {
	if len(raw) == 0 {
		return "", false, nil
	}
	switch raw[0] {
	case '"':
		s, err := decodeString(raw)
		return s, err == nil, err
	case 'n':
		return "", false, nil
	case '{', '[':
		return "", false, errNotString
	default:
		return string(raw), true, nil
	}
}

// scalarValue converts a raw JSON scalar to a Go value for metadata: string, int64,
// float64 or bool. It reports false for null, objects and arrays.
func scalarValue(raw []byte) (any, bool) {
	if len(raw) == 0 {
		return nil, false
	}
	switch raw[0] {
	case '"':
		s, err := decodeString(raw)
		return s, err == nil
	case 't':
		return true, true
	case 'f':
		return false, true
	case 'n', '{', '[':
		return nil, false
	default:
		if n, err := strconv.ParseInt(string(raw), 10, 64); err == nil {
			return n, true
		}
		f, err := strconv.ParseFloat(string(raw), 64)
		return f, err == nil
	}
}
