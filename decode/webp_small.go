//go:build 386 || arm || mips || mipsle

package decode

import "golang.org/x/image/webp"

// Where int has 32 bits (32-bit Raspberry Pi OS, among others),
// github.com/deepteams/webp does not build: x/image/webp decodes still
// WebP, and an animated WebP cannot be shown.

var decodeVP8 = webp.Decode

// openWebP would decode an animated WebP's frames.
func openWebP([]byte, MotionInfo) (*Animation, error) { return nil, errWebPAnimation }
