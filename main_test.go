package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"slidestream/decode"
	"slidestream/encode"
)

// testServer is a real slidestream on a loopback port.
type testServer struct {
	*server
	url  string
	stop func() time.Duration // ends serve and says how long it took
	logs *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func startServer(t testing.TB, args ...string) *testServer {
	t.Helper()
	cfg, err := parseFlags(append([]string{"--addr", "127.0.0.1:0"}, args...), io.Discard, io.Discard)
	if err != nil {
		t.Fatalf("parseFlags(%q): %v", args, err)
	}
	logs := &syncBuffer{}
	s, err := newServer(cfg, slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.serve(ctx) }()
	var once sync.Once
	var took time.Duration
	stop := func() time.Duration {
		once.Do(func() {
			start := time.Now()
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("serve: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Errorf("serve did not return 10s after its context ended")
			}
			took = time.Since(start)
		})
		return took
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	return &testServer{server: s, url: "http://" + s.ln.Addr().String(), stop: stop, logs: logs}
}

// copyFixture copies testdata/name into dir as as.
func copyFixture(t *testing.T, dir, name, as string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, as)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// solid writes a w×h PNG of one colour.
func solid(t testing.TB, path string, w, h int, c color.Color) {
	t.Helper()
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < w*h; i++ {
		m.Set(i%w, i/w, c)
	}
	var buf bytes.Buffer
	png.Encode(&buf, m)
	// Write then rename, as a careful copy tool does.
	tmp := filepath.Join(filepath.Dir(path), ".tmp-"+filepath.Base(path))
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// writeGIF writes a w×h GIF of two frames, red then blue; a slideshow
// shows the first.
func writeGIF(t *testing.T, path string, w, h int) string {
	t.Helper()
	pal := color.Palette{color.RGBA{200, 30, 30, 255}, color.RGBA{30, 30, 200, 255}}
	red, blue := image.NewPaletted(image.Rect(0, 0, w, h), pal), image.NewPaletted(image.Rect(0, 0, w, h), pal)
	for i := range blue.Pix {
		blue.Pix[i] = 1
	}
	var buf bytes.Buffer
	if err := gif.EncodeAll(&buf, &gif.GIF{Image: []*image.Paletted{red, blue}, Delay: []int{50, 50}}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// expected is the frame slidestream must send for a file: the pipeline's
// own output, byte for byte.
func expected(t *testing.T, path string, width int) []byte {
	t.Helper()
	f, err := decode.Open(path, decode.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := f.Decode(decode.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := encode.Frame(img, encode.Options{Width: width, Background: color.RGBA{0, 0, 0, 255}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// streamReader reads the slideshow with mime/multipart, checking every part.
type streamReader struct {
	t      *testing.T
	resp   *http.Response
	mr     *multipart.Reader
	cancel context.CancelFunc
}

func openStream(t *testing.T, url string) *streamReader {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		cancel()
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	for h, want := range map[string]string{"Cache-Control": "no-store", "X-Accel-Buffering": "no"} {
		if got := resp.Header.Get(h); !strings.Contains(got, want) {
			t.Errorf("GET %s: %s = %q; want %q", url, h, got, want)
		}
	}
	mt, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/x-mixed-replace" || params["boundary"] == "" {
		t.Fatalf("GET %s: Content-Type %q is not multipart/x-mixed-replace with a boundary", url, resp.Header.Get("Content-Type"))
	}
	sr := &streamReader{t: t, resp: resp, mr: multipart.NewReader(resp.Body, params["boundary"]), cancel: cancel}
	t.Cleanup(sr.close)
	return sr
}

func (s *streamReader) close() { s.cancel(); s.resp.Body.Close() }

// next returns the next part's JPEG bytes, checking its headers.
func (s *streamReader) next() []byte {
	s.t.Helper()
	p, err := s.mr.NextPart()
	if err != nil {
		s.t.Fatalf("reading the next part: %v", err)
	}
	if ct := p.Header.Get("Content-Type"); ct != "image/jpeg" {
		s.t.Errorf("part Content-Type = %q; want image/jpeg", ct)
	}
	b, err := io.ReadAll(p)
	if err != nil {
		s.t.Fatalf("reading a part: %v", err)
	}
	if cl, _ := strconv.Atoi(p.Header.Get("Content-Length")); cl != len(b) {
		s.t.Errorf("part Content-Length = %q; body has %d bytes", p.Header.Get("Content-Length"), len(b))
	}
	if _, err := jpeg.DecodeConfig(bytes.NewReader(b)); err != nil {
		s.t.Errorf("part is not a JPEG: %v", err)
	}
	return b
}

// distinct reads parts until n different frames in a row have been seen
// (repeats, which are keep-alives, are skipped) or the deadline passes.
func (s *streamReader) distinct(n int, within time.Duration) [][]byte {
	s.t.Helper()
	deadline := time.AfterFunc(within, s.cancel)
	defer deadline.Stop()
	var out [][]byte
	for len(out) < n {
		p, err := s.mr.NextPart()
		if err != nil {
			s.t.Fatalf("after %d distinct frames: %v", len(out), err)
		}
		b, _ := io.ReadAll(p)
		if len(out) == 0 || !bytes.Equal(out[len(out)-1], b) {
			out = append(out, b)
		}
	}
	return out
}

func indexOf(frames [][]byte, b []byte) int {
	for i, f := range frames {
		if bytes.Equal(f, b) {
			return i
		}
	}
	return -1
}

func TestStreamPlaysMixedFolderInNameOrder(t *testing.T) {
	dir := t.TempDir()
	files := []string{
		copyFixture(t, dir, "jpeg-large.jpg", "a-photo.jpg"),
		copyFixture(t, dir, "png-named.jpg", "b-png-named-jpg.jpg"),
		copyFixture(t, dir, "webp-lossy.webp", "c-lossy.WEBP"),
		copyFixture(t, dir, "jpeg-cmyk.jpg", "d-cmyk.jpeg"),
		copyFixture(t, dir, "png-gray16.png", "e-16bit.png"),
		writeGIF(t, filepath.Join(dir, "f-first-frame.GIF"), 200, 150),
	}
	copyFixture(t, dir, "png-rgb.png", ".hidden.png")
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not an image"), 0o644)
	os.Mkdir(filepath.Join(dir, "sub.jpg"), 0o755)

	// At the default width every slide is prepared before it is shown, so a
	// client skips none (one at another width may skip slides while its
	// frames are made, which is allowed).
	const width = 120
	ts := startServer(t, "--dir", dir, "--interval", "300ms", "--width", strconv.Itoa(width))
	var want [][]byte
	for _, f := range files {
		want = append(want, expected(t, f, width))
	}
	s := openStream(t, ts.url+"/slideshow?width="+strconv.Itoa(width))
	got := s.distinct(2*len(files), 20*time.Second)
	i := indexOf(want, got[0])
	if i < 0 {
		t.Fatalf("first frame (%d bytes) is none of the slides", len(got[0]))
	}
	for k, b := range got {
		cfg, _ := jpeg.DecodeConfig(bytes.NewReader(b))
		if cfg.Width != width {
			t.Errorf("frame %d is %d wide; want %d", k, cfg.Width, width)
		}
		if j := indexOf(want, b); j != (i+k)%len(files) {
			t.Errorf("frame %d is slide %d; want slide %d (name order)", k, j, (i+k)%len(files))
		}
	}
}

func TestSnapshotHealthAndPage(t *testing.T) {
	dir := t.TempDir()
	p := copyFixture(t, dir, "orient-6.jpg", "rotated.jpg")
	ts := startServer(t, "--dir", dir, "--interval", "10s")
	for _, width := range []int{32, 48} {
		resp, err := http.Get(ts.url + "/snapshot?width=" + strconv.Itoa(width))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.Header.Get("Content-Type") != "image/jpeg" || !bytes.Equal(b, expected(t, p, width)) {
			t.Errorf("GET /snapshot?width=%d = %s, %d bytes; want the slide's JPEG at that width", width, resp.Header.Get("Content-Type"), len(b))
		}
	}
	for _, bad := range []string{"0", "15", "4097", "wide", "-1"} {
		resp, err := http.Get(ts.url + "/snapshot?width=" + bad)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 400 || !strings.Contains(string(b), "width must be") || strings.Count(strings.TrimSpace(string(b)), "\n") > 0 {
			t.Errorf("GET /snapshot?width=%s = %d %q; want 400 with a one-line reason", bad, resp.StatusCode, b)
		}
	}
	resp, err := http.Get(ts.url + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /healthz = %v, %v", resp, err)
	}
	resp.Body.Close()
	resp, err = http.Get(ts.url + "/?width=320")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `<img src="slideshow?width=320"`) || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Errorf("GET / = %q; want a page showing the stream", b)
	}
}

func TestTwoWidthsTranscodeOncePerSlide(t *testing.T) {
	dir := t.TempDir()
	var files []string
	for i, c := range []color.RGBA{{200, 0, 0, 255}, {0, 200, 0, 255}, {0, 0, 200, 255}} {
		p := filepath.Join(dir, fmt.Sprintf("%d.png", i))
		solid(t, p, 400, 300, c)
		files = append(files, p)
	}
	ts := startServer(t, "--dir", dir, "--interval", "100ms", "--width", "200")
	a := openStream(t, ts.url+"/slideshow?width=200")
	b := openStream(t, ts.url+"/slideshow?width=64")
	var wg sync.WaitGroup
	for _, c := range []struct {
		s     *streamReader
		width int
	}{{a, 200}, {b, 64}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var want [][]byte
			for _, f := range files {
				want = append(want, expected(t, f, c.width))
			}
			for k, f := range c.s.distinct(2*len(files), 20*time.Second) {
				if indexOf(want, f) < 0 {
					t.Errorf("width %d: frame %d is not one of the slides at that width", c.width, k)
				}
			}
		}()
	}
	wg.Wait()
	st := ts.cache.Stats()
	if st.Misses > int64(2*len(files)) {
		t.Errorf("%d transcodes for %d slides at 2 widths over two cycles; want at most %d", st.Misses, len(files), 2*len(files))
	}
	if st.Hits == 0 {
		t.Errorf("no cache hits over two cycles: frames are not reused")
	}
}

func TestFolderChangesArePickedUp(t *testing.T) {
	dir := t.TempDir()
	a, b, c := filepath.Join(dir, "a.png"), filepath.Join(dir, "b.png"), filepath.Join(dir, "c.png")
	solid(t, a, 64, 48, color.RGBA{255, 0, 0, 255})
	solid(t, b, 64, 48, color.RGBA{0, 255, 0, 255})
	ts := startServer(t, "--dir", dir, "--interval", "100ms", "--width", "64")
	s := openStream(t, ts.url+"/slideshow")
	oldA, wantB := expected(t, a, 64), expected(t, b, 64)

	// seen reads frames until pred holds for one, or fails after 5s
	// (the folder is polled every second).
	seen := func(what string, pred func([]byte) bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) {
			if pred(s.next()) {
				return
			}
		}
		t.Fatalf("no frame showed %s within 5s", what)
	}
	seen("b", func(f []byte) bool { return bytes.Equal(f, wantB) })

	solid(t, c, 64, 48, color.RGBA{0, 0, 255, 255})
	wantC := expected(t, c, 64)
	seen("the added c", func(f []byte) bool { return bytes.Equal(f, wantC) })

	solid(t, a, 64, 48, color.RGBA{255, 255, 255, 255}) // replaced, same name
	os.Chtimes(a, time.Now(), time.Now().Add(time.Second))
	newA := expected(t, a, 64)
	seen("the replaced a", func(f []byte) bool { return bytes.Equal(f, newA) })

	os.Remove(b)
	time.Sleep(2500 * time.Millisecond)
	s.close() // frames sent while this test slept are stale; look afresh
	s = openStream(t, ts.url+"/slideshow")
	for range 15 {
		f := s.next()
		switch {
		case bytes.Equal(f, wantB):
			t.Fatal("the deleted b still shows 2.5s after deletion")
		case bytes.Equal(f, oldA):
			t.Fatal("the old a still shows after it was replaced")
		}
	}
}

func TestEmptyFolderWaitsThenPlays(t *testing.T) {
	dir := t.TempDir()
	ts := startServer(t, "--dir", dir, "--interval", "100ms", "--width", "320")
	s := openStream(t, ts.url+"/slideshow")
	first := s.next()
	cfg, _ := jpeg.DecodeConfig(bytes.NewReader(first))
	if cfg.Width != 320 {
		t.Errorf("the no-images frame is %d wide; want 320", cfg.Width)
	}
	resp, err := http.Get(ts.url + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /healthz with no images = %v, %v; want 200", resp, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "no images in "+dir) {
		t.Errorf("GET /healthz = %q; want it to say there are no images", body)
	}
	p := filepath.Join(dir, "late.png")
	solid(t, p, 400, 300, color.RGBA{10, 200, 30, 255})
	want := expected(t, p, 320)
	deadline := time.Now().Add(5 * time.Second)
	for !bytes.Equal(s.next(), want) {
		if time.Now().After(deadline) {
			t.Fatal("the image added to an empty folder did not show within 5s")
		}
	}
}

func TestBadFilesAreSkippedAndLoggedOnce(t *testing.T) {
	dir := t.TempDir()
	good1 := copyFixture(t, dir, "png-rgb.png", "b-good.png")
	good2 := copyFixture(t, dir, "jpeg-gray.jpg", "d-good.jpg")
	os.WriteFile(filepath.Join(dir, "a-notes.png"), []byte("shopping list\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "c-truncated.jpg"), []byte("\xff\xd8\xff\xe0\x00\x10JFIF"), 0o644)
	ts := startServer(t, "--dir", dir, "--interval", "50ms", "--width", "100")
	s := openStream(t, ts.url+"/slideshow")
	want := [][]byte{expected(t, good1, 100), expected(t, good2, 100)}
	for k, f := range s.distinct(10, 20*time.Second) {
		if indexOf(want, f) < 0 {
			t.Fatalf("frame %d is not one of the two good images", k)
		}
	}
	logs := ts.logs.String()
	for _, f := range []string{"a-notes.png", "c-truncated.jpg"} {
		lines := 0
		for _, l := range strings.Split(logs, "\n") {
			if strings.Contains(l, f) {
				lines++
			}
		}
		if lines != 1 {
			t.Errorf("%s is in %d log lines; want one:\n%s", f, lines, logs)
		}
	}
	if !strings.Contains(logs, "it is text") || !strings.Contains(logs, "truncated") {
		t.Errorf("log does not give the reasons:\n%s", logs)
	}
}

// stalledConn connects with a tiny receive buffer and never reads.
func stalledConn(t *testing.T, addr, path string) net.Conn {
	t.Helper()
	d := net.Dialer{Control: func(network, address string, c syscallRawConn) error { return setRcvBuf(c, 4096) }}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", path, addr)
	t.Cleanup(func() { conn.Close() })
	return conn
}

func TestStalledClientIsDroppedWithoutHurtingOthers(t *testing.T) {
	dir := t.TempDir()
	copyFixture(t, dir, "jpeg-large.jpg", "a.jpg")
	copyFixture(t, dir, "png-rgb.png", "b.png")
	ts := startServer(t, "--dir", dir, "--interval", "100ms", "--width", "0", "--write-timeout", "1s")
	stalledConn(t, ts.ln.Addr().String(), "/slideshow")
	healthy := openStream(t, ts.url+"/slideshow")
	start := time.Now()
	frames := healthy.distinct(40, 30*time.Second) // 4s of slides
	rate := float64(len(frames)) / time.Since(start).Seconds()
	if rate < 5 {
		t.Errorf("healthy client got %.1f slides/s beside a stalled one; want close to 10", rate)
	}
	deadline := time.Now().Add(20 * time.Second)
	for ts.handler.Clients() > 1 {
		if time.Now().After(deadline) {
			t.Fatalf("stalled client still connected after 20s (%d clients)", ts.handler.Clients())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(ts.logs.String(), "reason=write-timeout") {
		t.Errorf("the drop is not logged with its reason:\n%s", ts.logs.String())
	}
}

func TestClientThatLeavesEndsItsHandler(t *testing.T) {
	dir := t.TempDir()
	copyFixture(t, dir, "png-rgb.png", "a.png")
	ts := startServer(t, "--dir", dir, "--interval", "10s")
	s := openStream(t, ts.url+"/slideshow") // the server is fully up
	s.next()
	s.close()
	time.Sleep(100 * time.Millisecond)
	base := runtime.NumGoroutine()
	for range 20 {
		s := openStream(t, ts.url+"/slideshow")
		s.next()
		s.close()
	}
	deadline := time.Now().Add(3 * time.Second)
	for ts.handler.Clients() != 0 || runtime.NumGoroutine() > base+2 {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("after 20 clients left: %d still counted, %d goroutines (was %d):\n%s", ts.handler.Clients(), runtime.NumGoroutine(), base, buf)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestShutdownEndsStreams(t *testing.T) {
	dir := t.TempDir()
	copyFixture(t, dir, "png-rgb.png", "a.png")
	ts := startServer(t, "--dir", dir, "--interval", "10s")
	var streams []*streamReader
	for range 5 {
		s := openStream(t, ts.url+"/slideshow")
		s.next()
		streams = append(streams, s)
	}
	if took := ts.stop(); took > 2*time.Second {
		t.Errorf("shutdown with 5 clients took %v; want under 2s", took)
	}
	for i, s := range streams {
		if _, err := io.Copy(io.Discard, s.resp.Body); err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Logf("client %d: %v", i, err)
		}
	}
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
