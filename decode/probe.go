package decode

import (
	"bytes"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"

	"golang.org/x/image/webp"
)

// probeBytes is how much of a file Probe reads: enough for the headers of
// every format, including a JPEG's EXIF block (at most 64 KiB) before its
// frame header.
const probeBytes = 256 << 10

// Info is what a file's header says about it, read without decoding.
type Info struct {
	Format Format
	Width  int
	Height int
	// Memory estimates the bytes Open will hold at once: the file, the
	// pixels in the decoder's layout (none for a PNG read by rows), plus a
	// progressive JPEG's coefficients.
	Memory int64
}

// Probe reads the start of the file at path and reports its format, size
// and the memory decoding it will take, so a caller can budget decodes
// before starting them. It applies the same file checks as File. It is
// safe for concurrent use.
func Probe(path string) (Info, error) {
	info, _, err := probeFile(path)
	return info, err
}

// Check is Probe plus the limits File applies before decoding: from the
// header alone it tells whether File would refuse the file, and why. A file
// it passes may still turn out corrupt when decoded.
func Check(path string, lim Limits) (Info, error) {
	info, size, err := probeFile(path)
	if err != nil {
		return info, err
	}
	if max := lim.maxFileSize(); size > max {
		return info, reject(path, ErrFileTooLarge, "%s is over --max-file-size %s", humanBytes(size), humanBytes(max))
	}
	return info, lim.checkPixels(path, info.Width, info.Height)
}

func probeFile(path string) (Info, int64, error) {
	f, st, err := openRegular(path)
	if err != nil {
		return Info{}, 0, err
	}
	defer f.Close()
	head := make([]byte, probeBytes)
	n, err := io.ReadFull(f, head)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return Info{}, 0, reject(path, ErrUnreadable, "read failed: %v", err)
	}
	info, err := probe(path, head[:n])
	info.Memory += st.Size() // File holds the whole file while decoding
	return info, st.Size(), err
}

func probe(name string, head []byte) (Info, error) {
	format, ok := sniff(head)
	if !ok {
		return Info{}, reject(name, ErrUnknownFormat, "%s", describe(head))
	}
	var cfg image.Config
	var err error
	r := bytes.NewReader(head)
	switch format {
	case JPEG:
		cfg, err = jpeg.DecodeConfig(r)
	case PNG:
		cfg, err = png.DecodeConfig(r)
	case GIF:
		cfg, err = gif.DecodeConfig(r)
	case WebP:
		if webpAnimated(head) {
			return Info{Format: format}, reject(name, ErrAnimated, "animated WebP images are not supported; save a still frame instead")
		}
		cfg, err = webp.DecodeConfig(r)
	}
	if err != nil {
		return Info{}, corrupt(name, format, err)
	}
	px := int64(cfg.Width) * int64(cfg.Height)
	var perPixel int64
	switch cfg.ColorModel {
	case color.GrayModel, color.AlphaModel:
		perPixel = 1
	case color.Gray16Model:
		perPixel = 2
	case color.YCbCrModel:
		perPixel = 3 // 4:4:4 at most
	case color.NYCbCrAModel, color.CMYKModel, color.RGBAModel, color.NRGBAModel:
		perPixel = 4
	case color.RGBA64Model, color.NRGBA64Model:
		perPixel = 8
	default: // palettes
		perPixel = 1
	}
	if format == PNG && pngByRows(head) {
		perPixel = 0 // Open inflates it a row at a time
	}
	if format == JPEG && bytes.Contains(head, []byte{0xff, 0xc2}) {
		// Progressive: every component's coefficients are kept as int32
		// until the last scan, 4 bytes per coefficient.
		perPixel += 4 * min(perPixel, 4)
	}
	return Info{Format: format, Width: cfg.Width, Height: cfg.Height, Memory: px * perPixel}, nil
}

// pngByRows tells from the start of a PNG whether Open will read it by
// rows (see pngRows): IHDR says grey, grey+alpha, RGB or RGBA at 8 or 16
// bits, not interlaced, and no tRNS chunk is in sight.
func pngByRows(head []byte) bool {
	if len(head) < 33 || string(head[12:16]) != "IHDR" {
		return false
	}
	depth, ctype, interlace := head[24], head[25], head[28]
	return (depth == 8 || depth == 16) && pngChannels[ctype] > 0 && interlace == 0 && !bytes.Contains(head, []byte("tRNS"))
}
