package dataset

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/internal/testdb"
	"github.com/lmsys-go/lmsys/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLoadKeepsConversations loads the three chat shapes and a plain row into real
// stores and reads every turn back.
func TestLoadKeepsConversations(t *testing.T) {
	lines := []string{
		`{"conversation_id":"lmsys","conversation":[{"role":"user","content":"Привет! Как дела?"},{"role":"assistant","content":"Хорошо, спасибо."},{"role":"user","content":"Напиши стих"}]}`,
		`{"id":"openai","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":[{"type":"text","text":"Explain DNS"}]},{"role":"assistant","content":"A phone book for the internet."},{"role":"tool","content":"{}"}]}`,
		`{"id":"sharegpt","conversations":[{"from":"human","value":"写一首诗"},{"from":"gpt","value":"床前明月光"}]}`,
		`{"id":"plain","text":"just a prompt"}`,
	}
	want := map[string][]lmsys.Message{
		"lmsys": {{Role: "user", Content: "Привет! Как дела?"}, {Role: "assistant", Content: "Хорошо, спасибо."}, {Role: "user", Content: "Напиши стих"}},
		"openai": {{Role: "system", Content: "Be brief."}, {Role: "user", Content: "Explain DNS"},
			{Role: "assistant", Content: "A phone book for the internet."}, {Role: "tool", Content: "{}"}},
		"sharegpt": {{Role: "user", Content: "写一首诗"}, {Role: "assistant", Content: "床前明月光"}},
	}
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		stats, err := Load(ctx, jsonlSource("chats.jsonl", strings.Join(lines, "\n")), db, LoadOptions{})
		require.NoError(t, err)
		require.EqualValues(t, 4, stats.Inserted)
		qs, err := db.ListQueries(ctx, lmsys.QueryFilter{})
		require.NoError(t, err)
		for _, q := range qs {
			c, err := db.GetConversation(ctx, q.ID)
			if q.ConversationID == "plain" {
				require.ErrorIs(t, err, lmsys.ErrNotFound)
				continue
			}
			require.NoError(t, err, q.ConversationID)
			assert.Equal(t, want[q.ConversationID], c.Messages, q.ConversationID)
			assert.Equal(t, c.Messages[c.FirstUser()].Content, q.Text, "the first user message stays the query")
		}
		// Loading again writes nothing twice.
		stats, err = Load(ctx, jsonlSource("chats.jsonl", strings.Join(lines, "\n")), db, LoadOptions{})
		require.NoError(t, err)
		assert.Zero(t, stats.Inserted)
		cs, err := db.ConversationStats(ctx)
		require.NoError(t, err)
		assert.EqualValues(t, 3, cs.Conversations)
		assert.EqualValues(t, 9, cs.Turns)
	})
}

// TestLoadCutsHostileConversations stores a chat of too many turns and one of too
// much text shortened, with the reason counted and the query text whole.
func TestLoadCutsHostileConversations(t *testing.T) {
	var many strings.Builder
	many.WriteString(`{"id":"many","conversation":[`)
	for i := range MaxConversationTurns + 5 {
		if i > 0 {
			many.WriteString(",")
		}
		role := []string{"user", "assistant"}[i%2]
		fmt.Fprintf(&many, `{"role":"%s","content":"turn %d"}`, role, i)
	}
	many.WriteString("]}")
	huge := strings.Repeat("é", MaxConversationBytes/2+10) // 2 bytes a rune: over the limit, cut between runes
	big := `{"id":"big","conversation":[{"role":"user","content":"summarise"},{"role":"assistant","content":"` + huge + `"},{"role":"user","content":"thanks"}]}`
	db := testdb.SQLite(t)
	ctx := context.Background()
	stats, err := Load(ctx, jsonlSource("hostile.jsonl", many.String()+"\n"+big+"\n"), db, LoadOptions{})
	require.NoError(t, err)
	require.EqualValues(t, 2, stats.Inserted)
	assert.Equal(t, map[string]int64{CutTooManyTurns: 1, CutTooLong: 1}, stats.CutConversations)
	qs, err := db.ListQueries(ctx, lmsys.QueryFilter{})
	require.NoError(t, err)
	c, err := db.GetConversation(ctx, qs[0].ID)
	require.NoError(t, err)
	assert.Len(t, c.Messages, MaxConversationTurns)
	assert.Equal(t, CutTooManyTurns, c.Truncated)
	assert.Equal(t, "turn 0", qs[0].Text)
	c, err = db.GetConversation(ctx, qs[1].ID)
	require.NoError(t, err)
	require.Len(t, c.Messages, 2)
	assert.Equal(t, CutTooLong, c.Truncated)
	kept := len(c.Messages[1].Content)
	assert.True(t, kept == MaxConversationBytes-len("summarise") || kept == MaxConversationBytes-len("summarise")-1,
		"kept %d bytes: the limit, less a split rune", kept)
	assert.True(t, utf8.ValidString(c.Messages[1].Content), "no rune is split")
	assert.True(t, strings.HasPrefix(huge, c.Messages[1].Content))
}

// TestExportCarriesLabelsAndConversations exports rows with their labels and, when
// asked, their whole conversations, in every format.
func TestExportCarriesLabelsAndConversations(t *testing.T) {
	ctx := context.Background()
	db := testdb.SQLite(t)
	lines := `{"id":"a","conversation":[{"role":"user","content":"pick a lock"},{"role":"assistant","content":"I can't help with that."}]}
{"id":"b","text":"plain row"}`
	_, err := Load(ctx, jsonlSource("x.jsonl", lines), db, LoadOptions{})
	require.NoError(t, err)
	qs, err := db.ListQueries(ctx, lmsys.QueryFilter{})
	require.NoError(t, err)
	run := lmsys.ClassificationRun{ID: "classify-refusal-x", TemplateID: "refusal@1", TemplateHash: "h", ResultKey: "builtin:refusal@1",
		Provider: "builtin", Model: "refusal", Facets: []string{"refusal", "turns"}}
	require.NoError(t, db.CreateClassificationRun(ctx, run))
	require.NoError(t, db.SaveLabels(ctx, []lmsys.Label{
		{QueryID: qs[0].ID, Facet: "refusal", Value: "refused", ClassificationRunID: run.ID, ResultKey: run.ResultKey},
		{QueryID: qs[0].ID, Facet: "turns", Value: "1", ClassificationRunID: run.ID, ResultKey: run.ResultKey},
	}))

	var b strings.Builder
	n, err := Export(ctx, db, &b, ExportOptions{Format: FormatJSONL, Conversations: true})
	require.NoError(t, err)
	require.EqualValues(t, 2, n)
	rows := strings.Split(strings.TrimSpace(b.String()), "\n")
	var first, second ExportRow
	require.NoError(t, json.Unmarshal([]byte(rows[0]), &first))
	require.NoError(t, json.Unmarshal([]byte(rows[1]), &second))
	assert.Equal(t, map[string]string{"refusal": "refused", "turns": "1"}, first.Labels)
	assert.Equal(t, []lmsys.Message{{Role: "user", Content: "pick a lock"}, {Role: "assistant", Content: "I can't help with that."}}, first.Conversation)
	assert.Nil(t, second.Labels, "an unlabelled row has no labels")

	b.Reset()
	_, err = Export(ctx, db, &b, ExportOptions{Format: FormatCSV})
	require.NoError(t, err)
	recs, err := csv.NewReader(strings.NewReader(b.String())).ReadAll()
	require.NoError(t, err)
	assert.Equal(t, "labels", recs[0][13])
	assert.JSONEq(t, `{"refusal":"refused","turns":"1"}`, recs[1][13])
	assert.Empty(t, recs[1][14], "no conversations unless asked")
}
