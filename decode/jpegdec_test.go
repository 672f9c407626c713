package decode

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"os/exec"
	"slices"
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

// djpegLuma runs libjpeg's djpeg at 1/2^shift, keeping only the luma (or
// grey) plane; the test is skipped where djpeg is not installed.
func djpegLuma(t *testing.T, data []byte, shift int) *image.Gray {
	t.Helper()
	path, err := exec.LookPath("djpeg")
	if err != nil {
		t.Skip("djpeg (libjpeg-turbo-progs) is not installed")
	}
	cmd := exec.Command(path, "-grayscale", "-scale", fmt.Sprintf("1/%d", 1<<shift), "-dct", "int", "-pnm")
	cmd.Stdin = bytes.NewReader(data)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("djpeg: %v", err)
	}
	var w, h, maxv int
	n, err := fmt.Sscanf(string(out), "P5\n%d %d\n%d\n", &w, &h, &maxv)
	if err != nil || n != 3 {
		t.Fatalf("djpeg's output: %v", err)
	}
	pix := out[len(out)-w*h:]
	return &image.Gray{Pix: pix, Stride: w, Rect: image.Rect(0, 0, w, h)}
}

func lumaOf(m image.Image) *image.Gray {
	switch m := m.(type) {
	case *image.Gray:
		return m
	case *image.YCbCr:
		return &image.Gray{Pix: m.Y, Stride: m.YStride, Rect: m.Rect}
	}
	return nil
}

// At each reduced scale the luma is libjpeg's reduced decode, near enough.
func TestScaledJPEGMatchesLibjpeg(t *testing.T) {
	for _, name := range []string{"jpeg-420.jpg", "jpeg-444.jpg", "jpeg-progressive.jpg", "jpeg-gray.jpg", "jpeg-large.jpg"} {
		data := readFixture(t, name)
		for shift := 1; shift <= 3; shift++ {
			got, err := decodeJPEGScaled(data, shift)
			if err != nil {
				t.Fatalf("%s at 1/%d: %v", name, 1<<shift, err)
			}
			worst, mean := planesDiff(t, lumaOf(got), djpegLuma(t, data, shift))
			t.Logf("%s at 1/%d: worst %d, mean %.3f", name, 1<<shift, worst, mean)
			if worst > 1 {
				t.Errorf("%s at 1/%d: differs from libjpeg by up to %d levels; want at most 1", name, 1<<shift, worst)
			}
		}
	}
}

// benchJPEG is the 12.5-megapixel benchmark photo as a baseline 4:2:0
// JPEG at quality 90, and as a progressive one when djpeg's sibling
// jpegtran is installed.
func benchJPEG(b *testing.B, progressive bool) []byte {
	b.Helper()
	f, err := Open(fixture("bench/photo-12mp.webp"), Limits{})
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	img, err := f.Decode(Options{})
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img.Pixels, &jpeg.Options{Quality: 90}); err != nil {
		b.Fatal(err)
	}
	if !progressive {
		return buf.Bytes()
	}
	path, err := exec.LookPath("jpegtran")
	if err != nil {
		b.Skip("jpegtran (libjpeg-turbo-progs) is not installed")
	}
	cmd := exec.Command(path, "-progressive")
	cmd.Stdin = &buf
	out, err := cmd.Output()
	if err != nil {
		b.Fatal(err)
	}
	return out
}

// BenchmarkJPEGDecode: the benchmark photo decoded by image/jpeg and by
// this package's decoder at each scale, baseline and progressive.
func BenchmarkJPEGDecode(b *testing.B) {
	for _, progressive := range []bool{false, true} {
		kind := "baseline"
		if progressive {
			kind = "progressive"
		}
		data := benchJPEG(b, progressive)
		b.Run(kind+"/image-jpeg", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := jpeg.Decode(bytes.NewReader(data)); err != nil {
					b.Fatal(err)
				}
			}
		})
		for shift := range 4 {
			b.Run(fmt.Sprintf("%s/1:%d", kind, 1<<shift), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := decodeJPEGScaled(data, shift); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// The reduced transforms' zeros are where idctReduced leaves them out, and
// their symmetry is what it assumes.
func TestReducedTransformShape(t *testing.T) {
	for _, c := range []struct {
		m     [][8]int32
		evens []int
	}{{reduced4, []int{0, 2, 6}}, {reduced2, []int{0}}} {
		n := len(c.m)
		for i := range n {
			for k := range 8 {
				a, b := c.m[i][k], c.m[n-1-i][k]
				if k%2 == 0 && a != b || k%2 == 1 && a != -b {
					t.Errorf("%d-point: [%d][%d] = %d, [%d][%d] = %d: not (anti)symmetric", n, i, k, a, n-1-i, k, b)
				}
				if k%2 == 0 && !slices.Contains(c.evens, k) && a != 0 {
					t.Errorf("%d-point: [%d][%d] = %d is skipped but not zero", n, i, k, a)
				}
			}
		}
	}
}
