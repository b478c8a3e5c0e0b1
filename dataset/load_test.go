package dataset

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/internal/testdb"
	"github.com/lmsys-go/lmsys/store"
)

func jsonlSource(label, data string) *ReaderSource {
	return &ReaderSource{Label: label, Reader: strings.NewReader(data)}
}

// messyJSONL has one row of each kind Load must handle.
const messyJSONL = `{"id":"1","text":"first query","model":"gpt-4","language":"English"}
{"id":"2","text":"   "}
not json at all
{"id":"3","conversation":[{"role":"assistant","content":"no user here"}]}
{"id":"4","text":"bad utf8 ` + "\xff\xfe" + ` here"}
{"text":"hi"}
{"text":"hi"}
{"id":"1","text":"duplicate id in the file"}
{"id":"5","text":"","model":"x"}
{"id":"6","text":"last one","timestamp":"2026-01-05"}
`

func TestLoadCountsAndSkips(t *testing.T) {
	ctx := context.Background()
	st := newMemStore()
	var reports []lmsys.Progress
	stats, err := Load(ctx, jsonlSource("messy.jsonl", messyJSONL), st, LoadOptions{DatasetName: "messy", BatchSize: 2,
		Progress: func(p lmsys.Progress) { reports = append(reports, p) }})
	require.NoError(t, err)
	assert.Equal(t, int64(10), stats.Rows)
	assert.Equal(t, int64(6), stats.Queries)
	assert.Equal(t, int64(5), stats.Inserted)
	assert.Equal(t, int64(1), stats.Existing, "the second row with id 1 is ignored")
	assert.Equal(t, map[string]int64{ReasonEmpty: 2, ReasonMalformed: 1, ReasonNoUserTurn: 1}, stats.Skipped)
	assert.Equal(t, int64(4), stats.SkippedTotal())
	assert.Equal(t, int64(1), stats.Repaired)
	assert.Equal(t, int64(2), stats.DerivedIDs)
	assert.Greater(t, stats.Seconds, 0.0)
	assert.Equal(t, []string{"first query", "bad utf8 \uFFFD here", "hi", "hi", "last one"}, st.texts())
	assert.Equal(t, []int{2, 2, 2}, st.batches)
	require.NotEmpty(t, reports)
	assert.Equal(t, int64(6), reports[len(reports)-1].Done)
	q := st.queries[2]
	assert.Equal(t, DeriveID("messy", "hi"), q.ConversationID, "the first id-less 'hi' gets DeriveID's id")
	assert.NotEqual(t, q.ConversationID, st.queries[3].ConversationID, "repeated texts stay separate queries")
	assert.Len(t, q.ConversationID, 32)

	// Loading again inserts nothing and says so.
	stats, err = Load(ctx, jsonlSource("messy.jsonl", messyJSONL), st, LoadOptions{DatasetName: "messy"})
	require.NoError(t, err)
	assert.Equal(t, int64(0), stats.Inserted)
	assert.Equal(t, int64(6), stats.Existing)
	assert.Len(t, st.queries, 5)
}

func TestLoadStrictNamesTheRow(t *testing.T) {
	for _, tc := range []struct{ data, want string }{
		{"{\"text\":\"ok\"}\n{\"text\":\"ok2\"}\n{broken\n", "rows.jsonl:3: malformed row"},
		{"{\"text\":\"ok\"}\n{\"text\":\"  \"}\n", "rows.jsonl:2: empty text"},
	} {
		st := newMemStore()
		_, err := Load(context.Background(), jsonlSource("rows.jsonl", tc.data), st, LoadOptions{Strict: true, DatasetName: "d"})
		require.Error(t, err)
		assert.ErrorIs(t, err, lmsys.ErrInvalidInput)
		assert.Contains(t, err.Error(), tc.want)
	}
}

func TestLoadLimitAndDatasetColumn(t *testing.T) {
	var b strings.Builder
	for i := range 100 {
		fmt.Fprintf(&b, "{\"id\":\"%d\",\"text\":\"q%d\",\"src\":\"%s\"}\n", i, i, []string{"alpha", "beta"}[i%2])
		if i%10 == 0 {
			b.WriteString("{\"id\":\"skip\",\"text\":\"\"}\n")
		}
	}
	st := newMemStore()
	stats, err := Load(context.Background(), &ReaderSource{Label: "x", Reader: strings.NewReader(b.String()), Mapping: Mapping{Dataset: "src"}}, st,
		LoadOptions{Limit: 25, BatchSize: 10})
	require.NoError(t, err)
	assert.Equal(t, int64(25), stats.Queries)
	assert.Equal(t, int64(25), stats.Inserted)
	assert.Equal(t, []int{10, 10, 5}, st.batches)
	names := map[int64]string{}
	for _, d := range st.datasets {
		names[d.ID] = d.Name
	}
	assert.Equal(t, "alpha", names[st.queries[0].DatasetID])
	assert.Equal(t, "beta", names[st.queries[1].DatasetID])
}

func TestLoadStoreFailure(t *testing.T) {
	st := newMemStore()
	st.failAfter = 1
	var b strings.Builder
	for i := range 50 {
		fmt.Fprintf(&b, "{\"id\":\"%d\",\"text\":\"q\"}\n", i)
	}
	stats, err := Load(context.Background(), jsonlSource("x", b.String()), st, LoadOptions{BatchSize: 10, DatasetName: "d"})
	require.ErrorContains(t, err, "inserting queries 11–20")
	assert.Equal(t, int64(10), stats.Inserted)
}

// cancellingSource cancels the load's context after n records, like a killed process.
type cancellingSource struct {
	Source
	n      int
	cancel context.CancelFunc
}

func (c *cancellingSource) Records(ctx context.Context) iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		i := 0
		for r, err := range c.Source.Records(ctx) {
			if i++; i == c.n {
				c.cancel()
			}
			if !yield(r, err) {
				return
			}
		}
	}
}

// TestLoadInterruptedThenRerun loads into the real SQLite store, kills the load
// midway by cancelling its context, runs it again, and finds exactly the rows of one
// complete load.
func TestLoadInterruptedThenRerun(t *testing.T) {
	ctx := context.Background()
	var b strings.Builder
	for i := range 3000 {
		if i%3 == 0 {
			fmt.Fprintf(&b, "{\"text\":\"repeated text\"}\n") // no id: derived
		} else {
			fmt.Fprintf(&b, "{\"id\":\"c%d\",\"text\":\"query %d\",\"model\":\"m%d\"}\n", i, i, i%4)
		}
	}
	data := b.String()
	file := writeFile(t, "logs.jsonl", []byte(data))

	full, err := store.Open(ctx, store.Config{Path: filepath.Join(t.TempDir(), "full.db")})
	require.NoError(t, err)
	defer full.Close()
	src, err := OpenFile(file, Mapping{})
	require.NoError(t, err)
	want, err := Load(ctx, src, full, LoadOptions{BatchSize: 250})
	require.NoError(t, err)
	require.Equal(t, int64(3000), want.Inserted)

	db, err := store.Open(ctx, store.Config{Path: filepath.Join(t.TempDir(), "killed.db")})
	require.NoError(t, err)
	defer db.Close()
	for _, killAt := range []int{1, 1234, 2999} {
		kctx, cancel := context.WithCancel(ctx)
		_, err = Load(kctx, &cancellingSource{Source: src, n: killAt, cancel: cancel}, db, LoadOptions{BatchSize: 250})
		cancel()
		require.ErrorIs(t, err, context.Canceled)
		n, err := db.CountQueries(ctx, lmsys.QueryFilter{})
		require.NoError(t, err)
		assert.LessOrEqual(t, n, int64(3000))
	}
	stats, err := Load(ctx, src, db, LoadOptions{BatchSize: 250})
	require.NoError(t, err)
	assert.Equal(t, int64(3000), stats.Inserted+stats.Existing)

	dump := func(s lmsys.QueryStore) []string {
		var out []string
		require.NoError(t, s.ScanQueries(ctx, lmsys.QueryFilter{}, 500, func(qs []lmsys.Query) error {
			for _, q := range qs {
				out = append(out, q.ConversationID+"|"+q.Text+"|"+q.Model)
			}
			return nil
		}))
		return out
	}
	assert.ElementsMatch(t, dump(full), dump(db))
	again, err := Load(ctx, src, db, LoadOptions{})
	require.NoError(t, err)
	assert.Equal(t, int64(0), again.Inserted)
}

func TestLoadRejectsFatalSourceErrors(t *testing.T) {
	src := &ReaderSource{Label: "x.json", Format: FormatJSON, Reader: strings.NewReader(`[{"text":"a"}, {`)}
	_, err := Load(context.Background(), src, newMemStore(), LoadOptions{DatasetName: "d"})
	require.Error(t, err)
	assert.True(t, errors.Is(err, lmsys.ErrInvalidInput))

	// A source that fails before its first row leaves no dataset behind.
	st := newMemStore()
	_, err = Load(context.Background(), &ReaderSource{Label: "obj.json", Format: FormatJSON, Reader: strings.NewReader(`{"text":"a"}`)}, st, LoadOptions{})
	require.ErrorIs(t, err, lmsys.ErrInvalidInput)
	assert.Empty(t, st.datasets)
}

// TestLoadIntoStores loads the same file into SQLite and PostgreSQL through the
// stores' prepared path (PrepareQueries on the parsing goroutine, InsertPrepared on
// the writer): batches that end mid-chunk, rows of two datasets, varied models and
// languages, some with timestamps and extra fields, repeated ids; then loads it again.
func TestLoadIntoStores(t *testing.T) {
	var b strings.Builder
	models := []string{"gpt-4", "claude-1", ""}
	for i := range 3000 {
		id := i
		if i%97 == 0 {
			id = i / 2 // an id seen before in the same dataset half the time
		}
		fmt.Fprintf(&b, `{"id":"c%d","text":"query %d about topic %d","src":"%s","model":"%s","language":"%s"`,
			id, i, i%13, []string{"alpha", "beta"}[id%2], models[i%3], []string{"English", "German"}[i%2])
		if i%5 == 0 {
			fmt.Fprintf(&b, `,"timestamp":"2026-0%d-1%dT08:00:00Z","turn":%d`, 1+i%9, i%10, i%4)
		}
		b.WriteString("}\n")
	}
	data := b.String()
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		src := func() Source {
			return &ReaderSource{Label: "x.jsonl", Reader: strings.NewReader(data), Mapping: Mapping{Dataset: "src"}}
		}
		stats, err := Load(ctx, src(), db, LoadOptions{BatchSize: 700})
		require.NoError(t, err)
		assert.Equal(t, int64(3000), stats.Queries)
		n, err := db.CountQueries(ctx, lmsys.QueryFilter{})
		require.NoError(t, err)
		assert.Equal(t, stats.Inserted, n)
		assert.Equal(t, stats.Queries-stats.Inserted, stats.Existing)
		assert.Greater(t, stats.Existing, int64(0), "repeated ids are left as they are")

		alpha, err := db.ListQueries(ctx, lmsys.QueryFilter{Dataset: "alpha", Limit: 5000})
		require.NoError(t, err)
		beta, err := db.CountQueries(ctx, lmsys.QueryFilter{Dataset: "beta"})
		require.NoError(t, err)
		assert.Equal(t, n, int64(len(alpha))+beta)
		for _, q := range alpha {
			var id, i, topic int
			_, err := fmt.Sscanf(q.ConversationID, "c%d", &id)
			require.NoError(t, err)
			_, err = fmt.Sscanf(q.Text, "query %d about topic %d", &i, &topic)
			require.NoError(t, err, q.Text)
			assert.Zero(t, id%2, "alpha holds even ids")
			assert.Equal(t, i%13, topic)
			assert.Equal(t, models[i%3], q.Model, q.Text)
			assert.Equal(t, []string{"English", "German"}[i%2], q.Language, q.Text)
			if i%5 == 0 {
				if assert.NotNil(t, q.Timestamp, q.Text) {
					assert.Equal(t, 1+i%9, int(q.Timestamp.Month()), q.Text)
				}
				assert.EqualValues(t, i%4, q.Metadata["turn"], q.Text)
			} else {
				assert.Nil(t, q.Timestamp, q.Text)
			}
		}

		again, err := Load(ctx, src(), db, LoadOptions{BatchSize: 700})
		require.NoError(t, err)
		assert.Zero(t, again.Inserted)
		assert.Equal(t, int64(3000), again.Existing)
		m, err := db.CountQueries(ctx, lmsys.QueryFilter{})
		require.NoError(t, err)
		assert.Equal(t, n, m)
	})
}

// slowPreparer is a store whose first prepared insert waits until the loader has
// prepared queuedBefore more batches, so those queue up behind it; it records how
// many batches each InsertPrepared call got.
type slowPreparer struct {
	*store.DB
	calls    []int // the writer's goroutine only
	prepared atomic.Int32
	queued   chan struct{} // closed when queuedBefore batches follow the first
}

// queuedBefore is how many batches are prepared while the first insert waits. The
// producer sends a batch before it prepares the next, so when batch 1+queuedBefore+1
// is prepared, batches 2…1+queuedBefore are in the writer's queue.
const queuedBefore = 4

func (s *slowPreparer) PrepareQueries(qs []lmsys.Query, reuse lmsys.PreparedQueries) lmsys.PreparedQueries {
	p := s.DB.PrepareQueries(qs, reuse)
	if s.prepared.Add(1) == 1+queuedBefore+1 {
		close(s.queued)
	}
	return p
}

func (s *slowPreparer) InsertPrepared(ctx context.Context, batches ...lmsys.PreparedQueries) (int, error) {
	if len(s.calls) == 0 {
		select {
		case <-s.queued:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	s.calls = append(s.calls, len(batches))
	return s.DB.InsertPrepared(ctx, batches...)
}

// TestLoadGroupsQueuedBatches checks that batches which queued up while the writer was
// busy are written together, one transaction of at most groupRows rows, and that
// nothing is lost or doubled.
func TestLoadGroupsQueuedBatches(t *testing.T) {
	var b strings.Builder
	for i := range 4000 {
		fmt.Fprintf(&b, "{\"id\":\"%x\",\"text\":\"query %d\"}\n", i*2654435761, i)
	}
	st := &slowPreparer{DB: testdb.SQLite(t), queued: make(chan struct{})}
	stats, err := Load(context.Background(), jsonlSource("g.jsonl", b.String()), st, LoadOptions{DatasetName: "g", BatchSize: 100})
	require.NoError(t, err)
	assert.Equal(t, int64(4000), stats.Inserted)
	n, err := st.CountQueries(context.Background(), lmsys.QueryFilter{})
	require.NoError(t, err)
	assert.Equal(t, int64(4000), n)
	total, most := 0, 0
	for _, c := range st.calls {
		total += c
		most = max(most, c)
	}
	assert.Equal(t, 40, total, "every batch once")
	// When the first insert returns, batches 1…1+queuedBefore have been sent: the
	// first call took some of them and the second the rest, so one took at least 3.
	assert.GreaterOrEqual(t, most, 3, "batches queued behind the slow first call went in together")
	assert.Less(t, most*100, groupRows+100, "a group stays within groupRows")
	assert.Less(t, len(st.calls), 40)
}

// countingPreparer records how many batches each InsertPrepared call got.
type countingPreparer struct {
	*store.DB
	calls []int // the writer's goroutine only
}

func (s *countingPreparer) InsertPrepared(ctx context.Context, batches ...lmsys.PreparedQueries) (int, error) {
	s.calls = append(s.calls, len(batches))
	return s.DB.InsertPrepared(ctx, batches...)
}

// TestLoadBoundsTextInFlight loads chats with room for the text of one batch in
// flight: the producer waits for each write, so every transaction gets one batch,
// and every row and turn arrives.
func TestLoadBoundsTextInFlight(t *testing.T) {
	defer func(was int64) { inflightText = was }(inflightText)
	inflightText = 1
	var b strings.Builder
	for i := range 1000 {
		fmt.Fprintf(&b, "{\"id\":\"c%d\",\"messages\":[{\"role\":\"user\",\"content\":\"question %d\"},{\"role\":\"assistant\",\"content\":\"answer %d\"}]}\n", i, i, i)
	}
	st := &countingPreparer{DB: testdb.SQLite(t)}
	ctx := context.Background()
	stats, err := Load(ctx, jsonlSource("c.jsonl", b.String()), st, LoadOptions{DatasetName: "c", BatchSize: 50})
	require.NoError(t, err)
	assert.Equal(t, int64(1000), stats.Inserted)
	assert.Len(t, st.calls, 20)
	for _, c := range st.calls {
		assert.Equal(t, 1, c)
	}
	cs, err := st.ConversationStats(ctx)
	require.NoError(t, err)
	assert.EqualValues(t, 1000, cs.Conversations)
	assert.EqualValues(t, 2000, cs.Turns)
}

// TestLoadChatsInterruptedThenRerun kills chat loads midway and runs them again, in
// SQLite and PostgreSQL: every conversation arrives once, whole, as one complete
// load stores it, and a further run writes nothing.
func TestLoadChatsInterruptedThenRerun(t *testing.T) {
	var b strings.Builder
	for i := range 3000 {
		answer := strings.Repeat(fmt.Sprintf("answer %d ", i), 1+i%60)
		switch i % 3 {
		case 0: // LMSYS
			fmt.Fprintf(&b, `{"conversation_id":"c%d","conversation":[{"content":"question %d","role":"user"},{"content":%q,"role":"assistant"}]}`+"\n", i, i, answer)
		case 1: // OpenAI, with a system message first
			fmt.Fprintf(&b, `{"id":"c%d","messages":[{"role":"system","content":"be brief"},{"role":"user","content":"question %d"},{"role":"assistant","content":%q},{"role":"user","content":"and \u00e9?"}]}`+"\n", i, i, answer)
		default: // ShareGPT
			fmt.Fprintf(&b, `{"id":"c%d","conversations":[{"from":"human","value":"question %d"},{"from":"gpt","value":%q}]}`+"\n", i, i, answer)
		}
	}
	data := b.String()
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		full := testdb.SQLite(t)
		want, err := Load(ctx, jsonlSource("chats.jsonl", data), full, LoadOptions{DatasetName: "chats", BatchSize: 250})
		require.NoError(t, err)
		require.Equal(t, int64(3000), want.Inserted)
		for _, killAt := range []int{700, 1234, 2999} {
			kctx, cancel := context.WithCancel(ctx)
			_, err := Load(kctx, &cancellingSource{Source: jsonlSource("chats.jsonl", data), n: killAt, cancel: cancel}, db,
				LoadOptions{DatasetName: "chats", BatchSize: 250})
			cancel()
			require.ErrorIs(t, err, context.Canceled)
		}
		stats, err := Load(ctx, jsonlSource("chats.jsonl", data), db, LoadOptions{DatasetName: "chats", BatchSize: 250})
		require.NoError(t, err)
		assert.Equal(t, int64(3000), stats.Inserted+stats.Existing)

		dump := func(s *store.DB) []string {
			var out []string
			require.NoError(t, s.ScanConversations(ctx, lmsys.QueryFilter{}, 500, func(cs []lmsys.Conversation) error {
				for _, c := range cs {
					q, err := s.GetQuery(ctx, c.QueryID)
					require.NoError(t, err)
					line := q.ConversationID + "|" + q.Text
					for _, m := range c.Messages {
						line += "|" + m.Role + ":" + m.Content
					}
					out = append(out, line)
				}
				return nil
			}))
			return out
		}
		got := dump(db)
		assert.ElementsMatch(t, dump(full), got)
		cs, err := db.ConversationStats(ctx)
		require.NoError(t, err)
		assert.EqualValues(t, 3000, cs.Conversations)

		again, err := Load(ctx, jsonlSource("chats.jsonl", data), db, LoadOptions{DatasetName: "chats"})
		require.NoError(t, err)
		assert.Zero(t, again.Inserted)
		assert.Equal(t, got, dump(db))
	})
}
