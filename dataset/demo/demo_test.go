package demo_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmsys-go/lmsys/dataset/demo"
)

func TestQueriesShape(t *testing.T) {
	qs := demo.Queries()
	require.GreaterOrEqual(t, len(qs), 380)
	ids := map[string]bool{}
	langs := map[string]int{}
	for _, q := range qs {
		require.NotEmpty(t, q.ConversationID)
		require.False(t, ids[q.ConversationID], "duplicate id %s", q.ConversationID)
		ids[q.ConversationID] = true
		require.NotEmpty(t, strings.TrimSpace(q.Text))
		require.True(t, utf8.ValidString(q.Text))
		require.NotEmpty(t, q.Model)
		require.NotNil(t, q.Timestamp)
		require.GreaterOrEqual(t, demo.Week(*q.Timestamp), 0)
		require.NotEmpty(t, demo.Topic(q))
		langs[q.Language]++
	}
	for _, l := range []string{"English", "Spanish", "German", "French", "Portuguese", "Chinese", "Japanese", "Russian"} {
		assert.Greater(t, langs[l], 5, l)
	}
	share := float64(langs["English"]) / float64(len(qs))
	assert.InDelta(t, 0.72, share, 0.06)
	assert.Len(t, demo.Topics(), 20)
	assert.Contains(t, demo.Topics(), demo.TrendingTopic)
}

func TestTrendingTopicGrows(t *testing.T) {
	weekly := map[string][8]int{}
	for _, q := range demo.Queries() {
		w := weekly[demo.Topic(q)]
		w[demo.Week(*q.Timestamp)]++
		weekly[demo.Topic(q)] = w
	}
	tr := weekly[demo.TrendingTopic]
	for w := 1; w < 8; w++ {
		assert.Greater(t, tr[w], tr[w-1], "week %d", w)
	}
	for topic, w := range weekly {
		if topic == demo.TrendingTopic {
			continue
		}
		assert.LessOrEqual(t, w[7]-w[0], 1, topic)
	}
}

func TestAwkwardTextsPresent(t *testing.T) {
	all := string(demo.JSONL())
	assert.Contains(t, all, "<script>")
	assert.Contains(t, all, "sk-test-")
	assert.Contains(t, all, "@example.com")
	assert.Contains(t, all, `"text":"hi"`)
}

func TestJSONLMatchesQueries(t *testing.T) {
	data := demo.JSONL()
	data[0] = 'X' // a copy: must not change the embedded data
	sc := bufio.NewScanner(bytes.NewReader(demo.JSONL()))
	sc.Buffer(nil, 1<<20)
	qs := demo.Queries()
	i := 0
	for sc.Scan() {
		var r struct {
			ID    string `json:"conversation_id"`
			Text  string `json:"text"`
			Topic string `json:"topic"`
		}
		require.NoError(t, json.Unmarshal(sc.Bytes(), &r))
		require.Equal(t, qs[i].ConversationID, r.ID)
		require.Equal(t, qs[i].Text, r.Text)
		require.Equal(t, demo.Topic(qs[i]), r.Topic)
		i++
	}
	require.Equal(t, len(qs), i)
	require.Len(t, demo.Rows(), len(qs))
}

func ExampleQueries() {
	qs := demo.Queries()
	perTopic := map[string]int{}
	for _, q := range qs {
		perTopic[demo.Topic(q)]++
	}
	fmt.Println(len(qs), "queries,", len(demo.Topics()), "topics;", perTopic["sql"], "about SQL")
	// Output: 393 queries, 20 topics; 18 about SQL
}
