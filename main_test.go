package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/color"
	"image/jpeg"
	"io"
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

	"slidestream/web"
)

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
	// The GIF has two frames: shown still, as its first.
	ts := startServer(t, "--dir", dir, "--interval", "300ms", "--width", strconv.Itoa(width), "--motion", "stills")
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

func TestImageStatusExplainsEveryFile(t *testing.T) {
	dir := t.TempDir()
	solid(t, filepath.Join(dir, "1-good.png"), 640, 400, color.RGBA{0, 0, 200, 255})
	copyFixture(t, dir, "webp-lossy.webp", "2-good.webp")
	os.WriteFile(filepath.Join(dir, "3-notes.jpg"), []byte("shopping list: milk, eggs\n"), 0o644)
	b, _ := os.ReadFile(filepath.Join("testdata", "jpeg-420.jpg"))
	os.WriteFile(filepath.Join(dir, "4-cut.jpg"), b[:len(b)/3], 0o644)
	solid(t, filepath.Join(dir, "5-huge.png"), 1200, 1000, color.White) // over --max-pixels 1
	s := startServer(t, "--dir", dir, "--interval", "100ms", "--width", "320", "--max-pixels", "1")

	var rep web.ImagesReport
	want := map[string]string{"1-good.png": "", "2-good.webp": "", "3-notes.jpg": "unknown-format",
		"4-cut.jpg": "corrupt", "5-huge.png": "too-many-pixels"}
	deadline := time.Now().Add(10 * time.Second)
	for {
		rep = web.ImagesReport{} // Decode would keep fields the new JSON omits
		getJSON(t, s.url+"/api/images", &rep)
		// The cut JPEG's header is fine: only decoding it tells.
		done := rep.Skipped == 3
		if done || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(rep.Images) != len(want) || rep.OK != 2 || rep.Skipped != 3 {
		t.Fatalf("report lists %d images, %d ok, %d skipped; want 5, 2, 3: %+v", len(rep.Images), rep.OK, rep.Skipped, rep)
	}
	for _, im := range rep.Images {
		kind, ok := want[im.Name]
		if !ok {
			t.Errorf("unexpected image %q", im.Name)
			continue
		}
		switch {
		case kind == "" && (im.Status != "ok" || im.Thumbnail == "" || im.Reason != ""):
			t.Errorf("%s: status %q, reason %q, thumbnail %q; want ok with a thumbnail", im.Name, im.Status, im.Reason, im.Thumbnail)
		case kind != "" && (im.Status != "skipped" || im.Kind != kind || im.Reason == "" || im.Thumbnail != ""):
			t.Errorf("%s: %+v; want skipped as %s, with a reason and no thumbnail", im.Name, im, kind)
		}
		if im.Name == "5-huge.png" && !strings.Contains(im.Reason, "--max-pixels 1") {
			t.Errorf("5-huge.png reason %q does not name the limit", im.Reason)
		}
		if im.Name == "1-good.png" && (im.Format != "png" || im.Width != 640 || im.Height != 400) {
			t.Errorf("1-good.png: %s %dx%d; want png 640x400", im.Format, im.Width, im.Height)
		}
	}

	// Thumbnails are real JPEGs at the thumbnail width.
	for _, im := range rep.Images {
		if im.Thumbnail == "" {
			continue
		}
		resp, err := http.Get(s.url + im.Thumbnail)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		cfg, err := jpeg.DecodeConfig(bytes.NewReader(body))
		if want := min(im.Width, web.ThumbWidth); resp.StatusCode != 200 || err != nil || cfg.Width != want {
			t.Errorf("thumbnail of %s: %s, %dx%d (%v); want a %d-wide JPEG", im.Name, resp.Status, cfg.Width, cfg.Height, err, want)
		}
	}
	if resp, err := http.Get(s.url + "/images/thumb?name=nope.jpg"); err != nil || resp.StatusCode != 404 {
		t.Errorf("thumbnail of a file not in the folder: %v %v; want 404", resp.Status, err)
	}

	// The page people read says the same.
	resp, err := http.Get(s.url + "/images")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"2 of 5 images can be shown", "4-cut.jpg", "not a valid JPEG",
		"over --max-pixels 1", "not a JPEG, PNG, WebP, GIF, HEIC, AVIF, MP4 or WebM image", `src="images/thumb?name=1-good.png`} {
		if !strings.Contains(string(page), want) {
			t.Errorf("/images page lacks %q", want)
		}
	}
}

func TestFitMakesEveryFrameTheSameSize(t *testing.T) {
	dir := t.TempDir()
	solid(t, filepath.Join(dir, "1-wide.png"), 900, 200, color.RGBA{200, 0, 0, 255})
	solid(t, filepath.Join(dir, "2-tall.png"), 200, 900, color.RGBA{0, 200, 0, 255})
	solid(t, filepath.Join(dir, "3-square.png"), 300, 300, color.RGBA{200, 200, 0, 255})
	s := startServer(t, "--dir", dir, "--interval", "100ms", "--fit", "320x240", "--background", "#0000ff")

	for _, q := range []struct {
		query string
		w, h  int
	}{{"", 320, 240}, {"?width=160", 160, 120}} {
		st := openStream(t, s.url+"/slideshow"+q.query)
		for i, f := range st.distinct(3, 10*time.Second) {
			m, err := jpeg.Decode(bytes.NewReader(f))
			if err != nil {
				t.Fatal(err)
			}
			if b := m.Bounds(); b.Dx() != q.w || b.Dy() != q.h {
				t.Errorf("%q frame %d is %dx%d; want %dx%d", q.query, i, b.Dx(), b.Dy(), q.w, q.h)
			}
			// No slide has the frame's shape: its corners are padding,
			// in the background colour.
			if r, g, b, _ := m.At(1, 1).RGBA(); r>>8 > 40 || g>>8 > 40 || b>>8 < 200 {
				t.Errorf("%q frame %d corner = %v; want the blue background", q.query, i, m.At(1, 1))
			}
		}
		st.close()
	}

	// The "no images" frame keeps the size too.
	empty := startServer(t, "--dir", t.TempDir(), "--fit", "320x240")
	resp, err := http.Get(empty.url + "/snapshot")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if cfg, err := jpeg.DecodeConfig(bytes.NewReader(body)); err != nil || cfg.Width != 320 || cfg.Height != 240 {
		t.Errorf("the no-images frame is %dx%d (%v); want 320x240", cfg.Width, cfg.Height, err)
	}
}

// A photo with large metadata before its image header (an ICC profile, a
// phone's extra data) plays, and the status page, which reads headers the
// same way the transcoder does, says so rather than "truncated".
func TestStatusReadsHeadersAsTheTranscoderDoes(t *testing.T) {
	dir := t.TempDir()
	b, err := os.ReadFile(filepath.Join("testdata", "jpeg-420.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	meta := append([]byte{}, b[:2]...)
	for range 5 { // 5 APP2 segments of 64 KiB
		meta = append(meta, 0xff, 0xe2, 0xff, 0xff)
		meta = append(meta, bytes.Repeat([]byte{'m'}, 0xfffd)...)
	}
	meta = append(meta, b[2:]...)
	os.WriteFile(filepath.Join(dir, "meta.jpg"), meta, 0o644)
	s := startServer(t, "--dir", dir, "--interval", "1h", "--width", "100")
	waitHealth(t, s, "showing meta.jpg")
	var rep web.ImagesReport
	getJSON(t, s.url+"/api/images", &rep)
	if len(rep.Images) != 1 || rep.Images[0].Status != "ok" || rep.Images[0].Width != 160 || rep.Images[0].Reason != "" {
		t.Errorf("/api/images = %+v; want meta.jpg ok, 160 wide", rep)
	}
}

// HEAD /slideshow answers the stream's headers and ends: it is no viewer,
// and the connection serves the next request.
func TestHeadOfTheStreamEnds(t *testing.T) {
	dir := t.TempDir()
	solid(t, filepath.Join(dir, "a.png"), 64, 40, color.RGBA{200, 0, 0, 255})
	ts := startServer(t, "--dir", dir, "--interval", "1h")
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Head(ts.url + "/slideshow")
	if err != nil {
		t.Fatalf("HEAD /slideshow: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "multipart/x-mixed-replace") {
		t.Errorf("HEAD /slideshow = %s, %q; want 200 and the stream's type", resp.Status, resp.Header.Get("Content-Type"))
	}
	if n := ts.handler.Clients(); n != 0 {
		t.Errorf("after HEAD, %d clients; want none", n)
	}
	resp, err = client.Get(ts.url + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET after HEAD on the same client: %v, %v", resp, err)
	}
	resp.Body.Close()
}

// A client that announces a body and never sends it is let go after the
// read timeout; a stream, whose request was read, outlasts it.
func TestReadTimeoutLetsGoOfBodiesThatNeverCome(t *testing.T) {
	dir := t.TempDir()
	solid(t, filepath.Join(dir, "a.png"), 64, 40, color.RGBA{200, 0, 0, 255})
	solid(t, filepath.Join(dir, "b.png"), 64, 40, color.RGBA{0, 200, 0, 255})
	ts := startServerWith(t, func(c *config) { c.readTimeout = 300 * time.Millisecond },
		"--dir", dir, "--interval", "100ms", "--width", "64")

	conn, err := net.Dial("tcp", ts.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /slideshow HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n")
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	start := time.Now()
	_, err = io.Copy(io.Discard, conn)
	if err != nil || time.Since(start) > 3*time.Second {
		t.Errorf("a request whose body never comes: connection held %v (%v); want it closed after the read timeout",
			time.Since(start).Round(time.Millisecond), err)
	}

	s := openStream(t, ts.url+"/slideshow")
	start = time.Now()
	s.distinct(15, 10*time.Second) // 1.5 s of slides, five read timeouts
	if d := time.Since(start); d < time.Second {
		t.Errorf("15 slides at 100ms in %v", d)
	}
}

// Clients that ask for many widths and leave at once cost nothing for the
// renders they no longer wait for: a render still waiting for its turn
// when its last client leaves is dropped. (60 such requests used to cost a
// transcode each and hold up the slideshow.)
func TestAbandonedWidthsAreDropped(t *testing.T) {
	dir := t.TempDir()
	for i, c := range []color.RGBA{{200, 0, 0, 255}, {0, 200, 0, 255}} {
		noisy(t, filepath.Join(dir, fmt.Sprintf("%d.png", i)), 1600, 1200, c)
	}
	ts := startServer(t, "--dir", dir, "--interval", "1h", "--width", "160", "--workers", "2")
	waitHealth(t, ts, "showing 0.png")
	before := transcodes(t, ts)
	var wg sync.WaitGroup
	for w := 1000; w < 1060; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Millisecond)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("%s/snapshot?width=%d", ts.url, w), nil)
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
	time.Sleep(2 * time.Second) // what did start, finishes
	n := transcodes(t, ts) - before
	t.Logf("60 abandoned snapshot widths cost %v transcodes", n)
	if n > 6 {
		t.Errorf("60 abandoned snapshot widths cost %v transcodes; want only the few already running when their clients left", n)
	}
}

// Screens wider than the photo get the photo at its own size: one frame,
// one transcode, whatever their widths.
func TestWidthsWiderThanThePhotoShareOneFrame(t *testing.T) {
	dir := t.TempDir()
	solid(t, filepath.Join(dir, "a.png"), 400, 300, color.RGBA{10, 120, 200, 255})
	ts := startServer(t, "--dir", dir, "--interval", "1h", "--width", "160")
	waitHealth(t, ts, "showing a.png")
	before := transcodes(t, ts)
	var frames [][]byte
	for _, w := range []int{400, 1000, 4096} {
		resp, err := http.Get(fmt.Sprintf("%s/snapshot?width=%d", ts.url, w))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		frames = append(frames, b)
	}
	if n := transcodes(t, ts) - before; n != 1 {
		t.Errorf("widths 400, 1000 and 4096 of a 400x300 photo cost %v transcodes; want 1", n)
	}
	for i, b := range frames {
		cfg, err := jpeg.DecodeConfig(bytes.NewReader(b))
		if err != nil || cfg.Width != 400 || !bytes.Equal(b, frames[0]) {
			t.Errorf("frame %d: %dx%d (%v); want the one 400-wide frame", i, cfg.Width, cfg.Height, err)
		}
	}
}
