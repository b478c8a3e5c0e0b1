package dataset

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
)

// benchJSONL returns n JSON Lines rows of about 600 characters of text.
func benchJSONL(n int) []byte {
	var b bytes.Buffer
	text := strings.Repeat("how do i write a python function that reads a csv file ", 11)
	for i := range n {
		fmt.Fprintf(&b, "{\"id\":\"gen-%08d\",\"text\":%q,\"model\":\"vicuna-13b\",\"language\":\"English\"}\n", i, text[:500+i%100])
	}
	return b.Bytes()
}

// BenchmarkJSONLRecords measures parsing alone (no store): rows per second.
func BenchmarkJSONLRecords(b *testing.B) {
	data := benchJSONL(10000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		for _, err := range jsonlRecords(context.Background(), bytes.NewReader(data), "bench", Mapping{}) {
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != 10000 {
			b.Fatal(n)
		}
	}
	b.ReportMetric(float64(10000*b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkParquetRecords measures reading LMSYS-shaped rows (pyarrow layout).
func BenchmarkParquetRecords(b *testing.B) {
	data := writeLMSYSParquet(b, true, lmsysConvs(10000, 0), 2000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		for _, err := range parquetRecords(context.Background(), bytes.NewReader(data), int64(len(data)), "bench", Mapping{}) {
			if err == nil {
				n++
			}
		}
		if n == 0 {
			b.Fatal("no rows")
		}
	}
	b.ReportMetric(float64(10000*b.N)/b.Elapsed().Seconds(), "rows/s")
}
