package hierarchy

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/lmsys-go/lmsys/internal/segment"
)

// sharedFloor is the share of a parent's queries whose clusters must hold a phrase
// for the phrase to name the parent; below it the children cover unrelated themes and
// the name says so.
const sharedFloor = 0.5

// phraseSet maps each candidate phrase (words' Norm joined by spaces) of a node's text
// to its written form.
type phraseSet map[string]string

// nodePhrases collects the phrases of a node's title, keywords and sample queries:
// spans of one to four words that start and end on a content word (any language's
// stop words, Chinese and Japanese segmented), as the offline summarizer proposes.
func nodePhrases(n *node) phraseSet {
	out := phraseSet{}
	var ws []segment.Word
	add := func(text string) {
		ws = segment.Words(ws[:0], text)
		segment.Phrases(ws, nil, func(i, j int) {
			norms := make([]string, 0, j-i)
			surf := make([]string, 0, j-i)
			for _, w := range ws[i:j] {
				norms = append(norms, w.Norm)
				if w.Start && !segment.InnerCapital(w.Surface) {
					surf = append(surf, w.Norm)
				} else {
					surf = append(surf, w.Surface)
				}
			}
			k := strings.Join(norms, " ")
			if _, ok := out[k]; !ok {
				out[k] = segment.Join(surf)
			}
		})
	}
	add(n.title)
	for _, k := range n.keywords {
		add(k)
	}
	for _, q := range n.queries {
		add(q)
	}
	return out
}

// parentPhrase is a phrase with the share of its parent's queries whose clusters hold
// it, and its score against the sibling parents.
type parentPhrase struct {
	key, text    string
	share, score float64
	content      int
}

// nameOffline names each parent from the phrases its children share, weighted by the
// children's sizes and scored against the sibling parents (class-based TF-IDF over
// shares), longer phrases preferred among equals. A parent where no phrase is held by
// two children with sharedFloor of its queries between them covers unrelated themes and
// is named from its two largest children's own phrases ("Cover letter and Python
// script requests"). No two parents of a level get the same name.
func nameOffline(parents []*node, children []*node) {
	phr := make([]phraseSet, len(children))
	for i, c := range children {
		phr[i] = nodePhrases(c)
	}
	shares := make([]map[string]float64, len(parents))
	holders := make([]map[string]int, len(parents))
	text := map[string]string{}
	total := map[string]float64{}
	for pi, p := range parents {
		m := map[string]float64{}
		holders[pi] = map[string]int{}
		for _, ci := range p.children {
			w := float64(max(children[ci].size, 1)) / float64(max(p.size, 1))
			for k, t := range phr[ci] {
				m[k] += w
				holders[pi][k]++
				if _, ok := text[k]; !ok {
					text[k] = t
				}
			}
		}
		for k, s := range m {
			total[k] += s
		}
		shares[pi] = m
	}
	n := float64(len(parents))
	ranked := make([][]parentPhrase, len(parents))
	for pi := range parents {
		var ps []parentPhrase
		for k, s := range shares[pi] {
			_, content := segment.PhraseLen(k)
			sc := s * math.Log(1+n/total[k]) * (1 + 0.15*float64(content-1))
			ps = append(ps, parentPhrase{key: k, text: text[k], share: s, score: sc, content: content})
		}
		sort.Slice(ps, func(a, b int) bool {
			if ps[a].score != ps[b].score {
				return ps[a].score > ps[b].score
			}
			return ps[a].key < ps[b].key
		})
		ranked[pi] = ps
	}
	used := map[string]bool{}
	for pi, p := range parents {
		title, shared := "", parentPhrase{}
		for _, ph := range ranked[pi] {
			// Shared: by children with sharedFloor of the queries, and by two of them
			// when there are two.
			if ph.share < sharedFloor || len(p.children) > 1 && holders[pi][ph.key] < 2 {
				continue
			}
			t := segment.Capitalize(ph.text)
			if !used[strings.ToLower(t)] {
				title, shared = t, ph
				break
			}
		}
		if title == "" {
			title = unrelatedName(p, children, phr, used)
		}
		if title == "" {
			title = fmt.Sprintf("Group %d", pi+1)
		}
		used[strings.ToLower(title)] = true
		p.title = title
		var largest []string
		for _, c := range p.children[:min(3, len(p.children))] {
			if t := strings.TrimSpace(children[c].title); t != "" {
				largest = append(largest, t)
			}
		}
		d := fmt.Sprintf("%d clusters, %d queries.", len(p.children), p.size)
		if shared.key != "" {
			d += fmt.Sprintf(" Clusters holding %d%% of its queries share “%s”.", int(math.Round(100*math.Min(1, shared.share))), shared.text)
		} else if len(p.children) > 1 {
			d += " Its clusters share no common phrase."
		}
		if len(largest) > 0 {
			d += " Largest: " + strings.Join(largest, "; ") + "."
		}
		p.desc = d
	}
}

// unrelatedName names a parent whose children share no phrase from the titles of its
// two largest children: "A and b requests" (the suffix only in English, the "and" in
// the first title's language), or the one title when it is unused.
func unrelatedName(p *node, children []*node, phr []phraseSet, used map[string]bool) string {
	var heads []string
	for _, ci := range p.children {
		t := strings.TrimSpace(children[ci].title)
		if t == "" || strings.Contains(t, ", ") {
			// A keyword-list title names nothing; take the child's first phrase instead.
			t = firstPhrase(phr[ci])
		}
		if t == "" {
			continue
		}
		// A title that already joins two things ("Poem and short story") contributes
		// its first: the parent's name joins two heads, not four.
		if and := " " + segment.And("", t) + " "; strings.Contains(t, and) {
			t, _, _ = strings.Cut(t, and)
		}
		dup := false
		for _, h := range heads {
			if strings.EqualFold(h, t) {
				dup = true
			}
		}
		if !dup {
			heads = append(heads, t)
		}
		if len(heads) == 2 {
			break
		}
	}
	switch len(heads) {
	case 0:
		return ""
	case 1:
		if !used[strings.ToLower(heads[0])] {
			return heads[0]
		}
		return heads[0] + " and related requests"
	}
	and := segment.And("", heads[0])
	name := segment.Capitalize(heads[0]) + " " + and + " " + lowerFirst(heads[1])
	if and == "and" {
		name += " requests"
	}
	return name
}

// firstPhrase returns the longest-then-alphabetically-first phrase of two or more
// content words of a set, or its first word.
func firstPhrase(ps phraseSet) string {
	best, bn := "", -1
	for k, t := range ps {
		_, c := segment.PhraseLen(k)
		if c > bn || c == bn && t < best {
			best, bn = t, c
		}
	}
	return best
}

// lowerFirst lower-cases a title's first letter unless its first word is an acronym
// or brand ("SQL", "iPhone") or a noun written capitalised inside the text.
func lowerFirst(s string) string {
	first, _, _ := strings.Cut(s, " ")
	if segment.InnerCapital(first) || len(first) > 0 && strings.ToUpper(first) == first {
		return s
	}
	if s != "" && s[0] >= 'A' && s[0] <= 'Z' {
		return string(s[0]+'a'-'A') + s[1:]
	}
	return s
}
