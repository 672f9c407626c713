package encode

import (
	"image"
)

// boxYCbCr shrinks an opaque YCbCr image by k in each direction, averaging
// the Y, Cb and Cr planes separately at their own resolutions, and converts
// only the small result to RGB. Averaging before the (linear) conversion
// gives the same colours as averaging after it, except where the
// conversion clips, and it skips the per-pixel conversion and chroma
// upsampling of the full-size image: most of the cost of a large photo.
//
// It handles images whose planes start at the origin, as decoders return
// them; ok is false for anything else.
func boxYCbCr(m *image.YCbCr, k int, toRGB func(y, cb, cr uint8) (uint8, uint8, uint8)) (out *image.RGBA, ok bool) {
	if m.Rect.Min != (image.Point{}) || k < 2 {
		return nil, false
	}
	hx, vy := 1, 1
	switch m.SubsampleRatio {
	case image.YCbCrSubsampleRatio444:
	case image.YCbCrSubsampleRatio422:
		hx = 2
	case image.YCbCrSubsampleRatio420:
		hx, vy = 2, 2
	case image.YCbCrSubsampleRatio440:
		vy = 2
	default:
		return nil, false
	}
	w, h := m.Rect.Dx(), m.Rect.Dy()
	ow, oh := (w+k-1)/k, (h+k-1)/k
	cw, ch := (w+hx-1)/hx, (h+vy-1)/vy
	out = image.NewRGBA(image.Rect(0, 0, ow, oh))

	// Output column of every luma and chroma column, computed once.
	ycol := make([]int32, w)
	for x := range ycol {
		ycol[x] = int32(x / k)
	}
	// A chroma sample covers hx luma columns; with an odd k those can fall
	// in two output columns, and the sample then counts in both.
	ccol := make([]int32, cw)
	ccol2 := make([]int32, cw)
	for cx := range ccol {
		ccol[cx] = int32(min(cx*hx/k, ow-1))
		ccol2[cx] = int32(min((cx*hx+hx-1)/k, ow-1))
	}
	sy := make([]uint32, ow)
	sb := make([]uint32, ow)
	sr := make([]uint32, ow)
	nc := make([]uint32, ow)
	for oy := 0; oy < oh; oy++ {
		clear(sy)
		clear(sb)
		clear(sr)
		clear(nc)
		y0, y1 := oy*k, min(oy*k+k, h)
		for y := y0; y < y1; y++ {
			for x, v := range m.Y[y*m.YStride:][:w] {
				sy[ycol[x]] += uint32(v)
			}
		}
		// Every chroma row that covers one of the luma rows y0..y1-1.
		for cy := y0 / vy; cy <= min((y1-1)/vy, ch-1); cy++ {
			cbRow, crRow := m.Cb[cy*m.CStride:][:cw], m.Cr[cy*m.CStride:][:cw]
			for cx, o := range ccol {
				b, r := uint32(cbRow[cx]), uint32(crRow[cx])
				sb[o] += b
				sr[o] += r
				nc[o]++
				if o2 := ccol2[cx]; o2 != o {
					sb[o2] += b
					sr[o2] += r
					nc[o2]++
				}
			}
		}
		rows := uint32(y1 - y0)
		d := out.Pix[oy*out.Stride:]
		for ox := 0; ox < ow; ox++ {
			n := rows * uint32(min(ox*k+k, w)-ox*k)
			yv := uint8((sy[ox] + n/2) / n)
			cb, cr := uint8(128), uint8(128)
			if c := nc[ox]; c > 0 {
				cb, cr = uint8((sb[ox]+c/2)/c), uint8((sr[ox]+c/2)/c)
			}
			d[4*ox], d[4*ox+1], d[4*ox+2] = toRGB(yv, cb, cr)
			d[4*ox+3] = 0xff
		}
	}
	return out, true
}
