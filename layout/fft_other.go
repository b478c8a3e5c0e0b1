//go:build !amd64 || purego

package layout

// butterflies is butterfliesGo where there is no vector kernel.
func butterflies(top, bot []complex128, w complex128) { butterfliesGo(top, bot, w) }
