package encode

import (
	"image/color"
	"testing"

	"slidestream/decode"
)

func TestColoursMatchReferenceDecoders(t *testing.T) {
	tests := []struct {
		file, ref string
		max       float64 // mean level difference allowed
	}{
		{"jpeg-420.jpg", "ref/jpeg-420.png", 1.0},
		{"jpeg-422.jpg", "ref/jpeg-422.png", 1.0},
		{"jpeg-444.jpg", "ref/jpeg-444.png", 1.0},
		{"jpeg-progressive.jpg", "ref/jpeg-progressive.png", 1.0},
		{"jpeg-gray.jpg", "ref/jpeg-gray.png", 1.0},
		{"jpeg-cmyk.jpg", "ref/jpeg-cmyk.png", 1.0},
		{"jpeg-ycck.jpg", "ref/jpeg-ycck.png", 1.5},
		{"png-rgb.png", "ref/png-rgb.png", 0.01},
		{"png-rgb16.png", "ref/png-rgb16.png", 0.51},
		{"png-gray.png", "ref/png-gray.png", 0.01},
		{"png-gray16.png", "ref/png-gray16.png", 0.51},
		{"png-interlaced.png", "ref/png-interlaced.png", 0.01},
		{"webp-lossy.webp", "ref/webp-lossy.png", 1.0},
		{"webp-lossless.webp", "ref/webp-lossless.png", 0.01},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			img := load(t, tt.file)
			ref := loadPNG(t, tt.ref)
			got := mustFlatten(t, img.Pixels, color.RGBA{}, 1)
			if d := meanDiff(got, ref); d > tt.max {
				t.Errorf("%s differs from its reference decode by %.2f levels on average; want <= %.2f", tt.file, d, tt.max)
			} else {
				t.Logf("%s: %.3f levels from the reference", tt.file, d)
			}
		})
	}
}

func TestNaiveWebPConversionIsWashedOut(t *testing.T) {
	// Guard for the test above: reading lossy WebP's planes as Go's
	// full-range YCbCr must be visibly wrong, or the fixture proves nothing.
	img := load(t, "webp-lossy.webp")
	naive := img.Pixels.(*decode.VideoYCbCr).YCbCr
	if d := meanDiff(naive, loadPNG(t, "ref/webp-lossy.png")); d < 3 {
		t.Errorf("naive conversion is only %.2f levels off; the colour test cannot tell right from wrong", d)
	}
}
