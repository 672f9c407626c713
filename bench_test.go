package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
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

	"slidestream/play"
)

// Benchmarks of the whole server, to size hardware by: fan-out of cached
// frames to many clients, and fleet fetches. Each stage of the pipeline
// is benchmarked beside its code (decode, encode, transcode, cache). Run
// them all with
//
//	go test -run '^$' -bench . -benchmem -count 6 ./... | tee new.txt
//	benchstat new.txt

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
	for _, k := range []int{1, 10, 100, 1000} {
		for _, writes := range []string{"group", "own"} {
			if writes == "own" && k < 100 {
				continue
			}
			b.Run(fmt.Sprintf("clients=%d/writes=%s", k, writes), func(b *testing.B) {
				benchmarkFanout(b, dir, k, writes == "group")
			})
		}
	}
}

// benchmarkFanout runs BenchmarkFanout's k clients, with the server's
// --group-writes set to grouped.
func benchmarkFanout(b *testing.B, dir string, k int, grouped bool) {
	cfg, err := parseFlags([]string{"--addr", "127.0.0.1:0", "--dir", dir, "--interval", "10ms", "--width", "640", "--group-writes=" + fmt.Sprint(grouped)}, io.Discard, io.Discard)
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
	for _, want := range []string{"jpeg", "png", "webp", "4 images", "images/s", "peak memory"} {
		if !strings.Contains(report, want) {
			t.Errorf("bench report lacks %q:\n%s", want, report)
		}
	}
	frames, _ := filepath.Glob(filepath.Join(out, "*.jpg"))
	if len(frames) != 4 {
		t.Errorf("bench --out wrote %d frames; want 4 (an animated WebP's is its first frame)", len(frames))
	}
	if err := run(context.Background(), []string{"bench", "--dir", t.TempDir()}, io.Discard, io.Discard); err == nil {
		t.Error("bench on an empty folder succeeded; want an error")
	}
}
