package encode

import (
	"fmt"
	"image"
	"image/color"
	"runtime"
	"testing"

	"slidestream/decode"
)

// The decode-memory budget reserves Memory for what Scale makes: it must
// cover what Scale really allocates, without asking for much more, or
// fewer photos decode at once than memory allows.
func TestMemoryCoversWhatScaleAllocates(t *testing.T) {
	yuv420, yuv444 := image.Pt(2, 2), image.Pt(1, 1)
	for _, c := range []struct {
		w, h, shrink int
		or           decode.Orientation
		o            Options
		chroma       image.Point // zero: RGB
	}{
		{4032, 3024, 4, decode.Upright, Options{Width: 640}, yuv420},         // resized plane by plane
		{4032, 3024, 2, decode.Upright, Options{Width: 1280}, yuv420},        // the same, at 1/2
		{4032, 3024, 2, decode.Upright, Options{Width: 1280}, image.Point{}}, // RGB: flattened, then resized
		{4032, 3024, 1, decode.Upright, Options{Width: 640}, image.Point{}},  // averaged by blocks, then resized
		{4032, 3024, 1, decode.Upright, Options{Width: 640}, yuv420},         // the same from planes
		{4032, 3024, 1, decode.Upright, Options{Width: 640}, yuv444},         // chroma averaged too
		{4032, 3024, 1, 6, Options{Width: 1280}, yuv420},                     // a phone photo on its side
		{6000, 4000, 4, decode.Upright, Options{Width: 1920, Height: 1080}, yuv420},
		{3000, 4000, 2, decode.Upright, Options{Width: 1280, Height: 720, Blur: true}, yuv420},
		{800, 600, 1, decode.Upright, Options{Width: 1280}, yuv420}, // never enlarged
	} {
		t.Run(fmt.Sprintf("%dx%d/%d-or%d-%dx%d-chroma%v", c.w, c.h, c.shrink, c.or, c.o.Width, c.o.Height, c.chroma), func(t *testing.T) {
			sw, sh := (c.w+c.shrink-1)/c.shrink, (c.h+c.shrink-1)/c.shrink
			var m image.Image
			if c.chroma != (image.Point{}) {
				ratio := image.YCbCrSubsampleRatio420
				if c.chroma == yuv444 {
					ratio = image.YCbCrSubsampleRatio444
				}
				p := image.NewYCbCr(image.Rect(0, 0, sw, sh), ratio)
				for i := range p.Y {
					p.Y[i] = uint8(i)
				}
				m = p
			} else {
				p := image.NewNRGBA(image.Rect(0, 0, sw, sh))
				for i := range p.Pix {
					p.Pix[i] = uint8(i) | 3
				}
				m = p
			}
			img := &decode.Image{Pixels: m, Orientation: c.or, Stored: image.Pt(c.w, c.h), Shrunk: c.shrink}
			c.o.Background = color.RGBA{A: 255}
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			if _, err := Scale(img, c.o); err != nil {
				t.Fatal(err)
			}
			runtime.ReadMemStats(&after)
			got := int64(after.TotalAlloc - before.TotalAlloc)
			est := Memory(c.w, c.h, c.or, c.o, c.shrink, c.chroma)
			if est < got*9/10 || est > got*3/2+1<<20 {
				t.Errorf("Memory = %d bytes; Scale allocated %d", est, got)
			}
		})
	}
}
