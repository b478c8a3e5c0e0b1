package summarize

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxTokenBytes bounds how much of one query is tokenised: a pasted 100 kB log says no
// more about its cluster than its first few kilobytes, and must not dominate the time.
const maxTokenBytes = 4096

// tokenizer splits text into terms of any script: lower-cased words for scripts that
// separate words with spaces, overlapping character bigrams for scripts that do not
// (Chinese, Japanese, Thai, Lao, Khmer, Myanmar). Stop words of the major languages and
// chat boilerplate ("please", "hi") are dropped. A zero tokenizer is ready to use; it is
// not safe for concurrent use (it reuses its buffers).
type tokenizer struct {
	word  []byte
	run   []rune
	terms []string
}

// breakTerm marks a phrase boundary in the term stream: a stop word, punctuation or a
// change of script, across which no key phrase is formed.
const breakTerm = ""

// isBigramScript reports whether r belongs to a script written without spaces.
func isBigramScript(r rune) bool {
	if r < 0x0E00 {
		return false
	}
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Thai, unicode.Lao, unicode.Khmer, unicode.Myanmar)
}

// Terms returns the terms of text, with breakTerm between runs that do not form
// phrases. The slice is reused by the next call.
func (t *tokenizer) Terms(text string) []string {
	if len(text) > maxTokenBytes {
		cut := maxTokenBytes
		for cut > 0 && !utf8.RuneStart(text[cut]) {
			cut--
		}
		text = text[:cut]
	}
	t.terms = t.terms[:0]
	t.word = t.word[:0]
	t.run = t.run[:0]
	for _, r := range text {
		switch {
		case isBigramScript(r):
			t.flushWord()
			t.run = append(t.run, r)
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r) || r == '_':
			t.flushRun()
			t.word = utf8.AppendRune(t.word, unicode.ToLower(r))
		case (r == '+' || r == '#') && len(t.word) > 0 && len(t.word) < 3:
			// c++, c#, f#: keep the sign on short words.
			t.word = append(t.word, byte(r))
		case r == '\'' || r == '’':
			// "user's" → "user", "don't" → "don" (a stop word).
			t.flushWord()
			t.brk()
		default:
			t.flushWord()
			t.flushRun()
			if !unicode.IsSpace(r) {
				t.brk()
			}
		}
	}
	t.flushWord()
	t.flushRun()
	return t.terms
}

func (t *tokenizer) brk() {
	if n := len(t.terms); n > 0 && t.terms[n-1] != breakTerm {
		t.terms = append(t.terms, breakTerm)
	}
}

func (t *tokenizer) flushWord() {
	if len(t.word) == 0 {
		return
	}
	w := t.word
	t.word = t.word[:0]
	if len(w) > 40 || utf8.RuneCount(w) < 2 || allDigits(w) {
		t.brk()
		return
	}
	if _, stop := stopWords[string(w)]; stop {
		t.brk()
		return
	}
	t.terms = append(t.terms, string(w))
}

func (t *tokenizer) flushRun() {
	if len(t.run) == 0 {
		return
	}
	t.brk()
	r := t.run
	t.run = t.run[:0]
	if len(r) == 1 {
		if !stopRunes[r[0]] && !isKana(r[0]) {
			t.terms = append(t.terms, string(r))
		}
		t.brk()
		return
	}
	for i := 0; i+1 < len(r); i++ {
		a, b := r[i], r[i+1]
		if (stopRunes[a] || isHiragana(a)) && (stopRunes[b] || isHiragana(b)) {
			continue
		}
		if stopRunes[a] || stopRunes[b] {
			continue
		}
		bg := string([]rune{a, b})
		if _, stop := stopWords[bg]; stop {
			continue
		}
		t.terms = append(t.terms, bg)
	}
	t.brk()
}

func isHiragana(r rune) bool { return r >= 0x3040 && r <= 0x309F }
func isKana(r rune) bool     { return r >= 0x3040 && r <= 0x30FF }

func allDigits(w []byte) bool {
	for _, c := range w {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// isBigramTerm reports whether a term came from a bigram script (such terms do not
// combine into phrases and read without spaces).
func isBigramTerm(term string) bool {
	r, _ := utf8.DecodeRuneInString(term)
	return isBigramScript(r)
}

var stopWords = map[string]struct{}{}

// stopRunes are single characters of Chinese and Japanese too common to name a topic.
var stopRunes = map[rune]bool{}

func init() {
	for _, list := range []string{
		// English, with chat boilerplate.
		`a about above after again against all also am an and any are aren as at be because been before being below
		between both but by can cannot could couldn did didn do does doesn doing don down during each etc few for from
		further had hadn has hasn have haven having he her here hers herself him himself his how however i if in into
		is isn it its itself just let ll me might more most must mustn my myself no nor not now of off on once only or
		other ought our ours ourselves out over own re same shall shan she should shouldn so some such than that the
		their theirs them themselves then there these they this those through to too under until up upon us very ve
		was wasn we were weren what when where which while who whom whose why will with won would wouldn you your
		yours yourself yourselves hi hello hey please thanks thank thx ok okay yes yeah sure want need like get got
		give tell know think help could would may one two also use using used make made way thing things something
		anything everything really much many lot well still even just actually maybe im ive id youre dont doesnt
		cant wont isnt arent wasnt didnt whats thats theres lets`,
		// Spanish.
		`de la que el en los del se las por un para con una su al lo como más pero sus le ya este sí porque esta entre
		cuando muy sin sobre también me hasta hay donde quien desde todo nos durante todos uno les ni contra otros
		ese eso ante ellos esto mí antes algunos qué unos yo otro otras otra él tanto esa estos mucho quienes nada
		muchos cual poco ella estar estas algunas algo nosotros mi mis tú te ti tu tus ellas es son fue ser hola
		puedes puede por favor cómo como quiero necesito`,
		// French.
		`le la les de des du un une et en au aux ce ces cet cette dans par pour sur avec sans sous que qui quoi dont où
		mais ou donc car ne pas plus je tu il elle nous vous ils elles on me te se mon ma mes ton ta tes son sa ses
		notre nos votre vos leur leurs est sont être été avoir ai as avons avez ont était fait faire peux peut
		bonjour merci comment quel quelle quels quelles très aussi comme si`,
		// German.
		`der die das den dem des ein eine einer eines einem einen und oder aber nicht kein keine ist sind war waren sein
		bin bist hat haben hatte ich du er sie es wir ihr mich mir dich dir sich uns euch mein dein sein ihr unser
		euer zu zum zur im in an auf aus bei mit nach von vor für über unter durch um als wie wenn dass so auch noch
		nur schon sehr kann können bitte hallo danke was wer wo warum welche welcher welches`,
		// Portuguese and Italian.
		`não uma os um em para com por mais como mas foi ao ele das tem seu sua ou ser quando muito há nos já está eu
		também só pelo pela até isso ela entre era depois sem mesmo aos ter seus quem nas esse eles estão você
		olá obrigado il di che è e la per un una non sono mi si ho lo ha le ma come ci questo qui anche gli io tu
		lei noi voi loro ciao grazie della delle dei degli nel nella sul sulla`,
		// Russian.
		`и в во не что он на я с со как а то все она так его но да ты к у же вы за бы по только ее мне было вот от меня
		еще нет о из ему теперь когда даже ну вдруг ли если уже или ни быть был него до вас нибудь опять уж вам ведь
		там потом себя ничего ей может они тут где есть надо ней для мы тебя их чем была сам чтобы без будто чего
		раз тоже себе под будет ж тогда кто этот того потому этого какой совсем ним здесь этом один почти мой тем
		чтоб нее сейчас были куда зачем всех никогда можно при наконец два об другой хоть после над больше тот
		через эти нас про всего них какая много разве три эту моя впрочем хорошо свою этой перед иногда лучше
		чуть том нельзя такой им более всегда конечно всю между привет пожалуйста спасибо как`,
		// Korean (spaced), Arabic, Hindi, Turkish, Indonesian, Vietnamese — the commonest particles.
		`그 이 저 것 수 등 및 좀 제 저는 나는 있는 하는 해주세요 주세요 안녕하세요
		في من على إلى عن مع هذا هذه التي الذي أن لا ما هل كيف
		का की के है और में से को एक यह पर हैं
		bir ve bu da de ile için ne mi nasıl
		yang dan di ke dari ini itu untuk dengan tidak
		và của là có các cho không được những một trong này`,
		// Chinese and Japanese stop bigrams.
		`什么 怎么 如何 可以 一个 我们 你们 他们 这个 那个 请问 帮我 给我 是否 为什么 这些 那些 以及 还是 或者 因为 所以
		ください します です ます について`,
	} {
		for _, w := range strings.Fields(list) {
			stopWords[w] = struct{}{}
		}
	}
	for _, r := range "的了是在我你他她它们和有这那个吗呢吧啊也就都而及与或把被让给对从到为以于之不没很请帮要会能想" {
		stopRunes[r] = true
	}
}
