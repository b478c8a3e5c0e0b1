package main

import (
	"context"
	"flag"
	"sort"
	"strings"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/embed"
	"github.com/lmsys-go/lmsys/internal/vec"
)

func init() {
	subcommands["embed-agree"] = subcommand{
		summary: "cosine between two embedders' vectors of the same texts (e.g. USE-lite's int8 pass against its float32 one)",
		run:     runEmbedAgree,
	}
}

func runEmbedAgree(ctx context.Context, args []string, r *reporter) error {
	fs := flag.NewFlagSet("embed-agree", flag.ContinueOnError)
	in := fs.String("in", "", "comma-separated JSONL files with a \"text\" field per line (required)")
	limit := fs.Int("limit", 1000, "texts per file (0 = all)")
	a := fs.String("a", "local/use-lite-i8", "embedding model under test")
	b := fs.String("b", "local/use-lite", "reference embedding model")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := needInput("in", *in, "JSONL files with a \"text\" field per line"); err != nil {
		return err
	}
	ea, err := embed.Open(*a)
	if err != nil {
		return err
	}
	eb, err := embed.Open(*b)
	if err != nil {
		return err
	}
	var all []float64
	for _, path := range strings.Split(*in, ",") {
		texts, err := readEmbedTexts(path, *limit)
		if err != nil {
			return err
		}
		va, err := ea.Embed(ctx, texts, lmsys.PurposeClustering)
		if err != nil {
			return err
		}
		vb, err := eb.Embed(ctx, texts, lmsys.PurposeClustering)
		if err != nil {
			return err
		}
		cos := make([]float64, len(texts))
		for i := range texts {
			cos[i], _ = vec.Cosine(va[i], vb[i]) // 0 for a zero vector, which neither model returns
		}
		all = append(all, cos...)
		agreeRow(r, path, ea.Space().String(), eb.Space().String(), cos)
	}
	agreeRow(r, "all", ea.Space().String(), eb.Space().String(), all)
	return nil
}

func agreeRow(r *reporter, set, a, b string, cos []float64) {
	sort.Float64s(cos)
	var sum float64
	below := 0
	for _, c := range cos {
		sum += c
		if c < 0.999 {
			below++
		}
	}
	r.Row("set", set, "a", a, "b", b, "texts", len(cos), "cos_min", cos[0], "cos_p01", cos[len(cos)/100],
		"cos_mean", sum/float64(len(cos)), "below_0.999", below)
}
