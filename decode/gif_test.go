package decode

import (
	"bytes"
	"image"
	"image/color"
	"image/gif"
	"testing"
)

// A GIF whose first frame covers part of its screen shows that frame in
// place on a transparent screen, at the size the header gives.
func TestGIFFirstFrameOnItsScreen(t *testing.T) {
	pal := color.Palette{color.RGBA{200, 0, 0, 255}, color.RGBA{0, 0, 200, 255}}
	frame := image.NewPaletted(image.Rect(10, 5, 30, 15), pal)
	var b bytes.Buffer
	err := gif.EncodeAll(&b, &gif.GIF{Image: []*image.Paletted{frame}, Delay: []int{0},
		Config: image.Config{ColorModel: pal, Width: 40, Height: 20}})
	if err != nil {
		t.Fatal(err)
	}
	img, err := readBytes("part.gif", b.Bytes(), Limits{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := img.Pixels.Bounds(); got != image.Rect(0, 0, 40, 20) {
		t.Fatalf("bounds = %v; want the 40x20 screen", got)
	}
	if _, _, _, a := img.Pixels.At(2, 2).RGBA(); a != 0 {
		t.Errorf("outside the frame alpha = %d; want transparent", a)
	}
	if r, _, _, a := img.Pixels.At(20, 10).RGBA(); r>>8 != 200 || a != 0xffff {
		t.Errorf("inside the frame = %v; want the frame's red", img.Pixels.At(20, 10))
	}
}
