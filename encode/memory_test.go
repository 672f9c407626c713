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
	}{
		{4032, 3024, 2, decode.Upright, Options{Width: 640}},  // averaged by blocks, then resized
		{4032, 3024, 2, decode.Upright, Options{Width: 1280}}, // under 3x the frame: full size, then resized
		{4032, 3024, 1, 6, Options{Width: 1280}},              // a phone photo on its side
		{6000, 4000, 4, decode.Upright, Options{Width: 1920, Height: 1080}},
		{3000, 4000, 2, decode.Upright, Options{Width: 1280, Height: 720, Blur: true}},
		{800, 600, 1, decode.Upright, Options{Width: 1280}}, // never enlarged
	} {
		t.Run(fmt.Sprintf("%dx%d/%d-or%d-%dx%d", c.w, c.h, c.shrink, c.or, c.o.Width, c.o.Height), func(t *testing.T) {
			sw, sh := (c.w+c.shrink-1)/c.shrink, (c.h+c.shrink-1)/c.shrink
			m := image.NewYCbCr(image.Rect(0, 0, sw, sh), image.YCbCrSubsampleRatio420)
			for i := range m.Y {
				m.Y[i] = uint8(i)
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
			est := Memory(c.w, c.h, c.or, c.o, c.shrink)
			if est < got*9/10 || est > got*3/2+1<<20 {
				t.Errorf("Memory = %d bytes; Scale allocated %d", est, got)
			}
		})
	}
}
