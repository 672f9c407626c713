package encode

import (
	"image"

	"slidestream/decode"
)

// ycbcrRows reads rows of a YCbCr image (with optional non-premultiplied
// alpha) through toRGB, compositing onto bg where alpha is below 255.
func ycbcrRows(m *image.YCbCr, alpha []uint8, astride int, bg [3]uint8, toRGB func(y, cb, cr uint8) (uint8, uint8, uint8)) rowFunc {
	c := decode.NewChromaRows(m)
	w := m.Rect.Dx()
	return func(y int, d []uint8) {
		c.Row(y)
		ys := m.Y[y*m.YStride:][:w]
		var as []uint8
		if alpha != nil {
			as = alpha[y*astride:][:w]
		}
		for x := 0; x < w; x++ {
			r, g, b := toRGB(ys[x], c.Cb[x], c.Cr[x])
			if as != nil {
				if a := as[x]; a != 0xff {
					r, g, b = over(r, a, bg[0]), over(g, a, bg[1]), over(b, a, bg[2])
				}
			}
			d[3*x], d[3*x+1], d[3*x+2] = r, g, b
		}
	}
}
