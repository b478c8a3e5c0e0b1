package store_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/store"
)

// Queries are written in two steps on a bulk load: PrepareQueries (cleaning, hashing,
// encoding; any goroutine) and InsertPrepared (the writer), which takes several
// prepared batches in one transaction. Queries already stored are left as they are.
func ExampleDB_InsertPrepared() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "store-example")
	defer os.RemoveAll(dir)
	db, err := store.Open(ctx, store.Config{Path: filepath.Join(dir, "queries.db")})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()
	ds, _ := db.EnsureDataset(ctx, lmsys.Dataset{Name: "support-bot"})
	batch := func(ids ...string) lmsys.PreparedQueries {
		qs := make([]lmsys.Query, len(ids))
		for i, id := range ids {
			qs[i] = lmsys.Query{DatasetID: ds.ID, ConversationID: id, Text: "how do I reset my password? (" + id + ")"}
		}
		return db.PrepareQueries(qs, nil)
	}
	n, err := db.InsertPrepared(ctx, batch("a", "b"), batch("c"))
	fmt.Println(n, err)
	n, err = db.InsertPrepared(ctx, batch("c", "d"))
	fmt.Println(n, err)
	// Output:
	// 3 <nil>
	// 1 <nil>
}
