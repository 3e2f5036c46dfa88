//go:build race

package managed

// raceEnabled reports a -race build: the function is then built with the
// race detector too.
const raceEnabled = true
