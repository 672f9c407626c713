package encode

import (
	"image"
	"image/color"
	"testing"

	"slidestream/decode"
)

func TestPlanarShrinkMatchesRGBShrink(t *testing.T) {
	// Shrinking the YCbCr planes must give what shrinking the converted
	// RGB image gives, for every chroma layout and both YCbCr ranges.
	for _, name := range []string{"jpeg-420.jpg", "jpeg-422.jpg", "jpeg-444.jpg", "webp-lossy.webp", "jpeg-large.jpg"} {
		img := load(t, name)
		for _, k := range []int{2, 3, 4, 7} {
			var ycc *image.YCbCr
			toRGB := color.YCbCrToRGB
			switch m := img.Pixels.(type) {
			case *image.YCbCr:
				ycc = m
			case *decode.VideoYCbCr:
				ycc, toRGB = m.YCbCr, decode.VideoToRGB
			}
			got, ok := boxYCbCr(ycc, k, toRGB)
			if !ok {
				t.Fatalf("boxYCbCr(%s, %d) refused", name, k)
			}
			// The reference: convert every pixel, then average in RGB.
			full := mustFlatten(t, img.Pixels, color.RGBA{}, 1)
			want := image.NewRGBA(got.Bounds())
			b := full.Bounds()
			for oy := 0; oy < want.Rect.Dy(); oy++ {
				for ox := 0; ox < want.Rect.Dx(); ox++ {
					var s [3]int
					n := 0
					for y := oy * k; y < min(oy*k+k, b.Dy()); y++ {
						for x := ox * k; x < min(ox*k+k, b.Dx()); x++ {
							c := full.RGBAAt(x, y)
							s[0], s[1], s[2] = s[0]+int(c.R), s[1]+int(c.G), s[2]+int(c.B)
							n++
						}
					}
					want.SetRGBA(ox, oy, color.RGBA{uint8(s[0] / n), uint8(s[1] / n), uint8(s[2] / n), 255})
				}
			}
			if d := meanDiff(got, want); d > 1.5 {
				t.Errorf("boxYCbCr(%s, %d) is %.2f levels from averaging in RGB; want <= 1.5", name, k, d)
			}
		}
	}
}
