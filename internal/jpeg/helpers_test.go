package jpeg

import (
	"bytes"
	"image"
	"image/draw"
	"image/jpeg"
	"math"
	"os"
	"path/filepath"
	"testing"

	"slidestream/internal/benchphoto"
)

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// benchPixels is the 12.5-megapixel benchmark photo, decoded.
func benchPixels(b *testing.B) image.Image {
	b.Helper()
	m, err := benchphoto.Pixels(filepath.Join("..", "..", "testdata"))
	if err != nil {
		b.Fatal(err)
	}
	return m
}

// photoRGBA is a JPEG fixture decoded by image/jpeg, as opaque RGBA.
func photoRGBA(t testing.TB, name string) *image.RGBA {
	t.Helper()
	img, err := jpeg.Decode(bytes.NewReader(readFixture(t, name)))
	if err != nil {
		t.Fatal(err)
	}
	m := image.NewRGBA(img.Bounds())
	draw.Draw(m, m.Rect, img, m.Rect.Min, draw.Src)
	return m
}

// chromaSize is the size of the chroma planes of a w×h picture at ratio r.
func chromaSize(w, h int, r image.YCbCrSubsampleRatio) (int, int) {
	m := image.NewYCbCr(image.Rect(0, 0, w, h), r)
	return m.CStride, len(m.Cb) / max(m.CStride, 1)
}

// psnr compares two pictures of the same bounds over their RGB channels.
func psnr(a, b image.Image) float64 {
	r := a.Bounds()
	var se float64
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			r1, g1, b1, _ := a.At(x, y).RGBA()
			r2, g2, b2, _ := b.At(x, y).RGBA()
			for _, d := range [3]float64{float64(r1>>8) - float64(r2>>8), float64(g1>>8) - float64(g2>>8), float64(b1>>8) - float64(b2>>8)} {
				se += d * d
			}
		}
	}
	return 10 * math.Log10(255*255/(se/float64(3*r.Dx()*r.Dy())))
}
