package decode

import "image"

// ChromaRows yields, for each image row, Cb and Cr upsampled to full width.
//
// For 4:2:0 and 4:2:2 it interpolates the way libjpeg's and libwebp's
// "fancy" upsamplers do: each chroma sample sits at the centre of the block
// it covers, so a pixel takes 3/4 of its own sample and 1/4 of the nearer
// neighbour, in each subsampled direction (9-3-3-1 weights for 4:2:0).
// Replicating samples instead, as image.YCbCr.At does, leaves colour edges
// blocky and is 1.5 levels away from the reference decoders on photos.
// Other ratios are replicated.
type ChromaRows struct {
	m        *image.YCbCr
	Cb, Cr   []uint8 // the current row, full width
	vcb, vcr []int32 // vertically interpolated chroma row ×4
}

// NewChromaRows reads the chroma of m, a decoder's picture (its origin at
// (0, 0)), row by row.
func NewChromaRows(m *image.YCbCr) *ChromaRows {
	w := m.Rect.Dx()
	cw := (w + 1) / 2
	return &ChromaRows{m: m, Cb: make([]uint8, w), Cr: make([]uint8, w), vcb: make([]int32, cw+1), vcr: make([]int32, cw+1)}
}

// Row fills c.Cb and c.Cr for image row y (0-based within the bounds).
func (c *ChromaRows) Row(y int) {
	m := c.m
	w, h := m.Rect.Dx(), m.Rect.Dy()
	switch m.SubsampleRatio {
	case image.YCbCrSubsampleRatio444:
		o := m.COffset(m.Rect.Min.X, m.Rect.Min.Y+y)
		copy(c.Cb, m.Cb[o:o+w])
		copy(c.Cr, m.Cr[o:o+w])
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
			c.Cb[x] = uint8((3*c.vcb[i] + c.vcb[n] + 8) >> 4)
			c.Cr[x] = uint8((3*c.vcr[i] + c.vcr[n] + 8) >> 4)
		}
	default:
		c.nearest(y)
	}
}

func (c *ChromaRows) nearest(y int) {
	m := c.m
	for x := range c.Cb {
		o := m.COffset(m.Rect.Min.X+x, m.Rect.Min.Y+y)
		c.Cb[x], c.Cr[x] = m.Cb[o], m.Cr[o]
	}
}
