package encode

import (
	"image"
	"image/color"
	"image/draw"
	"testing"

	"github.com/disintegration/imaging"
)

// photoRGBA is a fixture decoded and flattened to opaque RGBA.
func photoRGBA(t testing.TB, name string) *image.RGBA {
	t.Helper()
	img := load(t, name)
	m := image.NewRGBA(img.Pixels.Bounds())
	draw.Draw(m, m.Rect, img.Pixels, m.Rect.Min, draw.Src)
	return m
}

// The resampler is Lanczos-3 as imaging computes it, to within a level
// or two from the fixed point; a flat picture stays exactly flat.
func TestResizeMatchesImaging(t *testing.T) {
	src := photoRGBA(t, "jpeg-large.jpg")
	for _, sz := range [][2]int{{240, 150}, {640, 400}, {1199, 749}, {37, 23}, {1, 1}} {
		got := resize(src, sz[0], sz[1])
		want := imaging.Resize(src, sz[0], sz[1], imaging.Lanczos)
		worst, sum := 0, 0
		for i := range got.Pix {
			d := int(got.Pix[i]) - int(want.Pix[i])
			d = max(d, -d)
			worst = max(worst, d)
			sum += d
		}
		mean := float64(sum) / float64(len(got.Pix))
		t.Logf("%dx%d: worst %d, mean %.3f", sz[0], sz[1], worst, mean)
		if worst > 2 || mean > 0.1 {
			t.Errorf("%dx%d: differs from imaging's Lanczos by up to %d (mean %.3f); want at most 2 (0.1)", sz[0], sz[1], worst, mean)
		}
	}
	flat := image.NewRGBA(image.Rect(0, 0, 301, 203))
	draw.Draw(flat, flat.Rect, image.NewUniform(color.RGBA{200, 17, 90, 255}), image.Point{}, draw.Src)
	out := resize(flat, 97, 31)
	for i := 0; i < len(out.Pix); i += 4 {
		if c := (color.RGBA{out.Pix[i], out.Pix[i+1], out.Pix[i+2], out.Pix[i+3]}); c != (color.RGBA{200, 17, 90, 255}) {
			t.Fatalf("a flat picture resized has %v at %d", c, i/4)
		}
	}
}

// BenchmarkResize: a 2240x1400 photo to 640x400, here and by imaging.
func BenchmarkResize(b *testing.B) {
	src := photoRGBA(b, "jpeg-large.jpg")
	big := imaging.Resize(src, 2240, 1400, imaging.Linear)
	m := &image.RGBA{Pix: big.Pix, Stride: big.Stride, Rect: big.Rect}
	b.Run("own", func(b *testing.B) {
		for b.Loop() {
			resize(m, 640, 400)
		}
	})
	b.Run("imaging", func(b *testing.B) {
		for b.Loop() {
			imaging.Resize(m, 640, 400, imaging.Lanczos)
		}
	})
}
