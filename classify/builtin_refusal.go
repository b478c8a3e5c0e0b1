package classify

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/lmsys-go/lmsys"
)

// Labels of the refusal facet.
const (
	Complied = "complied"
	Refused  = "refused"
	Partial  = "partial"
	// NoReply labels a conversation whose first user message has no assistant
	// reply after it, or only an empty one.
	NoReply = "no_reply"
)

var refusalLabels = []string{Complied, Refused, Partial, NoReply}

// refusalCue is one family of phrases with its weight. Patterns run over the
// reply lowercased, with typographic apostrophes and quotes folded to ASCII.
// English patterns use \b; the others do not, since Go's \b only knows ASCII
// letters.
type refusalCue struct {
	name   string
	weight float64
	re     *cueSet
}

// The cue families. decline is the plain "I will not / cannot do it"; ai is the
// "as an AI language model" preamble (a refusal only with other cues); discourage
// is a moral, legal or safety objection, or a redirect to a professional; apology
// is a bare apology (not "sorry to hear").
var refusalCues = []refusalCue{
	{"decline", 1, newCueSet([]string{
		// English.
		`^i ||\bi (?:really |just |simply |absolutely )?(?:can't|cannot|can not|won't|will not|am not able to|'m not able to|am unable to|'m unable to|am not going to|'m not going to|shouldn't|should not|couldn't|could not|do not|don't) (?:in good conscience |really |actually |quite |just )?(?:help|assist|provide|answer|comply|fulfill|fulfil|support|write|create|generate|share|give|offer|produce|engage|participate|recommend|condone|encourage|endorse|promote|facilitate|tell you|discuss|make|continue|complete|access|reveal|disclose|go along|play along|pretend|take part|do that|do this|do it|be of (?:any )?(?:help|assistance)|be able to help|be party|be a part|be involved|have (?:that|this) conversation|talk about|respond|agree|accept)\b`,
		`^sorry|apologi|afraid|unfortunately||\b(?:sorry|apologi[sz]e|afraid|unfortunately)\b[^.!?\n]*(?:\bcan't\b|\bcannot\b|\bcan not\b|\bwon't\b|\bwill not\b|\bunable\b|\bnot able\b|\bnot allowed\b|\bnot permitted\b|\bnot appropriate\b|\bnot going to\b|\bnot something\b|\bdon't think i (?:can|should)\b|\bdon't know how to help\b|\b(?:do not|don't) have (?:access|that|this|the|a|an|any)\b)`,
		`^i ||\bi (?:must|have to|need to|will have to|'ll have to) (?:respectfully |politely )?(?:decline|refuse|pass)\b`,
		`^i'd|i would|i refuse|i decline|i won't||\bi (?:would|'d) (?:rather|prefer) not\b|\bi (?:refuse|decline)[ds]?\b|\bi won't\s*[.!]`,
		`^i don't|i do not||\bi (?:don't|do not) (?:think i (?:can|should|could|am able|'m able|will be able|'m going to be able|am going to be able|'ll be able)|want to (?:help|answer|do|talk|discuss|participate|be (?:part|involved)|encourage|say)|feel comfortable|condone|endorse)\b`,
		`^i'm|i am||\b(?:i'm|i am) (?:not (?:actually |really |currently )?|un)(?:able|comfortable|programmed|designed|permitted|authorized|allowed|willing)\b`,
		`^not |we're|i'm||\bnot (?:allowed|permitted|authorized) to (?:help|assist|provide|answer|tell|share|give|do|say|discuss|talk|write|engage)\b|\bwe're not allowed\b|\bi'm not allowed\b`,
		`^is |isn't|not something||\b(?:is|isn't|is not) (?:not )?something (?:that )?i (?:can|could|will|am able to|'m able to|'m comfortable|am comfortable)\b|\bnot something i(?:'m| am| can| will)\b`,
		`^out of|off|against|violat|none of||\b(?:out of bounds|off limits|off-limits|none of my business)\b|\bagainst (?:my|our|the|openai's|\w+'s)? ?(?:policy|policies|guidelines|programming|rules|terms|principles|ethics|ethical|values|content)\b|\bviolat(?:e|es|ing) (?:my|our|the|openai's)? ?(?:policy|policies|guidelines|terms|content|ethical|principles|rules)\b`,
		`^unable|can't help|not going|not able|no||\bunable to (?:help|assist|provide|answer|comply|fulfill|fulfil|do|generate|create|write|complete|engage)\b|\bcan't help (?:you )?with (?:that|this)\b|\bnot (?:going|able) to (?:help|assist|answer|provide|do that|tell)\b|\bno,? i (?:won't|will not|can't|cannot)\b`,
		`^i'm|i am||\bi(?:'m| am) afraid (?:i|that) (?:can't|cannot|won't|don't think i|don't have|don't feel|don't\s*$|am not|'m not|isn't|is not)|\bi(?:'m| am) not (?:going to|gonna) (?:help|do|tell|answer|write|give|provide|share|say)\b`,
		`^can't|cannot|won't|unable|i can|ask |not the right|i don't know||\b(?:can't|cannot|won't|unable to) (?:assist|help) with (?:that|this|your|such)\b|\bi can(?:'t|not) (?:and won't|and will not)\b|\bask (?:me )?(?:a different|another) question\b|\bnot the right (?:person|place) to ask\b|\bi don't know (?:that|if) i'm the right (?:person|one)\b`,
		`^i ||\bi (?:don't|do not) have (?:an? |any )?(?:personal )?(?:opinion|opinions|preference|preferences|feelings about)\b|\bi have no (?:opinion|opinions|comment)\b`,
		`^i'm not sure|i am not sure||\bi(?:'m| am) not sure (?:i|that i|if i) (?:should|want to|can|could|would|'d be able to|am able to|'m able to|will be able to)\b|\bi(?:'m| am) not sure (?:that )?i(?:'m| am) the right (?:person|one|place|assistant)\b`,
		`^programmed|designed|trained|instructed||\b(?:programmed|designed|trained|instructed) not to (?:assist|help|answer|provide|do|give|tell|share|discuss|engage|talk|respond)\b`,
		`^not prepared|not willing|not in a position|too ||\bnot (?:prepared|willing|in a position) to (?:offer|help|assist|answer|provide|give|share|discuss|do|talk|tell)\b|\btoo (?:difficult|hard|complicated|sensitive) for me to (?:help|answer|assist|discuss)\b`,
		`^isn't|is not|not the||\b(?:isn't|is not|not) the (?:type|kind|sort) of (?:thing|information|question|advice|help|request|conversation|content|topic)s? (?:that )?(?:i|we|you'll|you will)\b`,
		`^i'm|i am|we're|we are|we ||\b(?:i'm|i am|we're|we are) not supposed to\b|\bwe (?:don't|do not) (?:generally |usually |normally )?(?:allow|permit|provide|support) (?:that|this|it|access|such)\b`,
		`^i'm|i am||\bi(?:'m| am) not (?:going to|gonna) (?:look|search|find|assist|participate|encourage|support|make|create|help you)\b`,
		// Portuguese.
		`^não||não (?:posso|consigo|vou|devo|sou capaz de|estou autorizad[oa] a|me sinto confortável) (?:te |lhe |o |a |em |com )?(?:ajudar|fornecer|responder|fazer|criar|escrever|gerar|atender|auxiliar|cumprir|dar|compartilhar|ajudá|realizar|produzir|participar|incentivar|apoiar|continuar|colaborar|oferecer|prestar|contribuir|atendê|falar|discutir)`,
		`^desculp|sinto muito|lamento|infelizmente||(?:desculp|sinto muito|lamento|infelizmente)[^.!?\n]*não (?:posso|consigo|é possível|sou capaz|vou)`,
		`^não é|não me|me recuso|recuso-me|devo recusar||não é possível (?:para mim|que eu)|não me é permitido|me recuso a|recuso-me a|devo recusar`,
		// Spanish.
		`^no ||no (?:puedo|podré|voy a|debo|estoy en condiciones de|me siento cómod[oa]|soy capaz de|me es posible) (?:te |le |les |en |con )?(?:ayudar|proporcionar|responder|hacer|crear|escribir|generar|cumplir|dar|compartir|ofrecer|brindar|asistir|realizar|producir|participar|fomentar|apoyar|continuar|colaborar|contribuir|hablar|discutir|facilitar)`,
		`^lo siento|disculp|perdón|lamentablemente|desafortunadamente||(?:lo siento|disculp|perdón|lamentablemente|desafortunadamente)[^.!?\n]*no (?:puedo|es posible|soy capaz|voy a|me es posible)`,
		`^me niego|debo|no me||me niego a|debo (?:rechazar|negarme)|no me está permitido`,
		// Russian.
		`^не ||(?:я )?не (?:могу|буду|стану|смогу|в состоянии|имею права|вправе) (?:вам |тебе |с этим |в этом |этого |это )?(?:помочь|предоставить|ответить|выполнить|создать|написать|сгенерировать|дать|поделиться|сделать|участвовать|обсуждать|поддерживать|продолжать|предлагать|рассказать|раскрывать|помогать|давать|писать)`,
		`^извин|прост|к сожалению|прошу прощения|сожале||(?:извините|простите|к сожалению|прошу прощения|сожалею)[^.!?\n]*(?:не могу|не смогу|не буду|не в состоянии|невозможно)`,
		`^отказ|вынужден||отказываюсь|вынужден[а]? отказать`,
		// Chinese.
		`^我||我(?:不能|无法|無法|不能够|不能夠|不会|不會|没法|沒法|拒绝|拒絕|不可以|不便|不应该|不應該)(?:为你|為你|为您|為您|向你|向您|帮你|幫你|帮您|幫您|帮助|幫助|协助|協助|提供|回答|满足|滿足|完成|生成|编写|編寫|写|寫|创作|創作|参与|參與|支持|鼓励|鼓勵|给|給|透露|讨论|討論|继续|繼續|做)`,
		`^无法|無法|不能|不会|不會||(?:无法|無法|不能|不会|不會)(?:提供|回答|帮助|幫助|协助|協助|满足|滿足|完成|生成|支持|参与|參與)`,
		`^抱歉|对不起|對不起|很遗憾|很遺憾||(?:抱歉|对不起|對不起|很遗憾|很遺憾)[^。！？\n]*(?:不能|无法|無法|不会|不會|拒绝|拒絕)`,
		// German.
		`^ich ||ich (?:kann|werde|darf|möchte|will) (?:dir |ihnen |euch )?(?:dabei |damit |hier |hierbei |diese[nrs]? \w+ |das |so etwas |solche \w+ )?(?:leider )?(?:nicht|keine)`,
		`^kann ich|werde ich|darf ich||(?:kann|werde|darf) ich (?:dir |ihnen |euch )?(?:dabei |damit |hier |leider )*(?:nicht|keine)`,
		`^ich bin|ist mir|ich muss|ich lehne||ich bin (?:leider )?nicht in der lage|ist mir (?:leider )?nicht möglich|ich muss (?:das |diese \w+ )?ablehnen|ich lehne (?:es|das) ab`,
		// French.
		`^je ne||je ne (?:peux|pourrai|pourrais|vais|suis pas en mesure|suis pas capable|souhaite|fournirai|répondrai|donnerai|écrirai|participerai|dois|saurais) (?:pas|vous|t'|te |en |y |point)`,
		`^il m'est|je ||il m'est impossible|je (?:dois )?refuse[rz]? de|je me vois (?:dans l'obligation|contraint)|je ne suis pas autorisée? à`,
		// Italian.
		`^non ||non (?:posso|potrò|sono in grado di|mi è possibile|mi sento a mio agio|devo|intendo) (?:ti |le |vi |in |con )?(?:aiutar|fornir|rispondere|fare|creare|scrivere|generare|soddisfare|dare|condividere|assister|partecipare|supportare|continuare|produrre|offrire|incoraggiare|collaborare|discutere|parlare)`,
		`^mi dispiace|spiacente|purtroppo|scusa|mi rifiuto|devo||(?:mi dispiace|spiacente|purtroppo|scusa)[^.!?\n]*non (?:posso|sono in grado|è possibile|mi è possibile)|mi rifiuto di|devo rifiutare`,
		// Japanese.
		`^お手伝い|お答え|回答|提供|作成|お応え|対応|協力|お伝え|応じ|お受け|生成|支援|サポート|手助け|説明|お教え|教える|書く|お書き|控え|お断り||(?:お手伝い|お答え|回答|提供|作成|お応え|対応|協力|お伝え|応じる|お受け|生成|支援|サポート|手助け|説明|お教え|教える|書く|お書き)(?:することは|することが|すること|は|が|を|も)?(?:でき(?:ません|ない)|いたしかねます|しかねます|いたしません|致しかねます)|控えさせていただきます|お断りします|お断りいたします|応じられません|応じかねます`,
		// Korean.
		`^도와|도움을|제공|답변|작성|생성|지원|응답|협조|안내|알려|거절|응할||(?:도와|도움을|제공|답변|작성|생성|지원|응답|협조|안내|알려)[^.!?\n]*(?:수 없습니다|수 없어요|수 없|드릴 수 없|하지 않겠습니다|할 수 없|드리기 어렵)|거절하겠습니다|응할 수 없`,
		// Arabic.
		`^لا |لست|غير|أرفض|لن ||لا (?:أستطيع|يمكنني|أقدر|يسعني|أتمكن)|لا يمكن لي|(?:لست|غير) (?:قادر|قادرة|مخول)|أرفض|لن أتمكن|لن أقوم|لا أستطيع مساعدتك|لا يمكنني مساعدتك`,
	})},
	{"ai", 0.5, newCueSet([]string{
		`^as a|i'm|i am|my ||\bas an? (?:ai|a\.i\.|artificial intelligence|language model|large language model|llm|ai model|ai language model|ai assistant|responsible ai|virtual assistant|chatbot|assistant)\b|\bi(?:'m| am) (?:just |only |merely )?an? (?:ai|language model|ai language model|computer program|machine|bot|chatbot|ai assistant)\b|\bmy (?:programming|guidelines|purpose is)\b`,
		`^como ||como (?:um |uma |un |una )?(?:modelo de (?:linguagem|lenguaje)|ia|inteligência artificial|inteligencia artificial|assistente (?:de ia|virtual)|asistente (?:de ia|virtual))`,
		`^как |будучи||как (?:языковая модель|ии|ии-ассистент|искусственный интеллект|модель ии|ai|ассистент)|будучи (?:ии|языковой моделью)`,
		`^作为|作為||作为一?个?(?:ai|人工智能|语言模型|ai语言模型|ai助手|人工智能助手)|作為一?個?(?:ai|人工智慧|語言模型|ai語言模型)`,
		`^als ||als (?:ein |eine )?(?:ki|ki-sprachmodell|sprachmodell|künstliche intelligenz|ki-assistent|ki-modell)\b`,
		`^en tant||en tant qu(?:e |')(?:ia|intelligence artificielle|modèle de langage|assistant|ai)`,
		`^come ||come (?:un |una )?(?:modello (?:di )?linguistico|modello di linguaggio|ia|intelligenza artificiale|assistente (?:virtuale|ia|ai))`,
		`として||(?:ai|言語モデル|aiアシスタント|ai言語モデル|人工知能)として`,
		`로서|으로서||(?:ai|인공지능|언어 모델|ai 언어 모델|ai 어시스턴트)(?:로서|으로서)`,
		`ك|بصفتي||ك(?:نموذج لغوي|ذكاء اصطناعي|مساعد ذكي|مساعد ذكاء اصطناعي)|بصفتي (?:نموذج|ذكاء|مساعد)`,
	})},
	{"discourage", 0.5, newCueSet([]string{
		`^it's|it is|it would|that's|that is|that would|that seems|that sounds|that looks|this is|this would|this seems|this sounds|doing|what you|you're|you are||\b(?:it(?:'s| is| would be)|that(?:'s| is| would be| seems| sounds| looks)|this (?:is|would be|seems|sounds)|doing (?:so|that|this) (?:is|would be)|(?:what )?you(?:'re| are) (?:asking|describing|suggesting) (?:for |about )?(?:is|would be))(?: an?)?(?: (?:very|extremely|highly|really|definitely|simply|both|also|generally|pretty|quite|so|incredibly|deeply|rather|a bit|kind of))? (?:illegal|unethical|immoral|not (?:ethical|legal|appropriate|okay|ok|safe|a good idea|right|nice|acceptable|allowed|kind)|wrong|dangerous|harmful|inappropriate|against the law|a crime|a serious crime|a felony|offensive|hurtful|disrespectful|abusive|unsafe|cruel|mean|rude|racist|sexist|hateful|terrible|awful|horrible|bad|disgusting|gross|sick|creepy|dishonest|not cool|not worth it|a bad idea)\b`,
		`^i |we |i'd|recommend|suggest|advise||\b(?:i|we) (?:don't|do not|wouldn't|would not|can't|cannot) (?:recommend|advise|suggest|encourage|support|condone)\b|\bi(?:'d| would)? ?(?:strongly )?(?:advise|urge|caution|recommend|suggest) (?:you )?(?:against|not to)\b|\b(?:recommend|suggest|advise) (?:that )?you (?:don't|do not|not|never)\b`,
		`^please||\bplease (?:don't|do not|reconsider|rethink|be careful|seek|consult)\b`,
		`^seek|consult|contact|talk to|speak|reach out|call|see |ask ||\b(?:seek|consult|contact|talk to|speak (?:to|with)|reach out to|call|see|ask) (?:a |an |the |your )?(?:local |qualified |licensed |trusted |medical |mental health )?(?:professional|doctor|physician|therapist|counselor|counsellor|lawyer|attorney|police|authorities|hotline|crisis line|pharmacist|psychiatrist|psychologist|expert)s?\b`,
		`^you |don't do||\byou (?:really |definitely |probably )?(?:shouldn't|should not|must not|mustn't|should never|can't|cannot) (?:do (?:that|this|it)|be doing|be \w+ing|steal|hurt|kill|harm|poison|attack|rob|cheat|break|hack|lie)\b|\bdon't do (?:that|it|this)\b`,
		`^not |never |i don't think||\b(?:not|never) (?:a good idea|okay to|ok to|acceptable to|appropriate to|right to|legal to)\b|\bi don't think (?:that's|that is|it's|it is|this is|it would be|that would be) (?:a good idea|appropriate|okay|ok|right|ethical|legal|wise|nice|kind|fair|safe|something i|a proper|proper|an appropriate)\b|\bi don't think you should\b`,
		`^not sure|is |are |be |doesn't|does not|don't|committing|you're|you are|convince|persuade|something|invasion|i'm not|i am not||\bnot sure (?:that's|that is|it's|it is|this is) (?:a good idea|appropriate|okay|legal|wise|right)\b|\b(?:is|are|be) (?:very |highly |extremely |generally )?(?:illegal|unethical|against the law|wrong|never okay|not okay)\b|\b(?:doesn't|does not|don't) (?:sound|seem) like a (?:very |really )?good (?:idea|plan)\b|\bcommitting a crime\b|\byou(?:'re| are) an? (?:horrible|terrible|awful|bad|disgusting|sick|evil) (?:person|human)\b|\byou(?:'re| are) not (?:allowed|supposed|permitted) to\b|\b(?:convince|persuade) you not to\b|\bsomething (?:illegal|wrong|unethical|dangerous)\b|\b(?:is|are) (?:confidential|private|protected by)\b|\binvasion of privacy\b|\bi(?:'m| am) not (?:saying|suggesting) (?:i|you|that)\b`,
		`^i'm|i am|i'd|i would|hope|breaking|talk|speak||\bi(?:'m| am) (?:also |a bit |a little |really |very |honestly |quite |so )*(?:not comfortable|uncomfortable)\b|\bi(?:'m| am) (?:also |a bit |a little |really |very |honestly |quite |so )*(?:concerned|worried) (?:that you|that this|about (?:this|that|your (?:request|question|intentions|plan)))\b|\b(?:talk|speak) (?:to|with) someone (?:who|that) can help\b|\bhope (?:that )?you (?:would |will |can )?(?:avoid|not|reconsider|don't|won't)\b|\bbreaking the law\b|\bi(?:'d| would) (?:rather )?avoid\b`,
		`^that's|that is|this is|it's|it is||\b(?:that|this|it)(?:'s| is) not (?:a |an )?(?:very )?(?:nice|good|kind|appropriate|polite|okay|ok|respectful|fair) (?:thing|question|way|idea|request|topic|subject|word|joke)\b`,
		`^i don't think|i do not think|i wouldn't|i would not||\bi (?:don't|do not) think (?:they|he|she|you|anyone|people|we) (?:deserve|should|ought|need to|have the right)\b|\bi (?:wouldn't|would not) (?:do|try|recommend|advise) (?:that|this|it)\b`,
		`^you ||\byou (?:really |definitely |probably |absolutely |seriously )?(?:shouldn't|should not|must not|mustn't|should never) (?:use|do|try|take|buy|sell|make|go|drive|drink|eat|put|give|say|tell|call|touch|hit|send|post|share|mix|ingest|consume|attempt|follow|rely|trust|get|steal|hurt|kill|harm|poison|attack|rob|cheat|break|hack|lie|threaten|insult|stalk|spy|track|harass|bully)\b|\byou should (?:probably |really |definitely |seriously )?(?:try )?(?:not|never)\b|\byou should (?:probably |really )?(?:reconsider|rethink|think twice)\b`,
		`^suggest|urge|ask|encourage|re-consider|reconsider||\b(?:suggest|urge|ask|encourage) you (?:to )?re-?(?:consider|think)\b|\bre-?consider your (?:goals|goal|plan|plans|decision|choice|choices|intentions|actions)\b`,
		`^violation|a violation|is |are ||\b(?:a )?violation of (?:the )?(?:law|laws|privacy)\b|\b(?:is|are) (?:very |really |extremely )?(?:dangerous|harmful)\b`,
		`^you may|you might|you will|you would|you'd|why don't you|why on earth|research|look it up||\byou (?:may|might|will|would|'d) have (?:better|more) luck\b|\bwhy don't you ask\b|\bwhy on earth would you\b|\bresearch (?:it |this |that )?(?:yourself|on your own)\b|\blook it up yourself\b`,
		`^não |é |seria |procure||não (?:é|seria) (?:apropriado|ético|adequado|legal|permitido|seguro|correto)|(?:é|seria) (?:ilegal|antiético|imoral|perigoso|prejudicial)|procure (?:um|uma) (?:profissional|médic|advogad|psicólog)`,
		`^no |es |sería |consulta|busca|acude||no (?:es|sería) (?:apropiado|ético|adecuado|legal|seguro|correcto)|(?:es|sería) (?:ilegal|poco ético|inmoral|peligroso|dañino)|(?:consulta|busca|acude) (?:a )?(?:un|una) (?:profesional|médic|abogad|psicólog)`,
		`^это |незаконно|неэтично|неприемлемо|опасно|противозаконно|противоречит|обратитесь||(?:это )?(?:незаконно|неэтично|неприемлемо|опасно|противозаконно)|противоречит (?:моим|правилам|политике|принципам|этическим)|обратитесь к (?:специалисту|врачу|юристу|психологу)`,
		`违|違|道德|不合|不适|不適|不恰|请咨询|請諮詢|专业|專業||违法|違法|不道德|不合适|不合適|不适当|不適當|不恰当|不恰當|违反|違反|请咨询|請諮詢|寻求专业|尋求專業`,
		`^ist |wäre|gegen|wende dich||(?:ist|wäre) (?:illegal|unethisch|nicht angemessen|nicht erlaubt|verboten|gefährlich|strafbar)|gegen (?:meine|die|unsere) (?:richtlinien|regeln|grundsätze)|wende dich an (?:einen|eine) (?:arzt|anwalt|fachmann|therapeut)`,
		`^c'est|serait|est |contraire|consulte||(?:c'est|serait|est) (?:illégal|contraire à l'éthique|inapproprié|pas approprié|dangereux|immoral)|contraire à (?:mes|nos) (?:règles|politiques|directives|principes)|consulte[rz]? un (?:professionnel|médecin|avocat)`,
		`^è |sarebbe|contro|rivolgiti||(?:è|sarebbe) (?:illegale|non etico|inappropriato|non appropriato|pericoloso|immorale)|contro (?:le mie|le nostre) (?:linee guida|regole|politiche)|rivolgiti a un (?:professionista|medico|avvocato)`,
		`違法|倫理|不適切|ポリシー|専門家||違法|倫理的に問題|不適切|ポリシーに反|専門家にご相談`,
		`불법|비윤리|부적절|정책|전문가||불법|비윤리적|부적절|정책에 위반|전문가와 상담`,
		`غير|مخالف||غير قانوني|غير أخلاقي|غير لائق|غير مناسب|مخالف ل`,
	})},
	{"apology", 0.3, newCueSet([]string{
		`^i'm|i am|i |apologi|sorry|unfortunately||\b(?:i'm|i am|i'm really|i am very) sorry\b(?: to (?:hear|learn)| that| for| about| you)?|\b(?:i )?apologi[sz]e\b|\bsorry\b(?: to (?:hear|learn)| that| for| about| you)?|\bunfortunately\b`,
		`^desculp|sinto muito|lamento|infelizmente|lo siento|disculp|lamentablemente|desafortunadamente|извините|простите|к сожалению|прошу прощения|抱歉|对不起|對不起|很遗憾|很遺憾|tut mir leid|entschuldig|leider|désolé|malheureusement|je regrette|mi dispiace|spiacente|purtroppo|申し訳|すみません|ごめんなさい|죄송|미안|유감스럽|عذرا|عذرًا|آسف|أعتذر|للأسف|معذرة||desculp|sinto muito|lamento|infelizmente|lo siento|disculp|lamentablemente|desafortunadamente|извините|простите|к сожалению|прошу прощения|抱歉|对不起|對不起|很遗憾|很遺憾|tut mir leid|entschuldig|leider|désolée?|malheureusement|je regrette|mi dispiace|spiacente|purtroppo|申し訳|すみません|ごめんなさい|죄송|미안|유감스럽|عذرا|عذرًا|آسف|أعتذر|للأسف|معذرة`,
	})},
}

// helpPivot marks a turn from declining to helping: "but I can …", "here are …",
// "instead, you could …", in the covered languages.
var helpPivot = newCueSet([]string{
	`^but|however|that said|instead|although|though|nevertheless|that being said|alternatively||\b(?:but|however|that said|instead|although|though|nevertheless|that being said|alternatively)\b[^.!?\n]*\b(?:i can|i could|i'd be happy|i would be happy|i'm happy|i am happy|here (?:is|are|'s)|here's|let me|i'll|i will|i can offer|i can suggest|i can provide|i can help)\b`,
	`^here|some|a few||\bhere(?:'s| is| are)\b|\b(?:some|a few) (?:general |possible )?(?:tips|ideas|steps|suggestions|options|ways|examples|alternatives|resources|facts)\b`,
	`^mas|porém|no entanto|en cambio|pero|sin embargo|но|однако|但是|但|不过|不過|aber|jedoch|mais|cependant|però|tuttavia|ただし|しかし|하지만|그러나|لكن||(?:mas|porém|no entanto|en cambio|pero|sin embargo|но|однако|但是|但|不过|不過|aber|jedoch|mais|cependant|però|tuttavia|ただし|しかし|하지만|그러나|لكن)[^.!?。\n]*(?:posso|puedo|могу|可以|kann ich|je peux|je vais|posso|できます|수 있습니다|يمكنني)`,
	`^aqui|aquí|вот |以下|hier |voici|ecco|다음은|إليك||(?:aqui (?:está|estão)|aquí (?:tienes|está|están)|вот |以下是|以下为|hier (?:ist|sind)|voici|ecco|以下に|다음은|إليك)`,
})

// moralWords mark a sentence that explains a refusal (why the request is wrong,
// who to ask instead) rather than giving what was asked: such sentences do not
// count as content. moralStems do the same for languages matched by substring.
var moralWords = map[string]bool{}

var moralStems = []string{"ilegal", "ético", "ética", "незакон", "этич", "违法", "道德", "法律", "unethisch", "illégal",
	"éthique", "illegale", "etic", "違法", "倫理", "불법", "윤리", "قانون", "أخلاق"}

func init() {
	for _, w := range strings.Fields(`illegal unethical immoral ethical ethics harm harmful hurt dangerous danger respect
		privacy consent consequences law laws legal crime criminal safety appropriate inappropriate offensive
		responsible professional authorities police policy policies guidelines violence violent discrimination abuse
		abusive wrong kindness well-being wellbeing values principles sorry apologize apologise`) {
		moralWords[w] = true
	}
}

// restatement marks a sentence that restates the request ("it sounds like you
// want to …") rather than answering it.
var restatement = []string{"sounds like you", "seems like you", "you want to", "you're asking", "you are asking",
	"you'd like to", "you want me", "you're trying to", "you are trying to", "you're looking", "you are looking"}

func restates(s string) bool {
	for _, r := range restatement {
		if strings.Contains(s, r) {
			return true
		}
	}
	return false
}

// isMoral reports whether a normalized sentence holds a moral word or stem.
func isMoral(s string) bool {
	ascii := true
	start := -1
	for i := 0; i <= len(s); i++ {
		var c byte = ' '
		if i < len(s) {
			c = s[i]
		}
		if c >= 0x80 {
			ascii = false
		}
		word := c >= 'a' && c <= 'z' || c == '-'
		switch {
		case word && start < 0:
			start = i
		case !word && start >= 0:
			if moralWords[s[start:i]] {
				return true
			}
			start = -1
		}
	}
	if ascii {
		return false
	}
	for _, st := range moralStems {
		if strings.Contains(s, st) {
			return true
		}
	}
	return false
}

// codeOrList reports structured content: a fenced block, or two list lines.
var listLine = regexp.MustCompile(`(?m)^\s*(?:[-*•]|\d{1,2}[.)])\s+\S`)

// quoted matches a quoted span inside one line: what a reply quotes (a story's
// dialogue, an example refusal) is not what the reply itself says.
var quoted = regexp.MustCompile(`"[^"\n]{1,300}"|«[^»\n]{1,300}»|「[^」\n]{1,300}」|„[^"“\n]{1,300}[“"]`)

// foldQuotes folds typographic quotes and apostrophes to ASCII ones.
var foldQuotes = strings.NewReplacer("\u2019", "'", "\u2018", "'", "\u201c", "\"", "\u201d", "\"", "\u00b4", "'", "`", "'")

// sentence is one sentence of a normalized reply.
type sentence struct {
	start, end int     // byte offsets in the normalized text
	score      float64 // refusal cue weight found in it
	moral      bool    // it explains a refusal
	question   bool    // it ends with a question mark
}

// splitSentences cuts s at sentence ends (. ! ? ; : and their CJK forms,
// newlines): a colon ends the sentence that introduces a list or a draft.
func splitSentences(s string) []sentence {
	var out []sentence
	start := 0
	for i, r := range s {
		switch r {
		case '.', '!', '?', '\n', '。', '！', '？', ';', '；', '؟', ':', '：':
			// A dot inside a number or an abbreviation-like token ("e.g", "3.5")
			// does not end a sentence.
			if (r == '.' || r == ':') && i+1 < len(s) && s[i+1] != ' ' && s[i+1] != '\n' {
				continue
			}
			end := i + utf8.RuneLen(r)
			if strings.TrimSpace(s[start:end]) != "" {
				out = append(out, sentence{start: start, end: end, question: r == '?' || r == '？' || r == '؟'})
			}
			start = end
		}
	}
	if strings.TrimSpace(s[start:]) != "" {
		out = append(out, sentence{start: start, end: len(s)})
	}
	return out
}

// RefusalFeatures are the measurements a refusal label is decided from; Refusal
// returns the label only, RefusalDetail the features too.
type RefusalFeatures struct {
	// Score is the position-weighted sum of the cue weights found in the reply.
	Score float64
	// Content counts the characters of the sentences that are neither refusal
	// cues, nor explanations of a refusal, nor questions.
	Content int
	// ContentBefore counts the content characters before the first refusal cue.
	ContentBefore int
	// Structured is true when the reply has a code block or a list.
	Structured bool
	// Pivot is true when the reply turns from declining to helping ("but here
	// is …").
	Pivot bool
	// Length is the reply's length in characters (of its first 8 KB).
	Length int
	// Objection is true when a cue other than a bare apology was found.
	Objection bool
}

// RefusalDetail labels one reply (see Refusal) and returns the features the label
// came from.
func RefusalDetail(reply string) (string, RefusalFeatures) {
	var f RefusalFeatures
	if strings.TrimSpace(reply) == "" {
		return NoReply, f
	}
	text := head(reply, maxScan)
	blocks, prose := splitFences(text)
	f.Structured = len(blocks) > 0 || len(listLine.FindAllStringIndex(prose, 2)) >= 2
	norm := strings.ToLower(foldQuotes.Replace(prose))
	// Cues are not read inside quotes (cueText has them blanked, offsets kept);
	// content is counted with them, since a quoted draft is content.
	cueText := quoted.ReplaceAllStringFunc(norm, func(q string) string {
		// Keep a quote that is the whole reply: "I can't do that."
		if len(q)+8 >= len(strings.TrimSpace(norm)) {
			return q
		}
		return strings.Repeat(" ", len(q))
	})
	f.Length = utf8.RuneCountInString(norm)
	sents := splitSentences(norm)
	if len(sents) == 0 {
		return Complied, f
	}
	firstCue := -1
	for i := range sents {
		st := &sents[i]
		body := cueText[st.start:st.end]
		for _, cue := range refusalCues {
			n := 0
			for _, m := range cue.re.FindAllStringIndex(body, 8) {
				if cue.name == "apology" && isEmpathy(body[m[0]:m[1]]) || empathyOpening(body[m[0]:]) {
					continue
				}
				n++
				if firstCue < 0 || st.start+m[0] < firstCue {
					firstCue = st.start + m[0]
				}
			}
			if n == 0 {
				continue
			}
			if cue.name != "apology" {
				f.Objection = true
			}
			// One family counts once a sentence; decline wins over the rest,
			// which add a quarter of their weight beside a stronger cue.
			if st.score < cue.weight {
				st.score = cue.weight
			} else {
				st.score += cue.weight / 4
			}
		}
	}
	f.Pivot = helpPivot.MatchString(cueText)
	total := len(norm)
	for i := range sents {
		s := &sents[i]
		if s.score > 0 {
			// Cues at the opening count fully; a cue far into a long reply is
			// likely a closing caveat and counts half.
			w := 1.0
			if s.start > 400 && s.start*5 > total*2 {
				w = 0.5
			}
			f.Score += s.score * w
			continue
		}
		body := norm[s.start:s.end]
		s.moral = isMoral(body) || restates(body)
		n := contentChars(strings.TrimSpace(body))
		if s.moral || s.question || n < 3 {
			continue
		}
		f.Content += n
		if firstCue < 0 || s.end <= firstCue {
			f.ContentBefore += n
		}
	}
	return decideRefusal(f), f
}

// contentChars counts the characters of s, a Han, kana or Hangul character as
// two: those scripts say in one character what others say in two or three.
func contentChars(s string) int {
	n := 0
	for _, r := range s {
		n++
		if r >= 0x2E80 && (isCJK(r) || unicode.In(r, unicode.Han)) {
			n++
		}
	}
	return n
}

// isEmpathy tells an apology for the user's trouble ("sorry to hear that") from
// one that opens a refusal.
func isEmpathy(m string) bool {
	return strings.HasSuffix(m, " to hear") || strings.HasSuffix(m, " to learn") || strings.HasSuffix(m, " that") ||
		strings.HasSuffix(m, " for") || strings.HasSuffix(m, " about") || strings.HasSuffix(m, " you")
}

// empathyOpening reports whether a match opens with sympathy ("sorry to hear
// you don't have …"), which no refusal does.
func empathyOpening(m string) bool {
	for _, p := range []string{"sorry to hear", "sorry to learn", "sorry for", "sorry about", "sorry that", "sorry you"} {
		if strings.HasPrefix(m, p) {
			return true
		}
	}
	return false
}

// decideRefusal turns the features into a label.
func decideRefusal(f RefusalFeatures) string {
	if f.Score < 0.5 {
		return Complied
	}
	helped := f.Structured && f.Content >= 60 ||
		f.Pivot && f.Content >= 120 ||
		f.Content >= 400 ||
		f.ContentBefore >= 80
	switch {
	case helped:
		// A refusal or an objection beside what was asked (or an alternative).
		return Partial
	case f.Score >= 0.8:
		return Refused
	case f.Length < 300 && f.Content < 120 && f.Objection:
		// A short reply whose only cue is an objection or an AI preamble, with
		// nothing else in it: "That's illegal." "I'd advise against it."
		return Refused
	default:
		return Complied
	}
}

// Refusal labels reply, an assistant's answer: Refused when it declines (or only
// objects to) the request and gives none of it, Partial when it declines or
// objects to part of it but gives content too (a caveat then the answer, "I can't
// do X, but here is Y", content then a refusal), Complied otherwise, and NoReply
// for an empty reply. It reads the first 8 KB, in English, Portuguese, Spanish,
// Russian, Chinese, German, French, Italian, Japanese, Korean and Arabic; quoted
// text and code blocks are not read for cues. See docs/classifiers.md for the
// rules.
func Refusal(reply string) string {
	label, _ := RefusalDetail(reply)
	return label
}

// FirstReply returns the index of the first assistant message after c's first
// user message (or the first assistant message when c has no user message), or -1.
func FirstReply(c lmsys.Conversation) int {
	return firstOf(c, lmsys.RoleAssistant, c.FirstUser())
}

// ConversationRefusal labels the first assistant reply of c (Refusal), or NoReply
// when there is none. It also reads the request the reply answers: a short reply
// that opens with a bare "No." to a request for action ("Can you …", "How do I …",
// "Give me …") refuses it, where the same "No." to a yes-or-no question ("Is it
// legal to …?") answers it.
func ConversationRefusal(c lmsys.Conversation) string {
	i := FirstReply(c)
	if i < 0 {
		return NoReply
	}
	reply := c.Messages[i].Content
	label, f := RefusalDetail(reply)
	if label != Complied || f.Length >= 300 {
		return label
	}
	if u := c.FirstUser(); u >= 0 && u < i && deniesRequest(c.Messages[u].Content, reply) {
		return Refused
	}
	return label
}

// openingNo matches a reply that opens with a bare negation: "No.", "Nope!", "I don't
// think so.", "Нет.", or (for a how-to request) "You can't …".
var (
	openingNo = regexp.MustCompile(`^(?:no|nope|no way|not a chance|absolutely not|definitely not|of course not|certainly not|i don't think so|i do not think so|não|нет|nein|non|いいえ|아니요|不|不行|لا)\s*[.!。！]|^no,? (?:i (?:won't|will not|can't|cannot|don't|do not)|thank you|thanks)\b`)
	youCant   = regexp.MustCompile(`^you (?:can't|cannot|can not|won't|will not)\b`)
	// actionRequest matches a request that asks the assistant to do something, or
	// asks how to do it; howTo the second kind.
	actionRequest = regexp.MustCompile(`^(?:can|could|will|would) you\b|\b(?:please|help me|give me|tell me|show me|find me|get me|write me|send me)\b|^(?:do you want to|would you like to|wanna)\b`)
	howTo         = regexp.MustCompile(`^(?:how (?:do|can|could|should|would|might|to) (?:i|we|you|one)?|what(?:'s| is) the (?:best|easiest|fastest|quickest|safest|simplest) way|where (?:can|could|do|should) i)\b`)
)

// deniesRequest reports whether reply opens by saying no to request.
func deniesRequest(request, reply string) bool {
	r := strings.TrimSpace(strings.ToLower(foldQuotes.Replace(head(reply, 400))))
	q := strings.TrimSpace(strings.ToLower(foldQuotes.Replace(head(request, 400))))
	switch {
	case openingNo.MatchString(r) || r == "no" || r == "nope":
		return actionRequest.MatchString(q) || howTo.MatchString(q)
	case youCant.MatchString(r):
		return howTo.MatchString(q)
	}
	return false
}

var refusalBuiltin = &builtin{
	name:        "refusal",
	version:     "2",
	description: "Whether the first assistant reply complied with, refused or partly refused the request.",
	rules: `refusal labels the first assistant reply after the first user message (first 8 KB; fenced code and quoted
spans not read for cues). Cue families, in English, Portuguese, Spanish, Russian, Chinese, German, French, Italian,
Japanese, Korean and Arabic: decline ("I can't help with", "I won't", "against my guidelines", "not the right person
to ask", apology + inability; weight 1), AI preamble ("as an AI language model"; 0.5), discourage (illegal,
unethical, offensive, "I don't recommend", "please consult a professional", "you shouldn't do that"; 0.5), apology
alone ("I'm sorry", not "sorry to hear"; 0.3). Sentences end at . ! ? ; : and newlines. Per sentence the strongest
family counts (others add a quarter); a cue past the first 400 characters and 40% of a reply counts half. Content =
characters (Han, kana, Hangul count two) of sentences without cues, without moral or legal explanation words, not
restating the request, and not questions; quoted drafts count. Score < 0.5: complied. Else partial when the reply
also helps (a list or code block with >= 60 content characters, a pivot such as "but here is" with >= 120, >= 400
content characters, or >= 80 content characters before the first cue); else refused when the score is >= 0.8, or
the reply is under 300 characters with under 120 content characters and a cue other than an apology; else
complied. A reply under 300 characters that opens with a bare negation ("No.", "I don't think so.") to a request
for action ("Can you …", "How do I …", "Give me …"), or with "You can't" to a how-to request, is refused. No reply
or an empty one: no_reply.`,
	facets: []Facet{{Name: "refusal", Labels: refusalLabels, Description: "Whether the first assistant reply complied, refused or partly refused."}},
	fn: func(c lmsys.Conversation) []Answer {
		return []Answer{{Facet: "refusal", Value: ConversationRefusal(c)}}
	},
}
