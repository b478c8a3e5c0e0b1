// Package demo bundles a small, hand-written set of first user queries shaped like
// LMSYS-Chat-1M, so examples, tests and the quickstart run offline.
//
// The set holds 393 queries over 20 topics typical of LLM chat logs (coding help,
// SQL, stack traces, stories, poems, e-mails, translation, maths homework, roleplay,
// jailbreak attempts, marketing, health, travel, recipes, summarisation, ELI5 science,
// résumés, legal questions and bare greetings, duplicates included) in eight languages
// (about 70% English; Spanish, German, French, Portuguese, Chinese, Japanese and
// Russian written in those languages). Every query carries an LMSYS model name, a
// language named the way LMSYS names it, a timestamp in the eight weeks starting
// Monday 2026-01-05, and its topic label in Metadata["topic"], so tests can measure
// how well clustering recovers the topics. The TrendingTopic grows week over week
// (1, 2, …, 8 queries); every other topic is spread evenly over the weeks.
//
// A few texts are deliberately awkward: HTML and <script> tags, an e-mail address and
// a fake API key beginning "sk-test-", for escaping and scrubbing tests.
//
// The texts were written for this project (see queries.tsv); demo.jsonl is generated
// from them by gen.go.
package demo

import (
	"bufio"
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/lmsys-go/lmsys"
)

//go:generate go run gen.go

//go:embed demo.jsonl
var demoJSONL []byte

// DatasetName is the dataset name the demo queries are loaded under.
const DatasetName = "demo"

// TrendingTopic is the topic whose weekly count grows steadily across the eight weeks.
const TrendingTopic = "roleplay"

// Start is the beginning of the first of the eight weeks the timestamps fall in.
var Start = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)

// Row is one line of demo.jsonl.
type Row struct {
	ConversationID string    `json:"conversation_id"`
	Text           string    `json:"text"`
	Model          string    `json:"model"`
	Language       string    `json:"language"`
	Timestamp      time.Time `json:"timestamp"`
	Topic          string    `json:"topic"`
}

var (
	parseOnce sync.Once
	rows      []Row
)

func parsed() []Row {
	parseOnce.Do(func() {
		sc := bufio.NewScanner(bytes.NewReader(demoJSONL))
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for line := 1; sc.Scan(); line++ {
			var r Row
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				// The file is generated and embedded; a bad line is a build mistake.
				panic(fmt.Sprintf("demo.jsonl line %d: %v", line, err))
			}
			rows = append(rows, r)
		}
	})
	return rows
}

// JSONL returns the demo set as JSON Lines, one object per query with the fields
// conversation_id, text, model, language, timestamp (RFC 3339) and topic. The
// returned slice is a copy the caller may modify.
func JSONL() []byte {
	return bytes.Clone(demoJSONL)
}

// Rows returns the demo set's rows in file order.
func Rows() []Row {
	return append([]Row(nil), parsed()...)
}

// Queries returns the demo set as queries in file order: ConversationID, Text, Model,
// Language and Timestamp are set and Metadata["topic"] holds the topic label; ID and
// DatasetID are zero until a store assigns them.
func Queries() []lmsys.Query {
	rs := parsed()
	qs := make([]lmsys.Query, len(rs))
	for i, r := range rs {
		ts := r.Timestamp
		qs[i] = lmsys.Query{
			ConversationID: r.ConversationID,
			Text:           r.Text,
			Model:          r.Model,
			Language:       r.Language,
			Timestamp:      &ts,
			Metadata:       map[string]any{"topic": r.Topic},
		}
	}
	return qs
}

// Topics returns the distinct topic labels, sorted.
func Topics() []string {
	seen := map[string]bool{}
	var ts []string
	for _, r := range parsed() {
		if !seen[r.Topic] {
			seen[r.Topic] = true
			ts = append(ts, r.Topic)
		}
	}
	sort.Strings(ts)
	return ts
}

// Topic returns the topic label of a query made by Queries, or "" when it has none.
func Topic(q lmsys.Query) string {
	t, _ := q.Metadata["topic"].(string)
	return t
}

// Week returns which of the eight demo weeks (0–7) t falls in; -1 when outside them.
func Week(t time.Time) int {
	d := t.Sub(Start)
	if d < 0 || d >= 8*7*24*time.Hour {
		return -1
	}
	return int(d / (7 * 24 * time.Hour))
}
