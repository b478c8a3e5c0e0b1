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
	"sort"
	"strings"
	"time"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/llm"
	"github.com/lmsys-go/lmsys/llm/llmtest"
	"github.com/lmsys-go/lmsys/summarize"
)

func init() {
	subcommands["summarize"] = subcommand{
		summary: "summarizers: LLM against a slow fake OpenAI with 429s (wall time, summaries lost); offline c-TF-IDF on 200 clusters × 100k queries",
		run:     runSummarizeBench,
	}
}

func runSummarizeBench(ctx context.Context, args []string, r *reporter) error {
	fs := flag.NewFlagSet("summarize", flag.ContinueOnError)
	dataDir := fs.String("data", "", "directory holding hwu64/normalized.jsonl and slurp/normalized.jsonl, labelled sets used to build clusters (required)")
	clusters := fs.Int("clusters", 200, "number of clusters")
	queries := fs.Int("queries", 100000, "total queries of the offline case")
	latency := fs.Duration("latency", 200*time.Millisecond, "fake server latency per call")
	rate429 := fs.Float64("rate429", 0.2, "share of calls the fake answers 429")
	retryAfter := fs.String("retry-after", "1", "Retry-After header (seconds) sent with each 429")
	concurrency := fs.Int("concurrency", 50, "LLM client concurrency")
	only := fs.String("only", "", "run only 'llm' or 'offline'")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the offline case to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := needInput("data", *dataDir, "a directory with hwu64/ and slurp/ normalized.jsonl sets"); err != nil {
		return err
	}
	groups, source, err := labelledTexts(*dataDir)
	if err != nil {
		return err
	}
	if *only != "offline" {
		if err := benchLLMSummarize(ctx, r, groups, *clusters, *latency, *rate429, *retryAfter, *concurrency); err != nil {
			return err
		}
	}
	if *only != "llm" {
		stop, err := startCPUProfile(*cpuProfile)
		if err != nil {
			return err
		}
		err = benchOfflineSummarize(ctx, r, groups, source, *clusters, *queries)
		stop()
		if err != nil {
			return err
		}
	}
	return nil
}

// labelGroup is the texts of one intent label.
type labelGroup struct {
	label string
	texts []string
}

// labelledTexts reads the labelled sets (hwu64, slurp) under dir, or falls back to the
// demo set, grouped by label.
func labelledTexts(dir string) ([]labelGroup, string, error) {
	by := map[string][]string{}
	var used []string
	for _, name := range []string{"hwu64", "slurp"} {
		p := filepath.Join(dir, name, "normalized.jsonl")
		f, err := os.Open(p)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		for sc.Scan() {
			var row struct {
				Text  string `json:"text"`
				Label string `json:"label"`
			}
			if json.Unmarshal(sc.Bytes(), &row) == nil && row.Text != "" && row.Label != "" {
				by[name+":"+row.Label] = append(by[name+":"+row.Label], row.Text)
			}
		}
		f.Close()
		if err := sc.Err(); err != nil {
			return nil, "", fmt.Errorf("read %s: %w", p, err)
		}
		used = append(used, name)
	}
	if len(by) == 0 {
		return nil, "", fmt.Errorf("no labelled data under %s (want hwu64/ or slurp/normalized.jsonl)", dir)
	}
	out := make([]labelGroup, 0, len(by))
	for l, ts := range by {
		if len(ts) >= 10 {
			out = append(out, labelGroup{l, ts})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].label < out[j].label })
	return out, strings.Join(used, "+"), nil
}

// makeClusters builds k clusters of perCluster queries: 85 % from the cluster's label
// (labels reused round-robin when k exceeds them), 15 % from any label (noise).
func makeClusters(groups []labelGroup, k, perCluster int, seed uint64) ([]lmsys.ClusterInput, []string) {
	rng := rand.New(rand.NewPCG(seed, 1))
	in := make([]lmsys.ClusterInput, k)
	labels := make([]string, k)
	for c := 0; c < k; c++ {
		g := groups[c%len(groups)]
		labels[c] = g.label
		qs := make([]string, perCluster)
		for i := range qs {
			src := g
			if rng.Float64() < 0.15 {
				src = groups[rng.IntN(len(groups))]
			}
			qs[i] = src.texts[rng.IntN(len(src.texts))]
		}
		in[c] = lmsys.ClusterInput{ClusterID: c, Size: perCluster, Queries: qs,
			Languages: map[string]int{"English": perCluster}, Models: map[string]int{"vicuna-13b": perCluster / 2, "gpt-4": perCluster - perCluster/2}}
	}
	return in, labels
}

func benchLLMSummarize(ctx context.Context, r *reporter, groups []labelGroup, k int, latency time.Duration, rate429 float64, retryAfter string, concurrency int) error {
	in, _ := makeClusters(groups, k, 50, 7)
	for c := range in {
		// Contrast: five texts of each of the two next clusters.
		for _, n := range []int{(c + 1) % k, (c + 2) % k} {
			in[c].Contrast = append(in[c].Contrast, in[n].Queries[:5]...)
		}
	}
	rng := rand.New(rand.NewPCG(11, 13))
	var rngMu = make(chan struct{}, 1)
	srv := llmtest.OpenAI(func(req llmtest.Request) llmtest.Reply {
		rngMu <- struct{}{}
		limited := rng.Float64() < rate429
		<-rngMu
		if limited {
			return llmtest.Reply{Status: 429, RetryAfter: retryAfter}
		}
		return llmtest.Reply{Delay: latency, Text: fmt.Sprintf(`{"title": "Bench topic number %d", "description": "Users asked one kind of thing. It differs from the neighbours.", "coherence": 4, "mixed": false}`, req.N)}
	})
	defer srv.Close()
	client, err := llm.Open("openai/gpt-4o-mini", llm.WithBaseURL(srv.BaseURL()), llm.WithAPIKey("sk-bench"),
		llm.WithConcurrency(concurrency), llm.WithRetries(8))
	if err != nil {
		return err
	}
	s, err := summarize.NewLLM(client, summarize.LLMOptions{})
	if err != nil {
		return err
	}
	start := time.Now()
	out, err := s.Summarize(ctx, in)
	if err != nil {
		return err
	}
	wall := since(start)
	lost := 0
	for _, o := range out {
		if o.Error != "" || o.Title == "" {
			lost++
		}
	}
	u := s.Usage()
	r.Row("case", "llm-fake-openai", "clusters", k, "latency_ms", latency.Milliseconds(), "rate_429", rate429, "retry_after_s", retryAfter,
		"concurrency", concurrency, "wall_s", wall, "lost", lost, "calls", srv.Calls(), "retries", u.Retries)
	return nil
}

func benchOfflineSummarize(ctx context.Context, r *reporter, groups []labelGroup, source string, k, total int) error {
	per := total / k
	in, labels := makeClusters(groups, k, per, 3)
	o := &summarize.Offline{}
	start := time.Now()
	out, err := o.Summarize(ctx, in)
	if err != nil {
		return err
	}
	wall := since(start)
	// Quality proxy: the title holds a word of the cluster's intent label
	// (e.g. "alarm" for hwu64:alarm_query).
	hits := 0
	for c, s := range out {
		title := strings.ToLower(s.Title)
		_, l, _ := strings.Cut(labels[c], ":")
		for _, w := range strings.FieldsFunc(l, func(r rune) bool { return r == '_' || r == '-' }) {
			if len(w) > 2 && strings.Contains(title, strings.TrimSuffix(w, "s")) {
				hits++
				break
			}
		}
	}
	r.Row("case", "offline-c-tf-idf", "source", source, "clusters", k, "queries", per*k, "wall_s", wall,
		"title_has_label_word", float64(hits)/float64(len(out)), "peak_rss_mb", PeakRSSMB())
	for c := 0; c < 3 && c < len(out); c++ {
		r.Row("example_label", labels[c], "title", out[c].Title)
	}
	return nil
}
