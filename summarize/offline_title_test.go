package summarize

import (
	"context"
	"strings"
	"testing"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/embed/lexical"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOfflineTitleShapes checks, with and without a re-ranking embedder, that a
// cluster sharing only single words is named by a longer phrase of its queries rather
// than two bare words joined by "and", and that the two parts of a joined title are
// of one language.
func TestOfflineTitleShapes(t *testing.T) {
	lex, err := lexical.New(lexical.Options{})
	require.NoError(t, err)
	in := []lmsys.ClusterInput{
		{ClusterID: 0, Queries: []string{"set an alarm for seven", "alarm at six please", "cancel the alarm", "wake me up, alarm at nine"}},
		{ClusterID: 1, Queries: []string{"what is the weather in paris", "weather tomorrow in berlin", "is it raining in london", "weather forecast for rome"}},
		{ClusterID: 2, Queries: []string{"écris un poème sur la mer", "un poème sur l'amour", "write a poem about the sea", "a short poem about love"},
			Languages: map[string]int{"French": 2, "English": 2}},
	}
	for _, tc := range []struct {
		name string
		emb  lmsys.Embedder
	}{{"coverage", nil}, {"embedder", lex}} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := (&Offline{Embedder: tc.emb}).Summarize(context.Background(), in)
			require.NoError(t, err)
			for _, s := range got {
				require.NotEmpty(t, s.Title)
				parts := strings.Split(s.Title, " and ")
				if len(parts) == 2 {
					assert.False(t, len(strings.Fields(parts[0])) == 1 && len(strings.Fields(parts[1])) == 1, "bare words: %q", s.Title)
				}
				assert.False(t, strings.Contains(s.Title, "poème") && strings.Contains(strings.ToLower(s.Title), "poem "), "two languages: %q", s.Title)
			}
			assert.Contains(t, strings.ToLower(got[0].Title), "alarm")
			assert.Contains(t, strings.ToLower(got[1].Title), "weather")
		})
	}
}
