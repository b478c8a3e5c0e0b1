package store_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/store"
)

// BenchmarkInsertQueries measures InsertQueries, which prepares and writes each batch
// on the calling goroutine: batches of 5,000 queries of ~600 characters (the load
// benchmark's rows) into a fresh SQLite file.
func BenchmarkInsertQueries(b *testing.B) {
	benchmarkInsert(b, func(db *store.DB, qs []lmsys.Query) func() (int, error) {
		return func() (int, error) { return db.InsertQueries(context.Background(), qs) }
	})
}

// BenchmarkInsertPrepared measures the writer's side of a load alone: the batches are
// prepared (PrepareQueries) outside the timer, as dataset.Load prepares them on its
// parsing goroutine, so this is the rate the single SQLite writer can sustain.
func BenchmarkInsertPrepared(b *testing.B) {
	var p lmsys.PreparedQueries
	benchmarkInsert(b, func(db *store.DB, qs []lmsys.Query) func() (int, error) {
		p = db.PrepareQueries(qs, p)
		return func() (int, error) { return db.InsertPrepared(context.Background(), p) }
	})
}

// benchmarkInsert times insert over b.N fresh batches; prepare runs untimed and
// returns the timed call.
func benchmarkInsert(b *testing.B, prepare func(db *store.DB, qs []lmsys.Query) func() (int, error)) {
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{Path: filepath.Join(b.TempDir(), "q.db")})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ds, err := db.EnsureDataset(ctx, lmsys.Dataset{Name: "bench", Source: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	const batch = 5000
	// Models and languages vary from row to row, as in a real log and in the load
	// benchmark's generated rows.
	models := []string{"vicuna-13b", "gpt-4", "claude-1", "koala-13b", "llama-2-13b-chat", "alpaca-13b"}
	languages := []string{"English", "English", "English", "Spanish", "French", "German", "Portuguese"}
	words := strings.Fields("how do i write a python function that reads a csv file and explains the budget of my landlord in three short steps")
	qs := make([]lmsys.Query, batch)
	now := time.Now().UTC()
	b.ReportAllocs()
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		b.StopTimer()
		for i := range qs {
			var sb strings.Builder
			for j := 0; sb.Len() < 600; j++ {
				sb.WriteString(words[(n*batch+i+j*7)%len(words)])
				sb.WriteByte(' ')
			}
			k := n*batch + i
			qs[i] = lmsys.Query{DatasetID: ds.ID, ConversationID: fmt.Sprintf("b-%09d", k), Model: models[k*7%len(models)],
				Text: sb.String(), Language: languages[k*11%len(languages)], CreatedAt: now}
		}
		insert := prepare(db, qs)
		b.StartTimer()
		n, err := insert()
		if err != nil || n != batch {
			b.Fatalf("inserted %d of %d: %v", n, batch, err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "rows/s")
}
