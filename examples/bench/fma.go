package main

import (
	"context"
	"flag"
	"fmt"
	"runtime"
	"sync"
	"time"
)

func init() {
	subcommands["fma"] = subcommand{
		summary: "peak arithmetic throughput of this CPU: float32 FMA (AVX2, AVX-512) and integer multiply-add (VPMADDWD, VPDPBUSD), one core and all",
		run:     runFMABench,
	}
}

// peakLoop is one assembly loop of independent multiply-add chains.
type peakLoop struct {
	name, unit string
	ops        float64 // operations per iteration (a multiply-add counts 2)
	run        func(n int)
}

func runFMABench(_ context.Context, args []string, r *reporter) error {
	fs := flag.NewFlagSet("fma", flag.ContinueOnError)
	dur := fs.Duration("time", 300*time.Millisecond, "time per measurement")
	if err := fs.Parse(args); err != nil {
		return err
	}
	loops := peakLoops()
	if len(loops) == 0 {
		return fmt.Errorf("no multiply-add loops for %s", runtime.GOARCH)
	}
	for _, l := range loops {
		one := peakRate(l, 1, *dur)
		all := peakRate(l, runtime.GOMAXPROCS(0), *dur)
		r.Row("loop", l.name, "unit", l.unit, "one_core", one/1e9, "all_cores", all/1e9, "cores", runtime.GOMAXPROCS(0))
	}
	return nil
}

// peakRate runs l on workers goroutines for about d and returns operations per second.
func peakRate(l peakLoop, workers int, d time.Duration) float64 {
	const chunk = 1 << 20
	l.run(chunk) // warm up (AVX-512 frequency licence, page-in)
	var wg sync.WaitGroup
	iters := make([]int, workers)
	t0 := time.Now()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for time.Since(t0) < d {
				l.run(chunk)
				iters[w] += chunk
			}
		}(w)
	}
	wg.Wait()
	el := time.Since(t0).Seconds()
	total := 0
	for _, n := range iters {
		total += n
	}
	return float64(total) * l.ops / el
}
