package decode

import (
	"image"
	"image/color"
)

// VideoYCbCr is YCbCr in the limited ("video", studio swing) range of ITU-R
// BT.601, as lossy WebP stores it: Y from 16 to 235, Cb and Cr from 16 to
// 240. Go's image.YCbCr means full-range JPEG YCbCr, so the embedded planes
// must not be converted with color.YCbCrToRGB; At and RGBAAt convert
// correctly. It is safe for concurrent reads.
type VideoYCbCr struct {
	*image.YCbCr
}

// ColorModel reports RGBA, the model At returns.
func (p *VideoYCbCr) ColorModel() color.Model { return color.RGBAModel }

// At returns the colour at (x, y), converted from limited range.
func (p *VideoYCbCr) At(x, y int) color.Color { return p.RGBAAt(x, y) }

// RGBAAt returns the colour at (x, y), converted from limited range.
func (p *VideoYCbCr) RGBAAt(x, y int) color.RGBA {
	if !(image.Point{x, y}.In(p.Rect)) {
		return color.RGBA{}
	}
	c := p.YCbCr.YCbCrAt(x, y)
	r, g, b := VideoToRGB(c.Y, c.Cb, c.Cr)
	return color.RGBA{r, g, b, 0xff}
}

// RGBA64At is At as image/draw and others ask for it when they can: the
// embedded image's own would convert from full range.
func (p *VideoYCbCr) RGBA64At(x, y int) color.RGBA64 { return rgba64(p.At(x, y)) }

func rgba64(c color.Color) color.RGBA64 {
	r, g, b, a := c.RGBA()
	return color.RGBA64{uint16(r), uint16(g), uint16(b), uint16(a)}
}

// VideoNYCbCrA is a VideoYCbCr with a non-premultiplied alpha plane, as
// lossy WebP with alpha decodes. It is safe for concurrent reads.
type VideoNYCbCrA struct {
	*image.NYCbCrA
}

// ColorModel reports NRGBA, the model At returns.
func (p *VideoNYCbCrA) ColorModel() color.Model { return color.NRGBAModel }

// At returns the colour at (x, y), converted from limited range.
func (p *VideoNYCbCrA) At(x, y int) color.Color {
	if !(image.Point{x, y}.In(p.Rect)) {
		return color.NRGBA{}
	}
	c := p.NYCbCrA.NYCbCrAAt(x, y)
	r, g, b := VideoToRGB(c.Y, c.Cb, c.Cr)
	return color.NRGBA{r, g, b, c.A}
}

// RGBA64At is At as image/draw and others ask for it when they can: the
// embedded image's own would convert from full range.
func (p *VideoNYCbCrA) RGBA64At(x, y int) color.RGBA64 { return rgba64(p.At(x, y)) }

// Fixed-point (16.16) BT.601 limited-range coefficients: 255/219 for luma,
// 255/224 times the full-range chroma factors 1.402, 0.344136, 0.714136 and
// 1.772.
const (
	vY  = 76309  // 1.164384
	vRV = 104597 // 1.596027
	vGU = 25675  // 0.391762
	vGV = 53279  // 0.812968
	vBU = 132201 // 2.017232
)

// VideoToRGB converts one limited-range BT.601 YCbCr triple to sRGB, the way
// libwebp's reference decoder does, rounding to nearest.
func VideoToRGB(y, cb, cr uint8) (r, g, b uint8) {
	yy := (int32(y) - 16) * vY
	u := int32(cb) - 128
	v := int32(cr) - 128
	return clamp8(yy + vRV*v), clamp8(yy - vGU*u - vGV*v), clamp8(yy + vBU*u)
}

func clamp8(x int32) uint8 {
	x = (x + 1<<15) >> 16
	if uint32(x) <= 255 {
		return uint8(x)
	}
	if x < 0 {
		return 0
	}
	return 255
}
