package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmsys-go/lmsys/dataset/demo"
)

// TestGenerateLMSYSMatchesTargets generates 30,000 prompts from the demo set and
// checks the file itself (not the generator's own counts) against lmsysTargets.
func TestGenerateLMSYSMatchesTargets(t *testing.T) {
	const n = 30000
	path := filepath.Join(t.TempDir(), "lmsys.jsonl")
	st, err := generateLMSYS(path, n, demo.Rows(), 1)
	require.NoError(t, err)

	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	seenText, seenID := map[string]bool{}, map[string]bool{}
	langs := map[string]int{}
	var rows, repeats, long int
	var sum float64
	for sc.Scan() {
		var r struct {
			ID        string `json:"conversation_id"`
			Text      string `json:"text"`
			Model     string `json:"model"`
			Language  string `json:"language"`
			Timestamp string `json:"timestamp"`
		}
		require.NoError(t, json.Unmarshal(sc.Bytes(), &r))
		rows++
		require.True(t, utf8.ValidString(r.Text))
		require.NotEmpty(t, r.Text, "row %d", rows)
		require.NotEmpty(t, r.Model)
		require.Regexp(t, `^2023-0[4-8]-`, r.Timestamp)
		require.False(t, seenID[r.ID], "conversation ids are distinct")
		seenID[r.ID] = true
		if seenText[r.Text] {
			repeats++
		}
		seenText[r.Text] = true
		c := utf8.RuneCountInString(r.Text)
		sum += float64(c)
		if c >= 1000 {
			long++
		}
		langs[r.Language]++
	}
	require.NoError(t, sc.Err())
	require.Equal(t, n, rows)
	assert.Equal(t, st.Duplicates, repeats, "only the intended repeats repeat")

	share := func(k int) float64 { return float64(k) / n }
	assert.InDelta(t, lmsysTargets.duplicateShare, share(repeats), 0.015, "repeated first prompts")
	assert.InEpsilon(t, lmsysTargets.meanChars, sum/n, 0.15, "mean characters")
	assert.InEpsilon(t, lmsysTargets.medianChars, st.Median, 0.3, "median characters")
	assert.InDelta(t, lmsysTargets.longShare, share(long), 0.015, "long-tail share")
	assert.GreaterOrEqual(t, st.MaxChars, 10000, "the tail reaches pasted documents")
	for lang, want := range lmsysTargets.languages {
		assert.InDelta(t, want, share(langs[lang]), 0.01, lang)
	}

	// Deterministic for a seed; another seed gives another file.
	again := filepath.Join(t.TempDir(), "again.jsonl")
	_, err = generateLMSYS(again, 2000, demo.Rows(), 1)
	require.NoError(t, err)
	first := filepath.Join(t.TempDir(), "first.jsonl")
	_, err = generateLMSYS(first, 2000, demo.Rows(), 1)
	require.NoError(t, err)
	other := filepath.Join(t.TempDir(), "other.jsonl")
	_, err = generateLMSYS(other, 2000, demo.Rows(), 2)
	require.NoError(t, err)
	a, _ := os.ReadFile(again)
	b, _ := os.ReadFile(first)
	c, _ := os.ReadFile(other)
	assert.Equal(t, a, b)
	assert.NotEqual(t, a, c)

	_, err = generateLMSYS(filepath.Join(t.TempDir(), "x.jsonl"), 10, []demo.Row{{Text: "hola", Language: "Spanish"}}, 1)
	assert.ErrorContains(t, err, "no English texts")
}
