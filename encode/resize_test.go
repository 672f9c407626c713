package encode

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math/rand/v2"
	"testing"

	"github.com/disintegration/imaging"
)

// photoRGBA is a fixture decoded and flattened to opaque RGBA.
func photoRGBA(t testing.TB, name string) *image.RGBA {
	t.Helper()
	img := load(t, name)
	m := image.NewRGBA(img.Pixels.Bounds())
	draw.Draw(m, m.Rect, img.Pixels, m.Rect.Min, draw.Src)
	return m
}

// byteDiff is the largest and the mean absolute difference of a and b,
// byte by byte.
func byteDiff(a, b []uint8) (worst int, mean float64) {
	sum := 0
	for i := range a {
		d := int(a[i]) - int(b[i])
		d = max(d, -d)
		worst = max(worst, d)
		sum += d
	}
	return worst, float64(sum) / float64(len(a))
}

// mustResize is resize onto black on 2 cores.
func mustResize(t testing.TB, px image.Image, k, w, h int, rx, ry float64) *image.RGBA {
	t.Helper()
	out, err := resize(2, px, color.RGBA{A: 255}, k, w, h, rx, ry)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// The resampler is Lanczos-3 as imaging computes it, to within a level
// or two from the fixed point; a flat picture stays exactly flat.
func TestResizeMatchesImaging(t *testing.T) {
	src := photoRGBA(t, "jpeg-large.jpg")
	for _, sz := range [][2]int{{240, 150}, {640, 400}, {1199, 749}, {37, 23}, {1, 1}} {
		got := mustResize(t, src, 1, sz[0], sz[1], float64(src.Rect.Dx())/float64(sz[0]), float64(src.Rect.Dy())/float64(sz[1]))
		want := imaging.Resize(src, sz[0], sz[1], imaging.Lanczos)
		worst, mean := byteDiff(got.Pix, want.Pix)
		t.Logf("%dx%d: worst %d, mean %.3f", sz[0], sz[1], worst, mean)
		if worst > 2 || mean > 0.1 {
			t.Errorf("%dx%d: differs from imaging's Lanczos by up to %d (mean %.3f); want at most 2 (0.1)", sz[0], sz[1], worst, mean)
		}
	}
	flat := image.NewRGBA(image.Rect(0, 0, 301, 203))
	draw.Draw(flat, flat.Rect, image.NewUniform(color.RGBA{200, 17, 90, 255}), image.Point{}, draw.Src)
	out := mustResize(t, flat, 1, 97, 31, 301.0/97, 203.0/31)
	for i := 0; i < len(out.Pix); i += 4 {
		if c := (color.RGBA{out.Pix[i], out.Pix[i+1], out.Pix[i+2], out.Pix[i+3]}); c != (color.RGBA{200, 17, 90, 255}) {
			t.Fatalf("a flat picture resized has %v at %d", c, i/4)
		}
	}
}

// BenchmarkResize: a 2240x1400 photo to 640x400, here and by imaging.
func BenchmarkResize(b *testing.B) {
	src := photoRGBA(b, "jpeg-large.jpg")
	big := imaging.Resize(src, 2240, 1400, imaging.Linear)
	m := &image.RGBA{Pix: big.Pix, Stride: big.Stride, Rect: big.Rect}
	b.Run("own", func(b *testing.B) {
		for b.Loop() {
			resize(2, m, color.RGBA{A: 255}, 1, 640, 400, 2240.0/640, 1400.0/400)
		}
	})
	b.Run("imaging", func(b *testing.B) {
		for b.Loop() {
			imaging.Resize(m, 640, 400, imaging.Lanczos)
		}
	})
}

// BenchmarkResizePlane: a 12 MP photo's luma, decoded at 1/2 (2016x1512)
// to 640x480, and whole (4032x3024) to 1280x960.
func BenchmarkResizePlane(b *testing.B) {
	src := photoRGBA(b, "jpeg-large.jpg")
	for _, c := range []struct{ sw, sh, w, h int }{{2016, 1512, 640, 480}, {4032, 3024, 1280, 960}} {
		big := imaging.Resize(src, c.sw, c.sh, imaging.Linear)
		p := plane{pix: make([]uint8, c.sw*c.sh), stride: c.sw, w: c.sw, h: c.sh}
		for i := range p.pix {
			p.pix[i] = big.Pix[4*i+1]
		}
		tx, ty := weightsAt(c.w, c.sw, float64(c.sw)/float64(c.w)), weightsAt(c.h, c.sh, float64(c.sh)/float64(c.h))
		b.Run(fmt.Sprintf("%dx%d", c.sw, c.sh), func(b *testing.B) {
			for b.Loop() {
				resizePlane(2, p, c.w, c.h, tx, ty)
			}
		})
	}
}

// ycbcrFrom converts an RGBA picture to YCbCr with the given chroma
// subsampling, each chroma sample the average of the pixels it covers.
func ycbcrFrom(src *image.RGBA, ratio image.YCbCrSubsampleRatio) *image.YCbCr {
	m := image.NewYCbCr(src.Rect, ratio)
	w, h := src.Rect.Dx(), src.Rect.Dy()
	sx, sy, _ := chromaSpan(ratio)
	for y := range h {
		for x := range w {
			p := src.RGBAAt(x, y)
			m.Y[m.YOffset(x, y)], _, _ = color.RGBToYCbCr(p.R, p.G, p.B)
		}
	}
	for cy := 0; cy*sy < h; cy++ {
		for cx := 0; cx*sx < w; cx++ {
			var sb, sr, n int
			for y := cy * sy; y < min(cy*sy+sy, h); y++ {
				for x := cx * sx; x < min(cx*sx+sx, w); x++ {
					p := src.RGBAAt(x, y)
					_, b, r := color.RGBToYCbCr(p.R, p.G, p.B)
					sb, sr, n = sb+int(b), sr+int(r), n+1
				}
			}
			o := m.COffset(cx*sx, cy*sy)
			m.Cb[o], m.Cr[o] = uint8((sb+n/2)/n), uint8((sr+n/2)/n)
		}
	}
	return m
}

// Averaging and resizing YCbCr plane by plane gives what converting every
// pixel to RGB, averaging and resizing that gives, for every chroma layout
// and block size, but for clipping and
// the chroma upsampling the RGB way does first: under half a level on
// average, up to 24 at the sharpest colour edges (40 for 4:1:1 and 4:1:0,
// whose chroma the RGB way replicates). Chroma placed half a sample off
// (centred on the first pixel it covers, say) is 35 off. A flat picture
// stays exactly flat.
func TestResizeYCbCrMatchesRGB(t *testing.T) {
	src := photoRGBA(t, "jpeg-large.jpg")
	for _, ratio := range []image.YCbCrSubsampleRatio{image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio422,
		image.YCbCrSubsampleRatio420, image.YCbCrSubsampleRatio440, image.YCbCrSubsampleRatio411, image.YCbCrSubsampleRatio410} {
		m := ycbcrFrom(src, ratio)
		for _, c := range []struct{ k, w, h int }{{1, 640, 400}, {1, 1199, 749}, {1, 37, 23}, {2, 400, 250}, {3, 301, 187}, {4, 97, 61}} {
			sz := [2]int{c.w, c.h}
			got, ok := resizeYCbCr(2, m, c.k, c.w, c.h, false, color.YCbCrToRGB)
			if !ok {
				t.Fatalf("%v: not resized", ratio)
			}
			want := mustResize(t, m, c.k, sz[0], sz[1], float64(m.Rect.Dx())/float64(c.k*c.w), float64(m.Rect.Dy())/float64(c.k*c.h))
			worst, mean := byteDiff(got.Pix, want.Pix)
			t.Logf("%v %dx%d averaged by %d: worst %d, mean %.3f", ratio, sz[0], sz[1], c.k, worst, mean)
			limit := 24
			if ratio == image.YCbCrSubsampleRatio411 || ratio == image.YCbCrSubsampleRatio410 {
				limit = 40
			}
			if mean > 0.6 || worst > limit {
				t.Errorf("%v %dx%d averaged by %d: differs from the RGB resize by up to %d (mean %.3f)", ratio, sz[0], sz[1], c.k, worst, mean)
			}
		}
	}
	flat := image.NewYCbCr(image.Rect(0, 0, 301, 203), image.YCbCrSubsampleRatio420)
	for i := range flat.Y {
		flat.Y[i] = 97
	}
	for i := range flat.Cb {
		flat.Cb[i], flat.Cr[i] = 30, 200
	}
	out, _ := resizeYCbCr(2, flat, 3, 97, 31, true, color.YCbCrToRGB)
	r, g, b := color.YCbCrToRGB(97, 30, 200)
	for i := 0; i < len(out.Pix); i += 4 {
		if c := (color.RGBA{out.Pix[i], out.Pix[i+1], out.Pix[i+2], out.Pix[i+3]}); c != (color.RGBA{r, g, b, 255}) {
			t.Fatalf("a flat picture resized has %v at %d", c, i/4)
		}
	}
}

// The four-row pass, two rows to a 64-bit word or eight pixels to a
// vector, gives each row exactly what resampling it alone gives, on pictures that drive the filter's
// lobes to their extremes (0 and 255 alternating, and runs of them) as
// well as noise, at ratios that enlarge and shrink.
func TestAcrossRows4IsAcrossRowFourTimes(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, c := range []struct{ sw, w int }{{4032, 1280}, {2016, 640}, {301, 97}, {97, 301}, {17, 16}, {9, 1}, {640, 640}} {
		src := make([]uint8, 4*c.sw)
		for i := range src {
			switch row := i / c.sw; row {
			case 0:
				src[i] = uint8(255 * (i % 2))
			case 1:
				src[i] = uint8(255 * (i / 3 % 2))
			default:
				src[i] = uint8(rng.IntN(256))
			}
		}
		tx := weightsAt(c.w, c.sw, float64(c.sw)/float64(c.w))
		if rowsInVectors && c.sw >= 97 && tx[0].w8 == nil {
			t.Errorf("%d to %d: no weights in eighths for the vector pass", c.sw, c.w)
		}
		got := make([]uint8, 4*c.w)
		across4(c.w, c.sw, tx)(got, src, c.sw)
		scalar := make([]uint8, 4*c.w)
		acrossRows4Scalar(scalar, c.w, src, c.sw, c.sw, tx, make([]int64, 2*c.sw))
		if !bytes.Equal(got, scalar) {
			t.Errorf("%d to %d: the vector pass differs from the scalar one", c.sw, c.w)
		}
		for r := range 4 {
			want := make([]uint8, c.w)
			acrossRow(want, src[r*c.sw:][:c.sw], tx)
			if !bytes.Equal(got[r*c.w:][:c.w], want) {
				t.Errorf("%d to %d, row %d: the four-row pass differs from the one-row pass", c.sw, c.w, r)
			}
		}
	}
}
