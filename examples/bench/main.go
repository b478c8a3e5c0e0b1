// Command bench measures the library: every figure in the README's Performance section
// comes from one of its subcommands. Each subcommand lives in its own file and registers
// itself in subcommands from an init function.
//
//	go run ./examples/bench <subcommand> [flags]
//	go run ./examples/bench list
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"sort"
	"strings"
	"time"
)

// subcommand is one benchmark.
type subcommand struct {
	summary string
	// run parses args with its own flag.FlagSet and reports results with r.
	run func(ctx context.Context, args []string, r *reporter) error
}

var subcommands = map[string]subcommand{}

// reporter collects result rows and prints them as aligned "key=value" lines or JSON.
type reporter struct {
	json bool
	rows []map[string]any
}

// Row records one result line; keys print in the order given as alternating key, value.
func (r *reporter) Row(kv ...any) {
	m := map[string]any{}
	var b strings.Builder
	for i := 0; i+1 < len(kv); i += 2 {
		k := fmt.Sprint(kv[i])
		m[k] = kv[i+1]
		if i > 0 {
			b.WriteByte(' ')
		}
		switch v := kv[i+1].(type) {
		case float64:
			fmt.Fprintf(&b, "%s=%.4g", k, v)
		case float32:
			fmt.Fprintf(&b, "%s=%.4g", k, v)
		default:
			fmt.Fprintf(&b, "%s=%v", k, v)
		}
	}
	r.rows = append(r.rows, m)
	if !r.json {
		fmt.Println(b.String())
	}
}

// PeakRSSMB returns the process's peak resident set size in MB (Linux), or 0.
func PeakRSSMB() float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			var kb float64
			fmt.Sscanf(strings.TrimSpace(strings.TrimPrefix(line, "VmHWM:")), "%f", &kb)
			return kb / 1024
		}
	}
	return 0
}

// since returns seconds elapsed since t.
func since(t time.Time) float64 { return time.Since(t).Seconds() }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	jsonOut := flag.Bool("json", false, "print results as JSON")
	flag.Usage = usage
	flag.Parse()
	if flag.NArg() == 0 || flag.Arg(0) == "list" {
		usage()
		if flag.NArg() == 0 {
			os.Exit(2)
		}
		return
	}
	sc, ok := subcommands[flag.Arg(0)]
	if !ok {
		fmt.Fprintf(os.Stderr, "bench: unknown subcommand %q\n", flag.Arg(0))
		usage()
		os.Exit(2)
	}
	r := &reporter{json: *jsonOut}
	if !r.json {
		fmt.Printf("# %s on %s/%s, %d CPUs, %s\n", flag.Arg(0), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version())
	}
	if err := sc.run(ctx, flag.Args()[1:], r); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	if r.json {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(map[string]any{"subcommand": flag.Arg(0), "cpus": runtime.NumCPU(), "results": r.rows})
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: bench [-json] <subcommand> [flags]\n\nsubcommands:")
	names := make([]string, 0, len(subcommands))
	for n := range subcommands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(os.Stderr, "  %-10s %s\n", n, subcommands[n].summary)
	}
}
