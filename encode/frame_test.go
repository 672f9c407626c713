package encode

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"

	"slidestream/decode"
)

func fixture(name string) string { return filepath.Join("..", "testdata", name) }

func load(t testing.TB, name string) *decode.Image {
	t.Helper()
	f, err := decode.Open(fixture(name), decode.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := f.Decode(decode.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// decodeBytes decodes an image held in memory with o.
func decodeBytes(name string, data []byte, o decode.Options) (*decode.Image, error) {
	f, err := decode.OpenBytes(name, data, decode.Limits{})
	if err != nil {
		return nil, err
	}
	return f.Decode(o)
}

func loadPNG(t testing.TB, name string) image.Image {
	t.Helper()
	f, err := os.Open(fixture(name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// frame runs the whole pipeline and checks what every frame must be: a
// baseline JPEG of the expected size with nothing but the image in it.
func frame(t *testing.T, name string, o Options) image.Image {
	t.Helper()
	img := load(t, name)
	out, err := Frame(img, o)
	if err != nil {
		t.Fatalf("Frame(%q, %d) error: %v", name, o.Width, err)
	}
	b := img.Pixels.Bounds()
	ww, wh := Size(b.Dx(), b.Dy(), img.Orientation, o.Width)
	checkJPEG(t, name, out, ww, wh)
	m, err := jpeg.Decode(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("Frame(%q) output does not decode: %v", name, err)
	}
	return m
}

func checkJPEG(t *testing.T, name string, out []byte, w, h int) {
	t.Helper()
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("Frame(%q) output is not a JPEG: %v", name, err)
	}
	if cfg.Width != w || cfg.Height != h {
		t.Errorf("Frame(%q) size = %dx%d; want %dx%d", name, cfg.Width, cfg.Height, w, h)
	}
	if cfg.ColorModel != color.YCbCrModel {
		t.Errorf("Frame(%q) colour model is not YCbCr: video consumers want one pixel format", name)
	}
	// Walk the markers: baseline (SOF0) only, no APPn or COM segments, and
	// exactly one end-of-image marker, at the very end.
	for i := 2; i+4 <= len(out); {
		m := out[i+1]
		if m == 0xda {
			break
		}
		switch {
		case m >= 0xe0 && m <= 0xef, m == 0xfe:
			t.Errorf("Frame(%q) output carries metadata segment FF%02X", name, m)
		case m >= 0xc1 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc:
			t.Errorf("Frame(%q) output is not baseline: SOF marker FF%02X", name, m)
		}
		i += 2 + (int(out[i+2])<<8 | int(out[i+3]))
	}
	if n := bytes.Count(out, []byte{0xff, 0xd9}); n != 1 || !bytes.HasSuffix(out, []byte{0xff, 0xd9}) {
		t.Errorf("Frame(%q) output has %d end-of-image markers; want one, at the end", name, n)
	}
}

func TestFrameSizes(t *testing.T) {
	tests := []struct {
		file         string
		width        int
		wantW, wantH int
	}{
		{"jpeg-large.jpg", 640, 640, 400},
		{"jpeg-large.jpg", 240, 240, 150},
		{"jpeg-large.jpg", 0, 1200, 750},    // 0 keeps the original size
		{"jpeg-large.jpg", 5000, 1200, 750}, // never enlarged
		{"jpeg-420.jpg", 100, 100, 75},
		{"jpeg-422.jpg", 99, 99, 74}, // rounded, not truncated
		{"orient-6.jpg", 32, 32, 24}, // width applies after turning
		{"orient-8.jpg", 0, 64, 48},
		{"png-palette.png", 16, 16, 6},
		{"webp-lossy.webp", 1, 1, 1}, // never a zero height
		{"gif-animated.gif", 64, 64, 48},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s@%d", tt.file, tt.width), func(t *testing.T) {
			m := frame(t, tt.file, Options{Width: tt.width})
			if b := m.Bounds(); b.Dx() != tt.wantW || b.Dy() != tt.wantH {
				t.Errorf("Frame(%q, %d) = %dx%d; want %dx%d", tt.file, tt.width, b.Dx(), b.Dy(), tt.wantW, tt.wantH)
			}
		})
	}
}

func TestFrameHasNoMetadata(t *testing.T) {
	// The source has an EXIF block with a thumbnail (its own FFD8..FFD9).
	src, _ := os.ReadFile(fixture("jpeg-thumbnail.jpg"))
	if bytes.Count(src, []byte{0xff, 0xd9}) < 2 {
		t.Fatal("fixture lost its EXIF thumbnail")
	}
	frame(t, "jpeg-thumbnail.jpg", Options{Width: 80})
}

func near(a, b color.Color, tol int) bool {
	r1, g1, b1, _ := a.RGBA()
	r2, g2, b2, _ := b.RGBA()
	d := func(x, y uint32) int { return int(math.Abs(float64(int(x>>8) - int(y>>8)))) }
	return d(r1, r2) <= tol && d(g1, g2) <= tol && d(b1, b2) <= tol
}

func TestOrientationByCorners(t *testing.T) {
	// Upright, every fixture shows red, green / blue, yellow quadrants.
	corners := []struct {
		x, y float64
		c    color.RGBA
	}{
		{0.1, 0.1, color.RGBA{255, 0, 0, 255}},
		{0.9, 0.1, color.RGBA{0, 255, 0, 255}},
		{0.1, 0.9, color.RGBA{0, 0, 255, 255}},
		{0.9, 0.9, color.RGBA{255, 255, 0, 255}},
	}
	files := []string{"orient-6.png", "orient-6.webp"}
	for o := 1; o <= 8; o++ {
		files = append(files, fmt.Sprintf("orient-%d.jpg", o))
	}
	for _, file := range files {
		for _, width := range []int{0, 32} {
			t.Run(fmt.Sprintf("%s@%d", file, width), func(t *testing.T) {
				m := frame(t, file, Options{Width: width, Quality: 95})
				b := m.Bounds()
				if b.Dx() < b.Dy() {
					t.Fatalf("Frame(%q) is %dx%d: still on its side", file, b.Dx(), b.Dy())
				}
				for _, c := range corners {
					x, y := int(c.x*float64(b.Dx())), int(c.y*float64(b.Dy()))
					if got := m.At(x, y); !near(got, c.c, 40) {
						t.Errorf("Frame(%q) at (%d,%d) = %v; want %v", file, x, y, got, c.c)
					}
				}
			})
		}
	}
}

func TestFlattenTransparency(t *testing.T) {
	// Stripes: opaque red (x<20), half-transparent red (20..39), and
	// transparent magenta (40..63) that must never show.
	files := []struct {
		name string
		gray bool // the stripes are shades of gray in this fixture
	}{
		{"png-rgba.png", false},
		{"png-rgba16.png", false},
		{"png-palette.png", false},
		{"png-graya.png", true},
		{"webp-lossless-alpha.webp", false},
		{"webp-lossy-alpha.webp", false},
	}
	backgrounds := []color.RGBA{{0, 0, 0, 255}, {255, 255, 255, 255}, {0, 128, 255, 255}}
	for _, f := range files {
		for _, bg := range backgrounds {
			t.Run(fmt.Sprintf("%s on %s", f.name, fmt.Sprintf("%v", bg)), func(t *testing.T) {
				img := load(t, f.name)
				m := mustFlatten(t, img.Pixels, bg, 1)
				if got := m.RGBAAt(52, 12); !near(got, bg, 2) {
					t.Errorf("transparent pixel of %s = %v; want the background %v", f.name, got, bg)
				}
				if f.gray {
					return
				}
				if got := m.RGBAAt(10, 12); !near(got, color.RGBA{255, 0, 0, 255}, 6) {
					t.Errorf("opaque pixel of %s = %v; want red", f.name, got)
				}
				half := color.RGBA{uint8((255 + int(bg.R)) / 2), bg.G / 2, bg.B / 2, 255}
				if got := m.RGBAAt(30, 12); !near(got, half, 8) {
					t.Errorf("half-transparent pixel of %s on %v = %v; want %v", f.name, bg, got, half)
				}
				// The whole pipeline too: the transparent corner of the
				// JPEG frame is the background.
				out := frame(t, f.name, Options{Background: bg, Quality: 95})
				if got := out.At(60, 3); !near(got, bg, 6) {
					t.Errorf("Frame(%q) transparent corner = %v; want %v", f.name, got, bg)
				}
			})
		}
	}
}

// channelDiffs returns every per-channel difference between a and b, in
// 8-bit levels.
func channelDiffs(a, b image.Image) []float64 {
	r := a.Bounds()
	out := make([]float64, 0, 3*r.Dx()*r.Dy())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			r1, g1, b1, _ := a.At(x, y).RGBA()
			r2, g2, b2, _ := b.At(x, y).RGBA()
			out = append(out, float64(r1>>8)-float64(r2>>8), float64(g1>>8)-float64(g2>>8), float64(b1>>8)-float64(b2>>8))
		}
	}
	return out
}

// meanDiff is the mean absolute difference per channel, in levels.
func meanDiff(a, b image.Image) float64 {
	d := channelDiffs(a, b)
	var sum float64
	for _, v := range d {
		sum += math.Abs(v)
	}
	return sum / float64(len(d))
}

func TestColoursMatchReferenceDecoders(t *testing.T) {
	tests := []struct {
		file, ref string
		max       float64 // mean level difference allowed
	}{
		{"jpeg-420.jpg", "ref/jpeg-420.png", 1.0},
		{"jpeg-422.jpg", "ref/jpeg-422.png", 1.0},
		{"jpeg-444.jpg", "ref/jpeg-444.png", 1.0},
		{"jpeg-progressive.jpg", "ref/jpeg-progressive.png", 1.0},
		{"jpeg-gray.jpg", "ref/jpeg-gray.png", 1.0},
		{"jpeg-cmyk.jpg", "ref/jpeg-cmyk.png", 1.0},
		{"jpeg-ycck.jpg", "ref/jpeg-ycck.png", 1.5},
		{"png-rgb.png", "ref/png-rgb.png", 0.01},
		{"png-rgb16.png", "ref/png-rgb16.png", 0.51},
		{"png-gray.png", "ref/png-gray.png", 0.01},
		{"png-gray16.png", "ref/png-gray16.png", 0.51},
		{"png-interlaced.png", "ref/png-interlaced.png", 0.01},
		{"webp-lossy.webp", "ref/webp-lossy.png", 1.0},
		{"webp-lossless.webp", "ref/webp-lossless.png", 0.01},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			img := load(t, tt.file)
			ref := loadPNG(t, tt.ref)
			got := mustFlatten(t, img.Pixels, color.RGBA{}, 1)
			if d := meanDiff(got, ref); d > tt.max {
				t.Errorf("%s differs from its reference decode by %.2f levels on average; want <= %.2f", tt.file, d, tt.max)
			} else {
				t.Logf("%s: %.3f levels from the reference", tt.file, d)
			}
		})
	}
}

func TestNaiveWebPConversionIsWashedOut(t *testing.T) {
	// Guard for the test above: reading lossy WebP's planes as Go's
	// full-range YCbCr must be visibly wrong, or the fixture proves nothing.
	img := load(t, "webp-lossy.webp")
	naive := img.Pixels.(*decode.VideoYCbCr).YCbCr
	if d := meanDiff(naive, loadPNG(t, "ref/webp-lossy.png")); d < 3 {
		t.Errorf("naive conversion is only %.2f levels off; the colour test cannot tell right from wrong", d)
	}
}

func psnr(a, b image.Image) float64 {
	d := channelDiffs(a, b)
	var se float64
	for _, v := range d {
		se += v * v
	}
	return 10 * math.Log10(255*255/(se/float64(len(d))))
}

func TestDownscaleMatchesReferenceResize(t *testing.T) {
	// ImageMagick's Lanczos resize of the same 1200x750 photo to 240x150.
	ref := loadPNG(t, "ref/jpeg-large-240.png")
	got := frame(t, "jpeg-large.jpg", Options{Width: 240, Quality: 95})
	p := psnr(got, ref)
	t.Logf("PSNR against ImageMagick Lanczos: %.1f dB", p)
	if p < 32 {
		t.Errorf("Frame(jpeg-large.jpg, 240) PSNR against the reference resize = %.1f dB; want >= 32", p)
	}
	// A nearest-neighbour downscale of the same photo is far worse; if it
	// were not, this test could not tell a good filter from a bad one.
	src := load(t, "jpeg-large.jpg").Pixels
	nn := image.NewRGBA(image.Rect(0, 0, 240, 150))
	for y := 0; y < 150; y++ {
		for x := 0; x < 240; x++ {
			nn.Set(x, y, src.At(x*5+2, y*5+2))
		}
	}
	if q := psnr(nn, ref); q > p-3 {
		t.Errorf("nearest-neighbour PSNR %.1f dB is within 3 dB of ours (%.1f)", q, p)
	}
}

func TestQualityAndSize(t *testing.T) {
	img := load(t, "jpeg-large.jpg")
	def, _ := Frame(img, Options{Width: 640})
	q80, _ := Frame(img, Options{Width: 640, Quality: 80})
	q40, _ := Frame(img, Options{Width: 640, Quality: 40})
	if !bytes.Equal(def, q80) {
		t.Errorf("default quality is not 80")
	}
	if len(q40) >= len(q80) {
		t.Errorf("quality 40 gives %d bytes, quality 80 %d: quality is ignored", len(q40), len(q80))
	}
}

func TestPlanarShrinkMatchesRGBShrink(t *testing.T) {
	// Shrinking the YCbCr planes must give what shrinking the converted
	// RGB image gives, for every chroma layout and both YCbCr ranges.
	for _, name := range []string{"jpeg-420.jpg", "jpeg-422.jpg", "jpeg-444.jpg", "webp-lossy.webp", "jpeg-large.jpg"} {
		img := load(t, name)
		for _, k := range []int{2, 3, 4, 7} {
			var ycc *image.YCbCr
			toRGB := color.YCbCrToRGB
			switch m := img.Pixels.(type) {
			case *image.YCbCr:
				ycc = m
			case *decode.VideoYCbCr:
				ycc, toRGB = m.YCbCr, decode.VideoToRGB
			}
			got, ok := boxYCbCr(ycc, k, toRGB)
			if !ok {
				t.Fatalf("boxYCbCr(%s, %d) refused", name, k)
			}
			// The reference: convert every pixel, then average in RGB.
			full := mustFlatten(t, img.Pixels, color.RGBA{}, 1)
			want := image.NewRGBA(got.Bounds())
			b := full.Bounds()
			for oy := 0; oy < want.Rect.Dy(); oy++ {
				for ox := 0; ox < want.Rect.Dx(); ox++ {
					var s [3]int
					n := 0
					for y := oy * k; y < min(oy*k+k, b.Dy()); y++ {
						for x := ox * k; x < min(ox*k+k, b.Dx()); x++ {
							c := full.RGBAAt(x, y)
							s[0], s[1], s[2] = s[0]+int(c.R), s[1]+int(c.G), s[2]+int(c.B)
							n++
						}
					}
					want.SetRGBA(ox, oy, color.RGBA{uint8(s[0] / n), uint8(s[1] / n), uint8(s[2] / n), 255})
				}
			}
			if d := meanDiff(got, want); d > 1.5 {
				t.Errorf("boxYCbCr(%s, %d) is %.2f levels from averaging in RGB; want <= 1.5", name, k, d)
			}
		}
	}
}

func mustFlatten(t testing.TB, m image.Image, bg color.RGBA, k int) *image.RGBA {
	t.Helper()
	out, err := flatten(m, bg, k)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// A PNG read row by row while it is inflated (Rows) must give the
// same frame, byte for byte, as the same PNG decoded whole.
func TestFrameFromPNGRows(t *testing.T) {
	// 301×203 so that every box factor leaves a ragged last band.
	m := image.NewNRGBA(image.Rect(0, 0, 301, 203))
	for i := range m.Pix {
		m.Pix[i] = uint8(i*7 + i/1201)
	}
	for i := 3; i < len(m.Pix); i += 4 {
		if i%9 == 0 {
			m.Pix[i] = uint8(i / 13) // some translucency
		}
	}
	var rgba, rgb bytes.Buffer
	png.Encode(&rgba, m)
	for i := 3; i < len(m.Pix); i += 4 {
		m.Pix[i] = 0xff
	}
	png.Encode(&rgb, m) // all opaque: image/png writes RGB
	inputs := map[string][]byte{"rgba": rgba.Bytes(), "rgb": rgb.Bytes()}
	// A 16-bit copy with translucency, where the premultiplication and
	// rounding of 16-bit samples matter.
	m16 := image.NewNRGBA64(m.Bounds())
	for i := range m16.Pix {
		m16.Pix[i] = uint8(i*13 + i/977)
	}
	var b16 bytes.Buffer
	png.Encode(&b16, m16)
	inputs["rgba16"] = b16.Bytes()
	paths, _ := filepath.Glob(fixture("*.png"))
	for _, path := range paths {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if img, err := decodeBytes(path, b, decode.Options{Rows: true}); err == nil {
			if _, ok := img.Pixels.(Rows); ok {
				inputs[filepath.Base(path)] = b
			}
		}
	}
	if len(inputs) < 10 {
		t.Fatalf("%d PNGs are read by rows; want the grey, grey+alpha, RGB and RGBA fixtures at 8 and 16 bits", len(inputs))
	}
	for name, data := range inputs {
		whole, err := decodeBytes(name, data, decode.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, width := range []int{0, 100, 33, 7} {
			for _, bg := range []color.RGBA{{0, 0, 0, 255}, {200, 30, 90, 255}} {
				o := Options{Width: width, Background: bg}
				want, err := Frame(whole, o)
				if err != nil {
					t.Fatal(err)
				}
				rows, err := decodeBytes(name, data, decode.Options{Rows: true})
				if err != nil {
					t.Fatal(err)
				}
				if _, ok := rows.Pixels.(Rows); !ok {
					t.Fatalf("%s: Decode with Rows gave %T; want Rows", name, rows.Pixels)
				}
				got, err := Frame(rows, o)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("%s at width %d on %s: the row-by-row frame differs from the whole decode's", name, width, fmt.Sprintf("%v", bg))
				}
			}
		}
	}
}

// --fit: every frame is exactly the box, the picture fitted inside it
// (enlarged when small) and centred on the background.
func TestFit(t *testing.T) {
	red := color.RGBA{220, 20, 30, 255}
	bg := color.RGBA{0, 40, 200, 255}
	img := func(w, h int, o decode.Orientation) *decode.Image {
		m := image.NewRGBA(image.Rect(0, 0, w, h))
		draw.Draw(m, m.Rect, image.NewUniform(red), image.Point{}, draw.Src)
		return &decode.Image{Pixels: m, Orientation: o}
	}
	tests := []struct {
		name         string
		img          *decode.Image
		wantW, wantH int // the picture inside the 640x360 box
	}{
		{"wide photo, bars above and below", img(4000, 1000, 1), 640, 160},
		{"portrait, bars left and right", img(1000, 2000, 1), 180, 360},
		{"small image is enlarged", img(64, 36, 1), 640, 360},
		{"stored landscape turned upright by EXIF 6", img(2000, 1000, 6), 180, 360},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Scale(tt.img, Options{Width: 640, Height: 360, Background: bg})
			if err != nil {
				t.Fatal(err)
			}
			if b := m.Bounds(); b.Dx() != 640 || b.Dy() != 360 {
				t.Fatalf("frame is %dx%d; want 640x360", b.Dx(), b.Dy())
			}
			if got := m.RGBAAt(320, 180); !near(got, red, 3) {
				t.Errorf("centre = %v; want the picture's %v", got, red)
			}
			// Just inside and just outside the picture's edges.
			x0, y0 := (640-tt.wantW)/2, (360-tt.wantH)/2
			if got := m.RGBAAt(x0+2, y0+2); !near(got, red, 3) {
				t.Errorf("inside corner (%d,%d) = %v; want the picture", x0+2, y0+2, got)
			}
			if x0 > 2 {
				if got := m.RGBAAt(x0-2, 180); !near(got, bg, 3) {
					t.Errorf("left bar (%d,180) = %v; want the background %v", x0-2, got, bg)
				}
			}
			if y0 > 2 {
				if got := m.RGBAAt(320, y0-2); !near(got, bg, 3) {
					t.Errorf("top bar (320,%d) = %v; want the background %v", y0-2, got, bg)
				}
			}
			b, err := Frame(tt.img, Options{Width: 640, Height: 360, Background: bg})
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := jpeg.DecodeConfig(bytes.NewReader(b))
			if err != nil || cfg.Width != 640 || cfg.Height != 360 {
				t.Errorf("JPEG is %dx%d (%v); want 640x360", cfg.Width, cfg.Height, err)
			}
		})
	}
}
