package encode

import (
	"encoding/binary"
	"image"
	"image/color"
	"math"
	"math/rand/v2"
)

// dither brings m down to palette p by error diffusion, serpentine (each
// row walked the other way from the one before, so that the error does
// not drift to one side).
//
// The error is carried in linear light, since at a panel's viewing
// distance the eye averages neighbouring dots as light, and each dot
// takes the ink nearest in linear light too: the error handed on is then
// the smallest it can be, which keeps the dots' noise low (choosing in a
// perceptual space instead hands on larger errors and, in black and
// white, doubles the grain). A colour no mix of inks can reach (brighter
// than the panel's white, redder than its red) would pile up error that
// no later dot pays back, so the colour with its error is held within the
// inks' range, channel by channel. On a panel of greys a pixel's colour is
// its luminance: chroma that no grey shows is not handed on either.
// Without dithering (none), each pixel takes the ink nearest in OKLab,
// whose distances follow what the eye tells apart: there is no error to
// keep small, only a likeness. Inks are matched as they are seen
// (p.Seen) and written as their nominal colours.
func dither(m *image.RGBA, p Palette, d Dither) *image.Paletted {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	pal := make(color.Palette, len(p.Nominal))
	for i, c := range p.Nominal {
		pal[i] = c
	}
	out := image.NewPaletted(image.Rect(0, 0, w, h), pal)
	lin := linearTable()
	seen := make([][3]float32, len(p.Seen))
	labs := make([][3]float32, len(p.Seen)) // for dither none
	lo, hi := [3]float32{1, 1, 1}, [3]float32{}
	greys := true
	for i, c := range p.Seen {
		seen[i] = [3]float32{lin[c.R], lin[c.G], lin[c.B]}
		labs[i] = oklab(seen[i])
		for k := range 3 {
			lo[k], hi[k] = min(lo[k], seen[i][k]), max(hi[k], seen[i][k])
		}
		greys = greys && c.R == c.G && c.G == c.B
	}
	type tap struct {
		dx, dy int
		w      float32
	}
	var taps []tap
	switch d {
	case DitherNone:
	case DitherAtkinson:
		taps = []tap{{1, 0, 1. / 8}, {2, 0, 1. / 8}, {-1, 1, 1. / 8}, {0, 1, 1. / 8}, {1, 1, 1. / 8}, {0, 2, 1. / 8}}
	default:
		taps = []tap{{1, 0, 7. / 16}, {-1, 1, 3. / 16}, {0, 1, 5. / 16}, {1, 1, 1. / 16}}
	}
	// The error still to be added, for this row and the two below, with
	// two columns of margin on each side.
	const margin = 2
	var rows [3][]float32
	for i := range rows {
		rows[i] = make([]float32, (w+2*margin)*3)
	}
	// The top row starts with error as if rows had come before it:
	// without, a near-black or near-white area stays bare for as many
	// rows as its error takes to reach a dot, and shows a curved edge
	// where the dots begin. The noise is always the same, so a still is
	// always the same bytes.
	rng := rand.New(rand.NewPCG(1, 2))
	for x := range w * min(1, len(taps)) {
		u := rng.Float32() - 0.5
		for k := range 3 {
			rows[0][(x+margin)*3+k] = u * (hi[k] - lo[k])
		}
	}
	for y := range h {
		rtl := y%2 == 1
		for i := range w {
			x := i
			if rtl {
				x = w - 1 - i
			}
			px := m.Pix[m.PixOffset(m.Rect.Min.X+x, m.Rect.Min.Y+y):]
			c := [3]float32{lin[px[0]], lin[px[1]], lin[px[2]]}
			if greys {
				l := 0.2126*c[0] + 0.7152*c[1] + 0.0722*c[2]
				c = [3]float32{l, l, l}
			}
			e := rows[0][(x+margin)*3:]
			for k := range c {
				c[k] = max(lo[k], min(hi[k], c[k]+e[k]))
			}
			if len(taps) == 0 {
				out.Pix[y*out.Stride+x] = uint8(nearest(oklab(c), labs))
				continue
			}
			k := nearest(c, seen)
			out.Pix[y*out.Stride+x] = uint8(k)
			err := [3]float32{c[0] - seen[k][0], c[1] - seen[k][1], c[2] - seen[k][2]}
			for _, t := range taps {
				dx := t.dx
				if rtl {
					dx = -dx
				}
				if x+dx < 0 || x+dx >= w || y+t.dy >= h {
					continue
				}
				r := rows[t.dy][(x+dx+margin)*3:]
				r[0] += err[0] * t.w
				r[1] += err[1] * t.w
				r[2] += err[2] * t.w
			}
		}
		rows[0], rows[1], rows[2] = rows[1], rows[2], rows[0]
		clear(rows[2])
	}
	return out
}

// nearest is the index of the colour of inks closest to c.
func nearest(c [3]float32, inks [][3]float32) int {
	best, bestD := 0, float32(math.MaxFloat32)
	for i, l := range inks {
		d0, d1, d2 := c[0]-l[0], c[1]-l[1], c[2]-l[2]
		if d := d0*d0 + d1*d1 + d2*d2; d < bestD {
			best, bestD = i, d
		}
	}
	return best
}

// oklab converts linear sRGB to OKLab (Björn Ottosson's published
// matrices).
func oklab(c [3]float32) [3]float32 {
	r, g, b := float64(c[0]), float64(c[1]), float64(c[2])
	l := math.Cbrt(0.4122214708*r + 0.5363325363*g + 0.0514459929*b)
	m := math.Cbrt(0.2119034982*r + 0.6806995451*g + 0.1073969566*b)
	s := math.Cbrt(0.0883024619*r + 0.2817188376*g + 0.6299787005*b)
	return [3]float32{
		float32(0.2104542553*l + 0.7936177850*m - 0.0040720468*s),
		float32(1.9779984951*l - 2.4285922050*m + 0.4505937099*s),
		float32(0.0259040371*l + 0.7827717662*m - 0.8086757660*s),
	}
}

// appendBMP appends m as a Windows bitmap that e-paper firmware reads: a
// BITMAPINFOHEADER, rows bottom-up, each padded to four bytes,
// uncompressed; a paletted picture at 1 bit per pixel for two colours and
// 4 for up to sixteen (the colour table full: 2 or 16 entries), anything
// else at 24 bits.
func appendBMP(b []byte, m image.Image) []byte {
	r := m.Bounds()
	w, h := r.Dx(), r.Dy()
	p, paletted := m.(*image.Paletted)
	rgba, _ := m.(*image.RGBA) // read directly: no colour boxed per pixel
	bpp, colours := 24, 0
	if paletted {
		bpp, colours = 4, 16
		if len(p.Palette) <= 2 {
			bpp, colours = 1, 2
		}
	}
	stride := (w*bpp + 31) / 32 * 4
	offset := 14 + 40 + 4*colours
	size := offset + stride*h
	le := binary.LittleEndian
	b = append(b, 'B', 'M')
	b = le.AppendUint32(b, uint32(size))
	b = le.AppendUint32(b, 0)
	b = le.AppendUint32(b, uint32(offset))
	b = le.AppendUint32(b, 40)
	b = le.AppendUint32(b, uint32(w))
	b = le.AppendUint32(b, uint32(h)) // positive: bottom-up
	b = le.AppendUint16(b, 1)
	b = le.AppendUint16(b, uint16(bpp))
	b = le.AppendUint32(b, 0) // BI_RGB
	b = le.AppendUint32(b, uint32(stride*h))
	b = le.AppendUint32(b, 2835) // 72 dpi
	b = le.AppendUint32(b, 2835)
	b = le.AppendUint32(b, uint32(colours))
	b = le.AppendUint32(b, uint32(colours))
	for i := range colours {
		var c color.RGBA
		if paletted && i < len(p.Palette) {
			c = color.RGBAModel.Convert(p.Palette[i]).(color.RGBA)
		}
		b = append(b, c.B, c.G, c.R, 0)
	}
	row := make([]byte, stride)
	for y := h - 1; y >= 0; y-- {
		clear(row)
		for x := range w {
			switch {
			case bpp == 1:
				if p.ColorIndexAt(r.Min.X+x, r.Min.Y+y) != 0 {
					row[x/8] |= 0x80 >> (x % 8)
				}
			case bpp == 4:
				row[x/2] |= p.ColorIndexAt(r.Min.X+x, r.Min.Y+y) << (4 * (1 - x%2))
			case rgba != nil:
				px := rgba.Pix[rgba.PixOffset(r.Min.X+x, r.Min.Y+y):]
				row[3*x], row[3*x+1], row[3*x+2] = px[2], px[1], px[0]
			default:
				c := color.RGBAModel.Convert(m.At(r.Min.X+x, r.Min.Y+y)).(color.RGBA)
				row[3*x], row[3*x+1], row[3*x+2] = c.B, c.G, c.R
			}
		}
		b = append(b, row...)
	}
	return b
}
