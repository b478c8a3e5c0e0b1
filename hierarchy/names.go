package hierarchy

import (
	"fmt"
	"maps"
	"math"
	"sort"
	"strings"

	"github.com/lmsys-go/lmsys/internal/segment"
	"github.com/lmsys-go/lmsys/internal/themes"
)

// sharedFloor is the share of a parent's queries whose clusters must hold a phrase
// for the phrase to name the parent; below it the children cover unrelated themes and
// the name says so.
const sharedFloor = 0.5

// phraseSet maps each candidate phrase (words' Norm joined by spaces) of a node's text
// to its written form.
type phraseSet map[string]string

// nodePhrases collects the phrases a node holds: spans of one to four words that start
// and end on a content word (any language's stop words, Chinese and Japanese
// segmented), as the offline summarizer proposes, taken from its title and keywords,
// and from its sample queries when two of them hold the phrase (or the only one does).
// A word that turns up in one query of a cluster ("API" in one prompt about Python
// errors) says nothing of what the cluster is about.
func nodePhrases(n *node) phraseSet {
	out := phraseSet{}
	seen := map[string]int{}
	var ws []segment.Word
	add := func(text string, weight int) {
		ws = segment.Words(ws[:0], text)
		once := map[string]bool{}
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
			if once[k] {
				return
			}
			once[k] = true
			seen[k] += weight
			if _, ok := out[k]; !ok {
				out[k] = segment.Join(surf)
			}
		})
	}
	add(n.title, 2)
	for _, k := range n.keywords {
		add(k, 2)
	}
	for _, q := range n.queries {
		add(q, 1)
	}
	need := 2
	if len(n.queries) < 2 {
		need = 1
	}
	for k := range out {
		if seen[k] < need {
			delete(out, k)
		}
	}
	return out
}

// nodeThemes returns the share of a node's texts holding each kind of request of
// themes.All: the node's own when it has them, else those of its title and queries.
func nodeThemes(n *node) []float64 {
	if n.themes != nil {
		return n.themes
	}
	n.themes = themes.Shares(append([]string{n.title}, n.queries...))
	if n.themes == nil {
		n.themes = make([]float64, len(themes.All))
	}
	return n.themes
}

// generatedChild reports whether t is the name of one of p's children that was made
// of its kinds of request or languages: "Business requests" names no parent of it.
func generatedChild(p *node, children []*node, t string) bool {
	for _, c := range p.children {
		if children[c].generated && strings.EqualFold(children[c].title, t) {
			return true
		}
	}
	return false
}

// titleShare is the share of p's queries in children whose title or keywords hold
// the phrase key.
func titleShare(key string, p *node, children []*node) float64 {
	n := 0
	for _, c := range p.children {
		ch := children[c]
		if _, ok := nodePhrases(&node{title: ch.title, keywords: ch.keywords})[key]; ok {
			n += ch.size
		}
	}
	return float64(n) / float64(max(p.size, 1))
}

// parentThemes sets a parent's kinds of request to its children's, weighted by size.
// Their languages are summed the same way, when the children's are known.
func parentThemes(p *node, children []*node) {
	p.themes = make([]float64, len(themes.All))
	for _, c := range p.children {
		w := float64(max(children[c].size, 1)) / float64(max(p.size, 1))
		for t, v := range nodeThemes(children[c]) {
			p.themes[t] += w * v
		}
		for code, v := range children[c].langs {
			if p.langs == nil {
				p.langs = map[string]float64{}
			}
			p.langs[code] += w * v
		}
	}
}

const (
	// themeFloor is the share of a parent's queries the kinds naming it must hold
	// between them, and themeSecond the share each further kind needs to be named too.
	themeFloor  = 0.5
	themeSecond = 0.12
	// themeOne is the share one kind needs to name a parent alone.
	themeOne = 0.6
	// themeKinds is the most kinds a name lists.
	themeKinds = 3
)

// themeName names a parent whose children share no phrase by the kinds of request
// its queries fall into ("Writing and coding requests"): the fewest of its largest
// kinds that hold themeFloor of its queries between them, when that name is not taken.
// It returns the name, the kinds named and the share of the queries they hold, or ""
// when no such name is free.
func themeName(p *node, used map[string]bool) (string, []int, float64) {
	sh := nodeThemes(p)
	top := themes.Top(sh, themeSecond, themeKinds)
	cover := 0.0
	for i, k := range top {
		cover += sh[k]
		if cover < themeFloor || i == 0 && (cover < themeOne || len(top) > 1 && sh[top[1]] > sh[k]/2) {
			continue // one kind alone names a parent only where it dominates
		}
		if t := themes.Title(top[:i+1]...); !used[strings.ToLower(t)] {
			return t, top[:i+1], math.Min(1, cover)
		}
	}
	return "", nil, 0
}

// mixedName names a parent of unrelated children that neither its kinds of request
// nor its languages name: "Cooking and other requests", "Science, health and other
// requests" after the kinds that are there, or "Mixed requests". It returns "" when
// the name is a sibling's.
func mixedName(p *node, used map[string]bool) string {
	t := "Mixed requests"
	if ks := themes.Top(nodeThemes(p), themeSecond, 2); len(ks) > 0 {
		t = themes.List(append(themes.Names(ks...), "other")...) + " requests"
	}
	if used[strings.ToLower(t)] {
		return ""
	}
	return t
}

// languageFloor is the share of a parent's queries outside English for it to be
// named by its languages, and languageOne the share of one language for it to be
// named in that language alone.
const (
	languageFloor = 0.5
	languageOne   = 0.7
)

// languageName names a parent that is mostly not in English and whose children share
// neither a phrase nor a kind of request by its languages: "Peticiones variadas en
// español", "Mixed requests in Spanish, German and French". Such parents are what an
// English-first encoder makes of multilingual logs. It returns "" otherwise.
func languageName(p *node, used map[string]bool) string {
	if p.langs == nil || p.langs["en"] > 1-languageFloor {
		return ""
	}
	codes := themes.Ranked(p.langs, 0.1, 3)
	if len(codes) == 0 {
		return ""
	}
	if p.langs[codes[0]] >= languageOne {
		codes = codes[:1]
	}
	t := themes.LanguageTitle(codes...)
	if used[strings.ToLower(t)] {
		return ""
	}
	return t
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
// two children with sharedFloor of its queries between them covers unrelated themes,
// and the name says so: by its kinds of request ("Writing and coding requests"), by its
// languages when it is mostly not English, as "Cooking and other requests" or "Mixed
// requests", and last from its two largest children's own phrases. No two parents of a
// level get the same name.
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
		if p.themes == nil {
			parentThemes(p, children)
		}
		// A name made of kinds of request or languages differs from the parent's
		// siblings and from its own children; a shared phrase may be a child's title.
		taken := maps.Clone(used)
		for _, c := range p.children {
			taken[strings.ToLower(strings.TrimSpace(children[c].title))] = true
		}
		title, shared := "", parentPhrase{}
		for _, ph := range ranked[pi] {
			// Shared: by children with sharedFloor of the queries, and by two of them
			// when there are two.
			if ph.share < sharedFloor || len(p.children) > 1 && holders[pi][ph.key] < 2 {
				continue
			}
			t := segment.Capitalize(ph.text)
			if !used[strings.ToLower(t)] && !generatedChild(p, children, t) {
				title, shared = t, ph
				break
			}
		}
		var kinds []int
		if title == "" {
			title, kinds, _ = themeName(p, taken)
		} else if shared.content == 1 && len(p.children) > 1 {
			// One shared word ("Code" across Python errors, SQL, LinkedIn posts and job
			// applications) gives way to the kinds of request when they name more of
			// the parent than the children titled by the word hold.
			if t, ks, cover := themeName(p, taken); t != "" && cover > titleShare(shared.key, p, children) {
				title, kinds, shared = t, ks, parentPhrase{}
			}
		}
		if title == "" {
			title = languageName(p, taken)
		}
		if title == "" {
			title = mixedName(p, taken)
		}
		p.generated = title != "" && shared.key == ""
		if title == "" {
			title = unrelatedName(p, children, phr, taken)
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
			d += " Its clusters share no common phrase"
			if len(kinds) > 0 {
				var parts []string
				for _, k := range kinds {
					parts = append(parts, fmt.Sprintf("%s %d%%", strings.ToLower(themes.All[k].Name), int(math.Round(100*math.Min(1, nodeThemes(p)[k])))))
				}
				d += "; by kind of request: " + strings.Join(parts, ", ")
			}
			d += "."
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
