package decode

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"io"
	"iter"

	"golang.org/x/image/webp"
)

var webpFormat = &format{
	id:   WebP,
	name: "WebP",
	exts: []string{".webp"},
	magic: func(b []byte) bool {
		return len(b) >= 12 && string(b[0:4]) == "RIFF" && string(b[8:12]) == "WEBP"
	},
	header: webpHeader,
	decode: func(_ string, data []byte, _ layout, _ Options) (image.Image, error) {
		if x := webpChunk(data, "VP8X"); len(x) >= 1 && x[0]&0x02 != 0 {
			return webpFirstFrame(data)
		}
		// decodeVP8 may be github.com/deepteams/webp, which decodes VP8
		// to the same planes as x/image/webp, about 1.2 times faster;
		// with an alpha plane it converts to RGB itself, so there
		// x/image/webp's planes are kept, which decode converts from
		// limited range.
		dec := decodeVP8
		if webpChunk(data, "ALPH") != nil {
			dec = webp.Decode
		}
		m, err := dec(bytes.NewReader(data))
		if err != nil {
			return nil, err
		}
		switch m := m.(type) {
		case *image.YCbCr: // lossy VP8
			return &VideoYCbCr{m}, nil
		case *image.NYCbCrA: // lossy VP8 with an ALPH chunk
			return &VideoNYCbCrA{m}, nil
		}
		return m, nil // lossless VP8L: *image.NRGBA
	},
	exif: func(data []byte) []byte { return webpChunk(data, "EXIF") },
	icc:  webpICC,
	exifAt: func(r io.ReaderAt, size int64) []byte {
		return chunkAt(r, size, 12, "EXIF", func(h []byte, off int64) (string, int64, int64, int64) {
			n := int64(binary.LittleEndian.Uint32(h[4:]))
			return string(h[:4]), off + 8, n, off + 8 + n + n&1 // padded to an even size
		})
	},
}

// webpHeader reads the size; an animation's is its canvas (x/image/webp
// cannot read animations: it would only say "invalid format").
func webpHeader(name string, b []byte) (layout, error) {
	if x := webpChunk(b, "VP8X"); len(x) >= 1 && x[0]&0x02 != 0 {
		m := webpMotion(b)
		if m.Canvas.X <= 0 || m.Frames == 0 {
			return layout{}, reject(name, ErrCorrupt, "an animated WebP without frames")
		}
		// The decoder's canvas, the one before disposal, and the frame.
		return layout{width: m.Canvas.X, height: m.Canvas.Y, whole: 12 * int64(m.Canvas.X) * int64(m.Canvas.Y)}, nil
	}
	cfg, err := webp.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return layout{}, err
	}
	perPixel := int64(4) // NRGBA, or YCbCr with alpha
	var planar image.Point
	if cfg.ColorModel == color.YCbCrModel {
		perPixel, planar = 3, image.Pt(2, 2) // VP8 is always 4:2:0
	}
	return layout{width: cfg.Width, height: cfg.Height, whole: int64(cfg.Width) * int64(cfg.Height) * perPixel, planar: planar}, nil
}

// webpChunk returns the data of the first RIFF chunk of the given type.
func webpChunk(b []byte, typ string) []byte {
	for t, data := range riffChunks(b, 12) { // after "RIFF", size, "WEBP"
		if t == typ {
			return data
		}
	}
	return nil
}

// riffChunks yields the chunks of RIFF data from offset i on, each one's
// type and data, up to one that runs past the end of b.
func riffChunks(b []byte, i int) iter.Seq2[string, []byte] {
	return func(yield func(string, []byte) bool) {
		for i+8 <= len(b) {
			n := int64(binary.LittleEndian.Uint32(b[i+4:]))
			end := int64(i) + 8 + n
			if end > int64(len(b)) || !yield(string(b[i:i+4]), b[i+8:end]) {
				return
			}
			i = int(end + end&1) // chunks are padded to an even size
		}
	}
}

// appendChunk appends a RIFF chunk of data to b, padded to an even size.
func appendChunk(b []byte, typ string, data []byte) []byte {
	b = append(b, typ...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(data)))
	b = append(b, data...)
	if len(data)%2 == 1 {
		b = append(b, 0)
	}
	return b
}
