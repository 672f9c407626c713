package main

import (
	"image"
	"image/color"
	"net/http"
	"path/filepath"
	"testing"
)

// facePhoto writes a w×h photo of a sky with a face-toned, detailed oval
// in box.
func facePhoto(t *testing.T, path string, w, h int, box image.Rectangle) {
	t.Helper()
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	c := box.Min.Add(box.Max).Div(2)
	rx, ry := float64(box.Dx())/2, float64(box.Dy())/2
	for y := range h {
		for x := range w {
			col := color.NRGBA{uint8(110 - y*30/h), uint8(150 - y*30/h), 220, 255}
			dx, dy := (float64(x)-float64(c.X))/rx, (float64(y)-float64(c.Y))/ry
			if dx*dx+dy*dy <= 1 {
				col = color.NRGBA{225, 160, 125, 255}
				if (x/5+y/7)%4 == 0 {
					col = color.NRGBA{130, 90, 70, 255}
				}
			}
			m.SetNRGBA(x, y, col)
		}
	}
	writePNG(t, path, m)
}

// skinPixels counts the face-toned pixels of m.
func skinPixels(m image.Image) int {
	n := 0
	b := m.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := m.At(x, y).RGBA()
			if r>>8 > 190 && g>>8 > 130 && g>>8 < 190 && bl>>8 > 95 && bl>>8 < 160 {
				n++
			}
		}
	}
	return n
}

// --fill crop covers the frame with the photo, cropped where its content
// is: a face near the top of a 4:3 photo stays whole in a 16:9 frame, where
// a centre crop would cut it; a portrait, which would lose more than it
// may, is shown whole on its blurred self.
func TestFillCropKeepsThePlantedSubject(t *testing.T) {
	dir := t.TempDir()
	face := image.Rect(150, 8, 230, 88) // 4:3 photo; a centre crop keeps rows 37 to 262
	facePhoto(t, filepath.Join(dir, "a.png"), 400, 300, face)
	facePhoto(t, filepath.Join(dir, "b.png"), 300, 400, image.Rect(110, 160, 190, 240))
	ts := startServer(t, "--dir", dir, "--fit", "320x180", "--fill", "crop", "--interval", "1h")
	m := snapshotImage(t, ts.url+"/snapshot")
	if m.Bounds().Size() != image.Pt(320, 180) {
		t.Fatalf("frame %v; want 320x180", m.Bounds().Size())
	}
	// The whole face, scaled by 0.8 (the photo covers 320x240): an oval
	// of about 64x64, some 2,600 pixels, a quarter of them its features.
	if n := skinPixels(m); n < 1500 {
		t.Errorf("%d face-toned pixels in the frame; want the whole face (about 2,000)", n)
	}
	if n := skinPixels(m.(interface {
		SubImage(image.Rectangle) image.Image
	}).SubImage(image.Rect(0, 0, 320, 4))); n != 0 {
		t.Errorf("the face touches the frame's top edge: it was cut")
	}
	resp, err := http.Post(ts.url+"/api/next", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	p := snapshotImage(t, ts.url+"/snapshot")
	r, g, b, _ := p.At(5, 90).RGBA()
	if p.Bounds().Size() != image.Pt(320, 180) || r>>8+g>>8+b>>8 < 60 {
		t.Errorf("the portrait: %v, its bar %v; want 320x180 on its blurred self", p.Bounds().Size(), p.At(5, 90))
	}
	if n := skinPixels(p); n < 450 {
		t.Errorf("the portrait's face: %d pixels; want it whole (about 760: the portrait fitted at 0.45, not cropped)", n)
	}
}
