package main

import "fmt"

// needInput returns an error naming the flag when a benchmark's input file or
// directory was not given. The bench has no default inputs: the data sets (public
// labelled intent sets such as HWU64 and SLURP, a ShareGPT or LMSYS-Chat-1M sample, in
// the normalized.jsonl shape docs/benchmarks.md describes) live outside the
// repository, wherever the caller put them.
func needInput(flagName, value, what string) error {
	if value != "" {
		return nil
	}
	return fmt.Errorf("-%s is required: %s (see docs/benchmarks.md for the data sets and their shape)", flagName, what)
}
