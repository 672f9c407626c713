package decode

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"testing"
)

func solidJPEG(t *testing.T, w, h int, c color.RGBA) []byte {
	t.Helper()
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(m, m.Rect, image.NewUniform(c), image.Point{}, draw.Src)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Phones append more to a JPEG: a second picture (MPF, an Ultra HDR gain
// map) or a Motion Photo's video. The primary picture shows, its size is
// the header's, and the rest is neither decoded nor a reason to refuse;
// the file size limit still counts the whole file.
func TestJPEGWithPicturesAppended(t *testing.T) {
	primary := solidJPEG(t, 64, 48, color.RGBA{200, 40, 40, 255})
	gainMap := solidJPEG(t, 4000, 3000, color.RGBA{40, 40, 200, 255}) // larger than the primary
	video := append([]byte("\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"), bytes.Repeat([]byte{0x55}, 50000)...)
	for _, c := range []struct {
		what string
		data []byte
	}{
		{"gain map", append(append([]byte{}, primary...), gainMap...)},
		{"motion photo", append(append([]byte{}, primary...), video...)},
		{"both", append(append(append([]byte{}, primary...), gainMap...), video...)},
	} {
		f, err := openBytes("phone.jpg", c.data, Limits{MaxPixels: 1 << 20})
		if err != nil {
			t.Errorf("%s: %v", c.what, err)
			continue
		}
		if h := f.Header(); h.Width != 64 || h.Height != 48 {
			t.Errorf("%s: header %dx%d; want the primary's 64x48", c.what, h.Width, h.Height)
		}
		img, err := f.Decode(Options{})
		if err != nil {
			t.Errorf("%s: %v", c.what, err)
			continue
		}
		if r, _, b, _ := img.Pixels.At(32, 24).RGBA(); r>>8 < 180 || b>>8 > 60 {
			t.Errorf("%s: the picture is not the primary's red", c.what)
		}
		if _, err := openBytes("phone.jpg", c.data, Limits{MaxFileSize: int64(len(primary) + 10)}); err == nil {
			t.Errorf("%s: --max-file-size did not count the appended bytes", c.what)
		}
	}
}
