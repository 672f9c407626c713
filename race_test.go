//go:build race

package main

// underRace is set when the tests run under the race detector, which makes
// decoding many times slower: tests that time slides against the clock
// skip themselves there (the transcoder's stress test covers the same
// loads under -race).
const underRace = true
