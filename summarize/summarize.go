// Package summarize names the clusters of a clustering run: an LLM summarizer (through
// the llm package: OpenAI, Anthropic, Groq, Ollama) that writes a title, a two-sentence
// description, a coherence score and a mixed flag, contrasting each cluster with its
// nearest neighbours; an offline summarizer (class-based TF-IDF) that needs no network;
// Prepare, which builds the summarizers' input from a Store; and Run, which records a
// summary run with its summaries, resumes it, or redoes one cluster.
//
// In the pipeline it is the stage after clustering: Prepare reads a stored run's
// clusters (sizes, centroids, sample and representative queries, nearest neighbours),
// an lmsys.Summarizer names them, and Run writes the summary run to the Store's
// SummaryStore, where hierarchy, search (cluster search over titles and descriptions),
// the viewer and reports read them.
package summarize

import (
	"strings"
)

// genericWords make a title useless: a title holding one is rejected.
var genericWords = []string{"various", "diverse", "general", "miscellaneous", "mixed", "assorted", "random topics", "multiple topics"}

// Document returns the text of a summary that is embedded and indexed for cluster
// search: its title and description, then its keywords.
func Document(title, description string, keywords []string) string {
	var b strings.Builder
	b.WriteString(title)
	if description != "" {
		b.WriteString("\n")
		b.WriteString(description)
	}
	if len(keywords) > 0 {
		b.WriteString("\n")
		b.WriteString(strings.Join(keywords, ", "))
	}
	return b.String()
}
