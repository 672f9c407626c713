package decode

import (
	"bytes"
	"image"
	"image/draw"
	"image/gif"
)

var gifFormat = &format{
	id:   GIF,
	name: "GIF",
	exts: []string{".gif"},
	magic: func(b []byte) bool {
		return bytes.HasPrefix(b, []byte("GIF87a")) || bytes.HasPrefix(b, []byte("GIF89a"))
	},
	header: func(_ string, b []byte) (layout, error) {
		cfg, err := gif.DecodeConfig(bytes.NewReader(b))
		if err != nil {
			return layout{}, err
		}
		// The first frame at one byte per pixel, and a canvas at four
		// when it does not cover the whole screen.
		return layout{width: cfg.Width, height: cfg.Height, whole: 5 * int64(cfg.Width) * int64(cfg.Height)}, nil
	},
	decode: decodeGIF,
	exif:   func([]byte) []byte { return nil },
}

// decodeGIF decodes the first frame only, which is what a slideshow can
// show of an animation. A frame that covers part of the logical screen is
// placed on a transparent screen-sized canvas, as a viewer shows it.
func decodeGIF(_ string, data []byte, l layout, _ Options) (image.Image, error) {
	m, err := gif.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	screen := image.Rect(0, 0, l.width, l.height)
	if m.Bounds() == screen {
		return m, nil
	}
	canvas := image.NewNRGBA(screen)
	draw.Draw(canvas, m.Bounds(), m, m.Bounds().Min, draw.Src)
	return canvas, nil
}
