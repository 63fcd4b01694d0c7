//go:build race

package pattern

// raceEnabled: sync.Pool drops items at random under the race detector, so
// allocation tests are skipped.
const raceEnabled = true
