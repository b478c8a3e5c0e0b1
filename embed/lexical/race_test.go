//go:build race

package lexical

// raceEnabled reports a -race build, where sync.Pool drops items on purpose.
const raceEnabled = true
