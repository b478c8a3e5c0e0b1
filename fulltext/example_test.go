package fulltext_test

import (
	"fmt"

	"github.com/lmsys-go/lmsys/fulltext"
)

// Example indexes a few queries and ranks the ones holding every word of a search.
func Example() {
	ix := fulltext.New()
	ix.Add([]fulltext.Doc{
		{ID: 1, Text: "How do I sort a Python list?"},
		{ID: 2, Text: "Write a poem about the sea"},
		{ID: 3, Text: "python list comprehension with a condition, in Python 3"},
		{ID: 4, Text: "Crème brûlée recipe"},
		{ID: 5, Text: "Translate this e-mail into German"},
		{ID: 6, Text: "What is the capital of Australia?"},
		{ID: 7, Text: "Summarize the article below"},
		{ID: 8, Text: "Explain recursion to a child"},
	})
	for _, h := range ix.Search("python list", 10, nil) {
		fmt.Printf("%d %.3f\n", h.ID, h.Score)
	}
	fmt.Println(len(ix.Search("creme brulee", 10, nil)), "match without the accents")
	// Output:
	// 3 1.910
	// 1 1.755
	// 1 match without the accents
}
