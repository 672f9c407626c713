package encode

import (
	"fmt"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"slidestream/decode"
	"slidestream/internal/benchphoto"

	"github.com/disintegration/imaging"
)

// The stages of the pipeline on the 12.5-megapixel benchmark photo in
// JPEG, PNG and WebP (package benchphoto), decoded from files in the page
// cache as the transcoder reads them.

var (
	benchDirOnce sync.Once
	benchDir     string
)

// inputs returns the benchmark photo in its three formats, written once
// to a folder of their own.
func inputs(b *testing.B) []benchphoto.Input {
	b.Helper()
	ins, err := benchphoto.Load(fixture(""))
	if err != nil {
		b.Fatal(err)
	}
	benchDirOnce.Do(func() {
		dir, err := os.MkdirTemp("", "encode-bench")
		if err != nil {
			return
		}
		for _, in := range ins {
			if os.WriteFile(filepath.Join(dir, "photo."+in.Format), in.Data, 0o644) != nil {
				return
			}
		}
		benchDir = dir
	})
	if benchDir == "" {
		b.Fatal("cannot write the benchmark photos")
	}
	return ins
}

// decoded opens the photo in in's format and decodes it with o.
func decoded(b *testing.B, in benchphoto.Input, o decode.Options) *decode.Image {
	f, err := decode.Open(filepath.Join(benchDir, "photo."+in.Format), decode.Limits{})
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	img, err := f.Decode(o)
	if err != nil {
		b.Fatal(err)
	}
	return img
}

func mustDecode(b *testing.B, in benchphoto.Input) *decode.Image {
	return decoded(b, in, decode.Options{})
}

func mustScale(b *testing.B, img *decode.Image, o Options) *image.RGBA {
	m, err := Scale(img, o)
	if err != nil {
		b.Fatal(err)
	}
	return m
}

// BenchmarkScale: decoded pixels to the 1280-wide frame's pixels (flatten,
// box shrink, Lanczos, orientation), per decoded layout.
func BenchmarkScale(b *testing.B) {
	for _, in := range inputs(b) {
		img := mustDecode(b, in)
		b.Run(in.Format, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				mustScale(b, img, Options{Width: 1280})
			}
			b.ReportMetric(benchphoto.Megapixels(img.Pixels)*float64(b.N)/b.Elapsed().Seconds(), "MP/s")
		})
	}
}

// BenchmarkEncodeJPEG: a 1280x800 frame to JPEG at the default quality.
func BenchmarkEncodeJPEG(b *testing.B) {
	frame := mustScale(b, mustDecode(b, inputs(b)[0]), Options{Width: 1280})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := JPEG(frame, 0); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(benchphoto.Megapixels(frame)*float64(b.N)/b.Elapsed().Seconds(), "MP/s")
}

// BenchmarkPipeline: the whole cold path of one slide, file to the
// JPEG frame, at two common widths, the way the server does it (a PNG's
// rows are inflated while they are shrunk).
func BenchmarkPipeline(b *testing.B) {
	for _, width := range []int{1280, 640} {
		for _, in := range inputs(b) {
			b.Run(fmt.Sprintf("%s/width=%d", in.Format, width), func(b *testing.B) {
				full := mustDecode(b, in)
				mp := benchphoto.Megapixels(full.Pixels)
				o := Options{Width: width}
				do := decode.Options{Shrink: Shrink(full.Stored.X, full.Stored.Y, full.Orientation, o), Rows: true}
				b.ReportAllocs()
				for b.Loop() {
					img := decoded(b, in, do)
					if _, err := Frame(img, Options{Width: width}); err != nil {
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
			full := mustScale(b, &decode.Image{Pixels: img.Pixels, Orientation: 1}, Options{})
			turned := imaging.Rotate270(full)
			imaging.Resize(turned, 800, 0, imaging.Lanczos)
		}
	})
	b.Run("after-resize", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			mustScale(b, img, Options{Width: 800})
		}
	})
}

// BenchmarkPresentation: the decoded photo to its 1280x720 frame under
// --fit, plain (--background bars), with --fill blur, with a --caption,
// and with both: what the photo-frame options add to a slide's transcode.
func BenchmarkPresentation(b *testing.B) {
	img := mustDecode(b, inputs(b)[0])
	caption, _ := ParseCaption("{taken:2 January 2006} · {album}")
	text := caption.Text(CaptionFields{Name: "2024/Italy/IMG_0412.jpg", Taken: time.Date(2024, 8, 3, 18, 4, 0, 0, time.UTC)})
	for _, c := range []struct {
		name string
		o    Options
	}{
		{"plain", Options{Width: 1280, Height: 720}},
		{"blur", Options{Width: 1280, Height: 720, Blur: true}},
		{"caption", Options{Width: 1280, Height: 720, Caption: text}},
		{"blur+caption", Options{Width: 1280, Height: 720, Blur: true, Caption: text}},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Frame(img, c.o); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkFade: the frames of a one-second crossfade between two 1280x720
// frames (nine frames between, at the default quality), made once per
// channel and width; bytes/fade is what each client is sent for them.
func BenchmarkFade(b *testing.B) {
	img := mustDecode(b, inputs(b)[0])
	from, err := Frame(img, Options{Width: 1280, Height: 720, Blur: true})
	if err != nil {
		b.Fatal(err)
	}
	to, err := Frame(img, Options{Width: 1280, Height: 720})
	if err != nil {
		b.Fatal(err)
	}
	sent := 0
	b.ReportAllocs()
	for b.Loop() {
		sent = 0
		err := Fade(from, to, 10, 0, color.RGBA{0, 0, 0, 255}, func(_ int, f []byte) bool {
			sent += len(f)
			return true
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(sent), "bytes/fade")
}
