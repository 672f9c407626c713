package main

import (
	"bytes"
	"context"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// tool finds a real client program. Where it is missing the test is
// skipped, except in CI, which installs them all.
func tool(t *testing.T, names ...string) string {
	t.Helper()
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s not installed; .ci/run should install it", names[0])
	}
	t.Skipf("%s not installed", names[0])
	return ""
}

func TestChromiumPaintsFirstSlideAtOnce(t *testing.T) {
	chromium := tool(t, "chromium", "chromium-browser", "google-chrome")
	dir := t.TempDir()
	red := color.RGBA{208, 32, 32, 255}
	solid(t, filepath.Join(dir, "a.png"), 640, 360, red)
	solid(t, filepath.Join(dir, "b.png"), 640, 360, color.RGBA{32, 64, 208, 255})
	// A long interval: the first slide must show long before the second.
	ts := startServer(t, "--dir", dir, "--interval", "10s", "--width", "640")

	shot := filepath.Join(t.TempDir(), "shot.png")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// --timeout stops loading after 2s and takes the screenshot: whatever
	// is painted by then is what a viewer would see.
	cmd := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+t.TempDir(), "--window-size=640,360", "--timeout=2000", "--screenshot="+shot, ts.url+"/")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, out)
	}
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	b := m.Bounds()
	if got := m.At(b.Dx()/2, b.Dy()/2); !nearColor(got, red, 12) {
		t.Errorf("2s after loading the page Chromium shows %v in the middle; want the first slide %v", got, red)
	}
}

func nearColor(a color.Color, b color.RGBA, tol int) bool {
	r, g, bl, _ := a.RGBA()
	d := func(x uint32, y uint8) bool { v := int(x>>8) - int(y); return v >= -tol && v <= tol }
	return d(r, b.R) && d(g, b.G) && d(bl, b.B)
}

func TestFFmpegReadsTheStream(t *testing.T) {
	ffmpeg := tool(t, "ffmpeg")
	ffprobe := tool(t, "ffprobe")
	dir := t.TempDir()
	copyFixture(t, dir, "jpeg-large.jpg", "a.jpg")
	copyFixture(t, dir, "png-rgba.png", "b.png")
	copyFixture(t, dir, "webp-lossy.webp", "c.webp")
	copyFixture(t, dir, "orient-6.jpg", "d.jpg")
	ts := startServer(t, "--dir", dir, "--interval", "100ms", "--width", "320")

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var stderr bytes.Buffer
	out := filepath.Join(t.TempDir(), "frame%02d.jpg")
	cmd := exec.CommandContext(ctx, ffmpeg, "-nostdin", "-v", "error", "-f", "mpjpeg", "-i", ts.url+"/slideshow",
		"-frames:v", "20", "-c", "copy", out)
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil || stderr.Len() > 0 {
		t.Fatalf("ffmpeg reading 20 frames: %v\n%s", err, stderr.String())
	}
	frames, _ := filepath.Glob(filepath.Join(filepath.Dir(out), "frame*.jpg"))
	if len(frames) != 20 {
		t.Errorf("ffmpeg wrote %d frames; want 20", len(frames))
	}

	probe, err := exec.CommandContext(ctx, ffprobe, "-v", "error", "-f", "mpjpeg", "-show_entries", "stream=codec_name,width",
		"-of", "default=nw=1", ts.url+"/slideshow").CombinedOutput()
	if err != nil || !strings.Contains(string(probe), "codec_name=mjpeg") {
		t.Errorf("ffprobe: %v\n%s", err, probe)
	}
}
