package hierarchy

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestNameOffline(t *testing.T) {
	for _, tc := range []struct {
		name     string
		children []*node
		groups   [][]int
		want     []string
		desc     []string
	}{
		{
			name: "shared phrase, weighted by size",
			children: []*node{
				{title: "Cover letter for a job", size: 40, queries: []string{"write a cover letter for a nurse job"}},
				{title: "Cover letter tips", size: 30, queries: []string{"how long should a cover letter be"}},
				{title: "Resume summary", size: 10, queries: []string{"improve my resume summary"}},
				{title: "Python script errors", size: 50, queries: []string{"fix my python script"}},
				{title: "Python script for files", size: 30, queries: []string{"python script to rename files"}},
			},
			groups: [][]int{{0, 1, 2}, {3, 4}},
			want:   []string{"Cover letter", "Python script"},
			desc:   []string{"share “cover letter”", "share “python script”"},
		},
		{
			name: "unrelated children say so",
			children: []*node{
				{title: "Short story", size: 40, queries: []string{"write a short story about a dragon"}},
				{title: "Python script", size: 30, queries: []string{"python script to parse json"}},
				{title: "Recipe ideas", size: 20, queries: []string{"dinner recipe ideas"}},
				{title: "Weather forecast", size: 20, queries: []string{"weather forecast for paris"}},
			},
			groups: [][]int{{0, 1}, {2, 3}},
			want:   []string{"Writing and coding requests", "Cooking and other requests"},
			desc: []string{
				"share no common phrase; by kind of request: writing 57%, coding 43%.",
				"share no common phrase. Largest",
			},
		},
		{
			name: "one kind of request over most of the queries",
			children: []*node{
				{title: "Apology email", size: 40, queries: []string{"write an apology email to a client"}},
				{title: "Thank-you notes", size: 10, queries: []string{"a thank-you message for my teacher"}},
			},
			groups: [][]int{{0, 1}},
			want:   []string{"Email requests"},
		},
		{
			name: "no kind and no shared phrase",
			children: []*node{
				{title: "Weather and rain", size: 40, queries: []string{"will it rain tomorrow"}},
				{title: "Celebrity news and gossip", size: 30, queries: []string{"latest celebrity gossip"}},
			},
			groups: [][]int{{0, 1}},
			want:   []string{"Mixed requests"},
		},
		{
			name: "siblings of the same mix fall back to their children's titles",
			children: []*node{
				{title: "Weather and rain", size: 40, queries: []string{"will it rain tomorrow"}},
				{title: "Celebrity gossip", size: 30, queries: []string{"latest celebrity gossip"}},
				{title: "Sports scores", size: 40, queries: []string{"who won the match"}},
				{title: "Horoscope and zodiac", size: 30, queries: []string{"my horoscope today"}},
			},
			groups: [][]int{{0, 1}, {2, 3}},
			want:   []string{"Mixed requests", "Sports scores and horoscope requests"},
		},
		{
			name: "mostly not English, in several languages",
			children: []*node{
				{title: "Peticiones variadas en español", size: 40, langs: map[string]float64{"es": 1}},
				{title: "Gemischte Anfragen auf Deutsch", size: 30, langs: map[string]float64{"de": 1}},
				{title: "Demandes variées en français", size: 20, langs: map[string]float64{"fr": 0.9, "en": 0.1}},
			},
			groups: [][]int{{0, 1, 2}},
			want:   []string{"Mixed requests in Spanish, German and French"},
		},
		{
			name: "russian",
			children: []*node{
				{title: "Сопроводительные письма", size: 30, queries: []string{"напиши сопроводительные письма для работы"}},
				{title: "Сопроводительные письма менеджеру", size: 20, queries: []string{"сопроводительные письма менеджеру"}},
				{title: "Погода в Москве", size: 20, queries: []string{"какая погода в москве"}},
			},
			groups: [][]int{{0, 1}, {2}},
			want:   []string{"Сопроводительные письма", "Погода в Москве"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var parents []*node
			for _, g := range tc.groups {
				p := &node{children: g}
				for _, c := range g {
					p.size += tc.children[c].size
				}
				parents = append(parents, p)
			}
			nameOffline(parents, tc.children)
			for i, p := range parents {
				assert.Equal(t, tc.want[i], p.title)
				if i < len(tc.desc) {
					assert.Contains(t, p.desc, tc.desc[i])
				}
			}
		})
	}
}

func TestNameOfflineDistinctSiblings(t *testing.T) {
	children := []*node{
		{title: "Python script", size: 30}, {title: "Python script errors", size: 20},
		{title: "Python script", size: 25}, {title: "Python script files", size: 20},
	}
	parents := []*node{{children: []int{0, 1}, size: 50}, {children: []int{2, 3}, size: 45}}
	nameOffline(parents, children)
	assert.NotEqual(t, strings.ToLower(parents[0].title), strings.ToLower(parents[1].title))
	assert.Equal(t, "Python script", parents[0].title)
}

func TestNameOfflineNotAfterAGeneratedChild(t *testing.T) {
	children := []*node{
		{title: "Business requests", generated: true, size: 40, queries: []string{"marketing plan for a bakery", "business plan for a cafe"}},
		{title: "Business requests", generated: true, size: 30, queries: []string{"a slogan for my brand", "customer email for my company"}},
		{title: "Writing requests", generated: true, size: 30, queries: []string{"a poem about rain", "a short story"}},
	}
	parents := []*node{{children: []int{0, 1, 2}, size: 100}}
	nameOffline(parents, children)
	assert.NotEqual(t, "Business requests", parents[0].title, "a parent is not named as its generated children")
	assert.NotEmpty(t, parents[0].title)
}
