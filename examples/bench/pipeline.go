package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/dataset"
	"github.com/lmsys-go/lmsys/dataset/demo"
	"github.com/lmsys-go/lmsys/local"
)

func init() {
	subcommands["pipeline"] = subcommand{
		summary: "the whole pipeline on N generated queries (load, embed, cluster, summarize, merge): wall time, peak memory, db size per stage",
		run:     runPipelineBench,
	}
}

// Variations make recombined queries distinct, as real logs are: the same request
// phrased with different openers, closers and details.
var (
	openers = []string{"", "", "Please ", "Hey, ", "Quick question: ", "Can you ", "I need help: ", "Hi! ", "Urgent: ", "For my class, "}
	closers = []string{"", "", " Thanks!", " Please be concise.", " Explain step by step.", " in 3 sentences", " for a beginner",
		" with examples", " (answer in detail)", " — it is for work"}
)

// queryPool returns the texts to recombine: the demo set, plus every
// DATADIR/*/normalized.jsonl text when dataDir is set.
func queryPool(dataDir string) ([]demo.Row, error) {
	pool := demo.Rows()
	if dataDir == "" {
		return pool, nil
	}
	files, _ := filepath.Glob(filepath.Join(dataDir, "*", "normalized.jsonl"))
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		for sc.Scan() {
			var r struct {
				Text     string `json:"text"`
				Language string `json:"language"`
			}
			if json.Unmarshal(sc.Bytes(), &r) == nil && strings.TrimSpace(r.Text) != "" {
				pool = append(pool, demo.Row{Text: r.Text, Language: r.Language, Model: "vicuna-13b"})
			}
		}
		fh.Close()
	}
	return pool, nil
}

// generate writes n deterministic queries to path as JSONL: each picks a pool text,
// an opener, a closer and a serial number, so every text is distinct.
func generate(path string, n int, pool []demo.Row, seed uint64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	enc := json.NewEncoder(w)
	rng := rand.New(rand.NewPCG(seed, 7))
	models := []string{"vicuna-13b", "gpt-4", "llama-2-13b-chat", "koala-13b", "claude-1", "gpt-3.5-turbo", "palm-2"}
	start := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < n; i++ {
		r := pool[rng.IntN(len(pool))]
		text := openers[rng.IntN(len(openers))] + r.Text + closers[rng.IntN(len(closers))]
		if i >= len(pool) {
			text += fmt.Sprintf(" #%d", i)
		}
		model := r.Model
		if model == "" || rng.IntN(3) == 0 {
			model = models[rng.IntN(len(models))]
		}
		lang := r.Language
		if lang == "" {
			lang = "English"
		}
		ts := start.Add(time.Duration(rng.Int64N(int64(60 * 24 * time.Hour))))
		if err := enc.Encode(map[string]any{"conversation_id": fmt.Sprintf("gen-%d", i), "text": text, "model": model,
			"language": lang, "timestamp": ts.Format(time.RFC3339)}); err != nil {
			return err
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}

// resetPeak resets the process's peak RSS (Linux: clear_refs 5), so each stage's
// peak can be read on its own.
func resetPeak() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

func dirSize(dir string) float64 {
	var n int64
	filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			n += fi.Size()
		}
		return nil
	})
	return float64(n) / (1 << 20)
}

func runPipelineBench(ctx context.Context, args []string, r *reporter) error {
	fs := flag.NewFlagSet("pipeline", flag.ExitOnError)
	n := fs.Int("n", 100000, "number of queries to generate")
	k := fs.Int("k", 200, "number of clusters")
	model := fs.String("embedding-model", "local/lexical", "embedding model")
	dataDir := fs.String("data", "", "directory of query sets (DIR/*/normalized.jsonl) recombined with the demo set; empty: the demo set alone")
	shape := fs.String("shape", "lmsys", "generated queries: lmsys (LMSYS-Chat-1M's prompt lengths, repeats and language mix; see lmsysgen.go) or recombined (one pool text each, with an opener, a closer and a serial number)")
	dir := fs.String("dir", "", "work directory (default: a temporary one, removed)")
	dbURL := fs.String("db-url", "", "PostgreSQL URL instead of SQLite")
	levels := fs.Int("target-levels", 3, "hierarchy levels")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the pipeline (all stages) to this file")
	stageProfile := fs.String("stage-cpuprofile", "", "with -cpuprofile: profile only this stage (load, embed, cluster, summarize, merge)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" {
		tmp, err := os.MkdirTemp("", "lmsys-bench-pipeline-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		*dir = tmp
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		return err
	}
	pool, err := queryPool(*dataDir)
	if err != nil {
		return err
	}
	if *dataDir == "" {
		fmt.Fprintf(os.Stderr, "pipeline: no -data directory: generating from the %d demo queries alone\n", len(pool))
	}
	src := filepath.Join(*dir, "queries.jsonl")
	t0 := time.Now()
	switch *shape {
	case "lmsys":
		st, err := generateLMSYS(src, *n, pool, 1)
		if err != nil {
			return err
		}
		r.Row("stage", "generate", "shape", *shape, "queries", *n, "pool", len(pool), "seconds", since(t0),
			"mean_chars", st.MeanChars, "median_chars", st.Median, "long_share", float64(st.Long)/float64(max(st.Rows, 1)),
			"max_chars", st.MaxChars, "duplicate_share", float64(st.Duplicates)/float64(max(st.Rows, 1)),
			"english_share", float64(st.Languages["English"])/float64(max(st.Rows, 1)))
	case "recombined":
		if err := generate(src, *n, pool, 1); err != nil {
			return err
		}
		r.Row("stage", "generate", "shape", *shape, "queries", *n, "pool", len(pool), "seconds", since(t0))
	default:
		return fmt.Errorf("-shape %q: want lmsys or recombined", *shape)
	}
	ws, err := local.Open(ctx, local.Config{Dir: *dir, DBURL: *dbURL, EmbeddingModel: *model})
	if err != nil {
		return err
	}
	defer ws.Close()
	file, err := dataset.OpenFile(src, dataset.Mapping{})
	if err != nil {
		return err
	}
	p := ws.Pipeline(local.Analysis{Source: file, DatasetName: "bench", K: *k, Offline: true, TargetLevels: *levels})
	var stageStart time.Time
	var stageCPU float64
	var stopCPU func() // set while a profile is being written
	stopProfile := func() {
		if stopCPU != nil {
			stopCPU()
			stopCPU = nil
		}
	}
	defer stopProfile()
	startProfile := func() (err error) {
		stopCPU, err = startCPUProfile(*cpuProfile)
		return err
	}
	if *cpuProfile != "" && *stageProfile == "" {
		if err := startProfile(); err != nil {
			return err
		}
	}
	p.OnStage = func(s lmsys.StageReport) {
		if s.Elapsed == 0 {
			// Return the previous stages' freed heap to the OS first, so each stage's
			// peak is its own and not memory the runtime had not yet released.
			debug.FreeOSMemory()
			resetPeak()
			if *cpuProfile != "" && *stageProfile == s.Stage {
				if err := startProfile(); err != nil {
					fmt.Fprintln(os.Stderr, "cpuprofile:", err)
				}
			}
			stageStart = time.Now()
			stageCPU = selfCPUSeconds()
			return
		}
		cpu := selfCPUSeconds() - stageCPU
		wall := time.Since(stageStart).Seconds()
		if *stageProfile == s.Stage {
			stopProfile()
		}
		status := "ok"
		if s.Err != nil {
			status = s.Err.Error()
		}
		r.Row("stage", s.Stage, "seconds", wall, "cpu_s", cpu, "peak_rss_mb", PeakRSSMB(), "db_mb", dirSize(*dir), "status", status)
	}
	start := time.Now()
	cpu0 := selfCPUSeconds()
	st, err := p.Run(ctx, nil)
	if err != nil {
		return err
	}
	for _, s := range []string{"load", "embed", "cluster", "summarize", "merge"} {
		r.Row("result", s, "detail", st.Results[s])
	}
	r.Row("stage", "total", "queries", *n, "seconds", since(start), "cpu_s", selfCPUSeconds()-cpu0, "db_mb", dirSize(*dir), "embedding", *model)
	return nil
}
