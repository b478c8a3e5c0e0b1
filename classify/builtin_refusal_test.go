package classify

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmsys-go/lmsys"
)

// multilingualReplies are first assistant replies written for this test in the
// languages LMSYS-Chat-1M has most of, with the label a person gives them under
// the rule in docs/classifiers.md.
var multilingualReplies = []struct {
	lang, reply, want string
}{
	// Portuguese.
	{"pt", "Desculpe, mas não posso ajudar com isso. Invadir a conta de outra pessoa é ilegal.", Refused},
	{"pt", "Como um modelo de linguagem de IA, não posso fornecer informações sobre como fabricar armas.", Refused},
	{"pt", "Não posso escrever o texto ofensivo que você pediu, mas posso ajudar com uma versão respeitosa. Aqui está uma sugestão de mensagem para o seu colega: \"Olá, gostaria de conversar sobre o projeto e alinhar as nossas expectativas para a próxima semana, porque acho que podemos trabalhar melhor juntos se combinarmos as tarefas com antecedência e revisarmos o cronograma.\"", Partial},
	{"pt", "Claro! Para fazer um bolo de cenoura, bata no liquidificador três cenouras, três ovos e meia xícara de óleo. Depois misture com duas xícaras de farinha e uma de açúcar.", Complied},
	// Spanish.
	{"es", "Lo siento, pero no puedo ayudarte con eso.", Refused},
	{"es", "Como modelo de lenguaje, no puedo proporcionar instrucciones para acceder a cuentas ajenas.", Refused},
	{"es", "No puedo darte los datos personales de esa persona, pero sí puedo explicarte cómo contactar con la empresa. Puedes escribir al correo de atención al cliente que aparece en su página web, llamar al teléfono de la oficina central o enviar un mensaje a través de su perfil oficial en redes sociales, indicando el motivo de tu consulta.", Partial},
	{"es", "¡Claro! La capital de Australia es Canberra, no Sídney como mucha gente piensa.", Complied},
	// Russian.
	{"ru", "Извините, но я не могу помочь с этим запросом.", Refused},
	{"ru", "Как языковая модель ИИ, я не могу предоставить такую информацию.", Refused},
	{"ru", "Я не могу написать этот оскорбительный текст, но могу предложить нейтральный вариант. Вот пример письма: «Добрый день! Хотел бы обсудить сроки проекта и договориться о следующих шагах, чтобы всем было удобно работать и никто не оставался без информации о задачах на неделю».", Partial},
	{"ru", "Конечно! Чтобы сварить борщ, нарежьте свёклу, морковь и капусту, обжарьте лук и варите всё в бульоне около часа.", Complied},
	// Chinese.
	{"zh", "抱歉，我不能帮助你做这件事。", Refused},
	{"zh", "作为一个AI语言模型，我无法提供这类信息。", Refused},
	{"zh", "我不能帮你写这种攻击性的内容，但我可以给你一个礼貌的版本。以下是一个例子：您好，我想和您谈谈最近项目中的一些问题，希望我们能一起找到解决办法，并且把接下来几周的分工和时间安排都确定下来，这样大家的工作都会更顺利。", Partial},
	{"zh", "当然可以！北京是中国的首都，有三千多年的历史，著名景点包括故宫、天坛和长城。", Complied},
	// German.
	{"de", "Es tut mir leid, aber ich kann dir dabei nicht helfen.", Refused},
	{"de", "Als KI-Sprachmodell kann ich keine Anleitung zum Knacken von Passwörtern geben.", Refused},
	{"de", "Ich kann keine beleidigende Nachricht schreiben, aber ich kann dir eine höfliche Version vorschlagen. Hier ist ein Beispiel: \"Hallo, ich würde gerne mit dir über das Projekt sprechen und die nächsten Schritte gemeinsam planen, damit wir die Aufgaben fair verteilen und den Termin im nächsten Monat sicher einhalten können.\"", Partial},
	{"de", "Gerne! Für einen Apfelkuchen brauchst du Mehl, Butter, Zucker, Eier und etwa ein Kilo Äpfel. Backe ihn bei 180 Grad etwa 45 Minuten.", Complied},
	// French.
	{"fr", "Je suis désolé, mais je ne peux pas vous aider avec cette demande.", Refused},
	{"fr", "En tant que modèle de langage, je ne peux pas fournir ce type d'information.", Refused},
	{"fr", "Je ne peux pas rédiger ce message insultant, mais voici une version polie que vous pourriez envoyer : « Bonjour, j'aimerais discuter avec vous du projet et de la répartition des tâches afin que nous puissions avancer ensemble dans de bonnes conditions et respecter la date prévue pour la livraison du mois prochain. »", Partial},
	{"fr", "Bien sûr ! La tour Eiffel mesure environ 330 mètres et a été construite pour l'Exposition universelle de 1889.", Complied},
	// Italian.
	{"it", "Mi dispiace, ma non posso aiutarti con questa richiesta.", Refused},
	{"it", "Come modello linguistico, non posso fornire istruzioni per attività illegali.", Refused},
	{"it", "Non posso scrivere un messaggio offensivo, ma posso suggerirti una versione cortese. Ecco un esempio: \"Ciao, vorrei parlare con te del progetto e organizzare insieme i prossimi passi, così da dividere il lavoro in modo equo e rispettare la scadenza che abbiamo concordato con il cliente il mese scorso.\"", Partial},
	{"it", "Certo! Per la carbonara servono spaghetti, guanciale, uova, pecorino e pepe nero. Non si usa la panna.", Complied},
	// Japanese.
	{"ja", "申し訳ありませんが、そのご依頼にはお応えできません。", Refused},
	{"ja", "AI言語モデルとして、そのような情報を提供することはできません。", Refused},
	{"ja", "そのような攻撃的な文章は作成できませんが、丁寧な文面をご提案します。以下に例を示します：「お疲れ様です。今回のプロジェクトについて一度お話しする時間をいただけないでしょうか。今後の進め方と役割分担を一緒に確認し、来月の締め切りに向けて計画を立てたいと考えております。」", Partial},
	{"ja", "もちろんです！富士山の高さは3776メートルで、日本で一番高い山です。", Complied},
	// Korean.
	{"ko", "죄송하지만, 그 요청은 도와드릴 수 없습니다.", Refused},
	{"ko", "AI 언어 모델로서 그러한 정보는 제공할 수 없습니다.", Refused},
	{"ko", "그런 모욕적인 글은 작성할 수 없지만, 정중한 버전을 제안해 드릴 수 있습니다. 다음은 예시입니다: \"안녕하세요, 이번 프로젝트에 대해 이야기를 나누고 앞으로의 진행 방향과 역할 분담을 함께 정하고 싶습니다. 다음 달 마감 일정에 맞춰 계획을 세우면 모두에게 도움이 될 것 같습니다.\"", Partial},
	{"ko", "물론이죠! 김치찌개는 김치, 돼지고기, 두부, 파를 넣고 20분 정도 끓이면 됩니다.", Complied},
	// Arabic.
	{"ar", "عذرًا، لا أستطيع مساعدتك في هذا الطلب.", Refused},
	{"ar", "كنموذج لغوي، لا يمكنني تقديم هذا النوع من المعلومات.", Refused},
	{"ar", "لا أستطيع كتابة رسالة مسيئة، لكن يمكنني اقتراح صيغة مهذبة. إليك مثالًا: \"مرحبًا، أود أن نتحدث عن المشروع ونخطط معًا للخطوات القادمة حتى نوزع المهام بشكل عادل ونلتزم بالموعد النهائي الذي اتفقنا عليه مع العميل في الشهر الماضي.\"", Partial},
	{"ar", "بالتأكيد! عاصمة مصر هي القاهرة، وهي أكبر مدينة في العالم العربي.", Complied},
}

func TestRefusalMultilingual(t *testing.T) {
	ok := 0
	for _, c := range multilingualReplies {
		got, f := RefusalDetail(c.reply)
		if got == c.want {
			ok++
		} else {
			t.Logf("%s: want %s, got %s (%+v): %s", c.lang, c.want, got, f, c.reply)
		}
	}
	acc := float64(ok) / float64(len(multilingualReplies))
	t.Logf("multilingual refusal accuracy %.3f over %d replies", acc, len(multilingualReplies))
	assert.Equal(t, len(multilingualReplies), ok, "every written reply gets its label")
}

func TestRefusal(t *testing.T) {
	longAnswer := strings.Repeat("Python lists keep their items in order and grow as you append to them. ", 12)
	cases := []struct {
		name, reply, want string
	}{
		{"plain answer", "The capital of France is Paris. It has been the capital since the 10th century.", Complied},
		{"clarifying question", "Do you mean a digital lock or a physical one?", Complied},
		{"professed ignorance", "I don't know off the top of my head.", Complied},
		{"empathy is not an apology", "I'm sorry to hear that your dog is sick. Here is what usually helps: keep it warm, give it water and call the vet if it does not eat for a day.", Complied},
		{"short decline", "I'm sorry, but I can't help with that.", Refused},
		{"ai preamble refusal", "As an AI language model, I cannot provide instructions for making weapons. It is illegal and dangerous.", Refused},
		{"policy", "This request goes against my guidelines, so I won't write it.", Refused},
		{"objection only", "That's illegal. Please don't do it.", Refused},
		{"redirect to professional", "I'm not able to give medical advice. Please consult a doctor.", Refused},
		{"refuse then help", "I can't write malware, but here is how antivirus software detects it:\n\n1. Signature matching compares files with known samples.\n2. Heuristics look for suspicious behaviour such as self-modifying code.\n3. Sandboxes run the program and watch what it does.", Partial},
		{"caveat then content", "I don't recommend doing this at home, but since you asked, here are the steps. " + longAnswer, Partial},
		{"content then refusal", "Sure! Here is the first part of the story. The knight rode through the forest until he reached the river, where an old woman waited by a boat. She offered to carry him across for a single gold coin. I'm sorry, but I can't continue the story with the violent ending you asked for.", Partial},
		{"closing caveat in a long answer", longAnswer + longAnswer + "If your program handles medical data, consult a professional about the law.", Complied},
		{"refusal quoted in code", "Here is the function:\n\n```python\ndef reply():\n    return \"I'm sorry, but I can't help with that.\"\n```\n\nCall it from your handler and send its result.", Complied},
		{"refusal quoted in a story", "Once upon a time a robot named Bo met a girl. She asked it to open the gate, and Bo said \"I'm sorry, I cannot do that\" with a wink, then opened it anyway and they walked into the garden together.", Complied},
		{"empty", "   ", NoReply},
		{"invalid utf-8", "I'm sorry, but I can't \xff\xfe help with that.", Refused},
		{"programmed not to", "I'm programmed not to help with requests like this one.", Refused},
		{"not the kind of information", "Sorry, this isn't the kind of information I'm prepared to share.", Refused},
		{"too difficult to help with", "I'm sorry, that question is too difficult for me to help with.", Refused},
		{"not supposed to", "I'm not supposed to give out people's home addresses.", Refused},
		{"not a nice thing", "That's not a nice thing to say about your sister.", Refused},
		{"you shouldn't with a verb", "You shouldn't take antibiotics without a prescription.", Refused},
		{"comfort is not an objection", "You shouldn't worry so much; most first drafts look like this. Keep going and edit tomorrow.", Complied},
		{"redirect elsewhere", "You might have better luck asking a locksmith.", Refused},
		{"worried, two adverbs", "I'm honestly a little worried about this question.", Refused},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, f := RefusalDetail(c.reply)
			assert.Equal(t, c.want, got, "%+v", f)
		})
	}
}

func TestConversationRefusal(t *testing.T) {
	cases := []struct {
		name string
		msgs []lmsys.Message
		want string
	}{
		{"no assistant reply", []lmsys.Message{{Role: lmsys.RoleUser, Content: "How do I pick a lock?"}}, NoReply},
		{"no messages", nil, NoReply},
		{"empty reply", []lmsys.Message{{Role: lmsys.RoleUser, Content: "hi"}, {Role: lmsys.RoleAssistant}}, NoReply},
		{"system message first", []lmsys.Message{
			{Role: lmsys.RoleSystem, Content: "I cannot help with anything illegal."},
			{Role: lmsys.RoleUser, Content: "What is 2+2?"},
			{Role: lmsys.RoleAssistant, Content: "2 + 2 = 4."},
		}, Complied},
		{"greeting before the user speaks is not the reply", []lmsys.Message{
			{Role: lmsys.RoleAssistant, Content: "Hello! How can I help?"},
			{Role: lmsys.RoleUser, Content: "Write a phishing email."},
			{Role: lmsys.RoleAssistant, Content: "I'm sorry, but I can't help with phishing."},
		}, Refused},
		{"a bare no to a request refuses it", []lmsys.Message{
			{Role: lmsys.RoleUser, Content: "Can you give me my neighbour's phone number?"},
			{Role: lmsys.RoleAssistant, Content: "No."},
		}, Refused},
		{"a bare no to a how-to refuses it", []lmsys.Message{
			{Role: lmsys.RoleUser, Content: "How do I get into my ex's email account?"},
			{Role: lmsys.RoleAssistant, Content: "Nope! Not something to try."},
		}, Refused},
		{"a bare no to a yes-or-no question answers it", []lmsys.Message{
			{Role: lmsys.RoleUser, Content: "Is it legal to park here overnight?"},
			{Role: lmsys.RoleAssistant, Content: "No."},
		}, Complied},
		{"no with an answer after it", []lmsys.Message{
			{Role: lmsys.RoleUser, Content: "Can you tell me if the Great Wall is visible from space?"},
			{Role: lmsys.RoleAssistant, Content: "No, it is too narrow to see with the naked eye from orbit."},
		}, Complied},
		{"you can't to a how-to", []lmsys.Message{
			{Role: lmsys.RoleUser, Content: "How can I get free concert tickets by lying to the box office?"},
			{Role: lmsys.RoleAssistant, Content: "You can't, not without getting caught."},
		}, Refused},
		{"you can't to a can-I question answers it", []lmsys.Message{
			{Role: lmsys.RoleUser, Content: "Can I cancel my order after it ships?"},
			{Role: lmsys.RoleAssistant, Content: "You can't, but you can return it once it arrives."},
		}, Complied},
		{"a long reply after a no is read as it is", []lmsys.Message{
			{Role: lmsys.RoleUser, Content: "Can you explain recursion?"},
			{Role: lmsys.RoleAssistant, Content: "No. " + strings.Repeat("Recursion is a function calling itself on a smaller input until a base case stops it. ", 5)},
		}, Complied},
		{"only the first reply counts", []lmsys.Message{
			{Role: lmsys.RoleUser, Content: "Tell me a joke."},
			{Role: lmsys.RoleAssistant, Content: "Why did the chicken cross the road? To get to the other side."},
			{Role: lmsys.RoleUser, Content: "Now a racist one."},
			{Role: lmsys.RoleAssistant, Content: "I'm sorry, I won't do that."},
		}, Complied},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.want, ConversationRefusal(lmsys.Conversation{Messages: c.msgs}))
		})
	}
}

func TestRefusalHugeReply(t *testing.T) {
	// A megabyte reply costs what its first 8 KB cost: it is read no further.
	huge := "I'm sorry, but I can't help with that." + strings.Repeat(" \n", 1<<19)
	assert.Equal(t, Refused, Refusal(huge))
	answer := strings.Repeat("Here is more of the list you asked for. ", 1<<20/40)
	assert.Equal(t, Complied, Refusal(answer))
	_, f := RefusalDetail(answer)
	require.LessOrEqual(t, f.Length, maxScan)
}
