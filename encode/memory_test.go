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
	for _, c := range []struct {
		w, h, shrink int
		or           decode.Orientation
		o            Options
		planar       bool
	}{
		{4032, 3024, 4, decode.Upright, Options{Width: 640}, true},   // resized plane by plane
		{4032, 3024, 2, decode.Upright, Options{Width: 1280}, true},  // the same, at 1/2
		{4032, 3024, 2, decode.Upright, Options{Width: 1280}, false}, // RGB: flattened, then resized
		{4032, 3024, 1, decode.Upright, Options{Width: 640}, false},  // averaged by blocks, then resized
		{4032, 3024, 1, decode.Upright, Options{Width: 640}, true},   // the same from planes
		{4032, 3024, 1, 6, Options{Width: 1280}, true},               // a phone photo on its side
		{6000, 4000, 4, decode.Upright, Options{Width: 1920, Height: 1080}, true},
		{3000, 4000, 2, decode.Upright, Options{Width: 1280, Height: 720, Blur: true}, true},
		{800, 600, 1, decode.Upright, Options{Width: 1280}, true}, // never enlarged
	} {
		t.Run(fmt.Sprintf("%dx%d/%d-or%d-%dx%d-planar=%v", c.w, c.h, c.shrink, c.or, c.o.Width, c.o.Height, c.planar), func(t *testing.T) {
			sw, sh := (c.w+c.shrink-1)/c.shrink, (c.h+c.shrink-1)/c.shrink
			var m image.Image
			if c.planar {
				p := image.NewYCbCr(image.Rect(0, 0, sw, sh), image.YCbCrSubsampleRatio420)
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
			est := Memory(c.w, c.h, c.or, c.o, c.shrink, c.planar)
			if est < got*9/10 || est > got*3/2+1<<20 {
				t.Errorf("Memory = %d bytes; Scale allocated %d", est, got)
			}
		})
	}
}
