package decode

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"io"
	"strconv"
	"sync"

	"slidestream/internal/zlib"
)

// PNGRows is a non-interlaced PNG in grey, grey+alpha, RGB or RGBA, 8 or 16
// bits per sample, whose pixel data is still compressed. Rows inflates and
// unfilters it one row at a time, so a caller that shrinks the image on the
// way never holds the full-size picture: for a 15-megapixel photo that is
// 60 MB (8-bit) or 120 MB (16-bit) not allocated, written or read back.
//
// It is an image.Image so that any code can use it, but At decodes the
// whole file the first time it is called; Rows is the fast path.
type PNGRows struct {
	name     string
	data     []byte   // the whole file
	idat     [][]byte // the IDAT chunks' payloads, in order
	w, h     int
	channels int // 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA
	depth    int // bits per sample: 8 or 16

	once sync.Once
	full image.Image // decoded by At on first use
}

// Channels is the number of samples per pixel: 1 for grey, 2 for grey and
// alpha, 3 for RGB, 4 for RGBA. Alpha is not premultiplied.
func (p *PNGRows) Channels() int { return p.channels }

// Depth is the bits per sample, 8 or 16 (16-bit samples are big-endian).
func (p *PNGRows) Depth() int { return p.depth }

func (p *PNGRows) Bounds() image.Rectangle { return image.Rect(0, 0, p.w, p.h) }

// ColorModel is that of the image image/png would return for the file.
func (p *PNGRows) ColorModel() color.Model {
	switch {
	case p.channels == 1 && p.depth == 8:
		return color.GrayModel
	case p.channels == 1:
		return color.Gray16Model
	case p.channels == 3 && p.depth == 8:
		return color.RGBAModel
	case p.channels == 3:
		return color.RGBA64Model
	case p.depth == 8:
		return color.NRGBAModel
	}
	return color.NRGBA64Model
}

// At decodes the whole image on first use and reads the pixel from it.
func (p *PNGRows) At(x, y int) color.Color {
	p.once.Do(func() {
		m, err := png.Decode(bytes.NewReader(p.data))
		if err != nil {
			m = image.NewNRGBA(p.Bounds())
		}
		p.full = m
	})
	return p.full.At(x, y)
}

// Rows calls fn with every row, top to bottom: w pixels of Channels
// samples of Depth bits, as stored in the file. The slice is reused for the
// next row. An error
// in the compressed data is returned as an *Error, after fn has seen the
// rows before it.
func (p *PNGRows) Rows(fn func(row []byte)) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = reject(p.name, ErrCorrupt, "the PNG row decoder crashed on this file: %v", r)
		}
	}()
	z, err := zlib.NewReader(p.idat)
	if err != nil {
		return corrupt(p.name, PNG, err)
	}
	bpp := p.channels * p.depth / 8
	row := 1 + bpp*p.w // the filter type byte, then the pixels
	cur, prev := make([]byte, row), make([]byte, row)
	for y := 0; y < p.h; y++ {
		if _, err := io.ReadFull(z, cur); err != nil {
			return corrupt(p.name, PNG, err)
		}
		if err := unfilter(cur[0], cur[1:], prev[1:], bpp); err != nil {
			return reject(p.name, ErrCorrupt, "not a valid PNG: row %d: %v", y, err)
		}
		fn(cur[1:])
		cur, prev = prev, cur
	}
	// Reaching the end of the stream checks its Adler-32 sum. Data after
	// the last row is refused, as image/png refuses it.
	var one [1]byte
	var n int
	err = nil
	for i := 0; n == 0 && err == nil && i < 100; i++ {
		n, err = z.Read(one[:])
	}
	switch {
	case n > 0:
		return reject(p.name, ErrCorrupt, "not a valid PNG: more pixel data than %dx%d", p.w, p.h)
	case err != io.EOF:
		return corrupt(p.name, PNG, err)
	}
	return nil
}

// unfilter reverses a PNG row filter in place (PNG spec, section 9). prev
// is the previous row, already unfiltered, or zeros for the first row; bpp
// is the bytes per pixel.
func unfilter(kind byte, cur, prev []byte, bpp int) error {
	switch kind {
	case 0: // None
	case 1: // Sub: add the pixel to the left
		for i := bpp; i < len(cur); i++ {
			cur[i] += cur[i-bpp]
		}
	case 2: // Up: add the pixel above
		prev = prev[:len(cur)]
		for i := range cur {
			cur[i] += prev[i]
		}
	case 3: // Average of left and above, rounded down
		for i := 0; i < bpp; i++ {
			cur[i] += prev[i] / 2
		}
		for i := bpp; i < len(cur); i++ {
			cur[i] += uint8((uint(cur[i-bpp]) + uint(prev[i])) / 2)
		}
	case 4: // Paeth: whichever of left, above, upper-left is nearest to left+above-upperleft
		for i := range bpp {
			cur[i] += prev[i] // left and upper-left are 0: the predictor is above
		}
		// Written to compile to conditional moves: in a photo the choice
		// is as good as random, and a mispredicted branch costs more than
		// the rest. Samples bpp apart depend on each other, those between
		// do not, so the processor overlaps them.
		prev = prev[:len(cur)]
		for i := bpp; i < len(cur); i++ {
			left, up, upLeft := int(cur[i-bpp]), int(prev[i]), int(prev[i-bpp])
			pa := up - upLeft     // |p - left|, p = left + up - upLeft
			pb := left - upLeft   // |p - up|
			pc := absInt(pa + pb) // |p - upLeft|
			pa, pb = absInt(pa), absInt(pb)
			q := up // the nearer of up and upLeft, ties to up
			if pc < pb {
				q = upLeft
			}
			if pa <= min(pb, pc) { // ties to left
				q = left
			}
			cur[i] += uint8(q)
		}
	default:
		return fmt.Errorf("unknown filter type %d", kind)
	}
	return nil
}

func absInt(x int) int {
	m := x >> (strconv.IntSize - 1)
	return (x ^ m) - m
}

// pngRows returns the file as *PNGRows when Rows can read it: grey, grey
// and alpha, RGB or RGBA, 8 or 16 bits per sample, not interlaced, no tRNS
// colour key. (Palette images are small once decoded; image/png takes
// them.) The chunk
// layout and every chunk's CRC are checked here, as image/png would; any
// file it does not take (or finds odd) goes to image/png, which gives the
// full reason when it is broken.
func pngRows(name string, data []byte) (*PNGRows, bool) {
	const sig = "\x89PNG\r\n\x1a\n"
	if !bytes.HasPrefix(data, []byte(sig)) {
		return nil, false
	}
	p := &PNGRows{name: name, data: data}
	rest := data[len(sig):]
	first, idatEnded := true, false
	for {
		if len(rest) < 12 {
			return nil, false // no IEND
		}
		n := binary.BigEndian.Uint32(rest)
		if n > uint32(len(rest)-12) {
			return nil, false
		}
		kind, body := string(rest[4:8]), rest[8:8+n]
		if crc32.ChecksumIEEE(rest[4:8+n]) != binary.BigEndian.Uint32(rest[8+n:]) {
			return nil, false
		}
		rest = rest[12+n:]
		if first != (kind == "IHDR") {
			return nil, false
		}
		first = false
		switch kind {
		case "IHDR":
			if len(body) != 13 {
				return nil, false
			}
			w, h := binary.BigEndian.Uint32(body), binary.BigEndian.Uint32(body[4:])
			depth, channels := int(body[8]), pngChannels[body[9]]
			if w == 0 || h == 0 || w > 1<<30 || h > 1<<30 || (depth != 8 && depth != 16) || channels == 0 ||
				body[10] != 0 || body[11] != 0 || body[12] != 0 {
				return nil, false
			}
			p.w, p.h, p.channels, p.depth = int(w), int(h), channels, depth
		case "tRNS":
			return nil, false
		case "IDAT":
			if idatEnded {
				return nil, false // IDAT chunks must be consecutive
			}
			p.idat = append(p.idat, body)
		case "IEND":
			return p, len(p.idat) > 0
		default:
			if len(p.idat) > 0 {
				idatEnded = true
			}
		}
	}
}

// pngChannels maps the colour types Rows reads to samples per pixel: 0
// grey, 2 RGB, 4 grey+alpha, 6 RGBA. Others (3, palette) map to 0.
var pngChannels = [256]int{0: 1, 2: 3, 4: 2, 6: 4}
