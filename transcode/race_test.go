//go:build race

package transcode

// underRace is set under the race detector, which makes decoding many
// times slower: the stress test makes fewer loads there, so that it does
// not starve the other packages' tests running beside it.
const underRace = true
