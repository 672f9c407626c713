package encode

import (
	"bytes"
	"image"
	"image/color"
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

// Frame makes the JPEG frame for img as the transcoder does: Scale, then
// JPEG.
func Frame(img *decode.Image, o Options) ([]byte, error) {
	m, err := Scale(img, o)
	if err != nil {
		return nil, err
	}
	return JPEG(m, o.Quality)
}

// decodeBytes decodes an image held in memory with o, from a file.
func decodeBytes(name string, data []byte, o decode.Options) (*decode.Image, error) {
	dir, err := os.MkdirTemp("", "encode-test")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, filepath.Base(name))
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return nil, err
	}
	f, err := decode.Open(path, decode.Limits{})
	if err != nil {
		return nil, err
	}
	defer f.Close()
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

func near(a, b color.Color, tol int) bool {
	r1, g1, b1, _ := a.RGBA()
	r2, g2, b2, _ := b.RGBA()
	d := func(x, y uint32) int { return int(math.Abs(float64(int(x>>8) - int(y>>8)))) }
	return d(r1, r2) <= tol && d(g1, g2) <= tol && d(b1, b2) <= tol
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

func psnr(a, b image.Image) float64 {
	d := channelDiffs(a, b)
	var se float64
	for _, v := range d {
		se += v * v
	}
	return 10 * math.Log10(255*255/(se/float64(len(d))))
}

func mustFlatten(t testing.TB, m image.Image, bg color.RGBA, k int) *image.RGBA {
	t.Helper()
	out, err := flatten(m, bg, k)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
