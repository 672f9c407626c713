package encode

import (
	"image"
	"image/color"
	"testing"
)

// photoLike is a w×h frame with some texture, as a fitted photo is.
func photoLike(w, h int) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			i := m.PixOffset(x, y)
			m.Pix[i], m.Pix[i+1], m.Pix[i+2], m.Pix[i+3] = uint8(x*255/w), uint8(y*255/h), uint8((x^y)&0xff), 255
		}
	}
	return m
}

// BenchmarkBlurFill: a 405x720 portrait onto a 1280x720 frame, on the
// blurred fill and on plain bars: the cost of --fill blur alone.
func BenchmarkBlurFill(b *testing.B) {
	m := photoLike(405, 720)
	b.Run("blur", func(b *testing.B) {
		for b.Loop() {
			onBackdrop(m, 1280, 720)
		}
	})
	b.Run("bars", func(b *testing.B) {
		for b.Loop() {
			pad(m, 1280, 720, color.RGBA{0, 0, 0, 255})
		}
	})
}

// BenchmarkCaption: drawing a caption on a 1280x720 frame.
func BenchmarkCaption(b *testing.B) {
	m := photoLike(1280, 720)
	for b.Loop() {
		drawCaption(m, "3 August 2024 · 2024/Italy")
	}
}
