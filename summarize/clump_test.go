package summarize

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/internal/themes"
)

func TestClumpTitle(t *testing.T) {
	spanish := []string{
		"¿Cómo puedo ordenar un diccionario por sus valores en Python?",
		"Escribe un cuento corto sobre un niño que encuentra un mapa",
		"Redacta un correo formal para solicitar una reunión",
		"Dame la receta de una paella valenciana tradicional",
		"¿Qué lugares me recomiendas visitar en Perú en 10 días?",
		"Explícame como si tuviera cinco años qué es la gravedad",
	}
	cjk := []string{
		"写一个关于时间旅行者回到唐朝的短篇故事", "桜についての俳句をいくつか作ってください",
		"请把这段话翻译成英文：人工智能正在改变我们的生活方式", "二次方程式の解の公式を導出する方法を教えてください",
		"怎么做正宗的麻婆豆腐？", "京都で紅葉を見るのにおすすめの場所はどこですか？",
	}
	english := []string{
		"write a python script", "a poem about the sea", "recipe for pancakes",
		"plan a trip to rome", "explain gravity", "fix my resume",
	}
	for _, c := range []struct {
		name  string
		in    lmsys.ClusterInput
		title string
	}{
		{"one language, detected", lmsys.ClusterInput{Queries: spanish}, "Peticiones variadas en español"},
		{"language column", lmsys.ClusterInput{Queries: english, Languages: map[string]int{"Russian": 9, "English": 1}}, "Запросы на русском языке на разные темы"},
		{"two languages", lmsys.ClusterInput{Queries: cjk, Languages: map[string]int{"Chinese": 5, "Japanese": 4}}, "Mixed requests in Chinese and Japanese"},
		{"greetings in any language", lmsys.ClusterInput{Queries: []string{"hi", "hello", "hola", "привет", "你好", "test"}}, "Chit-chat and test messages"},
		{"English keeps its phrase", lmsys.ClusterInput{Queries: english}, ""},
		{"unknown column values are detected", lmsys.ClusterInput{Queries: spanish, Languages: map[string]int{"": 6}}, "Peticiones variadas en español"},
	} {
		t.Run(c.name, func(t *testing.T) {
			title, desc := clumpTitle(c.in, themes.Shares(c.in.Queries))
			assert.Equal(t, c.title, title)
			if title != "" {
				assert.Contains(t, desc, "share no topic")
			}
		})
	}
}
