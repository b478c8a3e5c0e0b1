//go:build !amd64

package main

// peakLoops returns no loops off amd64.
func peakLoops() []peakLoop { return nil }
