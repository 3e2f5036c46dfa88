//go:build !race

package rasp

// raceEnabled reports a -race build, in which the pure-Go SQLite runs
// too slowly for the corpus test (make test runs it without -race).
const raceEnabled = false
