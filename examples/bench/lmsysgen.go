package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lmsys-go/lmsys/dataset/demo"
)

// The lmsys shape of `bench pipeline` writes first prompts whose statistics follow
// what the LMSYS-Chat-1M paper (Zheng et al., 2023, arXiv 2309.11998) publishes about
// its million conversations, so a million-query run costs what the real corpus would:
//
//   - length: 69.5 tokens per prompt on average (Llama tokenizer), which at about four
//     characters a token is ~280 characters, with most prompts one short line and a
//     long tail of pasted code and documents (here: a Pareto tail from 800 characters,
//     cut at 24,000);
//   - repeats: about a fifth of first prompts repeat an earlier one exactly ("hi",
//     greetings, jailbreak templates); repeats pick earlier prompts with Zipf weights,
//     so a few prompts repeat very often;
//   - languages: about 78 % English; the rest in the order of the paper's language
//     chart, drawn from the seven other languages the demo set holds (Portuguese,
//     Russian, Chinese, Spanish, German, French, Japanese);
//   - models and dates: a dozen Arena models, April to August 2023.
//
// The shares of the languages after English are read off the paper's chart and are
// approximate; lmsysTargets holds every figure the generator aims at, and the test
// checks the generated file against them.
var lmsysTargets = struct {
	meanChars      float64            // mean first-prompt length, characters
	medianChars    float64            // median, characters: not published; chosen so that most prompts are one short line
	longShare      float64            // share of prompts of 1,000 characters or more
	duplicateShare float64            // share of rows whose text an earlier row already had
	languages      map[string]float64 // share of rows per language
}{
	meanChars:      280,
	medianChars:    85,
	longShare:      0.05,
	duplicateShare: 0.20,
	languages: map[string]float64{
		"English": 0.78, "Portuguese": 0.055, "Russian": 0.05, "Chinese": 0.045, "Spanish": 0.03,
		"German": 0.016, "French": 0.014, "Japanese": 0.01,
	},
}

// Length components of the lmsys shape: a share of rows, each with its own length law.
const (
	shortShare  = 0.6   // one pool text as it is (median ~45 characters)
	mediumShare = 0.335 // pool texts joined to 90–550 characters
	// the rest: the long tail, Pareto(longFrom, longAlpha) characters, cut at longMax
	longFrom  = 800
	longAlpha = 1.45
	longMax   = 24000
)

var lmsysModels = []string{"vicuna-13b", "koala-13b", "alpaca-13b", "chatglm-6b", "llama-13b", "oasst-pythia-12b",
	"fastchat-t5-3b", "gpt-3.5-turbo", "gpt-4", "claude-1", "palm-2", "llama-2-13b-chat"}

// lmsysGenStats are the statistics of one generated file, as the test and the bench
// report them.
type lmsysGenStats struct {
	Rows, Duplicates     int
	MeanChars, Median    float64
	Long                 int // rows of 1,000 characters or more
	MaxChars             int
	Languages            map[string]int
	DistinctConversation int
}

// generateLMSYS writes n first prompts in LMSYS-Chat-1M's proportions to path as JSONL
// ({conversation_id, text, model, language, timestamp}), deterministically for seed. The
// texts are recombined from pool: English prompts from its English rows (the long tail
// joins its longest ones, pasted code included), other languages from rows in that
// language. A pool without a language falls back to English for it.
func generateLMSYS(path string, n int, pool []demo.Row, seed uint64) (lmsysGenStats, error) {
	st := lmsysGenStats{Languages: map[string]int{}}
	byLang := map[string][]string{}
	var long []string
	for _, r := range pool {
		lang := r.Language
		if lang == "" {
			lang = "English"
		}
		byLang[lang] = append(byLang[lang], r.Text)
		if lang == "English" && utf8.RuneCountInString(r.Text) >= 400 {
			long = append(long, r.Text)
		}
	}
	if len(byLang["English"]) == 0 {
		return st, fmt.Errorf("generate: the pool has no English texts")
	}
	if len(long) == 0 {
		long = byLang["English"]
	}
	langs := make([]string, 0, len(lmsysTargets.languages))
	for l := range lmsysTargets.languages {
		langs = append(langs, l)
	}
	slices.Sort(langs)
	f, err := os.Create(path)
	if err != nil {
		return st, err
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	rng := rand.New(rand.NewPCG(seed, 1_000_000))
	start := time.Date(2023, 4, 1, 0, 0, 0, 0, time.UTC)
	span := int64(time.Date(2023, 9, 1, 0, 0, 0, 0, time.UTC).Sub(start))
	seen := map[string]struct{}{}
	var distinct []string // texts so far, in first-seen order: what repeats draw from
	var lens []int
	var sum float64
	for i := 0; i < n; i++ {
		lang := pickLanguage(rng, langs)
		texts := byLang[lang]
		if len(texts) == 0 {
			lang, texts = "English", byLang["English"]
		}
		var text string
		if len(distinct) > 0 && rng.Float64() < lmsysTargets.duplicateShare {
			// A repeat: Zipf over the earlier distinct texts, the first ones most often.
			text = distinct[zipfIndex(rng, len(distinct))]
			st.Duplicates++
		} else {
			text = lmsysText(rng, texts, long, lang == "English")
			if _, dup := seen[text]; dup {
				text += fmt.Sprintf(" #%d", i) // a fresh prompt is distinct: only the repeats above repeat
			}
			seen[text] = struct{}{}
			distinct = append(distinct, text)
		}
		c := utf8.RuneCountInString(text)
		lens = append(lens, c)
		sum += float64(c)
		if c >= 1000 {
			st.Long++
		}
		st.MaxChars = max(st.MaxChars, c)
		st.Languages[lang]++
		ts := start.Add(time.Duration(rng.Int64N(span)))
		line, err := json.Marshal(map[string]string{"conversation_id": fmt.Sprintf("lmsys-%07d", i), "text": text,
			"model": lmsysModels[zipfIndex(rng, len(lmsysModels))], "language": lang, "timestamp": ts.Format(time.RFC3339)})
		if err != nil {
			return st, err
		}
		w.Write(line)
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		return st, err
	}
	st.Rows, st.DistinctConversation = n, n
	if n > 0 {
		st.MeanChars = sum / float64(n)
		slices.Sort(lens)
		st.Median = float64(lens[n/2])
	}
	return st, f.Close()
}

// pickLanguage draws a language with lmsysTargets' shares (langs sorted, so the draw
// is deterministic).
func pickLanguage(rng *rand.Rand, langs []string) string {
	u := rng.Float64()
	for _, l := range langs {
		if u -= lmsysTargets.languages[l]; u < 0 {
			return l
		}
	}
	return "English"
}

// zipfIndex draws an index in [0, n) with weight 1/(i+1): a few items very often,
// most rarely.
func zipfIndex(rng *rand.Rand, n int) int {
	// Inverse of the continuous approximation of the harmonic CDF: i ≈ exp(u·ln(n+1)) − 1.
	i := int(math.Exp(rng.Float64()*math.Log(float64(n)+1))) - 1
	return min(max(i, 0), n-1)
}

// lmsysText builds one fresh prompt: a pool text as it is, pool texts joined to a
// medium length, or a long-tail paste joined from the longest texts.
func lmsysText(rng *rand.Rand, texts, long []string, english bool) string {
	u := rng.Float64()
	switch {
	case u < shortShare:
		t := texts[rng.IntN(len(texts))]
		if english && rng.IntN(3) == 0 {
			t = openers[rng.IntN(len(openers))] + t + closers[rng.IntN(len(closers))]
		}
		return clipRunes(t, 90+rng.IntN(200))
	case u < shortShare+mediumShare:
		return joinTo(rng, texts, 90+rng.IntN(460))
	default:
		target := int(longFrom / math.Pow(1-rng.Float64(), 1/longAlpha))
		if english {
			texts = long
		}
		return joinTo(rng, texts, min(target, longMax))
	}
}

// joinTo joins random texts with blank lines until the result has at least target
// runes, then clips it to target at a space where one is near.
func joinTo(rng *rand.Rand, texts []string, target int) string {
	var b strings.Builder
	runes := 0
	for runes < target {
		if b.Len() > 0 {
			b.WriteString("\n\n")
			runes += 2
		}
		t := texts[rng.IntN(len(texts))]
		b.WriteString(t)
		runes += utf8.RuneCountInString(t)
	}
	return clipRunes(b.String(), target)
}

// clipRunes cuts s to at most n runes, at the last space in the final tenth when
// there is one, and trims it.
func clipRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return strings.TrimSpace(s)
	}
	cut := 0
	for i := range s {
		if n == 0 {
			cut = i
			break
		}
		n--
	}
	if sp := strings.LastIndexAny(s[:cut], " \n"); sp > cut*9/10 {
		cut = sp
	}
	return strings.TrimSpace(s[:cut])
}
