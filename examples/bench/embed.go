package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"time"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/embed/uselite"
)

func init() {
	subcommands["embed"] = subcommand{
		summary: "embedding throughput: queries/s and tokens/s of an embedder over a JSONL file's \"text\" field",
		run:     runEmbedBench,
	}
}

func runEmbedBench(ctx context.Context, args []string, r *reporter) error {
	fs := flag.NewFlagSet("embed", flag.ContinueOnError)
	in := fs.String("in", "../shared/data/hwu64/normalized.jsonl", "JSONL file with a \"text\" field per line")
	limit := fs.Int("limit", 0, "embed at most this many texts (0 = all)")
	model := fs.String("model", "local/use-lite", "embedding model (provider/model)")
	batch := fs.Int("batch", 1024, "texts per Embed call")
	reps := fs.Int("reps", 1, "passes over the texts; the fastest is reported")
	if err := fs.Parse(args); err != nil {
		return err
	}
	texts, err := readEmbedTexts(*in, *limit)
	if err != nil {
		return err
	}
	if *model != "local/use-lite" {
		return fmt.Errorf("%w: -model %q: this harness knows local/use-lite", lmsys.ErrInvalidInput, *model)
	}
	t0 := time.Now()
	m, err := uselite.New()
	if err != nil {
		return err
	}
	load := since(t0)
	tokens := 0
	for _, t := range texts {
		tokens += min(len(m.Tokenize(t)), uselite.MaxTokens)
	}
	var e lmsys.Embedder = m
	best := 0.0
	for rep := 0; rep < max(1, *reps); rep++ {
		t1 := time.Now()
		for lo := 0; lo < len(texts); lo += *batch {
			vecs, err := e.Embed(ctx, texts[lo:min(len(texts), lo+*batch)], lmsys.PurposeClustering)
			if err != nil {
				return err
			}
			if len(vecs) != min(len(texts), lo+*batch)-lo {
				return fmt.Errorf("embedder returned %d vectors for %d texts", len(vecs), min(len(texts), lo+*batch)-lo)
			}
		}
		if s := since(t1); best == 0 || s < best {
			best = s
		}
	}
	r.Row("model", e.Space().String(), "kernel", uselite.Kernel(), "texts", len(texts), "tokens", tokens,
		"queries_per_s", float64(len(texts))/best, "tokens_per_s", float64(tokens)/best,
		"wall_s", best, "load_s", load, "gomaxprocs", runtime.GOMAXPROCS(0), "peak_rss_mb", PeakRSSMB())
	return nil
}

// readEmbedTexts returns the "text" field of up to limit lines (0 = all) of a JSONL file.
func readEmbedTexts(path string, limit int) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	var texts []string
	for line := 1; sc.Scan() && (limit <= 0 || len(texts) < limit); line++ {
		var row struct {
			Text *string `json:"text"`
		}
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil || row.Text == nil {
			return nil, fmt.Errorf("%w: %s line %d has no \"text\" string", lmsys.ErrInvalidInput, path, line)
		}
		texts = append(texts, *row.Text)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(texts) == 0 {
		return nil, fmt.Errorf("%w: %s has no texts", lmsys.ErrEmpty, path)
	}
	return texts, nil
}
