package segment

import (
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSplit(t *testing.T) {
	require.NoError(t, Load())
	for _, tc := range []struct {
		name, run string
		japanese  bool
		want      []string
	}{
		{"chinese words", "如何学习机器学习和深度学习", false, []string{"如何", "学习", "机器", "学习", "和", "深度", "学习"}},
		{"chinese request", "帮我写一个函数来排序列表", false, []string{"帮", "我", "写", "一个", "函数", "来", "排序", "列表"}},
		{"japanese script changes", "日本語の文章を英語に翻訳してください", true, []string{"日本語", "", "文章", "", "英語", "", "翻訳", ""}},
		{"katakana with long vowel", "レシピを作成してください", true, []string{"レシピ", "", "作成", ""}},
		{"katakana word", "コンピューター", true, []string{"コンピューター"}},
		{"thai kept whole", "สวัสดี", false, []string{"สวัสดี"}},
		{"empty", "", false, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, Split(tc.run, tc.japanese))
		})
	}
}

func TestHasKana(t *testing.T) {
	assert.True(t, HasKana("日本語の文章"))
	assert.False(t, HasKana("中文文本"))
	assert.True(t, NoSpaces('中'))
	assert.True(t, NoSpaces('ー'))
	assert.False(t, NoSpaces('a'))
	assert.False(t, NoSpaces('한'), "Korean separates words by spaces")
}

// TestLoadCost reports the memory the dictionary takes (logged, not asserted: it
// depends on the Go version's map layout).
func TestLoadCost(t *testing.T) {
	require.NoError(t, Load())
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	t.Logf("heap after loading the Chinese dictionary: %d MB", m.HeapAlloc>>20)
}
