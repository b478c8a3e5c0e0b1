package dataset_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/lmsys-go/lmsys/dataset"
	"github.com/lmsys-go/lmsys/dataset/demo"
	"github.com/lmsys-go/lmsys/store"
)

// Load the bundled demo set into a SQLite store, twice: the second load inserts
// nothing.
func ExampleLoad() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	db, err := store.Open(ctx, store.Config{Path: filepath.Join(dir, "queries.db")})
	if err != nil {
		panic(err)
	}
	defer db.Close()
	for range 2 {
		src := &dataset.ReaderSource{Label: "demo", Format: dataset.FormatJSONL, Reader: bytes.NewReader(demo.JSONL())}
		stats, err := dataset.Load(ctx, src, db, dataset.LoadOptions{})
		if err != nil {
			panic(err)
		}
		fmt.Printf("%s: %d rows, %d inserted, %d already loaded\n", stats.Dataset, stats.Rows, stats.Inserted, stats.Existing)
	}
	// Output:
	// demo: 393 rows, 393 inserted, 0 already loaded
	// demo: 393 rows, 0 inserted, 393 already loaded
}

// Read a chat-shaped JSON Lines file: the first user turn of each conversation is
// the query, whatever the chat format.
func ExampleOpenFile() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "chats.jsonl")
	_ = os.WriteFile(path, []byte(`{"conversation_id":"a","conversation":[{"role":"user","content":"How do I sort a map in Go?"}],"model":"vicuna-13b"}
{"id":"b","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Translate 'hello' to French"}]}
{"id":"c","conversations":[{"from":"human","value":"Write a haiku about rain"},{"from":"gpt","value":"..."}]}
`), 0o644)
	src, err := dataset.OpenFile(path, dataset.Mapping{})
	if err != nil {
		panic(err)
	}
	for rec, err := range src.Records(context.Background()) {
		if err != nil {
			fmt.Println("skipped:", err)
			continue
		}
		fmt.Printf("%s %q\n", rec.ID, rec.Text)
	}
	// Output:
	// a "How do I sort a map in Go?"
	// b "Translate 'hello' to French"
	// c "Write a haiku about rain"
}
