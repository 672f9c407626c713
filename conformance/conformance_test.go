// Package conformance checks the slidestream binary with clients nobody
// here wrote: headless Chromium, ffmpeg and ffprobe, curl, and a raw socket
// that never reads. Each test builds nothing itself: TestMain builds the
// binary once, and every test starts it as a user would and finds its
// address in its log.
//
// A missing client skips its test, except under CI=true, where .ci/run has
// installed them all and a missing one fails.
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
	"math/rand/v2"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "slidestream-conformance")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "slidestream")
	build := exec.Command("go", "build", "-o", binary, "..")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building slidestream:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// tool finds a client program, or skips the test where it is missing
// outside CI.
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

// logBuffer collects the server's log as it is written.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

var servingURL = regexp.MustCompile(`msg="slidestream is serving" url=(http://\S+/)`)

// proc is a running slidestream.
type proc struct {
	url    string // base URL, without the trailing slash
	logs   *logBuffer
	cmd    *exec.Cmd
	exited chan error // receives cmd.Wait's result
	killed bool       // ended on purpose by kill
}

// kill ends the process at once, as a crash or power loss would.
func (p *proc) kill() {
	p.killed = true
	p.cmd.Process.Kill()
	<-p.exited
}

// start runs the binary on a free loopback port and returns its base URL
// (without the trailing slash) and its log. It is stopped with SIGTERM
// when the test ends.
func start(t *testing.T, args ...string) (string, *logBuffer) {
	t.Helper()
	p := startProc(t, args...)
	return p.url, p.logs
}

func startProc(t *testing.T, args ...string) *proc {
	t.Helper()
	p := &proc{logs: &logBuffer{}, exited: make(chan error, 1)}
	p.cmd = exec.Command(binary, append([]string{"--addr", "127.0.0.1:0"}, args...)...)
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.exited <- p.cmd.Wait() }()
	t.Cleanup(func() {
		if p.killed {
			return
		}
		p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-p.exited:
			if err != nil {
				t.Errorf("slidestream exited with %v after SIGTERM", err)
			}
		case <-time.After(10 * time.Second):
			p.cmd.Process.Kill()
			t.Errorf("slidestream still running 10s after SIGTERM")
		}
		if t.Failed() {
			t.Logf("slidestream %v log:\n%s", args, p.logs.String())
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if m := servingURL.FindStringSubmatch(p.logs.String()); m != nil {
			p.url = strings.TrimSuffix(m[1], "/")
			return p
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("slidestream did not say where it serves within 10s:\n%s", p.logs.String())
	return nil
}

// writePNG writes a w×h PNG: one colour, or noise around it when noisy
// (noise makes large JPEG frames).
func writePNG(t *testing.T, path string, w, h int, c color.RGBA, noisy bool) {
	t.Helper()
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	rng := rand.New(rand.NewPCG(uint64(c.R)<<16|uint64(c.G)<<8|uint64(c.B), 7))
	for i := 0; i < len(m.Pix); i += 4 {
		m.Pix[i], m.Pix[i+1], m.Pix[i+2], m.Pix[i+3] = c.R, c.G, c.B, 255
		if noisy {
			for k := range 3 {
				m.Pix[i+k] = uint8(rng.IntN(256))
			}
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, m); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeSlides writes one w×h PNG per colour, named 1.png, 2.png, ... in
// play order.
func writeSlides(t *testing.T, dir string, w, h int, noisy bool, colours ...color.RGBA) {
	t.Helper()
	for i, c := range colours {
		writePNG(t, filepath.Join(dir, fmt.Sprintf("%d.png", i+1)), w, h, c, noisy)
	}
}

// waitCached returns once /snapshot answers, that is once the first slide
// is rendered and cached.
func waitCached(t *testing.T, base string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(base + "/snapshot"); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("/snapshot did not answer within 20s")
}

// screenshot loads url in headless Chromium and returns what is on screen
// after ms milliseconds (or when the page has loaded, if sooner).
func screenshot(t *testing.T, chromium, url string, w, h, ms int) image.Image {
	t.Helper()
	shot := filepath.Join(t.TempDir(), "shot.png")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--hide-scrollbars", "--user-data-dir="+t.TempDir(), fmt.Sprintf("--window-size=%d,%d", w, h),
		fmt.Sprintf("--timeout=%d", ms), "--screenshot="+shot, url)
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
	return m
}

func near(a color.Color, b color.RGBA, tol int) bool {
	r, g, bl, _ := a.RGBA()
	d := func(x uint32, y uint8) bool { v := int(x>>8) - int(y); return v >= -tol && v <= tol }
	return d(r, b.R) && d(g, b.G) && d(bl, b.B)
}

// share is the fraction of m's pixels within tol of c.
func share(m image.Image, c color.RGBA, tol int) float64 {
	b := m.Bounds()
	n := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if near(m.At(x, y), c, tol) {
				n++
			}
		}
	}
	return float64(n) / float64(b.Dx()*b.Dy())
}

var (
	red   = color.RGBA{208, 32, 32, 255}
	green = color.RGBA{32, 176, 64, 255}
	blue  = color.RGBA{32, 64, 208, 255}
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
	for _, want := range []string{"3 of 4 images can be shown", "4.jpg", "not a JPEG, PNG, WebP or GIF image"} {
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

// readPart reads one multipart part's headers and body from r by hand, as
// a byte counter would, and returns the body.
func readPart(r *bufio.Reader) ([]byte, error) {
	length := -1
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return nil, err
		}
		line = strings.TrimRight(line, "\r\n")
		if v, ok := strings.CutPrefix(strings.ToLower(line), "content-length:"); ok {
			length, _ = strconv.Atoi(strings.TrimSpace(v))
		}
		if line == "" && length >= 0 {
			break
		}
	}
	body := make([]byte, length)
	_, err := io.ReadFull(r, body)
	return body, err
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

// stalledConn opens a stream with a tiny receive buffer and never reads.
func stalledConn(t *testing.T, base string) net.Conn {
	t.Helper()
	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		})
		if err != nil {
			return err
		}
		return serr
	}}
	conn, err := d.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "GET /slideshow HTTP/1.1\r\nHost: slidestream\r\n\r\n")
	return conn
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

func grep(b []byte, s string) string {
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, s) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
