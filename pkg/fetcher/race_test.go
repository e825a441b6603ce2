//go:build race

package fetcher

// raceEnabled shrinks the heaviest tests under the race detector, which
// makes feed parsing about ten times slower.
const raceEnabled = true
