package encode

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"testing"
)

func solidJPEG(t *testing.T, w, h int, c color.RGBA) []byte {
	t.Helper()
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < len(m.Pix); i += 4 {
		m.Pix[i], m.Pix[i+1], m.Pix[i+2], m.Pix[i+3] = c.R, c.G, c.B, 255
	}
	b, err := JPEG(m, 90)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFadeMixesInSteps(t *testing.T) {
	from := solidJPEG(t, 100, 60, color.RGBA{200, 40, 40, 255})
	to := solidJPEG(t, 100, 60, color.RGBA{40, 40, 200, 255})
	var got []color.RGBA
	err := Fade(from, to, 4, 90, color.RGBA{0, 0, 0, 255}, func(i int, b []byte) bool {
		m, err := jpeg.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if m.Bounds().Dx() != 100 || m.Bounds().Dy() != 60 {
			t.Errorf("frame %d is %v", i, m.Bounds())
		}
		r, g, bl, _ := m.At(50, 30).RGBA()
		got = append(got, color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(bl >> 8), 255})
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []color.RGBA{{160, 40, 80, 255}, {120, 40, 120, 255}, {80, 40, 160, 255}}
	if len(got) != len(want) {
		t.Fatalf("%d frames; want %d", len(got), len(want))
	}
	for i := range want {
		if d := max(absd(got[i].R, want[i].R), absd(got[i].G, want[i].G), absd(got[i].B, want[i].B)); d > 4 {
			t.Errorf("frame %d is %v; want about %v", i+1, got[i], want[i])
		}
	}
	// Stopping early stops.
	n := 0
	Fade(from, to, 10, 90, color.RGBA{}, func(int, []byte) bool { n++; return n < 2 })
	if n != 2 {
		t.Errorf("asked to stop after 2 frames, got %d", n)
	}
}

func TestFadeBetweenSizesUsesTheLargerCanvas(t *testing.T) {
	wide := solidJPEG(t, 120, 40, color.RGBA{255, 255, 255, 255})
	tall := solidJPEG(t, 40, 90, color.RGBA{255, 255, 255, 255})
	err := Fade(wide, tall, 2, 90, color.RGBA{0, 0, 0, 255}, func(i int, b []byte) bool {
		m, _ := jpeg.Decode(bytes.NewReader(b))
		if m.Bounds().Dx() != 120 || m.Bounds().Dy() != 90 {
			t.Errorf("frame is %v; want 120x90", m.Bounds())
		}
		// The centre is white in both; a corner is background in both.
		if r, _, _, _ := m.At(60, 45).RGBA(); r>>8 < 240 {
			t.Errorf("centre %d; want white", r>>8)
		}
		if r, _, _, _ := m.At(2, 2).RGBA(); r>>8 > 15 {
			t.Errorf("corner %d; want the background", r>>8)
		}
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := Fade([]byte("not a jpeg"), tall, 2, 90, color.RGBA{}, func(int, []byte) bool { return true }); err == nil {
		t.Error("a fade from a broken frame did not fail")
	}
}

func absd(a, b uint8) int {
	if a > b {
		return int(a - b)
	}
	return int(b - a)
}
