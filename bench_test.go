package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/disintegration/imaging"

	"slidestream/cache"
	"slidestream/decode"
	"slidestream/encode"
	"slidestream/play"
	"slidestream/transcode"
)

// Benchmarks to size hardware by. Run them with
//
//	go test -run '^$' -bench . -benchmem -count 6 | tee new.txt
//	benchstat new.txt
//
// The inputs are one 12.5-megapixel photo (testdata/bench/photo-12mp.webp)
// and the JPEG and PNG made from it here, so every format carries the same
// picture.

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
		img, err := decodeBytes("photo-12mp.webp", webp, decode.Options{})
		if err != nil {
			benchErr = err
			return
		}
		rgba, err := encode.Scale(img, encode.Options{})
		if err != nil {
			benchErr = err
			return
		}
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

// decodeBytes decodes an image held in memory with o.
func decodeBytes(name string, data []byte, o decode.Options) (*decode.Image, error) {
	f, err := decode.OpenBytes(name, data, decode.Limits{})
	if err != nil {
		return nil, err
	}
	return f.Decode(o)
}

func mustDecode(b *testing.B, in benchInput) *decode.Image {
	img, err := decodeBytes(in.format, in.data, decode.Options{})
	if err != nil {
		b.Fatal(err)
	}
	return img
}

func mustScale(b *testing.B, img *decode.Image, o encode.Options) *image.RGBA {
	m, err := encode.Scale(img, o)
	if err != nil {
		b.Fatal(err)
	}
	return m
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
				mustScale(b, img, encode.Options{Width: 1280})
			}
			b.ReportMetric(megapixels(img.Pixels)*float64(b.N)/b.Elapsed().Seconds(), "MP/s")
		})
	}
}

// BenchmarkEncodeJPEG: a 1280x800 frame to JPEG at the default quality.
func BenchmarkEncodeJPEG(b *testing.B) {
	frame := mustScale(b, mustDecode(b, inputs(b)[0]), encode.Options{Width: 1280})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := encode.JPEG(frame, 0); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(megapixels(frame)*float64(b.N)/b.Elapsed().Seconds(), "MP/s")
}

// BenchmarkPipeline: the whole cold path of one slide, file bytes to the
// JPEG frame, at two common widths, the way the server does it (a PNG's
// rows are inflated while they are shrunk).
func BenchmarkPipeline(b *testing.B) {
	for _, width := range []int{1280, 640} {
		for _, in := range inputs(b) {
			b.Run(fmt.Sprintf("%s/width=%d", in.format, width), func(b *testing.B) {
				full := mustDecode(b, in)
				mp := megapixels(full.Pixels)
				o := encode.Options{Width: width}
				do := decode.Options{Shrink: encode.Shrink(full.Stored.X, full.Stored.Y, full.Orientation, o), Rows: true}
				b.ReportAllocs()
				for b.Loop() {
					img, err := decodeBytes(in.format, in.data, do)
					if err != nil {
						b.Fatal(err)
					}
					if _, err := encode.Frame(img, encode.Options{Width: width}); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "images/s")
				b.ReportMetric(mp*float64(b.N)/b.Elapsed().Seconds(), "MP/s")
			})
		}
	}
}

// BenchmarkTranscode: one slide cold from its file on disk to the JPEG
// frame through the server's transcoder (one open and read, the memory
// budget, decode, scale, encode), per format, at 1280.
func BenchmarkTranscode(b *testing.B) {
	dir := b.TempDir()
	for _, in := range inputs(b) {
		if err := os.WriteFile(filepath.Join(dir, "photo."+in.format), in.data, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	tr := transcode.New(transcode.Options{Dir: dir})
	for _, in := range inputs(b) {
		b.Run(in.format, func(b *testing.B) {
			name := "photo." + in.format
			st, err := os.Stat(filepath.Join(dir, name))
			if err != nil {
				b.Fatal(err)
			}
			k := transcode.Key{Name: name, Size: st.Size(), ModTime: st.ModTime().UnixNano(), Width: 1280, Quality: 80}
			b.SetBytes(st.Size())
			b.ReportAllocs()
			for b.Loop() {
				if _, err := tr.Load(context.Background(), k); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "images/s")
		})
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
			full := mustScale(b, &decode.Image{Pixels: img.Pixels, Orientation: 1}, encode.Options{})
			turned := imaging.Rotate270(full)
			imaging.Resize(turned, 800, 0, imaging.Lanczos)
		}
	})
	b.Run("after-resize", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			mustScale(b, img, encode.Options{Width: 800})
		}
	})
}

// BenchmarkCacheHit: a frame already in the cache.
func BenchmarkCacheHit(b *testing.B) {
	frame := make([]byte, 200<<10)
	c := cache.New(cache.Options{}, func(context.Context, string) ([]byte, error) { return frame, nil })
	ctx := context.Background()
	c.Get(ctx, "k")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c.Get(ctx, "k")
		}
	})
}

// BenchmarkFanout: cached frames delivered to k clients through the real
// server on loopback, with the clients in this process reading every part
// with mime/multipart. One op is one frame delivered to one client. The
// slides change every 10ms; CPU-s/GB counts this whole process (server
// and clients).
func BenchmarkFanout(b *testing.B) {
	dir := b.TempDir()
	for i, name := range []string{"jpeg-large.jpg", "png-rgb.png"} {
		data, err := os.ReadFile("testdata/" + name)
		if err != nil {
			b.Fatal(err)
		}
		os.WriteFile(fmt.Sprintf("%s/%d-%s", dir, i, name), data, 0o644)
	}
	for _, k := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("clients=%d", k), func(b *testing.B) {
			cfg, err := parseFlags([]string{"--addr", "127.0.0.1:0", "--dir", dir, "--interval", "10ms", "--width", "640"}, io.Discard, io.Discard)
			if err != nil {
				b.Fatal(err)
			}
			s, err := newServer(cfg, discardLogger())
			if err != nil {
				b.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { s.serve(ctx); close(done) }()
			defer func() { cancel(); <-done }()

			var frames, delivered atomic.Int64
			target := int64(b.N)
			finished := make(chan struct{})
			var once sync.Once
			var wg sync.WaitGroup
			url := "http://" + s.ln.Addr().String() + "/slideshow"
			var cpu0 syscall.Rusage
			syscall.Getrusage(syscall.RUSAGE_SELF, &cpu0)
			b.ResetTimer()
			for range k {
				wg.Add(1)
				go func() {
					defer wg.Done()
					req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						return
					}
					defer resp.Body.Close()
					_, params, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
					mr := multipart.NewReader(resp.Body, params["boundary"])
					for {
						p, err := mr.NextPart()
						if err != nil {
							return
						}
						n, _ := io.Copy(io.Discard, p)
						delivered.Add(n)
						if frames.Add(1) >= target {
							once.Do(func() { close(finished) })
						}
						select {
						case <-finished:
							return
						default:
						}
					}
				}()
			}
			<-finished
			b.StopTimer()
			var cpu1 syscall.Rusage
			syscall.Getrusage(syscall.RUSAGE_SELF, &cpu1)
			cancel()
			wg.Wait()
			cpu := time.Duration(cpu1.Utime.Nano()+cpu1.Stime.Nano()-cpu0.Utime.Nano()-cpu0.Stime.Nano()) * time.Nanosecond
			gb := float64(delivered.Load()) / 1e9
			b.ReportMetric(float64(frames.Load())/b.Elapsed().Seconds(), "frames/s")
			b.ReportMetric(cpu.Seconds()/gb, "CPU-s/GB")
			b.ReportMetric(float64(delivered.Load())/float64(frames.Load()), "B/frame")
		})
	}
}

// BenchmarkFleetFetch: in fleet mode, a cached frame from this instance's
// hot copy, against the same frame fetched from the peer that owns it (what
// every miss of the hot copy costs). Reports p50/p99 per fetch and the
// bytes on the wire per frame.
func BenchmarkFleetFetch(b *testing.B) {
	dir := b.TempDir()
	m := image.NewNRGBA(image.Rect(0, 0, 1920, 1200))
	for i := range m.Pix {
		m.Pix[i] = uint8(i*2654435761>>13) | 0x0f // a busy photo-like frame, not a flat one
	}
	var buf bytes.Buffer
	png.Encode(&buf, m)
	os.WriteFile(filepath.Join(dir, "photo.png"), buf.Bytes(), 0o644)
	nodes := startFleet(b, 2, dir, "--interval", "1h")
	a, owner := nodes[0], nodes[1]
	slide := a.timeline.Slides()[0]
	width := remoteWidth(b, a, slide, 1200, 1281)                                          // the other node owns it
	frame, err := a.frames.Render(context.Background(), play.Picture{Slide: slide}, width) // the owner transcodes; a keeps a hot copy
	if err != nil {
		b.Fatal(err)
	}
	report := func(b *testing.B, d []time.Duration) {
		slices.Sort(d)
		b.ReportMetric(float64(d[len(d)/2].Microseconds()), "p50-µs")
		b.ReportMetric(float64(d[len(d)*99/100].Microseconds()), "p99-µs")
	}
	b.Run("hot-copy", func(b *testing.B) {
		var d []time.Duration
		for b.Loop() {
			t0 := time.Now()
			if _, err := a.frames.Render(context.Background(), play.Picture{Slide: slide}, width); err != nil {
				b.Fatal(err)
			}
			d = append(d, time.Since(t0))
		}
		report(b, d)
	})
	b.Run("from-peer", func(b *testing.B) {
		u := "http://" + owner.fleet.ln.Addr().String() + peerPath + groupName + "/" +
			url.PathEscape(a.frames.key(slide, width).String())
		client := &http.Client{Transport: signer{[]byte(testPeerSecret), http.DefaultTransport}}
		var d []time.Duration
		wire := 0
		for b.Loop() {
			t0 := time.Now()
			resp, err := client.Get(u)
			if err != nil {
				b.Fatal(err)
			}
			n, _ := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Fatalf("peer answered %s", resp.Status)
			}
			d = append(d, time.Since(t0))
			wire = int(n)
		}
		report(b, d)
		b.ReportMetric(float64(wire), "peer-bytes/frame")
		b.ReportMetric(float64(len(frame)), "frame-bytes")
	})
}

func TestBenchModeReportsEveryFormat(t *testing.T) {
	dir := t.TempDir()
	copyFixture(t, dir, "jpeg-large.jpg", "a.jpg")
	copyFixture(t, dir, "png-rgba.png", "b.png")
	copyFixture(t, dir, "webp-lossy.webp", "c.webp")
	copyFixture(t, dir, "webp-animated.webp", "d.webp")
	out := t.TempDir()
	var stdout bytes.Buffer
	if err := run(context.Background(), []string{"bench", "--dir", dir, "--width", "100", "--out", out}, &stdout, io.Discard); err != nil {
		t.Fatalf("bench: %v", err)
	}
	report := stdout.String()
	for _, want := range []string{"jpeg", "png", "webp", "3 images", "images/s", "peak memory", "d.webp: animated WebP images are not supported"} {
		if !strings.Contains(report, want) {
			t.Errorf("bench report lacks %q:\n%s", want, report)
		}
	}
	frames, _ := filepath.Glob(filepath.Join(out, "*.jpg"))
	if len(frames) != 3 {
		t.Errorf("bench --out wrote %d frames; want 3", len(frames))
	}
	if err := run(context.Background(), []string{"bench", "--dir", t.TempDir()}, io.Discard, io.Discard); err == nil {
		t.Error("bench on an empty folder succeeded; want an error")
	}
}

// BenchmarkPresentation: the decoded photo to its 1280x720 frame under
// --fit, plain (--background bars), with --fill blur, with a --caption,
// and with both: what the photo-frame options add to a slide's transcode.
func BenchmarkPresentation(b *testing.B) {
	img := mustDecode(b, inputs(b)[0])
	caption, _ := encode.ParseCaption("{taken:2 January 2006} · {album}")
	text := caption.Text(encode.CaptionFields{Name: "2024/Italy/IMG_0412.jpg", Taken: time.Date(2024, 8, 3, 18, 4, 0, 0, time.UTC)})
	for _, c := range []struct {
		name string
		o    encode.Options
	}{
		{"plain", encode.Options{Width: 1280, Height: 720}},
		{"blur", encode.Options{Width: 1280, Height: 720, Blur: true}},
		{"caption", encode.Options{Width: 1280, Height: 720, Caption: text}},
		{"blur+caption", encode.Options{Width: 1280, Height: 720, Blur: true, Caption: text}},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := encode.Frame(img, c.o); err != nil {
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
	from, err := encode.Frame(img, encode.Options{Width: 1280, Height: 720, Blur: true})
	if err != nil {
		b.Fatal(err)
	}
	to, err := encode.Frame(img, encode.Options{Width: 1280, Height: 720})
	if err != nil {
		b.Fatal(err)
	}
	sent := 0
	b.ReportAllocs()
	for b.Loop() {
		sent = 0
		err := encode.Fade(from, to, 10, 0, color.RGBA{0, 0, 0, 255}, func(_ int, f []byte) bool {
			sent += len(f)
			return true
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(sent), "bytes/fade")
}
