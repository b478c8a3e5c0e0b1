// Command gen writes the Chinese word list package segment embeds: the words of the
// simplified-Chinese dictionary of github.com/go-ego/gse (data/dict/zh/s_1.txt, which
// gse takes from jieba; Apache-2.0 and MIT, see NOTICE) whose frequency is at least
// -min-freq, one "word frequency part-of-speech" line each, gzip-compressed. The
// rarest words (most of the 350,000) are names and idioms that chat queries seldom
// hold; gse's HMM still segments words the list lacks.
//
//	go run ./internal/gen -in "$(go env GOMODCACHE)/github.com/go-ego/gse@v0.80.3/data/dict/zh/s_1.txt" -out zh.dict.gz
package main

import (
	"bufio"
	"compress/gzip"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
)

func main() {
	in := flag.String("in", "", "gse's data/dict/zh/s_1.txt")
	out := flag.String("out", "zh.dict.gz", "file to write")
	minFreq := flag.Int("min-freq", 10, "smallest word frequency kept")
	flag.Parse()
	if err := run(*in, *out, *minFreq); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(in, out string, minFreq int) error {
	if in == "" {
		return fmt.Errorf("-in is required (gse's data/dict/zh/s_1.txt)")
	}
	src, err := os.Open(in)
	if err != nil {
		return err
	}
	defer src.Close()
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	zw, err := gzip.NewWriterLevel(f, gzip.BestCompression)
	if err != nil {
		f.Close()
		return err
	}
	w := bufio.NewWriter(zw)
	sc := bufio.NewScanner(src)
	kept, line := 0, 0
	for sc.Scan() {
		line++
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		freq, err := strconv.Atoi(fields[1])
		if err != nil {
			f.Close()
			return fmt.Errorf("%s:%d: frequency %q: %w", in, line, fields[1], err)
		}
		if freq < minFreq {
			continue
		}
		pos := "x"
		if len(fields) > 2 {
			pos = fields[2]
		}
		fmt.Fprintf(w, "%s %d %s\n", fields[0], freq, pos)
		kept++
	}
	if err := sc.Err(); err != nil {
		f.Close()
		return err
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	if err := zw.Close(); err != nil {
		f.Close()
		return err
	}
	fmt.Fprintf(os.Stderr, "gen: kept %d of %d words\n", kept, line)
	return f.Close()
}
