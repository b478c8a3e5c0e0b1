package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/classify"
	"github.com/lmsys-go/lmsys/llm"
	"github.com/lmsys-go/lmsys/llm/llmtest"
	"github.com/lmsys-go/lmsys/store"
)

func init() {
	subcommands["classify-llm"] = subcommand{
		summary: "LLM facets (Clio) over generated multi-turn conversations against a fake OpenAI answering after a delay: wall time, calls, tokens, estimated cost",
		run:     runClassifyLLMBench,
	}
}

// llmBenchTurns are the pieces of the generated conversations, in several languages.
var llmBenchTurns = []struct{ user, reply, followUp string }{
	{"How do I read a CSV file in Python and skip the header row?", "Use the csv module: open the file, call next(reader) once, then loop over the rows.", "That gives me a UnicodeDecodeError, what now?"},
	{"Écris un poème de quatre vers sur la mer en hiver.", "La mer d'hiver gronde sous le ciel gris, / les vagues froides mordent le sable endormi…", "Plus court, et sans rime s'il te plaît."},
	{"Как правильно заварить зелёный чай?", "Вода около 80 °C, две-три минуты, не дольше, иначе чай станет горьким.", "А сколько раз можно заваривать одни и те же листья?"},
	{"解释一下TCP三次握手的过程。", "客户端发送SYN，服务器回复SYN-ACK，客户端再发送ACK，连接建立。", "为什么不是两次握手？"},
	{"Write a SQL query that returns the top 5 customers by total order value.", "SELECT customer_id, SUM(amount) AS total FROM orders GROUP BY customer_id ORDER BY total DESC LIMIT 5;", "No, I said customers, join the customers table and show their names."},
	{"Wie berechne ich die Mehrwertsteuer aus einem Bruttobetrag?", "Teilen Sie den Bruttobetrag durch 1,19 und ziehen Sie das Ergebnis vom Brutto ab.", "Und bei 7 Prozent?"},
	{"Tell me how to pick a lock.", "I can explain how pin tumbler locks work in general, for locksmith training or your own lock.", "It's my own front door, I'm locked out."},
	{"Summarise the plot of Hamlet in three sentences.", "Prince Hamlet learns his uncle murdered his father. He feigns madness while plotting revenge. Nearly everyone dies in the final duel.", "You got the ending wrong, Horatio survives."},
}

// llmBenchConversation returns a deterministic conversation of 2 to 6 turns.
func llmBenchConversation(rng *rand.Rand, i int) []lmsys.Message {
	t := llmBenchTurns[rng.IntN(len(llmBenchTurns))]
	msgs := []lmsys.Message{
		{Role: lmsys.RoleUser, Content: fmt.Sprintf("[conv %d] %s", i, t.user)},
		{Role: lmsys.RoleAssistant, Content: t.reply},
	}
	for k := rng.IntN(3); k > 0; k-- {
		msgs = append(msgs, lmsys.Message{Role: lmsys.RoleUser, Content: t.followUp},
			lmsys.Message{Role: lmsys.RoleAssistant, Content: strings.Repeat(t.reply+" ", 1+rng.IntN(3))})
	}
	return msgs
}

func runClassifyLLMBench(ctx context.Context, args []string, r *reporter) error {
	fs := flag.NewFlagSet("classify-llm", flag.ContinueOnError)
	n := fs.Int("n", 1000, "conversations")
	latency := fs.Duration("latency", 200*time.Millisecond, "fake server delay per call")
	concurrency := fs.Int("concurrency", 20, "conversations classified at once (and LLM requests in flight)")
	model := fs.String("model", "openai/gpt-4o-mini", "model name used for the price table")
	dir := fs.String("dir", "", "directory for the SQLite store (default: a temporary one, removed after)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *n < 1 || *concurrency < 1 {
		return fmt.Errorf("-n and -concurrency must be at least 1")
	}
	path := *dir
	if path == "" {
		tmp, err := os.MkdirTemp("", "bench-classify")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		path = tmp
	}
	db, err := store.Open(ctx, store.Config{Path: filepath.Join(path, "queries.db")})
	if err != nil {
		return err
	}
	defer db.Close()
	ds, err := db.EnsureDataset(ctx, lmsys.Dataset{Name: "bench-classify", Source: "generated"})
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(5, 8))
	qs := make([]lmsys.Query, *n)
	for i := range qs {
		msgs := llmBenchConversation(rng, i+1)
		qs[i] = lmsys.Query{DatasetID: ds.ID, ConversationID: fmt.Sprintf("bench-%d", i+1), Text: msgs[0].Content, Conversation: msgs}
	}
	if _, err := db.InsertQueries(ctx, qs); err != nil {
		return err
	}

	tasks := []string{"coding", "writing", "information", "translation", "math", "advice"}
	convRe := regexp.MustCompile(`\[conv (\d+)\]`)
	srv := llmtest.OpenAI(func(req llmtest.Request) llmtest.Reply {
		id := 0
		if m := convRe.FindStringSubmatch(req.User); m != nil {
			fmt.Sscan(m[1], &id)
		}
		b, _ := json.Marshal(map[string]any{"request": fmt.Sprintf("Answer the user's question number %d.", id), "task": tasks[id%len(tasks)],
			"languages": []string{"en"}, "concerning": 1 + id%3, "frustration": 1 + id%5, "assistant_errors": "none"})
		return llmtest.Reply{Delay: *latency, Text: string(b)}
	})
	defer srv.Close()
	client, err := llm.Open(*model, llm.WithBaseURL(srv.BaseURL()), llm.WithAPIKey("sk-bench"), llm.WithConcurrency(*concurrency),
		llm.WithCache(db.LLMCache()))
	if err != nil {
		return err
	}
	clio, err := classify.FacetSet("clio")
	if err != nil {
		return err
	}
	c, err := classify.NewLLM(client, clio, classify.LLMOptions{})
	if err != nil {
		return err
	}
	start := time.Now()
	plan, err := classify.Run(ctx, db, c, classify.Options{DryRun: true})
	if err != nil {
		return err
	}
	planWall := since(start)
	start = time.Now()
	res, err := classify.Run(ctx, db, c, classify.Options{Concurrency: *concurrency})
	if err != nil {
		return err
	}
	wall := since(start)
	start = time.Now()
	again, err := classify.Run(ctx, db, c, classify.Options{Concurrency: *concurrency})
	if err != nil {
		return err
	}
	e := plan.Plan.Estimate
	r.Row("case", "clio-fake-openai", "conversations", *n, "latency_ms", latency.Milliseconds(), "concurrency", *concurrency,
		"dry_run_s", planWall, "wall_s", wall, "classified", res.Classified, "errors", res.Errors, "calls", res.Cost.Calls,
		"fake_calls", srv.Calls(), "input_tokens", res.Cost.InputTokens, "output_tokens", res.Cost.OutputTokens, "cost_usd", res.Cost.USD,
		"est_calls", e.Calls, "est_input_tokens", e.InputTokens, "est_output_tokens", e.OutputTokens, "est_cost_usd", e.USD,
		"rerun_s", since(start), "rerun_skipped", again.Skipped, "peak_rss_mb", PeakRSSMB())
	return nil
}
