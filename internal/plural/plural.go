// Package plural words counts for display: "1 child", "3 children". The CLI, the web
// viewer and the offline summarizer's descriptions use it wherever a count is printed.
package plural

import "strconv"

// Count returns n followed by the noun that agrees with it: one when n is 1, many
// otherwise ("1 query", "0 queries", "2 queries").
func Count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
