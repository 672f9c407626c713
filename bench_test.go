package main

// Benchmarks to size hardware by. Run them with
//
//	go test -run '^$' -bench . -benchmem -count 6 | tee new.txt
//	benchstat new.txt
//
// The inputs are one 12.5-megapixel photo (testdata/bench/photo-12mp.webp)
// and the JPEG and PNG made from it here, so every format carries the same
// picture.

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"os"
	"sync"
	"testing"

	"github.com/disintegration/imaging"

	"slidestream/cache"
	"slidestream/decode"
	"slidestream/encode"
)

type benchInput struct {
	format string
	data   []byte
}

var (
	benchOnce   sync.Once
	benchInputs []benchInput
	benchErr    error
)

// inputs returns the benchmark photo as WebP, JPEG (quality 90, 4:2:0, as
// cameras write) and PNG.
func inputs(b *testing.B) []benchInput {
	b.Helper()
	benchOnce.Do(func() {
		webp, err := os.ReadFile("testdata/bench/photo-12mp.webp")
		if err != nil {
			benchErr = err
			return
		}
		img, err := decode.Bytes("photo-12mp.webp", webp, decode.Limits{})
		if err != nil {
			benchErr = err
			return
		}
		rgba := encode.Scale(img, encode.Options{})
		var j, p bytes.Buffer
		if err := jpeg.Encode(&j, rgba, &jpeg.Options{Quality: 90}); err != nil {
			benchErr = err
			return
		}
		if err := png.Encode(&p, rgba); err != nil {
			benchErr = err
			return
		}
		benchInputs = []benchInput{{"jpeg", j.Bytes()}, {"png", p.Bytes()}, {"webp", webp}}
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchInputs
}

func megapixels(m image.Image) float64 {
	r := m.Bounds()
	return float64(r.Dx()*r.Dy()) / 1e6
}

func mustDecode(b *testing.B, in benchInput) *decode.Image {
	img, err := decode.Bytes(in.format, in.data, decode.Limits{})
	if err != nil {
		b.Fatal(err)
	}
	return img
}

// BenchmarkDecode: file bytes to pixels, per format.
func BenchmarkDecode(b *testing.B) {
	for _, in := range inputs(b) {
		b.Run(in.format, func(b *testing.B) {
			mp := megapixels(mustDecode(b, in).Pixels)
			b.SetBytes(int64(len(in.data)))
			b.ReportAllocs()
			for b.Loop() {
				mustDecode(b, in)
			}
			b.ReportMetric(mp*float64(b.N)/b.Elapsed().Seconds(), "MP/s")
		})
	}
}

// BenchmarkScale: decoded pixels to the 1280-wide frame's pixels (flatten,
// box shrink, Lanczos, orientation), per decoded layout.
func BenchmarkScale(b *testing.B) {
	for _, in := range inputs(b) {
		img := mustDecode(b, in)
		b.Run(in.format, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				encode.Scale(img, encode.Options{Width: 1280})
			}
			b.ReportMetric(megapixels(img.Pixels)*float64(b.N)/b.Elapsed().Seconds(), "MP/s")
		})
	}
}

// BenchmarkEncodeJPEG: a 1280x800 frame to JPEG at the default quality.
func BenchmarkEncodeJPEG(b *testing.B) {
	frame := encode.Scale(mustDecode(b, inputs(b)[0]), encode.Options{Width: 1280})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := encode.JPEG(frame, 0); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(megapixels(frame)*float64(b.N)/b.Elapsed().Seconds(), "MP/s")
}

// BenchmarkPipeline: the whole cold path of one slide, file bytes to the
// JPEG frame, at two common widths.
func BenchmarkPipeline(b *testing.B) {
	for _, width := range []int{1280, 640} {
		for _, in := range inputs(b) {
			b.Run(fmt.Sprintf("%s/width=%d", in.format, width), func(b *testing.B) {
				mp := megapixels(mustDecode(b, in).Pixels)
				b.ReportAllocs()
				for b.Loop() {
					if _, err := encode.Frame(mustDecode(b, in), encode.Options{Width: width}); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "images/s")
				b.ReportMetric(mp*float64(b.N)/b.Elapsed().Seconds(), "MP/s")
			})
		}
	}
}

// BenchmarkOrientation compares turning a phone photo (EXIF orientation 6)
// before the resize, as imaging.AutoOrientation does, with turning the
// small frame after it, as Scale does.
func BenchmarkOrientation(b *testing.B) {
	img := mustDecode(b, inputs(b)[0])
	img.Orientation = 6
	b.Run("before-resize", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			full := encode.Scale(&decode.Image{Pixels: img.Pixels, Orientation: 1}, encode.Options{})
			turned := imaging.Rotate270(full)
			imaging.Resize(turned, 800, 0, imaging.Lanczos)
		}
	})
	b.Run("after-resize", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			encode.Scale(img, encode.Options{Width: 800})
		}
	})
}

// BenchmarkCacheHit: a frame already in the cache.
func BenchmarkCacheHit(b *testing.B) {
	c := cache.New(cache.Options{})
	frame := make([]byte, 200<<10)
	ctx := context.Background()
	load := func(context.Context) ([]byte, error) { return frame, nil }
	c.Get(ctx, "k", load)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c.Get(ctx, "k", load)
		}
	})
}
