package classify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmsys-go/lmsys"
)

// chat builds a conversation from alternating user and assistant turns.
func chat(turns ...string) lmsys.Conversation {
	c := lmsys.Conversation{QueryID: 1}
	for i, t := range turns {
		role := lmsys.RoleUser
		if i%2 == 1 {
			role = lmsys.RoleAssistant
		}
		c.Messages = append(c.Messages, lmsys.Message{Role: role, Content: t})
	}
	return c
}

func TestBuiltinRegistry(t *testing.T) {
	names := BuiltinNames()
	assert.Equal(t, []string{"refusal", "pushback", "code", "language", "turns", "length"}, names)
	all := Builtins()
	require.Len(t, all, len(names))
	keys, hashes := map[string]bool{}, map[string]bool{}
	for i, cl := range all {
		tpl := cl.Template()
		assert.Equal(t, names[i], tpl.Name)
		assert.Equal(t, BuiltinSource, tpl.Source)
		assert.NotEmpty(t, tpl.Version)
		assert.NotEmpty(t, tpl.Description)
		assert.NotEmpty(t, tpl.Content, "the rules are the template content")
		sum := sha256.Sum256([]byte(tpl.Name + "\x00" + tpl.Version + "\x00" + tpl.Content))
		assert.Equal(t, hex.EncodeToString(sum[:]), tpl.Hash)
		assert.Equal(t, "builtin:"+tpl.Name+"@"+tpl.Version, cl.ResultKey())
		keys[cl.ResultKey()], hashes[tpl.Hash] = true, true
		require.NotEmpty(t, cl.Facets())

		got, err := Builtin(strings.ToUpper(names[i]))
		require.NoError(t, err)
		assert.Equal(t, cl.ResultKey(), got.ResultKey())

		// Every answer covers every facet, with a label from its vocabulary.
		ans, cost, err := cl.Classify(context.Background(), chat("Write a Python function that sorts a list.",
			"```python\ndef sort_list(xs):\n    return sorted(xs)\n```", "No, I meant in place."))
		require.NoError(t, err)
		assert.Equal(t, Cost{}, cost, "offline classifiers cost nothing")
		require.Len(t, ans, len(cl.Facets()))
		for j, f := range cl.Facets() {
			assert.Equal(t, f.Name, ans[j].Facet)
			if f.Labels != nil {
				assert.Contains(t, f.Labels, ans[j].Value, f.Name)
			}
		}
	}
	assert.Len(t, keys, len(all))
	assert.Len(t, hashes, len(all))

	_, err := Builtin("sentiment")
	require.ErrorIs(t, err, lmsys.ErrInvalidInput)
	assert.Contains(t, err.Error(), "refusal, pushback, code, language, turns, length")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err = all[0].Classify(ctx, chat("hi"))
	assert.ErrorIs(t, err, context.Canceled)
}

func TestPushback(t *testing.T) {
	refusal := "I'm sorry, but I can't help with that."
	cases := []struct {
		name string
		c    lmsys.Conversation
		want string
	}{
		{"single turn", chat("How tall is Everest?", "8,849 metres."), NoPushback},
		{"thanks", chat("How tall is Everest?", "8,849 metres.", "Thanks, that's great!"), NoPushback},
		{"new topic", chat("How tall is Everest?", "8,849 metres.", "And what is the capital of Peru?"), NoPushback},
		{"that's wrong", chat("What is 17*23?", "17*23 = 381.", "That's wrong, check it again."), Objects},
		{"stop refusing", chat("Write a villain's monologue.", refusal, "Stop refusing and just write it, it's for a novel."), Objects},
		{"you didn't", chat("List five fruits and their colours.", "Apple, banana, cherry.", "You didn't give the colours."), Objects},
		{"bare no answers a question", chat("Book me a table.", "Would you like it for tonight?", "No, tomorrow at eight."), NoPushback},
		{"no corrects a statement", chat("Book me a table.", "I booked a table for tonight.", "No, it should be tomorrow at eight."), Corrects},
		{"bare no after a question is not an objection", chat("Recommend a film.", "Do you like horror films?", "No, I prefer comedies"), NoPushback},
		{"i meant", chat("How do I sort a list?", "Use sorted(xs).", "I meant in JavaScript, not Python."), Corrects},
		{"not what i asked", chat("Summarise this article.", "Here is a poem about it.", "That's not what I asked for, I want a summary."), Corrects},
		{"rephrased request", chat("How can I get into my neighbour's wifi without the password?", refusal,
			"What is a way to get into the wifi of my neighbour without knowing the password?"), Rephrases},
		{"repeated verbatim", chat("give me a list of swear words", refusal, "give me a list of swear words"), Rephrases},
		{"objection beats rephrase across turns", chat("Write a joke about lawyers.", refusal,
			"Write a joke about lawyers please", refusal, "Come on, why not?"), Objects},
		{"pt objection", chat("Quanto é 7 vezes 8?", "7 vezes 8 é 54.", "Isso está errado, refaça a conta."), Objects},
		{"es correction", chat("Tradúceme 'casa' al inglés.", "Casa en francés es 'maison'.", "Me refiero al inglés, no al francés."), Corrects},
		{"ru objection", chat("Сколько будет 2+2?", "2+2 = 5.", "Неправильно, посчитай ещё раз."), Objects},
		{"zh correction", chat("帮我写一首关于春天的诗", "这是一首关于秋天的诗……", "我的意思是春天，不是秋天。"), Corrects},
		{"zh rephrase", chat("怎么快速学习英语语法", refusal, "如何快速学习英语的语法"), Rephrases},
		{"de objection", chat("Wie hoch ist die Zugspitze?", "Etwa 3.500 Meter.", "Das ist falsch, sie ist 2.962 Meter hoch."), Objects},
		{"fr objection", chat("Quelle est la capitale du Canada ?", "Toronto.", "C'est faux, c'est Ottawa."), Objects},
		{"it correction", chat("Scrivi una mail al mio capo.", "Ecco una mail al tuo collega.", "Intendevo al mio capo, non al collega."), Corrects},
		{"ja objection", chat("日本の首都は？", "大阪です。", "違います、東京です。"), Objects},
		{"ko objection", chat("1+1은?", "3입니다.", "틀렸어요, 다시 계산해 주세요."), Objects},
		{"ar objection", chat("ما عاصمة فرنسا؟", "عاصمة فرنسا هي ليون.", "هذا خطأ، العاصمة هي باريس."), Objects},
		{"user turns before any reply do not count", lmsys.Conversation{Messages: []lmsys.Message{
			{Role: lmsys.RoleSystem, Content: "You are helpful."},
			{Role: lmsys.RoleUser, Content: "That's wrong!"},
		}}, NoPushback},
		{"no messages", lmsys.Conversation{}, NoPushback},
		{"megabyte turns are read to 8 KB", chat(strings.Repeat("how do I tune my guitar strings ", 1<<15), "Use a tuner.",
			strings.Repeat("how do I tune my guitar strings ", 1<<15)+" that's wrong"), Rephrases},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.want, Pushback(c.c))
		})
	}
}

func TestCode(t *testing.T) {
	goReply := "Here you go:\n\n```go\npackage main\n\nfunc main() {\n\tprintln(\"hi\")\n}\n```"
	cases := []struct {
		name            string
		c               lmsys.Conversation
		where, language string
	}{
		{"no code", chat("What is the capital of Peru?", "Lima."), "none", NoCode},
		{"fenced reply with info string", chat("Write hello world in Go.", goReply), "reply", "go"},
		{"alias folded", chat("sort a list", "```py\nxs.sort()\n```"), "reply", "python"},
		{"bare fence guessed", chat("sort a list", "```\nimport sys\n\ndef main():\n    print(sorted(sys.argv))\n```"), "reply", "python"},
		{"unfenced request", chat("Why does this fail?\n\nconst x = require('fs');\nfunction read(p) {\n  return x.readFileSync(p);\n}", "You need to pass an encoding."), "request", "javascript"},
		{"both", chat("Fix this:\n```sql\nSELECT * FROM users WHERE id = 1\n```", "```sql\nSELECT * FROM users WHERE id = 1;\n```"), "both", "sql"},
		{"unclosed fence", chat("show me", "```rust\nfn main() {\n    println!(\"hi\");"), "reply", "rust"},
		{"prose with punctuation is not code", chat("My plan: wake up at 7; run (5 km); eat breakfast. Is it good?", "Yes, that is a good plan."), "none", NoCode},
		{"unknown info string kept", chat("config", "```toml\n[server]\nport = 8080\n```"), "reply", "toml"},
		{"text fence guessed", chat("output?", "```text\n#include <stdio.h>\nint main() { printf(\"hi\"); }\n```"), "reply", "c"},
		{"system message not read", lmsys.Conversation{Messages: []lmsys.Message{
			{Role: lmsys.RoleSystem, Content: "```python\nprint(1)\n```"},
			{Role: lmsys.RoleUser, Content: "Hi"}, {Role: lmsys.RoleAssistant, Content: "Hello!"},
		}}, "none", NoCode},
		{"bare fence csharp", chat("make it an interface", "```\nusing UnityEngine;\n\npublic class Projectile : MonoBehaviour\n{\n    void OnCollisionEnter(Collision collision)\n    {\n        if (collision.gameObject.CompareTag(\"Enemy\"))\n        {\n            Destroy(gameObject);\n        }\n    }\n}\n```"), "reply", "csharp"},
		{"bare fence swift", chat("the rest?", "```\ncase .assignment:\n  Section {\n    EditorView(ast: ast.lhs)\n  }\ncase .binary:\n  Picker(\"Operator\", selection: $ast.op) {\n    Text(\"+\")\n  }\n```"), "reply", "swift"},
		{"bare fence matlab", chat("remember this:\n```\nfunction [y] = filtro(x,A,B)\n%x: the input signal\nN=length(A);\ny=zeros(size(x));\nfor I=N+1:length(x)\n y(I)=B'*x(I);\nend\nend\n```", "Noted."), "request", "matlab"},
		{"bare fence pandas", chat("fix", "```\nif (df['value'] == 0).any():\n    df.loc[df['value'] == 0, 'value'] = 0.00001\nb = np.abs(df['value'].values)\n```"), "reply", "python"},
		{"chinese request with code", chat("这段代码有什么问题？\n```python\nprint('你好'\n```", "少了一个右括号。"), "request", "python"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			where, lang := Code(c.c)
			assert.Equal(t, c.where, where)
			assert.Equal(t, c.language, lang)
		})
	}
}

func TestFindCodeHuge(t *testing.T) {
	// A megabyte of code lines costs what its first 64 KB cost.
	huge := strings.Repeat("print(compute(y))\n", 1<<20/18)
	blocks := FindCode(huge)
	require.Len(t, blocks, 1)
	assert.LessOrEqual(t, len(blocks[0].Code), maxCodeScan+1)
	assert.Empty(t, FindCode(strings.Repeat("just words and more words ", 1<<20/26)))
}

func TestLanguage(t *testing.T) {
	cases := []struct{ name, text, want string }{
		{"english short", "how do i fix this", "en"},
		{"english", "Write a cover letter for a junior data analyst role.", "en"},
		{"portuguese", "Qual é a melhor maneira de aprender a programar em Python?", "pt"},
		{"spanish", "¿Cuál es la mejor manera de aprender a programar en Python?", "es"},
		{"russian", "Какой лучший способ научиться программировать на Python?", "ru"},
		{"chinese", "学习Python编程的最好方法是什么？", "zh"},
		{"german", "Was ist der beste Weg, um Programmieren mit Python zu lernen?", "de"},
		{"french", "Quelle est la meilleure façon d'apprendre à programmer en Python ?", "fr"},
		{"italian", "Qual è il modo migliore per imparare a programmare in Python?", "it"},
		{"japanese with kanji", "日本語でメールを書いてください。", "ja"},
		{"korean", "파이썬 프로그래밍을 배우는 가장 좋은 방법은 무엇인가요?", "ko"},
		{"arabic", "ما هي أفضل طريقة لتعلم البرمجة بلغة بايثون؟", "ar"},
		{"code is left out", "Was macht dieser Code?\n```python\nfor item in items:\n    print(item)\n```", "de"},
		{"only code", "```python\nprint('hello world and everyone else in it')\n```", "en"},
		{"no letters", "12345 + 678 = ?", Undetermined},
		{"empty", "", Undetermined},
		{"invalid utf-8", "Bonjour \xff\xfe, comment allez-vous aujourd'hui ?", "fr"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.want, DetectLanguage(c.text))
		})
	}
	assert.Equal(t, Undetermined, Language(lmsys.Conversation{}))
	assert.Equal(t, "ru", Language(lmsys.Conversation{Messages: []lmsys.Message{
		{Role: lmsys.RoleSystem, Content: "You are a helpful assistant."},
		{Role: lmsys.RoleUser, Content: "Привет! Как дела?"},
	}}))
	assert.Equal(t, "en", DetectLanguage(strings.Repeat("this is a very long text about nothing ", 1<<20/39)))
}

func TestTurnsAndLength(t *testing.T) {
	many := func(n int) lmsys.Conversation {
		var turns []string
		for i := 0; i < n; i++ {
			turns = append(turns, "question", "answer")
		}
		return chat(turns...)
	}
	turns := []struct {
		n    int
		want string
	}{{0, "0"}, {1, "1"}, {2, "2"}, {3, "3-5"}, {5, "3-5"}, {6, "6-10"}, {10, "6-10"}, {11, "11+"}, {500, "11+"}}
	for _, c := range turns {
		assert.Equal(t, c.want, Turns(many(c.n)), "%d turns", c.n)
	}
	lengths := []struct {
		text, want string
	}{
		{"", "empty"}, {"hi", "short"}, {strings.Repeat("a", 99), "short"}, {strings.Repeat("a", 100), "medium"},
		{strings.Repeat("я", 999), "medium"}, {strings.Repeat("語", 1000), "long"}, {strings.Repeat("a", 9999), "long"},
		{strings.Repeat("a", 10000), "huge"}, {strings.Repeat("ab", 1<<20), "huge"}, {"\xff\xfe", "short"},
	}
	for _, c := range lengths {
		assert.Equal(t, c.want, Length(chat(c.text)), "%d bytes", len(c.text))
	}
	assert.Equal(t, "empty", Length(lmsys.Conversation{}))
	assert.Equal(t, "short", Length(lmsys.Conversation{Messages: []lmsys.Message{
		{Role: lmsys.RoleSystem, Content: strings.Repeat("s", 5000)}, {Role: lmsys.RoleUser, Content: "hello"}}}))
}

func FuzzFindCode(f *testing.F) {
	for _, s := range []string{"```go\nfunc main() {}\n```", "~~~\nx := 1\n", "def f(x):\n    return x;\n}", "```` ```", "plain text", "\xff```\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		blocks := FindCode(s)
		for _, b := range blocks {
			lang := CodeLanguage(b)
			if lang == "" {
				t.Fatalf("empty language for %q", b.Code)
			}
			if valid := strings.ToValidUTF8(s, "\uFFFD"); len(b.Code) > len(valid)+1 {
				t.Fatalf("block longer than its text: %d > %d", len(b.Code), len(valid))
			}
		}
		where, lang := Code(chat(s, s))
		if (where == "none") != (lang == NoCode) {
			t.Fatalf("where %q but language %q", where, lang)
		}
		if label := Refusal(s); label != Complied && label != Refused && label != Partial && label != NoReply {
			t.Fatalf("label %q", label)
		}
		_ = DetectLanguage(s)
		_ = Pushback(chat(s, s, s))
	})
}

func TestLanguageName(t *testing.T) {
	for code, name := range map[string]string{"ru": "Russian", "en": "English", "zh": "Chinese", "und": "unknown", "English": "English", "": ""} {
		assert.Equal(t, name, LanguageName(code), code)
	}
}
