package decode

import (
	"bytes"
	"fmt"
)

// Format names an image format recognised from a file's first bytes.
type Format string

// The formats File understands.
const (
	JPEG Format = "jpeg"
	PNG  Format = "png"
	WebP Format = "webp"
	GIF  Format = "gif"
)

// sniff recognises a format by its magic bytes only; a file's name is never
// trusted.
func sniff(b []byte) (Format, bool) {
	switch {
	case len(b) >= 3 && b[0] == 0xff && b[1] == 0xd8 && b[2] == 0xff:
		return JPEG, true
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return PNG, true
	case len(b) >= 12 && string(b[0:4]) == "RIFF" && string(b[8:12]) == "WEBP":
		return WebP, true
	case bytes.HasPrefix(b, []byte("GIF87a")) || bytes.HasPrefix(b, []byte("GIF89a")):
		return GIF, true
	}
	return "", false
}

// describe says what an unrecognised file looks like, to make the rejection
// useful: an empty file, a text file, or the first bytes in hex.
func describe(b []byte) string {
	if len(b) == 0 {
		return "the file is empty"
	}
	head := b[:min(len(b), 512)]
	text := true
	for _, c := range head {
		if c < 0x09 || (c > 0x0d && c < 0x20) || c == 0x7f {
			text = false
			break
		}
	}
	if text {
		return "it is text, not a JPEG, PNG, WebP or GIF image"
	}
	return fmt.Sprintf("not a JPEG, PNG, WebP or GIF image (it starts with % x)", b[:min(len(b), 8)])
}
