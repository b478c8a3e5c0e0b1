// Package themes holds a small multilingual lexicon of the broad kinds of request
// people make of a chat assistant (coding, writing, translation, maths, health, …).
// The offline hierarchy names a parent whose children share no phrase by the kinds
// its queries fall into ("Coding and writing requests"), where naming it after its
// largest children would hide that it mixes unrelated themes.
//
// A kind is recognised by cue words in the languages LMSYS-Chat-1M holds most of
// (English, Chinese, Russian, Spanish, Portuguese, German, French, Italian, Japanese,
// Korean). A cue ending in "*" matches every word that starts with it; the others
// match whole words, or, in scripts written without spaces, any word holding them.
package themes

import (
	"sort"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/lmsys-go/lmsys/classify"
	"github.com/lmsys-go/lmsys/internal/segment"
)

// varied names a group of requests on unrelated topics in one language, in that
// language, by ISO 639-1 code.
var varied = map[string]string{
	"es": "Peticiones variadas en español",
	"pt": "Pedidos variados em português",
	"fr": "Demandes variées en français",
	"de": "Gemischte Anfragen auf Deutsch",
	"it": "Richieste varie in italiano",
	"nl": "Gemengde verzoeken in het Nederlands",
	"ru": "Запросы на русском языке на разные темы",
	"uk": "Запити українською на різні теми",
	"zh": "各类中文请求",
	"ja": "日本語のさまざまな依頼",
	"ko": "다양한 한국어 요청",
	"en": "Mixed requests",
}

// LanguageTitle names a group of requests on unrelated topics by the languages it is
// written in (codes, largest first, as classify.DetectLanguage returns them): in that
// language when there is one and it has a name here ("Peticiones variadas en
// español"), else in English ("Mixed requests in Chinese and Japanese"). It returns
// "" for no codes.
func LanguageTitle(codes ...string) string {
	if len(codes) == 0 {
		return ""
	}
	if len(codes) == 1 {
		if t, ok := varied[codes[0]]; ok {
			return t
		}
	}
	names := make([]string, len(codes))
	for i, c := range codes {
		names[i] = classify.LanguageName(c)
	}
	return "Mixed requests in " + List(names...)
}

// List joins items as an English list: "a", "a and b", "a, b and c".
func List(items ...string) string {
	if len(items) < 2 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

// Names returns the names of the kinds ks (indexes into All) as they read in a list
// that starts a title: the first capitalised, the others lower-case ("Coding",
// "writing").
func Names(ks ...int) []string {
	names := make([]string, len(ks))
	for i, k := range ks {
		names[i] = All[k].Name
		if i > 0 {
			names[i] = strings.ToLower(names[i])
		}
	}
	return names
}

// Theme is one broad kind of request.
type Theme struct {
	// Name is the kind in English, as it reads before "requests": "Coding".
	Name string
	// Alone, when set, names a group of this kind only, where Name + " requests"
	// would not read ("Chit-chat and test messages").
	Alone string
	cues  string
}

// Title names a group of requests of the kinds ks (indexes into All, largest
// first): "Coding requests", "Writing and coding requests", "Math, health and
// cooking requests".
func Title(ks ...int) string {
	if len(ks) == 1 && All[ks[0]].Alone != "" {
		return All[ks[0]].Alone
	}
	if len(ks) == 0 {
		return ""
	}
	return List(Names(ks...)...) + " requests"
}

// All lists the kinds in a fixed order; indexes into it are what Count and Shares
// speak of.
var All = []Theme{
	{"Coding", "", `python* javascript* typescript java golang rust c++ c# sql* html css react* node.js nodejs code
		coding coder codes program programming programmer programs script scripts scripting function
		functions bug* debug* error errors exception* compile* regex* algorithm* api apis json xml yaml
		docker* kubernetes linux bash shell git github variable* module* import library libraries framework*
		database* django flask pandas numpy dataframe* array* string strings loop loops class classes method
		methods backend frontend código codigo función funcion fonction funktion programm* programación
		programmation код кода коде программ* функци* скрипт* ошибк* 代码 编程 函数 程序 脚本 报错 コード プログラム 関数 エラー 코드*
		프로그램* 함수*`},
	{"Writing", "", `story stories poem* poetry song songs lyric* novel* essay* article* blog* haiku* fiction* chapter*
		screenplay* limerick* rhyme* verse* tale tales narrative* creative sonnet* cuento* historia poema*
		poesía ensayo* canción relato* poème* poésie histoire conte nouvelle gedicht* geschichte* erzählung*
		aufsatz poesia racconto* conto* рассказ* стих* поэм* сказк* истори* сочинени* эссе 诗 故事 小说 作文 歌词 文章
		小説 物語 詩 歌詞 이야기* 소설*`},
	{"Email", "", `email* e-mail* mail letter letters message messages reply replies memo* invitation* apology*
		resignation correo* carta* mensaje* lettre* courriel* briefe nachricht* e-mails lettera* messaggio*
		mensagem* письм* сообщени* 邮件 信件 回复 メール 手紙 返信 메일* 편지*`},
	{"Translation", "", `translat* translator* grammar* grammatical synonym* antonym* spelling meaning meanings idiom*
		pronounc* vocabulary paraphras* rephras* proofread* traduc* tradu* traduire traduction übersetz*
		grammatik bedeutung перевод* перевед* переве* грамматик* значени* 翻译 翻訳 訳し 意思 语法 文法 번역* 문법*`},
	{"Math", "", `math maths mathematic* equation* solve solving calculat* integral* derivative* algebra* geometry*
		probability* statistic* theorem* proof* arithmetic* matrix matrices fraction* percent* multiply*
		ecuación* ecuacion* matemátic* équation* mathématique* gleichung* mathemat* berechne* уравнен*
		математ* задач* вычисл* 数学 方程 计算 求解 積分 計算 方程式 수학* 방정식*`},
	{"Health", "", `health* healthy doctor* symptom* pain painful medic* medicine* disease* illness* diet* sleep*
		insomnia vaccine* vaccin* blood anxiety depress* therapy* therapist* headache* fever* injury*
		cancer* diabetes* pregnan* allergy* allergies melatonin vitamin* nutrition* workout* exercise*
		fitness salud dolor* médico* enfermedad* santé douleur* maladie* médecin* gesundheit schmerz*
		krankheit* arzt ärztin saúde doença* dor здоров* боль* болез* болях болит врач* лечени* симптом* 健康
		医生 疼痛 症状 病気 痛み 医者 건강* 병원*`},
	{"Cooking", "", `recipe* cook cooking cooked bake baking chicken food foods meal* dinner* lunch* breakfast* protein*
		vegan* vegetarian* dessert* cake* soup* sauce* pasta* pizza* ingredient* kitchen* receta* cocina*
		comida* recette* cuisine* repas rezept* kochen essen ricetta* cucina* receita* comida рецепт* готов*
		блюд* еда еды 菜谱 做饭 食谱 料理 レシピ 요리* 레시피*`},
	{"Travel", "", `travel* trip trips visit visiting itinerar* hotel* flight* vacation* holiday* tourist* tourism
		sightseeing destination* passport* visa beach* viaje* viajar turismo voyage* vacances reise* urlaub
		viaggio* viagem* путешеств* поездк* отпуск* туризм* 旅行 旅游 旅 観光 여행*`},
	{"Career", "", `job jobs resume* résumé* interview* career* salary* hiring hire recruit* linkedin boss employer*
		employee* cv internship* promotion* coworker* colleague* workplace* empleo* trabajo* entrevista*
		currículum curriculum emploi* carrière* entretien* bewerbung* lebenslauf vorstellungsgespräch*
		karriere lavoro* emprego резюме работ* собеседовани* ваканси* карьер* 工作 简历 面试 求职 仕事 履歴書 面接 취업* 이력서*
		면접*`},
	{"Business", "", `business* marketing market markets product* sales startup* brand* branding customer* client* seo
		strategy* company companies revenue* pitch* advertis* slogan* ecommerce e-commerce entrepreneur*
		investor* negocio* empresa* mercado* entreprise* unternehmen* firma* azienda* бизнес* маркетинг*
		компани* продаж* клиент* 营销 公司 产品 商业 ビジネス マーケティング 会社 비즈니스* 마케팅*`},
	{"Roleplay", "", `roleplay* role-play* pretend* game games gaming rpg dungeon* fantasy* pirate* wizard* dragon*
		adventure* quest* simulate* simulation* character characters juego* jeu jeux spiel* gioco* jogo*
		игр* ролев* персонаж* 游戏 角色 扮演 ゲーム キャラクター 게임* 캐릭터*`},
	{"Science", "", `science* scientific physics* chemistry* chemical* biology* biological* quantum* climate* planet*
		universe* evolution* atom* molecule* energy* gravity* astronomy* eli5 explain* explanation* ciencia*
		física química* biología* explica* science physique chimie wissenschaft* physik* chemie* erklär*
		наук* физик* хими* биолог* объясн* 科学 物理 化学 生物 解释 説明 과학* 물리*`},
	{"Legal", "", `law laws legal* lawyer* attorney* contract* landlord* tenant* rent lease* court* sue lawsuit*
		copyright* divorce* abogado* ley legal contrato* alquiler avocat* loi contrat* loyer vermieter*
		miete* mieter* anwalt* gesetz* vertrag* kündigung* avvocato* advogado* закон* юрист* суд* договор*
		аренд* 法律 律师 合同 法的 弁護士 契約 법률* 변호사*`},
	{"Education", "", `learn learning study studying student* school* teacher* teaching exam* homework* course* lesson*
		university* college* tutor* curriculum* escuela* estudiar* estudiante* aprender école* étudiant*
		apprendre cours schule* lernen* studium* lehrer* scuola* studiare* escola* учеб* учит* школ*
		студент* экзамен* урок* 学习 学校 学生 考试 老师 勉強 試験 공부* 학교* 학생*`},
	{"Finance", "", `money invest* stock stocks budget* tax taxes bank* loan* crypto* bitcoin* finance* financial*
		mortgage* saving savings retirement* dinero inversión* impuesto* banco* argent investir impôt*
		banque* geld investier* steuer* aktie* деньг* инвест* налог* банк* кредит* 投资 股票 理财 金融 投資 株 お金 투자*
		주식*`},
	{"Relationships", "", `relationship* girlfriend* boyfriend* dating love marriage* married wedding* partner husband* wife
		breakup* crush friendship* friend friends family parent* parents amor novia* novio* pareja amour
		copine copain beziehung* freundin* freund liebe отношени* девушк* парн* любов* 恋爱 女朋友 男朋友 彼女 彼氏 恋愛
		연애* 여자친구*`},
	{"Tech support", "", `computer* laptop* windows iphone* android* smartphone* phone* software wifi wi-fi router* printer*
		install* installing browser* chrome excel spreadsheet* powerpoint outlook password* keyboard*
		monitor ordenador* computadora* ordinateur* logiciel* computer rechner handy* компьютер* ноутбук*
		телефон* установ* 电脑 手机 软件 パソコン スマホ 컴퓨터*`},
	{"Chit-chat", "Chit-chat and test messages", `hi hello hey hiya howdy greetings yo sup test testing thanks thank morning hola buenas saludos hallo
		moin bonjour salut coucou ciao olá oi привет здравствуй* приветствую спасибо тест 你好 您好 嗨 谢谢 こんにちは
		こんばんは おはよう ありがとう 안녕*`},
}

var (
	once   sync.Once
	exact  map[string][]int
	prefix map[string][]int
	joined []struct {
		cue   string
		theme int
	} // cues of scripts without spaces, matched inside words
	maxPrefix int
)

func load() {
	exact = map[string][]int{}
	prefix = map[string][]int{}
	for ti, t := range All {
		for _, c := range strings.Fields(t.cues) {
			c = strings.ToLower(c)
			if p, ok := strings.CutSuffix(c, "*"); ok {
				prefix[p] = appendOnce(prefix[p], ti)
				maxPrefix = max(maxPrefix, utf8.RuneCountInString(p))
				continue
			}
			if r, _ := utf8.DecodeRuneInString(c); segment.NoSpaces(r) {
				joined = append(joined, struct {
					cue   string
					theme int
				}{c, ti})
			}
			exact[c] = appendOnce(exact[c], ti)
		}
	}
}

func appendOnce(s []int, v int) []int {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}

// Of appends to dst the indexes into All of the kinds the text holds a cue of, each
// once, in the order All lists them, and returns the extended slice.
func Of(dst []int, text string) []int {
	once.Do(load)
	var seen [32]bool
	var ws []segment.Word
	ws = segment.Words(ws, text)
	mark := func(ts []int) {
		for _, t := range ts {
			seen[t] = true
		}
	}
	for _, w := range ws {
		n := w.Norm
		if n == "" {
			continue
		}
		mark(exact[n])
		if r, _ := utf8.DecodeRuneInString(n); segment.NoSpaces(r) {
			for _, j := range joined {
				if strings.Contains(n, j.cue) {
					seen[j.theme] = true
				}
			}
			continue
		}
		// Every prefix of the word from two letters on, up to the longest cue.
		i, runes := 0, 0
		for i < len(n) && runes < maxPrefix {
			_, size := utf8.DecodeRuneInString(n[i:])
			i += size
			runes++
			if runes >= 2 {
				mark(prefix[n[:i]])
			}
		}
	}
	for t := range All {
		if seen[t] {
			dst = append(dst, t)
		}
	}
	return dst
}

// Shares returns, for each kind of All, the share of texts that hold a cue of it.
// A text may count for several kinds. It returns nil for no texts.
func Shares(texts []string) []float64 {
	if len(texts) == 0 {
		return nil
	}
	out := make([]float64, len(All))
	var ts []int
	for _, t := range texts {
		ts = Of(ts[:0], t)
		for _, k := range ts {
			out[k]++
		}
	}
	for i := range out {
		out[i] /= float64(len(texts))
	}
	return out
}

// Languages returns the share of texts written in each language, by the codes
// classify.DetectLanguage returns, reading at most limit of them (all when limit
// is 0 or less). Texts with no letters to go by are left out of the shares; it
// returns nil when none is left.
func Languages(texts []string, limit int) map[string]float64 {
	if limit > 0 && len(texts) > limit {
		texts = texts[:limit]
	}
	out := map[string]float64{}
	n := 0
	for _, t := range texts {
		code := classify.DetectLanguage(t)
		if code == classify.Undetermined {
			continue
		}
		out[code]++
		n++
	}
	if n == 0 {
		return nil
	}
	for k := range out {
		out[k] /= float64(n)
	}
	return out
}

// Ranked returns the codes of shares whose share is at least floor, largest first
// (ties by code), at most max of them.
func Ranked(shares map[string]float64, floor float64, max int) []string {
	var out []string
	for k, v := range shares {
		if v >= floor {
			out = append(out, k)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if shares[out[i]] != shares[out[j]] {
			return shares[out[i]] > shares[out[j]]
		}
		return out[i] < out[j]
	})
	if len(out) > max {
		out = out[:max]
	}
	return out
}

// Top returns the indexes into All of the kinds whose share is at least floor,
// largest first, at most max of them.
func Top(shares []float64, floor float64, max int) []int {
	var out []int
	for k, v := range shares {
		if v >= floor && v > 0 {
			out = append(out, k)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return shares[out[i]] > shares[out[j]] })
	if len(out) > max {
		out = out[:max]
	}
	return out
}
