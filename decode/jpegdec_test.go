package decode

import (
	"bytes"
	"image"
	"image/jpeg"
	"testing"
)

// planesDiff compares two pictures of the same kind plane by plane: the
// largest difference of any sample, and the mean.
func planesDiff(t *testing.T, got, want image.Image) (worst int, mean float64) {
	t.Helper()
	if got.Bounds() != want.Bounds() {
		t.Fatalf("bounds %v; want %v", got.Bounds(), want.Bounds())
	}
	var sum, n float64
	cmp := func(a, b []byte, stride1, stride2, w, h int) {
		for y := range h {
			for x := range w {
				d := int(a[y*stride1+x]) - int(b[y*stride2+x])
				d = max(d, -d)
				worst = max(worst, d)
				sum += float64(d)
				n++
			}
		}
	}
	w, h := got.Bounds().Dx(), got.Bounds().Dy()
	switch g := got.(type) {
	case *image.Gray:
		wg := want.(*image.Gray)
		cmp(g.Pix, wg.Pix, g.Stride, wg.Stride, w, h)
	case *image.YCbCr:
		wy := want.(*image.YCbCr)
		if g.SubsampleRatio != wy.SubsampleRatio {
			t.Fatalf("ratio %v; want %v", g.SubsampleRatio, wy.SubsampleRatio)
		}
		cmp(g.Y, wy.Y, g.YStride, wy.YStride, w, h)
		cw, ch := chromaSize(w, h, g.SubsampleRatio)
		cmp(g.Cb, wy.Cb, g.CStride, wy.CStride, cw, ch)
		cmp(g.Cr, wy.Cr, g.CStride, wy.CStride, cw, ch)
	default:
		t.Fatalf("unexpected %T", got)
	}
	return worst, sum / n
}

// At full size the decoder agrees with image/jpeg to within a level.
func TestScaledJPEGFullSizeMatchesImageJPEG(t *testing.T) {
	for _, name := range []string{"jpeg-420.jpg", "jpeg-422.jpg", "jpeg-444.jpg", "jpeg-progressive.jpg", "jpeg-gray.jpg", "jpeg-large.jpg", "orient-6.jpg", "jpeg-thumbnail.jpg", "icc-adobergb.jpg"} {
		data := readFixture(t, name)
		want, err := jpeg.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodeJPEGScaled(data, 0)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		worst, mean := planesDiff(t, got, want)
		t.Logf("%s: worst %d, mean %.3f", name, worst, mean)
		if worst > 1 {
			t.Errorf("%s: differs from image/jpeg by up to %d levels; want at most 1", name, worst)
		}
	}
}
