package decode

import (
	"bytes"
	"image"
	"image/color"
	stdjpeg "image/jpeg"

	"slidestream/internal/jpeg"
)

// MaxJPEGScans is the most scans a JPEG may have. Progressive encoders
// write around ten; only a crafted file has hundreds.
const MaxJPEGScans = jpeg.MaxScans

var jpegFormat = &format{
	id:   JPEG,
	name: "JPEG",
	exts: []string{".jpg", ".jpeg"},
	magic: func(b []byte) bool {
		return len(b) >= 3 && b[0] == 0xff && b[1] == 0xd8 && b[2] == 0xff
	},
	header: jpegHeader,
	decode: func(name string, data []byte, _ layout, _ Options) (image.Image, error) {
		// Each scan of a progressive JPEG walks every block of the image,
		// so a small file with thousands of tiny scans costs minutes of
		// CPU. Real files have about ten; libjpeg-turbo's tools stop at
		// 500. Counting FF DA is exact enough: inside entropy-coded data
		// every FF byte is followed by 00 or a restart marker.
		if n := bytes.Count(data, []byte{0xff, 0xda}); n > MaxJPEGScans {
			return nil, reject(name, ErrCorrupt, "the JPEG has %d scans, over the %d a real photo could need (a decoding bomb?)", n, MaxJPEGScans)
		}
		return stdjpeg.Decode(bytes.NewReader(data))
	},
	decodeShrunk: jpeg.DecodeScaled,
	exif:         jpegExif,
	icc:          jpegICC,
}

// jpegHeader reads the frame header with image/jpeg itself, so that the
// size is exactly what its decoder will find, and the frame's kind from the
// SOF marker for the memory estimate.
func jpegHeader(_ string, b []byte) (layout, error) {
	cfg, err := stdjpeg.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return layout{}, err
	}
	var perPixel int64
	switch cfg.ColorModel {
	case color.GrayModel:
		perPixel = 1
	case color.YCbCrModel:
		perPixel = 3 // 4:4:4 at most
	default: // CMYK and YCCK
		perPixel = 4
	}
	if jpegProgressive(b) {
		// Every component's coefficients are kept as int32 until the last
		// scan: 4 bytes per sample.
		perPixel += 4 * perPixel
	}
	return layout{width: cfg.Width, height: cfg.Height, whole: int64(cfg.Width) * int64(cfg.Height) * perPixel,
		shrunk: jpeg.Memory(b), planar: jpegChroma(b, cfg.ColorModel)}, nil
}

// jpegChroma is how many pixels a chroma sample spans, across and down,
// for a frame image/jpeg returns as *image.YCbCr: the luma's sampling
// factors over the chroma's (B.2.2); 1×1, the most memory, when the frame
// header cannot say. Zero for other colour models.
func jpegChroma(b []byte, model color.Model) image.Point {
	if model != color.YCbCrModel {
		return image.Point{}
	}
	chroma := image.Pt(1, 1)
	jpeg.Segments(b, func(marker byte, p []byte) bool {
		if marker < 0xc0 || marker > 0xcf || marker == 0xc4 || marker == 0xc8 || marker == 0xcc {
			return true
		}
		if len(p) >= 6+3*3 && p[5] == 3 {
			y, c := p[7], p[10] // each component: id, sampling factors, table
			hy, vy, hc, vc := int(y>>4), int(y&15), int(c>>4), int(c&15)
			if hc > 0 && vc > 0 && hy%hc == 0 && vy%vc == 0 {
				chroma = image.Pt(hy/hc, vy/vc)
			}
		}
		return false
	})
	return chroma
}

// jpegProgressive reports whether the frame is progressive (SOF2, or the
// arithmetic-coded SOF6, SOF10 and SOF14).
func jpegProgressive(b []byte) bool {
	progressive := false
	jpeg.Segments(b, func(marker byte, _ []byte) bool {
		if marker >= 0xc0 && marker <= 0xcf && marker != 0xc4 && marker != 0xc8 && marker != 0xcc {
			progressive = marker&3 == 2
			return false
		}
		return true
	})
	return progressive
}

// jpegExif returns the TIFF payload of the first APP1 Exif segment.
func jpegExif(b []byte) []byte {
	var tiff []byte
	jpeg.Segments(b, func(marker byte, p []byte) bool {
		if marker == 0xe1 && bytes.HasPrefix(p, []byte("Exif\x00\x00")) {
			tiff = p[6:]
			return false
		}
		return true
	})
	return tiff
}
