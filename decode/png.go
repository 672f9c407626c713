package decode

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"image/png"
	"io"
)

const pngSignature = "\x89PNG\r\n\x1a\n"

var pngFormat = &format{
	id:     PNG,
	name:   "PNG",
	exts:   []string{".png"},
	magic:  func(b []byte) bool { return bytes.HasPrefix(b, []byte(pngSignature)) },
	header: pngHeader,
	decode: func(name string, data []byte, l layout, o Options) (image.Image, error) {
		if o.Rows && l.rows {
			if p, ok := pngRows(name, data); ok {
				return p, nil
			}
			// The memory was budgeted for rows: a file the row reader
			// refuses is not decoded whole behind the budget's back.
			// image/png refuses such files too (chunks out of order, a
			// bad checksum, no end), but only once it has allocated the
			// whole picture.
			return nil, errors.New("its chunks are out of order or damaged")
		}
		return png.Decode(bytes.NewReader(data))
	},
	exif: func(data []byte) []byte { return pngChunk(data, "eXIf") },
	icc:  pngICC,
	exifAt: func(r io.ReaderAt, size int64) []byte {
		return chunkAt(r, size, int64(len(pngSignature)), "eXIf", func(h []byte, off int64) (string, int64, int64, int64) {
			n := int64(binary.BigEndian.Uint32(h))
			if string(h[4:8]) == "IEND" {
				return "", 0, -1, 0
			}
			return string(h[4:8]), off + 8, n, off + 12 + n // the CRC follows
		})
	},
}

// pngHeader reads IHDR with image/png, then walks the chunks up to the
// first IDAT to learn whether a colour key (tRNS) changes the decoded
// layout and whether the file can be read by rows.
func pngHeader(_ string, b []byte) (layout, error) {
	cfg, err := png.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return layout{}, err
	}
	if len(b) < 33 {
		return layout{}, io.ErrUnexpectedEOF
	}
	depth, ctype, interlace := b[24], b[25], b[28]
	keyed, err := pngKeyed(b)
	if err != nil {
		return layout{}, err
	}
	// Bytes per pixel of the image image/png returns: *image.Gray or
	// *image.Paletted (1), *image.Gray16 (2), *image.RGBA or *image.NRGBA
	// (4), their 16-bit kinds (8). A colour key makes grey and RGB images
	// NRGBA.
	var perPixel int64
	wide := depth == 16
	switch {
	case ctype == 3: // palette
		perPixel = 1
	case (ctype == 0 && !keyed) && !wide:
		perPixel = 1
	case ctype == 0 && !keyed:
		perPixel = 2
	case wide:
		perPixel = 8
	default:
		perPixel = 4
	}
	return layout{
		width:  cfg.Width,
		height: cfg.Height,
		whole:  int64(cfg.Width) * int64(cfg.Height) * perPixel,
		rows:   (depth == 8 || depth == 16) && pngChannels[ctype] > 0 && interlace == 0 && !keyed,
	}, nil
}

// pngKeyed reports whether a tRNS chunk comes before the image data. It
// returns io.ErrUnexpectedEOF when b ends before the first IDAT.
func pngKeyed(b []byte) (bool, error) {
	i := len(pngSignature)
	for {
		if i+8 > len(b) {
			return false, io.ErrUnexpectedEOF
		}
		n := int64(binary.BigEndian.Uint32(b[i:]))
		switch string(b[i+4 : i+8]) {
		case "tRNS":
			return true, nil
		case "IDAT", "IEND":
			return false, nil
		}
		next := int64(i) + 12 + n
		if n > 1<<31 {
			return false, errors.New("chunk length out of range")
		}
		if next > int64(len(b)) {
			return false, io.ErrUnexpectedEOF
		}
		i = int(next)
	}
}

// pngChunk returns the data of the first chunk of the given type before
// the image data.
func pngChunk(b []byte, typ string) []byte {
	i := len(pngSignature)
	for i+8 <= len(b) {
		n := int64(binary.BigEndian.Uint32(b[i:]))
		t := string(b[i+4 : i+8])
		end := int64(i) + 8 + n
		if end > int64(len(b)) {
			return nil
		}
		if t == typ {
			return b[i+8 : end]
		}
		if t == "IDAT" || t == "IEND" {
			return nil
		}
		i = int(end) + 4 // skip the CRC
	}
	return nil
}
