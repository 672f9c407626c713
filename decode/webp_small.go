//go:build 386 || arm || mips || mipsle

package decode

import "golang.org/x/image/webp"

// Where int has 32 bits (32-bit Raspberry Pi OS, among others),
// github.com/deepteams/webp does not build: x/image/webp decodes still
// WebP, and an animation's frames one by one (webpanim.go).

var decodeVP8 = webp.Decode

// openWebP decodes an animated WebP's frames one at a time.
func openWebP(data []byte, info MotionInfo) (*Animation, error) { return openWebPFrames(data, info) }
