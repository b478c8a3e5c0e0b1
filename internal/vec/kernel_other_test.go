//go:build !amd64 || purego

package vec

import "testing"

// setAVX2 is never reached here: the switch is a constant false.
func setAVX2(t *testing.T, _ bool) { t.Helper() }
