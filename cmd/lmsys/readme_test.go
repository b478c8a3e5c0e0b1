package main

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestREADMEFlagDefaults checks the defaults the README's command table shows: every
// optional flag written with a number or an address ("[--n-clusters 50]",
// "[--mb-batch-size 8192 --chunk-size 65536]", "[--addr 127.0.0.1:8000]") must be the
// default of that flag of that command.
func TestREADMEFlagDefaults(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	root, _ := newRootCmd()
	span := regexp.MustCompile("`([^`]+)`")
	optional := regexp.MustCompile(`\[([^\[\]]+)\]`)
	flag := regexp.MustCompile(`--([a-z][a-z0-9-]*)[ =]([^\s\[\]|]+)`)
	literal := regexp.MustCompile(`^(\d+(\.\d+)?|\d+\.\d+\.\d+\.\d+:\d+)$`)
	checked := 0
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		cell := strings.SplitN(strings.ReplaceAll(line, `\|`, "¦"), "|", 3)[1]
		for _, m := range span.FindAllStringSubmatch(cell, -1) {
			words := strings.Fields(m[1])
			var path []string
			for _, w := range words {
				if strings.HasPrefix(w, "-") || strings.HasPrefix(w, "[") {
					break
				}
				path = append(path, w)
			}
			cmd, _, err := root.Find(path)
			require.NoError(t, err, m[1])
			if cmd == root {
				continue
			}
			for _, opt := range optional.FindAllStringSubmatch(m[1], -1) {
				for _, f := range flag.FindAllStringSubmatch(opt[1], -1) {
					name, val := f[1], f[2]
					if !literal.MatchString(val) {
						continue
					}
					fl := cmd.Flags().Lookup(name)
					if !assert.NotNil(t, fl, "README: %s has no flag --%s", cmd.CommandPath(), name) {
						continue
					}
					def := fl.DefValue
					if a, errA := strconv.ParseFloat(val, 64); errA == nil {
						if d, errD := strconv.ParseFloat(def, 64); errD == nil && a == d {
							def = val
						}
					}
					assert.Equal(t, def, val, "README shows %s --%s %s; its default is %s", cmd.CommandPath(), name, val, fl.DefValue)
					checked++
				}
			}
		}
	}
	assert.Greater(t, checked, 15, "the README table shows defaults")
}
