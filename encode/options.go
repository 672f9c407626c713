package encode

import "image/color"

// DefaultQuality is the JPEG quality used when Options.Quality is zero. 80
// is what image proxies use; Go's own default of 75 is visibly blockier and
// imaging's 95 doubles the bytes.
const DefaultQuality = 80

// MinWidth and MaxWidth bound every frame width asked for: by --width and
// --fit, by a client's ?width=, by a peer's key. Wider frames than the
// widest screens only cost memory (a 4096-wide RGBA frame of 16:9 is
// 36 MiB); --width 0 keeps a photo's own size instead.
const (
	MinWidth = 16
	MaxWidth = 4096
)

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
	// Blur, with Width and Height, fills the frame around the fitted image
	// with the image itself, scaled to cover the frame, blurred and
	// darkened, instead of Background (--fill blur).
	Blur bool
	// Crop, with Width and Height, covers the frame with the image,
	// cropped where its content matters least (--fill crop); an image
	// that would lose more than MaxCropLoss of itself is shown as with
	// Blur instead.
	Crop bool
	// Caption is text drawn in the lower left corner (--caption, filled
	// in); "" draws nothing.
	Caption string
	// Cores is how many goroutines Scale resizes on at once; 0 means
	// one per CPU. It changes how fast a frame is made, not its pixels.
	Cores int
}

func (o Options) quality() int {
	if o.Quality <= 0 {
		return DefaultQuality
	}
	return min(o.Quality, 100)
}
