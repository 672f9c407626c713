// Package benchphoto makes the inputs of the pipeline's benchmarks: one
// 12.5-megapixel photo (testdata/bench/photo-12mp.webp) as WebP, as JPEG
// (quality 90, 4:2:0, as cameras write) and as PNG, so that every format
// carries the same picture. Only benchmarks import it.
package benchphoto

import (
	"bytes"
	"image"
	"image/draw"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"sync"

	"golang.org/x/image/webp"
)

// Input is the photo in one format.
type Input struct {
	Format string // "jpeg", "png" or "webp"
	Data   []byte
}

var (
	once   sync.Once
	inputs []Input
	pixels *image.RGBA
	err    error
)

// Load returns the photo in the three formats, JPEG first; testdata is
// the path of the repository's testdata folder from the caller's. They are
// made once per process.
func Load(testdata string) ([]Input, error) {
	once.Do(func() { inputs, pixels, err = load(testdata) })
	return inputs, err
}

// Pixels returns the photo decoded, as opaque RGBA.
func Pixels(testdata string) (*image.RGBA, error) {
	once.Do(func() { inputs, pixels, err = load(testdata) })
	return pixels, err
}

func load(testdata string) ([]Input, *image.RGBA, error) {
	w, err := os.ReadFile(filepath.Join(testdata, "bench", "photo-12mp.webp"))
	if err != nil {
		return nil, nil, err
	}
	m, err := webp.Decode(bytes.NewReader(w))
	if err != nil {
		return nil, nil, err
	}
	rgba := image.NewRGBA(m.Bounds())
	draw.Draw(rgba, rgba.Rect, m, m.Bounds().Min, draw.Src)
	var j, p bytes.Buffer
	if err := jpeg.Encode(&j, rgba, &jpeg.Options{Quality: 90}); err != nil {
		return nil, nil, err
	}
	if err := png.Encode(&p, rgba); err != nil {
		return nil, nil, err
	}
	return []Input{{"jpeg", j.Bytes()}, {"png", p.Bytes()}, {"webp", w}}, rgba, nil
}

// Megapixels is the size of m in millions of pixels.
func Megapixels(m image.Image) float64 {
	r := m.Bounds()
	return float64(r.Dx()*r.Dy()) / 1e6
}
