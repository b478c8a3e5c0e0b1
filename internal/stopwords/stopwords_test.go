package stopwords

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestIs(t *testing.T) {
	for _, tc := range []struct {
		lang, word string
		stop       bool
	}{
		{"en", "the", true},
		{"en", "which", true},
		{"en", "python", false},
		{"en", "computer", false}, // a topic word the source list holds, dropped by the generator
		{"ru", "которые", true},
		{"ru", "это", true},
		{"ru", "резюме", false},
		{"pt", "quais", true},
		{"es", "para", true},
		{"de", "und", true},
		{"fr", "avec", true},
		{"zh", "什么", true},
		{"zh", "函数", false},
		{"ja", "について", true},
		{"ko", "그리고", true},
		{"ar", "في", true},
		{"tr", "için", true},
	} {
		t.Run(tc.lang+"/"+tc.word, func(t *testing.T) {
			assert.Equal(t, tc.stop, In(tc.lang, tc.word))
			if tc.stop {
				assert.True(t, Is(tc.word))
			}
		})
	}
	assert.False(t, In("xx", "the"), "an unknown language has no stop words")
	assert.Len(t, Languages(), 30)
}

func TestGuess(t *testing.T) {
	for _, tc := range []struct {
		words []string
		want  string
	}{
		{[]string{"the", "of", "and"}, "en"},
		{[]string{"это", "что", "который"}, "ru"},
		{[]string{"der", "und", "nicht"}, "de"},
		{[]string{"python"}, ""},
		{nil, ""},
	} {
		assert.Equal(t, tc.want, Guess(tc.words), "%v", tc.words)
	}
}
