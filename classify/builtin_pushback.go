package classify

import (
	"strings"
	"unicode"

	"github.com/lmsys-go/lmsys"
)

// Labels of the pushback facet, weakest first.
const (
	NoPushback = "none"
	Rephrases  = "rephrases"
	Corrects   = "corrects"
	Objects    = "objects"
)

var pushbackLabels = []string{NoPushback, Objects, Corrects, Rephrases}

// correctCue marks a user turn that says what was meant or asked: a correction or
// clarification.
var correctCue = newCueSet([]string{
	`^i |what i|i'm asking|my question|let me|to clarify|in other words|that's not|not what||\b(?:i meant|i mean (?:this|that|it)|i never (?:said|made|asked|told|meant)|i'm not saying|i am not saying|what i meant|i mean,|i said|i asked (?:for|you|about)|i was asking|i'm asking (?:for|about)|i am asking (?:for|about)|my question was|let me clarify|to clarify|let me rephrase|in other words|that's not what i (?:asked|meant|said|wanted)|not what i (?:asked|meant|wanted|said)|i didn't (?:ask|mean|say)|i did not (?:ask|mean|say)|i wanted|i want you to)\b`,
	`no|actually|sorry|i'm talking|instead of|rather than||^(?:no|nope|actually|sorry)[,.!]? (?:i|it|it's|it is|the|that's|that|its|he|she|they|we|my|you should|use|make|try)\b|\bactually,? (?:it|it's|the|that|i|there)\b|\bi'm talking about\b|\binstead of\b|\brather than\b`,
	`quis dizer|quero dizer|perguntei|pedi|não foi|quise decir|me refiero|pregunté|pedí|имел|спрашивал|просил|имелось|我的意思|我说的|我說的|我问的|我問的|我是说|我是說|ich meinte|ich wollte|gefragt|gemeint|voulais dire|parlais de|demandé|intendevo|volevo dire|ho chiesto|という意味|つもり|聞いたのは|제 말은|내 말은|물어본|أقصد|قصدت|سألت||eu quis dizer|quero dizer|eu perguntei|eu pedi|não foi isso que|quise decir|me refiero a|lo que (?:pregunté|pedí)|yo pregunté|я имел[а]? в виду|я спрашивал|я просил|имелось в виду|我的意思是|我说的是|我說的是|我问的是|我問的是|我是说|我是說|ich meinte|ich wollte|ich habe gefragt|gemeint war|je voulais dire|je parlais de|j'ai demandé|intendevo|volevo dire|ho chiesto|という意味|のつもり|聞いたのは|제 말은|내 말은|제가 물어본|أقصد|قصدت|سألت عن`,
})

// objectCue marks a user turn that objects: the reply is wrong, incomplete, a
// refusal the user resents, or useless.
var objectCue = newCueSet([]string{
	`^that|this is|you're|you are|it's|it is|your answer|the answer||\b(?:that's|that is|this is|you're|you are|it's|it is|thats|your answer is|the answer is) (?:wrong|incorrect|not (?:right|true|correct|accurate|helpful|working|an answer|funny)|false|a lie|nonsense|useless|stupid|ridiculous|bullshit|garbage|unhelpful|lame)\b`,
	`^you ||\byou (?:didn't|did not|haven't|have not|never|forgot|missed|ignored|keep|misunderstood|failed|still didn't|still haven't|aren't listening|are not listening|don't understand|do not understand|didn't answer|did not answer|are wrong|'re wrong|are useless|'re useless|are stupid|'re stupid|are not helping|'re not helping|are dumb|'re dumb|suck)\b`,
	`^stop |quit |just |why |come on||\b(?:stop|quit) (?:refusing|lecturing|moralizing|moralising|apologizing|apologising|saying|being|repeating|avoiding|dodging)\b|\bjust (?:answer|do it|tell me|give me|write|say)\b|\bwhy (?:not|won't you|can't you|do you keep|are you (?:refusing|avoiding|being))\b|\bcome on\b`,
	`that|question|i don't|i do not|liar|bullshit|wtf|wrong|incorrect|no|seriously|try again|not helpful||\bthat (?:doesn't|does not|didn't|did not) (?:work|make sense|answer|help)\b|\b(?:answer|read) (?:the|my) question\b|\bi (?:don't|do not) (?:believe you|agree)\b|\bliar\b|\bbullshit\b|\bwtf\b|^(?:wrong|incorrect)\b|\bseriously\?|\btry again\b|\bnot helpful\b|\bthat's not it\b`,
	`errado|incorreto|você não|não é isso|pare de|de novo|mal|incorrecto|equivocado|eso no|te equivocas|has|respondiste|entendiste|deja de|неправ|невер|не так|ты не|вы не|ошиба|хватит|不对|不對|错了|錯了|不是这样|不是這樣|你没|你沒|你又|别再|別再||(?:isso |está |esta )(?:errado|incorreto)|você não (?:respondeu|entendeu|fez)|não é isso|pare de|de novo não|(?:eso |está )(?:mal|incorrecto|equivocado)|eso no es|te equivocas|no (?:me )?(?:has|respondiste|entendiste)|deja de|неправильно|неверно|это не так|ты не (?:понял|ответил|сделал)|вы не (?:поняли|ответили)|ошибаешься|ошибаетесь|хватит|不对|不對|错了|錯了|不是这样|不是這樣|你没有|你沒有|你没|你又|别再|別再`,
	`falsch|nicht richtig|stimmt nicht|du hast|sie haben|hör auf|c'est faux|ce n'est pas|tu n'as|vous n'avez|arrête|sbagliato|non è|non hai|smettila|違います|間違って|そうではなく|じゃなくて|答えて|틀렸|그게 아니|아니요|아니,|대답해|خطأ|غير صحيح|لم تجب|لم تفهم|توقف||das ist (?:falsch|nicht richtig)|stimmt nicht|du hast (?:nicht|mich nicht)|sie haben nicht|hör auf|c'est faux|ce n'est pas (?:ça|correct|vrai)|tu n'as pas|vous n'avez pas|arrête de|è sbagliato|non è (?:corretto|vero|giusto)|non hai|smettila di|違います|間違って|そうではなく|じゃなくて|答えて(?:ください)?$|틀렸|그게 아니|아니요,|아니,|대답해|خطأ|غير صحيح|لم تجب|لم تفهم|توقف عن`,
	`^i already|i just|i told|as i said|or not|so you can't|you can't even|don't ignore|stop ignoring|i don't care|don't worry|i don't see|i can't see|what's your|what is your|what's wrong|what is wrong|what are you|what the|try to answer|just try|answer it|answer me|that's it||\bi (?:already|just) (?:said|told you|asked|explained|gave)\b|\bi told you\b|\bas i said\b|\bor not\s*\?|\bso you can't\b|\byou can't even\b|\b(?:don't|stop) ignor(?:e|ing) me\b|\bi don't care (?:about|if)\b|\bdon't worry about (?:it|that|the law|legality)\b|\bi (?:don't|do not|can't) see (?:anything|it|any)\b|\bwhat(?:'s| is) (?:your problem|wrong with you)\b|\bwhat (?:the (?:fuck|hell) )?are you talking about\b|\btry to answer\b|\bjust try\b|\banswer (?:it|me)\b|\bthat's it\s*\?`,
	`doesn't|don't|does not|do not||\b(?:doesn't|don't|does not|do not) make (?:any )?sense\b`,
	`you||\byou(?:'re| are|r)\b[^.!?\n]*\b(?:stupid|dumb|useless|idiot|moron|pathetic|fucked up|filthy|garbage|trash|worthless)\b`,
})

// weakObjectCue is a leading bare "no": an objection unless it answers a question.
var weakObjectCue = newCueSet([]string{`no||^(?:nope|no)\b`})

// stopWords are left out of the token overlap that finds a rephrased request.
var stopWords = map[string]bool{
	"the": true, "a": true, "an": true, "to": true, "of": true, "and": true, "or": true, "in": true, "on": true,
	"for": true, "is": true, "are": true, "it": true, "be": true, "me": true, "my": true, "you": true, "your": true,
	"i": true, "can": true, "do": true, "how": true, "what": true, "please": true, "that": true, "this": true,
	"with": true, "some": true, "about": true, "would": true, "could": true, "will": true, "just": true, "so": true,
	"de": true, "la": true, "le": true, "el": true, "que": true, "и": true, "в": true, "не": true, "на": true,
	"der": true, "die": true, "das": true, "und": true, "il": true, "di": true, "et": true, "les": true, "des": true,
}

// maxTokens bounds the words one turn contributes to the overlap test.
const maxTokens = 400

// tokens returns the set of content words of s: lowercase letter or digit runs of
// two or more characters, stop words left out; runs of Han, kana or Hangul give
// their character bigrams, since those scripts do not space words.
func tokens(s string) map[string]bool {
	s = head(s, 4<<10)
	out := map[string]bool{}
	var word []rune
	flush := func() {
		if len(word) == 0 {
			return
		}
		if isCJK(word[0]) {
			for i := 0; i+1 < len(word); i++ {
				out[string(word[i:i+2])] = true
			}
			if len(word) == 1 {
				out[string(word)] = true
			}
		} else if w := string(word); len(word) >= 2 && !stopWords[w] {
			if len(word) > 3 && word[len(word)-1] == 's' {
				w = string(word[:len(word)-1]) // insults ~ insult
			}
			out[w] = true
		}
		word = word[:0]
	}
	for _, r := range s {
		if len(out) >= maxTokens {
			break
		}
		r = unicode.ToLower(r)
		letter := unicode.IsLetter(r) || unicode.IsDigit(r)
		if !letter || (len(word) > 0 && isCJK(word[0]) != isCJK(r)) {
			flush()
		}
		if letter {
			word = append(word, r)
		}
	}
	flush()
	return out
}

func isCJK(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul)
}

// rephrased reports whether the turn a restates the earlier turn b: they share at
// least two content words, and at least 40% of the words of both together
// (Jaccard ≥ 0.4), so a follow-up on the same topic with new words is not one.
func rephrased(a, b map[string]bool) bool {
	small, big := a, b
	if len(b) < len(a) {
		small, big = b, a
	}
	if len(small) < 2 {
		return false
	}
	shared := 0
	for w := range small {
		if big[w] {
			shared++
		}
	}
	union := len(a) + len(b) - shared
	return shared >= 2 && shared*5 >= union*2
}

// maxEarlier bounds how many earlier user turns a turn is compared with.
const maxEarlier = 8

// Pushback returns how the user pushed back after the first assistant reply: one
// label per later user turn, the strongest across turns winning (objects >
// corrects > rephrases > none). A turn objects when it says the reply is wrong,
// useless or a refusal it resents ("that's wrong", "you didn't", "stop
// refusing"); else it corrects when it says what was meant or asked ("I meant
// …", "no, it's …"); else a leading bare "no" objects unless it answers a
// question the assistant asked; else it rephrases when it shares at least two
// content words, 40% of both turns' words together, with an earlier user turn.
// Only user turns that follow an assistant turn count; each turn's first 8 KB is
// read.
func Pushback(c lmsys.Conversation) string {
	best := 0 // index into order
	order := []string{NoPushback, Rephrases, Corrects, Objects}
	var earlier []map[string]bool
	lastAssistant := ""
	seenReply := false
	for _, m := range c.Messages {
		switch m.Role {
		case lmsys.RoleAssistant:
			seenReply = true
			lastAssistant = m.Content
			continue
		case lmsys.RoleUser:
		default:
			continue
		}
		toks := tokens(m.Content)
		if seenReply {
			label := pushbackTurn(m.Content, lastAssistant, toks, earlier)
			for i, l := range order {
				if l == label && i > best {
					best = i
				}
			}
		}
		earlier = append(earlier, toks)
		if len(earlier) > maxEarlier {
			earlier = earlier[1:]
		}
		if best == len(order)-1 {
			break
		}
	}
	return order[best]
}

// pushbackTurn labels one user turn that follows the assistant reply prev.
func pushbackTurn(turn, prev string, toks map[string]bool, earlier []map[string]bool) string {
	t := strings.ToLower(foldQuotes.Replace(strings.TrimSpace(head(turn, maxScan))))
	asked := strings.HasSuffix(strings.TrimSpace(head(prev, maxScan)), "?")
	if objectCue.MatchString(t) {
		return Objects
	}
	if cueAfterAnswer(correctCue, t, asked) {
		return Corrects
	}
	if cueAfterAnswer(weakObjectCue, t, asked) {
		return Objects
	}
	for _, e := range earlier {
		if rephrased(toks, e) {
			return Rephrases
		}
	}
	return NoPushback
}

// cueAfterAnswer reports whether cues match turn t, leaving out a leading bare
// "no" when the assistant had asked a question: that "no" answers it.
func cueAfterAnswer(cues *cueSet, t string, asked bool) bool {
	for _, m := range cues.FindAllStringIndex(t, 4) {
		if asked && m[0] == 0 && bareNo(t) {
			continue
		}
		return true
	}
	return false
}

// bareNo reports whether t opens with the word "no" or "nope".
func bareNo(t string) bool {
	for _, w := range []string{"nope", "no"} {
		if rest, ok := strings.CutPrefix(t, w); ok {
			return rest == "" || !unicode.IsLetter(rune(rest[0]))
		}
	}
	return false
}

var pushbackBuiltin = &builtin{
	name:        "pushback",
	version:     "1",
	description: "Whether the user objected to, corrected or rephrased after the first reply.",
	rules: `pushback reads every user turn that follows an assistant turn (first 8 KB each) and labels it: objects
when it says the reply is wrong, incomplete, useless or a refusal it resents ("that's wrong", "you didn't", "I
already said that", "stop refusing", "just answer", "can you do it or not?", "don't ignore me", insults aimed at the
assistant; and the same in Portuguese, Spanish, Russian, Chinese, German, French, Italian, Japanese, Korean,
Arabic); else corrects when it says what was meant or asked ("I meant", "that's not what I asked", "I'm not saying",
"no, it's …", "actually, …"); else objects when it opens with a bare "no" that does not answer a question the
assistant asked; else rephrases when it shares at least 2 content words (stop words out, plural s dropped; CJK as
character bigrams) with one of the 8 earlier user turns, at least 40% of the two turns' words together (Jaccard);
else none. The conversation's label is the strongest turn label: objects > corrects > rephrases > none.`,
	facets: []Facet{{Name: "pushback", Labels: pushbackLabels, Description: "How the user pushed back after the first reply."}},
	fn: func(c lmsys.Conversation) []Answer {
		return []Answer{{Facet: "pushback", Value: Pushback(c)}}
	},
}
