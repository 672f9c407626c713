package conformance

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Chromium: the first slide is on screen within two seconds of loading the
// page, and the next one replaces it after the interval.
func TestChromiumShowsFirstSlideThenAdvances(t *testing.T) {
	chromium := tool(t, "chromium", "chromium-browser", "google-chrome")
	dir := t.TempDir()
	writeSlides(t, dir, 640, 360, false, red, green, blue)
	base, _ := start(t, "--dir", dir, "--interval", "10s", "--width", "640")

	// Chromium takes its screenshot when the page has loaded, and an <img>
	// of a multipart stream counts as loaded at its first part; --timeout
	// would stop the stream and blank it. To look at a set time, the
	// slideshow page is shown in a frame of a harness page that also holds
	// an image the harness sends only after that time.
	harness := http.NewServeMux()
	harness.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<!doctype html><style>body{margin:0}iframe{border:0;width:100vw;height:100vh;display:block}</style>`+
			`<iframe src="%s/"></iframe><img src="/after?ms=%s" width="1" height="1" style="position:fixed;top:0">`,
			base, r.URL.Query().Get("ms"))
	})
	harness.HandleFunc("/after", func(w http.ResponseWriter, r *http.Request) {
		ms, _ := strconv.Atoi(r.URL.Query().Get("ms"))
		select {
		case <-time.After(time.Duration(ms) * time.Millisecond):
		case <-r.Context().Done():
			return
		}
		w.Header().Set("Content-Type", "image/png")
		png.Encode(w, image.NewGray(image.Rect(0, 0, 1, 1)))
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: harness}
	go hs.Serve(ln)
	defer hs.Close()
	page := "http://" + ln.Addr().String() + "/?ms="

	// Both browsers start now: one looks after 2 s, the other after 12.5 s,
	// when the second slide (due 10 s after the first) must be up.
	var early, late image.Image
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); early = screenshot(t, chromium, page+"2000", 640, 360, 30000) }()
	go func() { defer wg.Done(); late = screenshot(t, chromium, page+"12500", 640, 360, 30000) }()
	wg.Wait()
	if early == nil || late == nil {
		return // screenshot has failed the test
	}
	if s := share(early, red, 16); s < 0.9 {
		t.Errorf("2 s after loading, %.0f%% of the screen is the first slide's red; want at least 90%%", 100*s)
	}
	if s := share(late, green, 16); s < 0.9 {
		t.Errorf("12.5 s after loading, %.0f%% of the screen is the second slide's green; want at least 90%%", 100*s)
	}
}

// Chromium: the /images page shows every thumbnail, and the reason under
// the file that cannot be shown.
func TestChromiumRendersImagesPage(t *testing.T) {
	chromium := tool(t, "chromium", "chromium-browser", "google-chrome")
	dir := t.TempDir()
	// 16:10, the shape of the page's thumbnail boxes, so each fills its box.
	writeSlides(t, dir, 640, 400, false, red, green, blue)
	os.WriteFile(filepath.Join(dir, "4.jpg"), []byte("not a photo at all"), 0o644)
	base, _ := start(t, "--dir", dir, "--interval", "1s", "--width", "640")
	waitCached(t, base)

	m := screenshot(t, chromium, base+"/images", 1000, 700, 10000)
	// Four cards of about 230 px in a row; each thumbnail is about
	// 230×144 px, some 4.7% of the screen. Count each colour.
	for _, c := range []struct {
		name string
		rgba color.RGBA
	}{{"1.png (red)", red}, {"2.png (green)", green}, {"3.png (blue)", blue}} {
		if s := share(m, c.rgba, 16); s < 0.03 {
			t.Errorf("thumbnail of %s covers %.2f%% of the /images page; want about 4.7%%", c.name, 100*s)
		}
	}
	dom, err := exec.Command(chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--user-data-dir="+t.TempDir(), "--dump-dom", base+"/images").Output()
	if err != nil {
		t.Fatalf("chromium --dump-dom: %v", err)
	}
	for _, want := range []string{"3 of 4 images can be shown", "4.jpg", "not a JPEG, PNG, WebP, GIF, HEIC, AVIF, MP4 or WebM image"} {
		if !bytes.Contains(dom, []byte(want)) {
			t.Errorf("/images page as Chromium parsed it lacks %q", want)
		}
	}
}

// ffmpeg reads 20 frames with no error output; ffprobe calls it mjpeg.
func TestFFmpegAndFFprobe(t *testing.T) {
	ffmpeg := tool(t, "ffmpeg")
	ffprobe := tool(t, "ffprobe")
	dir := t.TempDir()
	for i, c := range []color.RGBA{red, green, blue} {
		writePNG(t, filepath.Join(dir, fmt.Sprintf("%d.png", i)), 800, 500, c, i == 0)
	}
	for _, name := range []string{"jpeg-large.jpg", "webp-lossy.webp", "orient-6.jpg", "png-rgba.png"} {
		b, err := os.ReadFile(filepath.Join("..", "testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, "x-"+name), b, 0o644)
	}
	base, _ := start(t, "--dir", dir, "--interval", "100ms", "--width", "320")

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var stderr bytes.Buffer
	out := filepath.Join(t.TempDir(), "frame%02d.jpg")
	cmd := exec.CommandContext(ctx, ffmpeg, "-nostdin", "-v", "error", "-f", "mpjpeg", "-i", base+"/slideshow",
		"-frames:v", "20", "-c", "copy", out)
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil || stderr.Len() > 0 {
		t.Fatalf("ffmpeg reading 20 frames: %v\n%s", err, stderr.String())
	}
	frames, _ := filepath.Glob(filepath.Join(filepath.Dir(out), "frame*.jpg"))
	if len(frames) != 20 {
		t.Errorf("ffmpeg wrote %d frames; want 20", len(frames))
	}
	// ffprobe looks at whichever slide is showing, and the small fixtures
	// above are narrower than 320 (they are never enlarged): probe a
	// folder whose every slide is wider.
	wide := t.TempDir()
	writeSlides(t, wide, 800, 500, false, red, green, blue)
	wideBase, _ := start(t, "--dir", wide, "--interval", "100ms", "--width", "320")
	probe, err := exec.CommandContext(ctx, ffprobe, "-v", "error", "-f", "mpjpeg", "-show_entries", "stream=codec_name,width",
		"-of", "default=nw=1", wideBase+"/slideshow").CombinedOutput()
	if err != nil || !strings.Contains(string(probe), "codec_name=mjpeg") || !strings.Contains(string(probe), "width=320") {
		t.Errorf("ffprobe: %v\n%s; want codec_name=mjpeg, width=320", err, probe)
	}
}

// curl --no-buffer has the whole first frame within 200 ms of starting
// when the slide is cached.
func TestCurlGetsFirstFrameAtOnce(t *testing.T) {
	curl := tool(t, "curl")
	dir := t.TempDir()
	writePNG(t, filepath.Join(dir, "1.png"), 1280, 800, red, true)
	writePNG(t, filepath.Join(dir, "2.png"), 1280, 800, green, false)
	base, _ := start(t, "--dir", dir, "--interval", "10s")
	waitCached(t, base)

	var worst time.Duration
	for range 3 {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		cmd := exec.CommandContext(ctx, curl, "--silent", "--no-buffer", base+"/slideshow")
		stdout, _ := cmd.StdoutPipe()
		began := time.Now()
		if err := cmd.Start(); err != nil {
			cancel()
			t.Fatal(err)
		}
		body, err := readPart(bufio.NewReader(stdout))
		took := time.Since(began)
		cancel()
		cmd.Wait()
		if err != nil {
			t.Fatalf("reading curl's output: %v", err)
		}
		if _, err := png.DecodeConfig(bytes.NewReader(body)); err == nil || len(body) < 100<<10 {
			t.Errorf("first part is %d bytes; want the large JPEG frame", len(body))
		}
		worst = max(worst, took)
	}
	t.Logf("curl: whole first frame %v after starting curl (worst of 3)", worst)
	if worst > 200*time.Millisecond {
		t.Errorf("curl had the first frame after %v; want within 200ms", worst)
	}
}

// A client that reads nothing is dropped after --write-timeout while a
// healthy client beside it keeps the slide rate.
func TestStalledSocketIsDroppedHealthyKeepsRate(t *testing.T) {
	dir := t.TempDir()
	writeSlides(t, dir, 1280, 800, true, red, green, blue) // ~1 MB frames
	base, logs := start(t, "--dir", dir, "--interval", "100ms", "--width", "1280", "--write-timeout", "2s")
	waitCached(t, base)
	stalled := time.Now()
	stalledConn(t, base)

	resp, err := http.Get(base + "/slideshow")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, params, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	mr := multipart.NewReader(resp.Body, params["boundary"])
	began := time.Now()
	var last []byte
	changes := 0
	var dropped time.Duration
	for time.Since(began) < 8*time.Second {
		p, err := mr.NextPart()
		if err != nil {
			t.Fatalf("healthy client: %v", err)
		}
		b, _ := io.ReadAll(p)
		if !bytes.Equal(b, last) {
			changes++
			last = b
		}
		if dropped == 0 && strings.Contains(logs.String(), "reason=write-timeout") {
			dropped = time.Since(stalled)
		}
	}
	rate := float64(changes) / time.Since(began).Seconds()
	t.Logf("healthy client: %.1f slides/s (interval 100ms) beside a stalled socket; stalled one dropped after %v", rate, dropped)
	if rate < 8 {
		t.Errorf("healthy client got %.1f slides/s; want about 10", rate)
	}
	if dropped == 0 || dropped > 8*time.Second {
		t.Errorf("stalled client dropped after %v; want within the 2s write timeout plus the time to fill its buffers", dropped)
	}
	// The operator sees it in /metrics too.
	mresp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(mresp.Body)
	mresp.Body.Close()
	if !bytes.Contains(metrics, []byte(`slidestream_clients_gone_total{reason="write-timeout"} 1`)) {
		t.Errorf("/metrics does not count the drop:\n%s", grep(metrics, "clients_gone"))
	}
}
