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

// BenchmarkInsertQueries measures the store's side of a bulk load: batches of 5,000
// queries of ~600 characters (the load benchmark's rows) into a fresh SQLite file.
func BenchmarkInsertQueries(b *testing.B) {
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
			qs[i] = lmsys.Query{DatasetID: ds.ID, ConversationID: fmt.Sprintf("b-%09d", n*batch+i), Model: "vicuna-13b",
				Text: sb.String(), Language: "English", CreatedAt: now}
		}
		b.StartTimer()
		if _, err := db.InsertQueries(ctx, qs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "rows/s")
}
