//go:build ignore

// gen turns queries.tsv (the hand-written demo queries) into demo.jsonl, assigning
// each a deterministic conversation id, model and timestamp. Run it with
// `go generate ./dataset/demo` after editing queries.tsv.
//
// Timestamps fall in the eight weeks starting Monday 2026-01-05. Every topic is spread
// evenly over the weeks except TrendingTopic, whose count grows by one each week
// (1, 2, …, 8 queries), so trend detection has something to find.
package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"
)

const trendingTopic = "roleplay"

type row struct {
	ConversationID string `json:"conversation_id"`
	Text           string `json:"text"`
	Model          string `json:"model"`
	Language       string `json:"language"`
	Timestamp      string `json:"timestamp"`
	Topic          string `json:"topic"`
}

// models lists LMSYS-Chat-1M model names with a weight proportional to how often they appear.
var models = []struct {
	name   string
	weight int
}{
	{"vicuna-13b", 36}, {"koala-13b", 9}, {"llama-2-13b-chat", 10}, {"gpt-4", 8}, {"gpt-3.5-turbo", 8},
	{"claude-1", 6}, {"alpaca-13b", 6}, {"chatglm-6b", 6}, {"mpt-7b-chat", 4}, {"oasst-pythia-12b", 4}, {"palm-2", 3},
}

func main() {
	f, err := os.Open("queries.tsv")
	if err != nil {
		panic(err)
	}
	defer f.Close()
	out, err := os.Create("demo.jsonl")
	if err != nil {
		panic(err)
	}
	defer out.Close()
	w := bufio.NewWriter(out)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	base := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	perTopic := map[string]int{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	n := 0
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		parts := strings.SplitN(line, "\t", 3)
		if len(parts) != 3 {
			panic(fmt.Sprintf("bad line %q", line))
		}
		topic, lang, text := parts[0], parts[1], strings.ReplaceAll(parts[2], `\n`, "\n")
		h := sha256.Sum256([]byte(fmt.Sprintf("lmsys-go demo %d %s", n, text)))
		r := binary.LittleEndian.Uint64(h[8:16])
		i := perTopic[topic]
		perTopic[topic]++
		var week int
		if topic == trendingTopic {
			// triangular numbers: week w holds w+1 queries.
			for c := 0; week < 7 && c+week+1 <= i; week++ {
				c += week + 1
			}
		} else {
			week = (i + len(topic)) % 8
		}
		ts := base.Add(time.Duration(week)*7*24*time.Hour + time.Duration(r%(7*24*3600))*time.Second)
		total := 0
		for _, m := range models {
			total += m.weight
		}
		pick := int(binary.LittleEndian.Uint64(h[16:24]) % uint64(total))
		model := ""
		for _, m := range models {
			if pick < m.weight {
				model = m.name
				break
			}
			pick -= m.weight
		}
		if err := enc.Encode(row{
			ConversationID: hex.EncodeToString(h[:16]),
			Text:           text,
			Model:          model,
			Language:       lang,
			Timestamp:      ts.Format(time.RFC3339),
			Topic:          topic,
		}); err != nil {
			panic(err)
		}
		n++
	}
	if err := sc.Err(); err != nil {
		panic(err)
	}
	if err := w.Flush(); err != nil {
		panic(err)
	}
}
