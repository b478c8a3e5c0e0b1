package uselite

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/internal/vec"
)

// benchTexts reads up to n "text" fields of $LMSYS_DATA_DIR/name/normalized.jsonl,
// skipping the benchmark when the variable is not set or the data is not there.
func benchTexts(b *testing.B, name string, n int) []string {
	dir := os.Getenv("LMSYS_DATA_DIR")
	if dir == "" {
		b.Skip("set LMSYS_DATA_DIR to a directory of NAME/normalized.jsonl data sets to run this benchmark")
	}
	f, err := os.Open(filepath.Join(dir, name, "normalized.jsonl"))
	if err != nil {
		b.Skipf("benchmark data not available: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	var texts []string
	for sc.Scan() && len(texts) < n {
		var row struct {
			Text string `json:"text"`
		}
		if json.Unmarshal(sc.Bytes(), &row) == nil {
			texts = append(texts, row.Text)
		}
	}
	return texts
}

func benchmarkEmbed(b *testing.B, name string, n int) {
	benchmarkEmbedWith(b, New, name, n)
}

func benchmarkEmbedWith(b *testing.B, open func() (*Model, error), name string, n int) {
	texts := benchTexts(b, name, n)
	m, err := open()
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		if _, err := m.Embed(ctx, texts, lmsys.PurposeClustering); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(texts)*b.N)/b.Elapsed().Seconds(), "queries/s")
}

func BenchmarkEmbedShort(b *testing.B) {
	benchmarkEmbed(b, "hwu64", 2000)
}

// BenchmarkEmbedShortKernels compares the assembly kernels end to end.
func BenchmarkEmbedShortKernels(b *testing.B) {
	kernels := vec.GEMMKernels()
	defer vec.UseGEMMKernel(kernels[len(kernels)-1])
	for _, k := range kernels[1:] {
		b.Run(k.Name, func(b *testing.B) {
			vec.UseGEMMKernel(k)
			benchmarkEmbed(b, "hwu64", 1000)
		})
	}
}

func BenchmarkEmbedLong(b *testing.B) {
	benchmarkEmbed(b, "sharegpt", 200)
}

func BenchmarkEmbedShortInt8(b *testing.B) {
	benchmarkEmbedWith(b, NewInt8, "hwu64", 2000)
}

func BenchmarkEmbedLongInt8(b *testing.B) {
	benchmarkEmbedWith(b, NewInt8, "sharegpt", 200)
}

func BenchmarkTokenize(b *testing.B) {
	texts := benchTexts(b, "hwu64", 2000)
	m, err := New()
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		for _, t := range texts {
			m.Tokenize(t)
		}
	}
	b.ReportMetric(float64(len(texts)*b.N)/b.Elapsed().Seconds(), "queries/s")
}
