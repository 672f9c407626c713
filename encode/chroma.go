package encode

import (
	"image"
)

// chromaRows yields, for each image row, Cb and Cr upsampled to full width.
//
// For 4:2:0 and 4:2:2 it interpolates the way libjpeg's and libwebp's
// "fancy" upsamplers do: each chroma sample sits at the centre of the block
// it covers, so a pixel takes 3/4 of its own sample and 1/4 of the nearer
// neighbour, in each subsampled direction (9-3-3-1 weights for 4:2:0).
// Replicating samples instead, as image.YCbCr.At does, leaves colour edges
// blocky and is 1.5 levels away from the reference decoders on photos.
// Other ratios are replicated.
type chromaRows struct {
	m        *image.YCbCr
	cb, cr   []uint8 // the current row, full width
	vcb, vcr []int32 // vertically interpolated chroma row ×4
}

func newChromaRows(m *image.YCbCr) *chromaRows {
	w := m.Rect.Dx()
	cw := (w + 1) / 2
	return &chromaRows{m: m, cb: make([]uint8, w), cr: make([]uint8, w), vcb: make([]int32, cw+1), vcr: make([]int32, cw+1)}
}

// row fills c.cb and c.cr for image row y (0-based within the bounds).
func (c *chromaRows) row(y int) {
	m := c.m
	w, h := m.Rect.Dx(), m.Rect.Dy()
	switch m.SubsampleRatio {
	case image.YCbCrSubsampleRatio444:
		o := m.COffset(m.Rect.Min.X, m.Rect.Min.Y+y)
		copy(c.cb, m.Cb[o:o+w])
		copy(c.cr, m.Cr[o:o+w])
	case image.YCbCrSubsampleRatio420, image.YCbCrSubsampleRatio422:
		// Chroma coordinates are relative to the image's origin, which the
		// decoders always put at (0, 0); other origins are replicated.
		if m.Rect.Min != (image.Point{}) {
			c.nearest(y)
			return
		}
		cw := (w + 1) / 2
		cy := y
		if m.SubsampleRatio == image.YCbCrSubsampleRatio420 {
			cy = y / 2
		}
		near := m.Cb[cy*m.CStride:][:cw]
		nearR := m.Cr[cy*m.CStride:][:cw]
		if m.SubsampleRatio == image.YCbCrSubsampleRatio420 {
			ch := (h + 1) / 2
			ny := cy - 1 // even rows lean on the chroma row above
			if y&1 == 1 {
				ny = cy + 1
			}
			ny = max(0, min(ny, ch-1))
			far := m.Cb[ny*m.CStride:][:cw]
			farR := m.Cr[ny*m.CStride:][:cw]
			for i := range cw {
				c.vcb[i] = 3*int32(near[i]) + int32(far[i])
				c.vcr[i] = 3*int32(nearR[i]) + int32(farR[i])
			}
		} else {
			for i := range cw {
				c.vcb[i] = 4 * int32(near[i])
				c.vcr[i] = 4 * int32(nearR[i])
			}
		}
		for x := 0; x < w; x++ {
			i := x / 2
			n := i - 1
			if x&1 == 1 {
				n = i + 1
			}
			n = max(0, min(n, cw-1))
			c.cb[x] = uint8((3*c.vcb[i] + c.vcb[n] + 8) >> 4)
			c.cr[x] = uint8((3*c.vcr[i] + c.vcr[n] + 8) >> 4)
		}
	default:
		c.nearest(y)
	}
}

func (c *chromaRows) nearest(y int) {
	m := c.m
	for x := range c.cb {
		o := m.COffset(m.Rect.Min.X+x, m.Rect.Min.Y+y)
		c.cb[x], c.cr[x] = m.Cb[o], m.Cr[o]
	}
}

// ycbcrRows reads rows of a YCbCr image (with optional non-premultiplied
// alpha) through toRGB, compositing onto bg where alpha is below 255.
func ycbcrRows(m *image.YCbCr, alpha []uint8, astride int, bg [3]uint8, toRGB func(y, cb, cr uint8) (uint8, uint8, uint8)) rowFunc {
	c := newChromaRows(m)
	w := m.Rect.Dx()
	return func(y int, d []uint8) {
		c.row(y)
		ys := m.Y[y*m.YStride:][:w]
		var as []uint8
		if alpha != nil {
			as = alpha[y*astride:][:w]
		}
		for x := 0; x < w; x++ {
			r, g, b := toRGB(ys[x], c.cb[x], c.cr[x])
			if as != nil {
				if a := as[x]; a != 0xff {
					r, g, b = over(r, a, bg[0]), over(g, a, bg[1]), over(b, a, bg[2])
				}
			}
			d[3*x], d[3*x+1], d[3*x+2] = r, g, b
		}
	}
}
