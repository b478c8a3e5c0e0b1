package mcpserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Every tool result and resource is cut to Options.MaxResultBytes of JSON before it
// is sent, so that no answer floods an agent's context. The JSON stays whole: first
// long strings are clipped, as little as makes the answer fit but not below
// minClip characters; then the page's list loses items from its end (the result
// then says which arguments continue right after the last item shown); then other
// lists are halved, the one that saves most first; last, strings are clipped to
// lastClip characters. The result says what was cut in "truncated": true and
// "truncation". A smaller limit thus shows more of each item, a larger one more
// items.

// minClip and lastClip are the shortest clips of long strings before and after the
// lists are cut.
const (
	minClip  = 200
	lastClip = 60
)

// Truncation describes how a result was cut to fit the byte cap.
type Truncation struct {
	// MaxBytes is the cap.
	MaxBytes int `json:"max_bytes"`
	// List is the path of the page's list ("items", "queries.items" …) when it lost
	// items; Returned of Of items were kept.
	List     string `json:"list,omitempty"`
	Returned int    `json:"returned,omitempty"`
	Of       int    `json:"of,omitempty"`
	// Next holds the arguments that continue right after the last item kept.
	Next *Next `json:"next,omitempty"`
	// Cut lists the other lists that were shortened.
	Cut []Cut `json:"cut,omitempty"`
	// ClippedStrings strings were clipped to StringChars characters.
	ClippedStrings int `json:"clipped_strings,omitempty"`
	StringChars    int `json:"string_chars,omitempty"`
	// Hint says what to do next, in words.
	Hint string `json:"hint"`
}

// Next holds the paging arguments of the call that continues a cut result: Offset
// (the items before it are shown) or Cursor, and Limit.
type Next struct {
	Offset int   `json:"offset,omitempty"`
	Cursor int64 `json:"cursor,omitempty"`
	Limit  int   `json:"limit"`
}

// String writes the arguments as a call takes them.
func (n *Next) String() string {
	if n.Cursor > 0 {
		return fmt.Sprintf("cursor=%d, limit=%d", n.Cursor, n.Limit)
	}
	return fmt.Sprintf("offset=%d, limit=%d", n.Offset, n.Limit)
}

// Cut is a list that was shortened: Kept of Of items remain.
type Cut struct {
	Path string `json:"path"`
	Kept int    `json:"kept"`
	Of   int    `json:"of"`
}

// fitSpec says how to cut one result.
type fitSpec struct {
	// list is the dotted path of the page's items ("" when the result has none).
	list string
	// next returns the arguments that continue after the first k items of the list.
	next func(root *node, k int) *Next
	// hint is advice for a result whose other lists had to be cut.
	hint string
	// extra are top-level keys added to the result (paging of lists the server pages).
	extra []field
}

// field is a key and its value.
type field struct {
	key string
	val any
}

// offsetNext continues a list whose first item shown is item start (counting from
// 0) of the whole list, limit a page: after k items, the next call starts at
// start+k. When the object at path paging says where the list sits by offset (has
// "offset"), its next_offset is set too.
func offsetNext(paging string, start, limit int) func(*node, int) *Next {
	return func(root *node, k int) *Next {
		if p := root.get(paging); p != nil && p.kind == '{' && p.get("offset") != nil {
			p.set("next_offset", &node{raw: []byte(strconv.Itoa(start + k))})
		}
		return &Next{Offset: start + k, Limit: limit}
	}
}

// parentPath returns the path of the object holding the value at path.
func parentPath(path string) string {
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[:i]
	}
	return ""
}

// cursorNext continues a list keyed by the id field of its items, limit a page.
func cursorNext(list string, limit int) func(*node, int) *Next {
	return func(root *node, k int) *Next {
		items := root.get(list)
		if items == nil || k == 0 || k > len(items.elems) {
			return nil
		}
		id, err := strconv.ParseInt(string(items.elems[k-1].get("id").scalar()), 10, 64)
		if err != nil {
			return nil
		}
		return &Next{Cursor: id, Limit: limit}
	}
}

// fit encodes v (a *node is used as it is) and cuts it to maxBytes as fitSpec says.
func fit(v any, maxBytes int, spec fitSpec) (json.RawMessage, error) {
	root, ok := v.(*node)
	if !ok {
		b, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("encode result: %w", err)
		}
		if len(b) <= maxBytes && len(spec.extra) == 0 {
			return b, nil
		}
		if root, err = parseNode(b); err != nil {
			return nil, fmt.Errorf("decode result: %w", err)
		}
	}
	if root.kind != '{' {
		return nil, errors.New("result is not a JSON object")
	}
	for _, f := range spec.extra {
		eb, err := json.Marshal(f.val)
		if err != nil {
			return nil, err
		}
		en, err := parseNode(eb)
		if err != nil {
			return nil, err
		}
		root.set(f.key, en)
	}
	if root.len() <= maxBytes {
		return root.bytes(), nil
	}
	t := &Truncation{MaxBytes: maxBytes}
	size := func() int {
		t.Hint = hint(t, spec.hint)
		return withTruncation(root, t).len()
	}
	clip := func(n int) {
		t.ClippedStrings, t.StringChars = root.clip(n), n
		if t.ClippedStrings == 0 {
			t.StringChars = 0
		}
	}
	// Long strings first, as little as fits: the whole page then stays.
	if longest := root.longestString(); longest > minClip {
		if clip(minClip); size() <= maxBytes {
			lo, hi := minClip, longest // lo fits, hi does not
			for hi-lo > max(10, lo/10) {
				mid := (lo + hi) / 2
				if clip(mid); size() <= maxBytes {
					lo = mid
				} else {
					hi = mid
				}
			}
			// The hint, which size sets, names the clip: check the final one.
			for clip(lo); size() > maxBytes && lo > minClip; clip(lo) {
				lo = max(minClip, lo-10)
			}
			if size() <= maxBytes {
				return withTruncation(root, t).bytes(), nil
			}
		}
	}
	var primary *node
	if spec.list != "" {
		primary = root.get(spec.list)
	}
	if primary != nil && primary.kind == '[' && len(primary.elems) > 0 {
		all := primary.elems
		keep := func(k int) {
			primary.elems = all[:k]
			t.List, t.Returned, t.Of, t.Next = spec.list, k, len(all), nil
			if spec.next != nil && k < len(all) {
				t.Next = spec.next(root, k)
			}
		}
		lo, hi := 0, len(all) // the largest k that fits is in [lo, hi)
		for lo+1 < hi {
			mid := (lo + hi) / 2
			keep(mid)
			if size() <= maxBytes {
				lo = mid
			} else {
				hi = mid
			}
		}
		keep(max(lo, 1)) // one item at least, clipped below if need be
	}
	for size() > maxBytes {
		path, a := root.largestArray("", primary)
		if a == nil {
			break
		}
		of := len(a.elems)
		if c := findCut(t.Cut, path); c != nil {
			of = c.Of
		}
		a.elems = a.elems[:len(a.elems)/2]
		if c := findCut(t.Cut, path); c != nil {
			c.Kept = len(a.elems)
		} else {
			t.Cut = append(t.Cut, Cut{Path: path, Kept: len(a.elems), Of: of})
		}
	}
	if size() > maxBytes {
		clip(lastClip)
	}
	if size() > maxBytes {
		return nil, fmt.Errorf("the answer does not fit in %d bytes even cut down; %s", maxBytes, orDefault(spec.hint, "narrow the request"))
	}
	return withTruncation(root, t).bytes(), nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func findCut(cs []Cut, path string) *Cut {
	for i := range cs {
		if cs[i].Path == path {
			return &cs[i]
		}
	}
	return nil
}

// hint says in words what was cut and how to see the rest.
func hint(t *Truncation, advice string) string {
	var parts []string
	if t.List != "" && t.Returned < t.Of {
		s := fmt.Sprintf("%d of the page's %d items fit in %d bytes", t.Returned, t.Of, t.MaxBytes)
		if t.Next != nil {
			s += "; call again with " + t.Next.String() + " for the next ones"
		}
		parts = append(parts, s)
	}
	if len(t.Cut) > 0 {
		var cs []string
		for i, c := range t.Cut {
			if i == 5 {
				cs = append(cs, fmt.Sprintf("%d more", len(t.Cut)-5))
				break
			}
			cs = append(cs, fmt.Sprintf("%s to %d of %d", c.Path, c.Kept, c.Of))
		}
		s := "lists cut: " + strings.Join(cs, ", ")
		if advice != "" {
			s += "; " + advice
		}
		parts = append(parts, s)
	}
	if t.ClippedStrings > 0 {
		s := fmt.Sprintf("%d long strings clipped to %d characters", t.ClippedStrings, t.StringChars)
		if t.List == "" && len(t.Cut) == 0 {
			s += "; a smaller limit shows more of each item"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}

// withTruncation returns root with "truncated": true and "truncation" appended (a
// shallow copy: root is left as it is).
func withTruncation(root *node, t *Truncation) *node {
	b, _ := json.Marshal(t) // a struct of numbers and strings cannot fail
	tn, _ := parseNode(b)
	out := &node{kind: '{', keys: append(append([]string(nil), root.keys...), "truncated", "truncation"),
		elems: append(append([]*node(nil), root.elems...), &node{raw: []byte("true")}, tn)}
	return out
}

// node is a JSON value that keeps the order of its object keys.
type node struct {
	kind  byte // '{' object, '[' array, 0 scalar
	keys  []string
	elems []*node // the object's values (beside keys) or the array's elements
	raw   []byte  // a scalar other than a string
	str   string
	isStr bool
	// full and orig are a clipped string's whole text and its length in characters.
	full string
	orig int
}

func parseNode(b []byte) (*node, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	n, err := parseValue(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data after JSON value")
	}
	return n, nil
}

func parseValue(dec *json.Decoder) (*node, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		n := &node{kind: byte(t)}
		for dec.More() {
			if n.kind == '{' {
				k, err := dec.Token()
				if err != nil {
					return nil, err
				}
				n.keys = append(n.keys, k.(string))
			}
			v, err := parseValue(dec)
			if err != nil {
				return nil, err
			}
			n.elems = append(n.elems, v)
		}
		if _, err := dec.Token(); err != nil { // the closing delimiter
			return nil, err
		}
		return n, nil
	case string:
		return &node{str: t, isStr: true}, nil
	case json.Number:
		return &node{raw: []byte(t)}, nil
	case bool:
		return &node{raw: []byte(strconv.FormatBool(t))}, nil
	case nil:
		return &node{raw: []byte("null")}, nil
	}
	return nil, fmt.Errorf("unexpected JSON token %v", tok)
}

func (n *node) encode(w *bytes.Buffer) {
	switch n.kind {
	case '{':
		w.WriteByte('{')
		for i, k := range n.keys {
			if i > 0 {
				w.WriteByte(',')
			}
			kb, _ := json.Marshal(k)
			w.Write(kb)
			w.WriteByte(':')
			n.elems[i].encode(w)
		}
		w.WriteByte('}')
	case '[':
		w.WriteByte('[')
		for i, e := range n.elems {
			if i > 0 {
				w.WriteByte(',')
			}
			e.encode(w)
		}
		w.WriteByte(']')
	default:
		if n.isStr {
			sb, _ := json.Marshal(n.str)
			w.Write(sb)
		} else {
			w.Write(n.raw)
		}
	}
}

func (n *node) bytes() []byte {
	var b bytes.Buffer
	n.encode(&b)
	return b.Bytes()
}

func (n *node) len() int { return len(n.bytes()) }

// scalar returns a scalar's JSON (a string's text).
func (n *node) scalar() []byte {
	if n == nil {
		return nil
	}
	if n.isStr {
		return []byte(n.str)
	}
	return n.raw
}

// get returns the value at a dotted path of object keys ("" is n itself), or nil.
func (n *node) get(path string) *node {
	if path == "" {
		return n
	}
	cur := n
	for _, k := range strings.Split(path, ".") {
		if cur == nil || cur.kind != '{' {
			return nil
		}
		var next *node
		for i, key := range cur.keys {
			if key == k {
				next = cur.elems[i]
			}
		}
		cur = next
	}
	return cur
}

// set sets key of an object, appending it when new.
func (n *node) set(key string, v *node) {
	for i, k := range n.keys {
		if k == key {
			n.elems[i] = v
			return
		}
	}
	n.keys = append(n.keys, key)
	n.elems = append(n.elems, v)
}

// largestArray returns the array of two or more elements under n, other than skip,
// whose second half is the longest JSON (the one whose halving saves the most), with
// its path.
func (n *node) largestArray(path string, skip *node) (string, *node) {
	bestPath, best, bestLen := "", (*node)(nil), -1
	var walk func(p string, x *node)
	walk = func(p string, x *node) {
		switch x.kind {
		case '{':
			for i, k := range x.keys {
				walk(joinPath(p, k), x.elems[i])
			}
		case '[':
			if x != skip && len(x.elems) > 1 {
				l := 0
				for _, e := range x.elems[len(x.elems)/2:] {
					l += e.len() + 1
				}
				if l > bestLen {
					bestPath, best, bestLen = p, x, l
				}
			}
			for i, e := range x.elems {
				walk(fmt.Sprintf("%s[%d]", p, i), e)
			}
		}
	}
	walk(path, n)
	return bestPath, best
}

func joinPath(p, k string) string {
	if p == "" {
		return k
	}
	return p + "." + k
}

// clip shortens every string longer than chars characters (a string clipped before
// is cut again from its whole text, so a longer clip restores more of it) and returns
// how many strings under n are clipped.
func (n *node) clip(chars int) int {
	count := 0
	var walk func(x *node)
	walk = func(x *node) {
		if x.isStr {
			if x.orig == 0 {
				if c := utf8.RuneCountInString(x.str); c > chars {
					x.orig, x.full = c, x.str
				}
			}
			switch {
			case x.orig > chars:
				x.str = string([]rune(x.full)[:chars]) + fmt.Sprintf("… [clipped from %d characters]", x.orig)
				count++
			case x.orig > 0:
				x.str = x.full
			}
			return
		}
		for _, e := range x.elems {
			walk(e)
		}
	}
	walk(n)
	return count
}

// longestString returns the length in characters of the longest string under n.
func (n *node) longestString() int {
	if n.isStr {
		if n.orig > 0 {
			return n.orig
		}
		return utf8.RuneCountInString(n.str)
	}
	longest := 0
	for _, e := range n.elems {
		longest = max(longest, e.longestString())
	}
	return longest
}
