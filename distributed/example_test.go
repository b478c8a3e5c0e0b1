package distributed_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/distributed"
	"github.com/lmsys-go/lmsys/embed"
	"github.com/lmsys-go/lmsys/store"
)

// Embedding a dataset with workers: one process (or many, on other machines) runs a
// Worker, another enqueues and waits. Both need the PostgreSQL database of the store,
// so this example is compiled but not run by the tests (TestEmbedJobs runs the same
// steps when LMSYS_TEST_POSTGRES_URL is set).
func Example() {
	ctx := context.Background()
	url := os.Getenv("LMSYS_DATABASE_URL") // postgres://…
	st, err := store.Open(ctx, store.Config{URL: url})
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()

	// A worker: usually `lmsys worker --db-url …` on each machine.
	w, err := distributed.NewWorker(ctx, st, distributed.WorkerConfig{URL: url, Queues: []string{distributed.QueueEmbed}, Concurrency: 1})
	if err != nil {
		log.Fatal(err)
	}
	if err := w.Start(ctx); err != nil {
		log.Fatal(err)
	}
	defer w.Stop(ctx)

	// The analysis: enqueue the missing vectors of a dataset and wait for them.
	c, err := distributed.Open(ctx, url)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	e, err := embed.Open("local/use-lite")
	if err != nil {
		log.Fatal(err)
	}
	stats, err := c.Backfill(ctx, st, e, lmsys.QueryFilter{Dataset: "support-logs"}, embed.BackfillOptions{
		Progress: func(p lmsys.Progress) { fmt.Printf("%s: %d of %d jobs\n", p.Stage, p.Done, p.Total) },
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(stats.Embedded, "embedded,", stats.Cached, "had a vector")
}
