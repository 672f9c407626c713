package encode

import (
	"fmt"
	"image/color"
	"strconv"
	"strings"
)

// DefaultQuality is the JPEG quality used when Options.Quality is zero. 80
// is what image proxies use; Go's own default of 75 is visibly blockier and
// imaging's 95 doubles the bytes.
const DefaultQuality = 80

// Options says how to make a frame. The zero value keeps the original size,
// uses DefaultQuality and flattens onto black.
type Options struct {
	// Width is the frame width in pixels after orientation. Narrower images
	// are never enlarged; 0 keeps every image at its own size.
	Width int
	// Height, when set with Width, makes every frame exactly Width×Height:
	// the image is scaled, up or down, to fit inside and centred on the
	// background (--fit). MJPEG recorders and video encoders need frames of
	// one size.
	Height int
	// Quality is the JPEG quality, 1 to 100; 0 means DefaultQuality.
	Quality int
	// Background shows through transparent pixels. Its alpha is ignored.
	Background color.RGBA
}

func (o Options) quality() int {
	if o.Quality <= 0 {
		return DefaultQuality
	}
	return min(o.Quality, 100)
}

// ParseColor reads a colour written as #rrggbb, #rgb, or one of the names
// black, white and gray.
func ParseColor(s string) (color.RGBA, error) {
	switch strings.ToLower(s) {
	case "black":
		return color.RGBA{0, 0, 0, 255}, nil
	case "white":
		return color.RGBA{255, 255, 255, 255}, nil
	case "gray", "grey":
		return color.RGBA{128, 128, 128, 255}, nil
	}
	h, ok := strings.CutPrefix(s, "#")
	if !ok || (len(h) != 6 && len(h) != 3) {
		return color.RGBA{}, fmt.Errorf("encode: colour %q is not #rrggbb", s)
	}
	if len(h) == 3 {
		h = string([]byte{h[0], h[0], h[1], h[1], h[2], h[2]})
	}
	v, err := strconv.ParseUint(h, 16, 32)
	if err != nil {
		return color.RGBA{}, fmt.Errorf("encode: colour %q is not #rrggbb", s)
	}
	return color.RGBA{uint8(v >> 16), uint8(v >> 8), uint8(v), 255}, nil
}

// FormatColor writes c as #rrggbb.
func FormatColor(c color.RGBA) string { return fmt.Sprintf("#%02x%02x%02x", c.R, c.G, c.B) }
