//go:build !race

package transcode

const underRace = false
