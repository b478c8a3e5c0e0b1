package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/lmsys-go/lmsys/dataset"
	"github.com/lmsys-go/lmsys/store"
)

func init() {
	subcommands["load"] = subcommand{
		summary: "load a JSONL/Parquet file into a fresh SQLite db: rows/s, peak RSS, db size (-gen N writes a test file)",
		run:     runLoad,
	}
}

// genWords feed the generated texts; a fixed seed makes the file the same every time.
var genWords = strings.Fields(`how do i write a python function that reads csv file and returns the average of each column
please explain the difference between tcp and udp with examples translate this paragraph into french summarize the
following article about climate change write a short story about a dragon who learns to code what are the symptoms of
vitamin d deficiency give me a recipe for vegan lasagna draft an email to my landlord about the broken heater solve
the equation for x and show each step sql query to find duplicate rows in a table javascript promise async await error
handling plan a three day trip to kyoto with a budget explain quantum entanglement like i am five write a cover letter
for a junior data analyst role`)

var genModels = []string{"vicuna-13b", "koala-13b", "gpt-4", "llama-2-13b-chat", "claude-1", "alpaca-13b"}
var genLangs = []string{"English", "English", "English", "Spanish", "German", "French", "Chinese", "Portuguese"}

type genRow struct {
	ID       string `json:"id" parquet:"id"`
	Text     string `json:"text" parquet:"text"`
	Model    string `json:"model" parquet:"model"`
	Language string `json:"language" parquet:"language"`
}

// genRows calls fn with n deterministic rows of about 600 characters of text. Their
// ids are "gen-00000000", "gen-00000001", … or, with randomIDs, 32 hex digits (the
// first half of the SHA-256 of that id) like LMSYS-Chat-1M's conversation ids.
func genRows(n int, randomIDs bool, fn func(genRow) error) error {
	rng := rand.New(rand.NewPCG(42, 1))
	var b strings.Builder
	for i := range n {
		b.Reset()
		target := 500 + rng.IntN(200)
		for b.Len() < target {
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(genWords[rng.IntN(len(genWords))])
		}
		id := fmt.Sprintf("gen-%08d", i)
		if randomIDs {
			sum := sha256.Sum256([]byte(id))
			id = hex.EncodeToString(sum[:16])
		}
		if err := fn(genRow{ID: id, Text: b.String(), Model: genModels[rng.IntN(len(genModels))],
			Language: genLangs[rng.IntN(len(genLangs))]}); err != nil {
			return err
		}
	}
	return nil
}

// genChatRow is a generated row in LMSYS-Chat-1M's shape: the generated text is the
// first user turn, followed by an assistant reply and, in every other row, a second
// exchange (LMSYS-Chat-1M averages about two turns).
type genChatRow struct {
	ID           string        `json:"conversation_id"`
	Model        string        `json:"model"`
	Language     string        `json:"language"`
	Conversation []chatMessage `json:"conversation"`
}

// withEscapes rewrites a generated text as real chat text is written: a line break
// after every ninth word and every thirteenth word in double quotes, which JSON
// writes as \n and \" escapes.
func withEscapes(text string) string {
	words := strings.Fields(text)
	var b strings.Builder
	for i, w := range words {
		if i > 0 {
			if i%9 == 0 {
				b.WriteByte('\n')
			} else {
				b.WriteByte(' ')
			}
		}
		if i%13 == 12 {
			b.WriteString(`"` + w + `"`)
		} else {
			b.WriteString(w)
		}
	}
	return b.String()
}

func writeGenerated(path string, n int, randomIDs, chat, escapes bool) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if chat && strings.HasSuffix(path, ".parquet") {
		return errors.New("-chat writes JSON Lines only: give -out a .jsonl name")
	}
	if escapes && !chat {
		return errors.New("-escapes is for -chat rows")
	}
	if strings.HasSuffix(path, ".parquet") {
		w := parquet.NewGenericWriter[genRow](f, parquet.Compression(&parquet.Snappy), parquet.MaxRowsPerRowGroup(100000))
		buf := make([]genRow, 0, 1024)
		err := genRows(n, randomIDs, func(r genRow) error {
			if buf = append(buf, r); len(buf) == cap(buf) {
				_, err := w.Write(buf)
				buf = buf[:0]
				return err
			}
			return nil
		})
		if err == nil {
			_, err = w.Write(buf)
		}
		if err == nil {
			err = w.Close()
		}
		if err != nil {
			return err
		}
		return f.Close()
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	enc := json.NewEncoder(bw)
	i := 0
	err = genRows(n, randomIDs, func(r genRow) error {
		if !chat {
			return enc.Encode(r)
		}
		// The reply reuses the prompt's words reversed: as long, as compressible.
		words := strings.Fields(r.Text)
		slices.Reverse(words)
		reply := "Sure! Here is what you asked for. " + strings.Join(words, " ")
		if escapes {
			r.Text, reply = withEscapes(r.Text), withEscapes(reply)
		}
		c := genChatRow{ID: r.ID, Model: r.Model, Language: r.Language,
			Conversation: []chatMessage{{"user", r.Text}, {"assistant", reply}}}
		if i%2 == 1 {
			c.Conversation = append(c.Conversation, chatMessage{"user", "thanks, can you make it shorter?"},
				chatMessage{"assistant", reply[:len(reply)/2]})
		}
		i++
		return enc.Encode(c)
	})
	if err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	return f.Close()
}

func fileSizeMB(paths ...string) float64 {
	var n int64
	for _, p := range paths {
		if st, err := os.Stat(p); err == nil {
			n += st.Size()
		}
	}
	return float64(n) / (1 << 20)
}

func runLoad(ctx context.Context, args []string, r *reporter) error {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	in := fs.String("in", "", "file to load (.jsonl, .parquet, … as `lmsys load --source` reads)")
	gen := fs.Int("gen", 0, "write this many generated ~600-character rows to -out (JSONL, or Parquet when -out ends in .parquet) and exit")
	out := fs.String("out", "", "file -gen writes")
	chat := fs.Bool("chat", false, "-gen: rows in LMSYS-Chat-1M's shape (conversation with an assistant reply; every other row two exchanges), JSON Lines only")
	escapes := fs.Bool("escapes", false, "-gen -chat: texts with line breaks and quoted words, which JSON escapes (\\n, \\\"), as real chats have")
	randomIDs := fs.Bool("random-ids", false, "-gen: random 32-hex-digit conversation ids, like LMSYS-Chat-1M's, instead of sequential ones")
	dbPath := fs.String("db", "", "SQLite file to create (default: a fresh temporary file, removed afterwards)")
	batch := fs.Int("batch", dataset.DefaultBatchSize, "queries per batch (batches queued behind the writer are committed together, up to 25,000 queries), as lmsys load --batch-size")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the load to this file")
	traceFile := fs.String("trace", "", "write an execution trace of the load to this file (go tool trace)")
	peer := fs.String("peer", "", "also run this peer loader script (e.g. bench/peers/load_sqlite.py) on the same file, for comparison")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *gen > 0 {
		if *out == "" {
			return errors.New("-gen needs -out FILE")
		}
		start := time.Now()
		if err := writeGenerated(*out, *gen, *randomIDs, *chat, *escapes); err != nil {
			return err
		}
		r.Row("generated", *gen, "file", *out, "size_mb", fileSizeMB(*out), "seconds", since(start))
		return nil
	}
	if *in == "" {
		return errors.New("need -in FILE (or -gen N -out FILE)")
	}
	path := *dbPath
	if path == "" {
		dir, err := os.MkdirTemp("", "bench-load")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		path = filepath.Join(dir, "queries.db")
	} else if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("%s exists: the benchmark loads into a fresh database", path)
	}
	db, err := store.Open(ctx, store.Config{Path: path})
	if err != nil {
		return err
	}
	src, err := dataset.OpenFile(*in, dataset.Mapping{})
	if err != nil {
		db.Close()
		return err
	}
	stopCPU, err := startCPUProfile(*cpuProfile)
	if err != nil {
		db.Close()
		return err
	}
	defer stopCPU()
	stopTrace, err := startTrace(*traceFile)
	if err != nil {
		db.Close()
		return err
	}
	defer stopTrace()
	start, cpu0 := time.Now(), selfCPUSeconds()
	stats, err := dataset.Load(ctx, src, db, dataset.LoadOptions{BatchSize: *batch})
	// Closing is part of the load: it waits for the last of the write-ahead log to be
	// copied into the database file.
	cerr := db.Close()
	wall, cpu := since(start), selfCPUSeconds()-cpu0
	if err != nil {
		return err
	}
	if cerr != nil {
		return cerr
	}
	reasons := make([]string, 0, len(stats.Skipped))
	for k, v := range stats.Skipped {
		reasons = append(reasons, fmt.Sprintf("%s:%d", strings.ReplaceAll(k, " ", "_"), v))
	}
	sort.Strings(reasons)
	r.Row("loader", "lmsys-go", "file", filepath.Base(*in), "rows", stats.Rows, "inserted", stats.Inserted,
		"skipped", stats.SkippedTotal(), "wall_s", wall, "cpu_s", cpu, "rows_per_s", float64(stats.Rows)/wall,
		"peak_rss_mb", PeakRSSMB(), "db_mb", fileSizeMB(path, path+"-wal"))
	if len(reasons) > 0 {
		r.Row("skipped_by_reason", strings.Join(reasons, ","))
	}
	if *peer != "" {
		return runPeerLoad(ctx, *peer, *in, r)
	}
	return nil
}

var peerRate = regexp.MustCompile(`rows=(\d+) wall=([\d.]+)s rate=(\d+)`)

// runPeerLoad runs a peer loader script and reports its own printed rate and its
// peak RSS from the child's resource usage.
func runPeerLoad(ctx context.Context, script, in string, r *reporter) error {
	dir, err := os.MkdirTemp("", "bench-peer")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	db := filepath.Join(dir, "peer.db")
	// The script runs inside a small wrapper that prints its VmHWM: the child's rusage
	// would report the parent's peak, inherited through vfork.
	wrapper := `import runpy, sys
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
print("vmhwm_kb=" + [l.split()[1] for l in open("/proc/self/status") if l.startswith("VmHWM:")][0])`
	cmd := exec.CommandContext(ctx, "/usr/bin/python3", "-c", wrapper, script, in, db)
	cmd.Stderr = os.Stderr
	outb, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("peer loader: %w", err)
	}
	var rssKB float64
	if m := regexp.MustCompile(`vmhwm_kb=(\d+)`).FindStringSubmatch(string(outb)); m != nil {
		_, _ = fmt.Sscan(m[1], &rssKB)
	}
	rssMB := rssKB / 1024
	m := peerRate.FindStringSubmatch(string(outb))
	if m == nil {
		return fmt.Errorf("peer loader printed %q", outb)
	}
	r.Row("loader", filepath.Base(script), "rows", m[1], "wall_s", m[2], "cpu_s", (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds(), "rows_per_s", m[3], "peak_rss_mb", rssMB, "db_mb", fileSizeMB(db, db+"-wal"))
	return nil
}
