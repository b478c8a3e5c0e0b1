package classify

import (
	"unicode/utf8"

	"github.com/lmsys-go/lmsys"
)

// Labels of the turns facet: the number of user messages in a conversation.
var turnsLabels = []string{"0", "1", "2", "3-5", "6-10", "11+"}

// Labels of the length facet: the first user message's length in characters.
var lengthLabels = []string{"empty", "short", "medium", "long", "huge"}

// Turns returns the turns bucket of c: how many user messages it holds, as "0",
// "1", "2", "3-5", "6-10" or "11+". A conversation cut on loading (Truncated set)
// counts the turns it kept.
func Turns(c lmsys.Conversation) string {
	n := 0
	for _, m := range c.Messages {
		if m.Role == lmsys.RoleUser {
			n++
		}
	}
	switch {
	case n <= 2:
		return turnsLabels[n]
	case n <= 5:
		return "3-5"
	case n <= 10:
		return "6-10"
	default:
		return "11+"
	}
}

// Length returns the length bucket of c's first user message, counted in
// characters (runes; an invalid byte counts as one): "empty" (none, or no user
// message), "short" (under 100), "medium" (under 1,000), "long" (under 10,000) or
// "huge".
func Length(c lmsys.Conversation) string {
	i := c.FirstUser()
	if i < 0 {
		return "empty"
	}
	// Counting stops at 10,000: a megabyte message costs no more than a long one.
	s := c.Messages[i].Content
	n := 0
	for len(s) > 0 && n < 10000 {
		_, size := utf8.DecodeRuneInString(s)
		s = s[size:]
		n++
	}
	switch {
	case n == 0:
		return "empty"
	case n < 100:
		return "short"
	case n < 1000:
		return "medium"
	case n < 10000:
		return "long"
	default:
		return "huge"
	}
}

var turnsBuiltin = &builtin{
	name:        "turns",
	version:     "1",
	description: "How many user turns the conversation has.",
	rules: `turns counts the messages with role "user" and buckets the count:
0, 1, 2, 3-5, 6-10, 11+. System, assistant and tool messages do not count.`,
	facets: []Facet{{Name: "turns", Labels: turnsLabels, Description: "Number of user messages, bucketed."}},
	fn: func(c lmsys.Conversation) []Answer {
		return []Answer{{Facet: "turns", Value: Turns(c)}}
	},
}

var lengthBuiltin = &builtin{
	name:        "length",
	version:     "1",
	description: "How long the first user message is.",
	rules: `length counts the characters (Unicode code points) of the first user message:
empty = no user message or an empty one; short < 100; medium < 1,000; long < 10,000; huge otherwise.`,
	facets: []Facet{{Name: "length", Labels: lengthLabels, Description: "Length of the first user message in characters, bucketed."}},
	fn: func(c lmsys.Conversation) []Answer {
		return []Answer{{Facet: "length", Value: Length(c)}}
	},
}
