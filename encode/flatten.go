package encode

import (
	"image"
	"image/color"

	"slidestream/decode"
)

// rowFunc writes the flattened, opaque sRGB of source row y (relative to the
// image's bounds) into dst as R, G, B triples, one per column.
type rowFunc func(y int, dst []uint8)

// flatten converts any decoded image to an opaque *image.RGBA, compositing
// transparent pixels over bg, and averages each k×k block of source pixels
// into one output pixel on the way (k = 1 is a plain conversion). Doing the
// cheap box reduction while converting means the full-size RGBA copy of a
// large photo is never allocated.
//
// Pixels are composited one by one before averaging, so a colour hidden
// under a fully transparent pixel can never bleed into the result.
//
// The error is from Rows whose compressed data turns out bad.
func flatten(m image.Image, bg color.RGBA, k int) (*image.RGBA, error) {
	b := m.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, ceilDiv(b.Dx(), k), ceilDiv(b.Dy(), k)))
	err := flattenEach(m, bg, k, func(y int, rgb []uint8) { opaque(out.Pix[y*out.Stride:][:out.Stride], rgb) })
	return out, err
}

// flattenEach is flatten giving each output row to emit as it is made, as
// R, G, B triples in a reused slice, top to bottom, instead of keeping
// them.
func flattenEach(m image.Image, bg color.RGBA, k int, emit func(y int, rgb []uint8)) error {
	if m, ok := m.(Rows); ok {
		return flattenRows(m, bg, k, emit)
	}
	b := m.Bounds()
	w, h := b.Dx(), b.Dy()
	row := rowReader(m, bg)
	box := newBoxer(w, h, k, emit)
	line := make([]uint8, 3*w)
	for y := 0; y < h; y++ {
		row(y, line)
		box.add(line)
	}
	return nil
}

// Rows is a picture still compressed, read once, top to bottom, as it is
// decompressed, so that the full-size picture is never held in memory
// (decode.PNGRows is one).
type Rows interface {
	Bounds() image.Rectangle
	// Channels is the samples per pixel: 1 grey, 2 grey and alpha, 3 RGB,
	// 4 RGBA (alpha not premultiplied).
	Channels() int
	// Depth is the bits per sample, 8 or 16 (16-bit samples big-endian).
	Depth() int
	// Rows calls fn with every row, top to bottom, in a reused slice, and
	// returns what went wrong in the compressed data.
	Rows(fn func(row []byte)) error
}

// flattenRows is flattenEach for rows read as they are decompressed,
// never holding more than two of them. Each layout is converted exactly as the image types image/png
// returns for it are converted by rowReader, so a frame is the same
// whichever way the file was read.
func flattenRows(m Rows, bg color.RGBA, k int, emit func(y int, rgb []uint8)) error {
	w, h := m.Bounds().Dx(), m.Bounds().Dy()
	box := newBoxer(w, h, k, emit)
	line := make([]uint8, 3*w)
	var conv func(s []byte)
	switch ch := m.Channels(); m.Depth() {
	case 8:
		switch ch {
		case 3: // *image.RGBA, opaque
			return m.Rows(box.add) // already what add takes
		case 1: // *image.Gray
			conv = func(s []byte) {
				for x, v := range s[:w] {
					line[3*x], line[3*x+1], line[3*x+2] = v, v, v
				}
			}
		case 4: // *image.NRGBA
			conv = func(s []byte) { flatNRGBA(line, s, w, bg) }
		case 2: // *image.NRGBA, grey in R, G and B
			conv = func(s []byte) {
				for x := 0; x < w; x++ {
					v, a := s[2*x], s[2*x+1]
					line[3*x], line[3*x+1], line[3*x+2] = over(v, a, bg.R), over(v, a, bg.G), over(v, a, bg.B)
				}
			}
		}
	case 16:
		// *image.Gray16, *image.RGBA64 (opaque) and *image.NRGBA64, through
		// their 16-bit premultiplied colours, as flatColor does.
		conv = func(s []byte) {
			for x := 0; x < w; x++ {
				p := s[2*ch*x:]
				at := func(i int) uint32 { return uint32(p[2*i])<<8 | uint32(p[2*i+1]) }
				var r, g, b, a uint32
				switch ch {
				case 1:
					r, a = at(0), 0xffff
					g, b = r, r
				case 2:
					r, a = at(0), at(1)
					g, b = r, r
				case 3:
					r, g, b, a = at(0), at(1), at(2), 0xffff
				case 4:
					r, g, b, a = at(0), at(1), at(2), at(3)
				}
				if ch == 2 || ch == 4 { // premultiply, as color.NRGBA64.RGBA does
					r, g, b = r*a/0xffff, g*a/0xffff, b*a/0xffff
				}
				line[3*x], line[3*x+1], line[3*x+2] = over16(r, a, bg.R), over16(g, a, bg.G), over16(b, a, bg.B)
			}
		}
	}
	return m.Rows(func(s []byte) {
		conv(s)
		box.add(line)
	})
}

// boxer averages k×k blocks of opaque RGB rows, given top to bottom, and
// gives each averaged row to emit.
type boxer struct {
	k, w, h int
	y       int      // source rows added so far
	sum     []uint32 // R, G, B sums of the output row being built
	col     []int32  // offset into sum of every source column
	avg     []uint8  // the output row
	emit    func(y int, rgb []uint8)
}

func newBoxer(w, h, k int, emit func(y int, rgb []uint8)) *boxer {
	b := &boxer{k: k, w: w, h: h, emit: emit}
	if k > 1 {
		ow := (w + k - 1) / k
		b.sum = make([]uint32, 3*ow)
		b.avg = make([]uint8, 3*ow)
		// A division per pixel would cost more than the additions.
		b.col = make([]int32, w)
		for x := range b.col {
			b.col[x] = int32(3 * (x / k))
		}
	}
	return b
}

// add takes the next source row: w pixels of R, G, B.
func (b *boxer) add(line []uint8) {
	y := b.y
	b.y++
	if b.k == 1 {
		b.emit(y, line[:3*b.w])
		return
	}
	for x, o := range b.col {
		s := b.sum[o : o+3 : o+3]
		p := line[3*x : 3*x+3 : 3*x+3]
		s[0] += uint32(p[0])
		s[1] += uint32(p[1])
		s[2] += uint32(p[2])
	}
	if b.y%b.k != 0 && b.y != b.h {
		return
	}
	// k rows are in, or this was the last, shorter band: emit a row.
	oy := y / b.k
	rows := uint32(y - oy*b.k + 1)
	for ox := range len(b.avg) / 3 {
		n := uint32(min(ox*b.k+b.k, b.w)-ox*b.k) * rows
		s := b.sum[3*ox : 3*ox+3 : 3*ox+3]
		d := b.avg[3*ox : 3*ox+3 : 3*ox+3]
		d[0] = uint8((s[0] + n/2) / n)
		d[1] = uint8((s[1] + n/2) / n)
		d[2] = uint8((s[2] + n/2) / n)
	}
	clear(b.sum)
	b.emit(oy, b.avg)
}

// flatNRGBA composites w non-premultiplied RGBA pixels from s onto bg and
// writes them to d as R, G, B.
func flatNRGBA(d, s []uint8, w int, bg color.RGBA) {
	for x := 0; x < w; x++ {
		p := s[4*x : 4*x+4 : 4*x+4]
		if a := p[3]; a == 0xff {
			d[3*x], d[3*x+1], d[3*x+2] = p[0], p[1], p[2]
		} else {
			d[3*x], d[3*x+1], d[3*x+2] = over(p[0], a, bg.R), over(p[1], a, bg.G), over(p[2], a, bg.B)
		}
	}
}

// over composites a non-premultiplied 8-bit channel value with alpha a onto
// the background channel value bg.
func over(c, a, bg uint8) uint8 {
	return uint8((uint32(c)*uint32(a) + uint32(bg)*(255-uint32(a)) + 127) / 255)
}

// over16 composites a premultiplied 16-bit channel value with 16-bit alpha
// a onto an 8-bit background channel, returning 8 bits.
func over16(c, a uint32, bg uint8) uint8 {
	v := c + uint32(bg)*0x101*(0xffff-a)/0xffff
	return uint8((v + 0x80) / 0x101)
}

// rowReader picks the fastest way to read rows of m. Every type the
// decoders return has its own loop; anything else goes through At.
func rowReader(m image.Image, bg color.RGBA) rowFunc {
	b := m.Bounds()
	x0, y0, w := b.Min.X, b.Min.Y, b.Dx()
	bg3 := [3]uint8{bg.R, bg.G, bg.B}
	switch m := m.(type) {
	case *image.YCbCr:
		return ycbcrRows(m, nil, 0, bg3, color.YCbCrToRGB)
	case *decode.VideoYCbCr:
		return ycbcrRows(m.YCbCr, nil, 0, bg3, decode.VideoToRGB)
	case *image.NYCbCrA:
		return ycbcrRows(&m.YCbCr, m.A, m.AStride, bg3, color.YCbCrToRGB)
	case *decode.VideoNYCbCrA:
		return ycbcrRows(&m.NYCbCrA.YCbCr, m.A, m.AStride, bg3, decode.VideoToRGB)
	case *image.Gray:
		return func(y int, d []uint8) {
			s := m.Pix[(y)*m.Stride:]
			for x := 0; x < w; x++ {
				d[3*x], d[3*x+1], d[3*x+2] = s[x], s[x], s[x]
			}
		}
	case *image.Gray16:
		return func(y int, d []uint8) {
			s := m.Pix[y*m.Stride:]
			for x := 0; x < w; x++ {
				v := uint8((uint32(s[2*x])<<8 | uint32(s[2*x+1]) + 0x80) / 0x101)
				d[3*x], d[3*x+1], d[3*x+2] = v, v, v
			}
		}
	case *image.NRGBA:
		return func(y int, d []uint8) { flatNRGBA(d, m.Pix[y*m.Stride:], w, bg) }
	case *image.RGBA:
		return func(y int, d []uint8) {
			s := m.Pix[y*m.Stride:]
			for x := 0; x < w; x++ {
				p := s[4*x : 4*x+4]
				ia := 255 - uint32(p[3])
				d[3*x] = uint8(uint32(p[0]) + (uint32(bg.R)*ia+127)/255)
				d[3*x+1] = uint8(uint32(p[1]) + (uint32(bg.G)*ia+127)/255)
				d[3*x+2] = uint8(uint32(p[2]) + (uint32(bg.B)*ia+127)/255)
			}
		}
	case *image.CMYK:
		return func(y int, d []uint8) {
			s := m.Pix[y*m.Stride:]
			for x := 0; x < w; x++ {
				d[3*x], d[3*x+1], d[3*x+2] = color.CMYKToRGB(s[4*x], s[4*x+1], s[4*x+2], s[4*x+3])
			}
		}
	case *image.Paletted:
		// Flatten the palette once instead of every pixel.
		var lut [256][3]uint8
		for i, c := range m.Palette {
			lut[i] = flatColor(c, bg)
		}
		return func(y int, d []uint8) {
			s := m.Pix[y*m.Stride:]
			for x := 0; x < w; x++ {
				c := lut[s[x]]
				d[3*x], d[3*x+1], d[3*x+2] = c[0], c[1], c[2]
			}
		}
	}
	return func(y int, d []uint8) {
		for x := 0; x < w; x++ {
			c := flatColor(m.At(x0+x, y0+y), bg)
			d[3*x], d[3*x+1], d[3*x+2] = c[0], c[1], c[2]
		}
	}
}

// flatColor composites any colour onto bg, using the 16-bit premultiplied
// values every color.Color provides.
func flatColor(c color.Color, bg color.RGBA) [3]uint8 {
	r, g, b, a := c.RGBA()
	return [3]uint8{over16(r, a, bg.R), over16(g, a, bg.G), over16(b, a, bg.B)}
}
