package main

import (
	"bytes"
	"encoding/json"
	"image/color"
	"image/jpeg"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"slidestream/stream"
)

// scrape reads /metrics with Prometheus' own text parser.
func scrape(t *testing.T, url string, auth ...string) map[string]*dto.MetricFamily {
	t.Helper()
	req, _ := http.NewRequest("GET", url+"/metrics", nil)
	if len(auth) == 2 {
		req.SetBasicAuth(auth[0], auth[1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET /metrics: %s", resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parsing /metrics: %v", err)
	}
	return fams
}

// value returns the metric's value for the given label pairs (name, value,
// ...), or -1 when there is no such series.
func value(fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	f, ok := fams[name]
	if !ok {
		return -1
	}
next:
	for _, m := range f.Metric {
		for i := 0; i+1 < len(labels); i += 2 {
			found := false
			for _, lp := range m.Label {
				if lp.GetName() == labels[i] && lp.GetValue() == labels[i+1] {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	return -1
}

func TestMetricsCountWhatHappened(t *testing.T) {
	dir := t.TempDir()
	solid(t, filepath.Join(dir, "a.png"), 320, 200, color.RGBA{200, 0, 0, 255})
	solid(t, filepath.Join(dir, "b.png"), 320, 200, color.RGBA{0, 200, 0, 255})
	copyFixture(t, dir, "jpeg-420.jpg", "c.jpg")
	b, _ := os.ReadFile(filepath.Join("testdata", "jpeg-420.jpg"))
	os.WriteFile(filepath.Join(dir, "d-cut.jpg"), b[:len(b)/3], 0o644)
	s := startServer(t, "--dir", dir, "--interval", "150ms", "--width", "160")

	st := openStream(t, s.url+"/slideshow")
	frames := st.distinct(4, 10*time.Second)
	st.close()

	var fams map[string]*dto.MetricFamily
	deadline := time.Now().Add(5 * time.Second)
	for {
		fams = scrape(t, s.url)
		if value(fams, "slidestream_clients_gone_total", "reason", "left") == 1 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	checks := []struct {
		what   string
		got    float64
		ok     bool
		expect string
	}{}
	check := func(what string, got float64, ok bool, expect string) {
		checks = append(checks, struct {
			what   string
			got    float64
			ok     bool
			expect string
		}{what, got, ok, expect})
	}
	sent := value(fams, "slidestream_frames_sent_total")
	check("frames_sent_total", sent, sent >= float64(len(frames)), ">= the distinct frames read")
	by := value(fams, "slidestream_frame_bytes_sent_total")
	check("frame_bytes_sent_total", by, by >= float64(len(bytes.Join(frames, nil))), ">= their bytes")
	check("clients_gone_total{left}", value(fams, "slidestream_clients_gone_total", "reason", "left"),
		value(fams, "slidestream_clients_gone_total", "reason", "left") == 1, "1")
	check("clients_gone_total{write-timeout}", value(fams, "slidestream_clients_gone_total", "reason", "write-timeout"),
		value(fams, "slidestream_clients_gone_total", "reason", "write-timeout") == 0, "0")
	check("clients", value(fams, "slidestream_clients"), value(fams, "slidestream_clients") == 0, "0")
	check("slides", value(fams, "slidestream_slides"), value(fams, "slidestream_slides") == 4, "4")
	idx := value(fams, "slidestream_slide_index")
	check("slide_index", idx, idx >= 0 && idx <= 2, "0..2 (d-cut.jpg is never shown)")
	check("skipped_files{corrupt}", value(fams, "slidestream_skipped_files", "kind", "corrupt"),
		value(fams, "slidestream_skipped_files", "kind", "corrupt") == 1, "1")
	check("skipped_files{too-large}", value(fams, "slidestream_skipped_files", "kind", "too-large"),
		value(fams, "slidestream_skipped_files", "kind", "too-large") == 0, "0")
	// Each good slide is transcoded once at the one width, however often
	// it comes round.
	png := value(fams, "slidestream_transcodes_total", "format", "png", "result", "ok")
	check("transcodes_total{png,ok}", png, png == 2, "2")
	jpg := value(fams, "slidestream_transcodes_total", "format", "jpeg", "result", "ok")
	check("transcodes_total{jpeg,ok}", jpg, jpg == 1, "1")
	bad := value(fams, "slidestream_transcodes_total", "format", "jpeg", "result", "error")
	check("transcodes_total{jpeg,error}", bad, bad >= 1, ">= 1")
	h := value(fams, "slidestream_transcode_seconds", "format", "png")
	check("transcode_seconds_count{png}", h, h == 2, "2")
	hits := value(fams, "slidestream_cache_hits_total")
	check("cache_hits_total", hits, hits >= 1, ">= 1 (slides come round again)")
	miss := value(fams, "slidestream_cache_misses_total")
	check("cache_misses_total", miss, miss >= 3, ">= 3")
	cb := value(fams, "slidestream_cache_bytes")
	check("cache_bytes", cb, cb > 0 && cb < 1<<20, "> 0")
	check("cache_frames", value(fams, "slidestream_cache_frames"), value(fams, "slidestream_cache_frames") == 3, "3")
	check("go_goroutines", value(fams, "go_goroutines"), value(fams, "go_goroutines") > 0, "present")
	check("process_resident_memory_bytes", value(fams, "process_resident_memory_bytes"),
		value(fams, "process_resident_memory_bytes") > 0, "present")
	for _, c := range checks {
		if !c.ok {
			t.Errorf("%s = %v; want %s", c.what, c.got, c.expect)
		}
	}
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("GET %s: %s, %s", url, resp.Status, resp.Header.Get("Content-Type"))
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
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

	var rep stream.ImagesReport
	want := map[string]string{"1-good.png": "", "2-good.webp": "", "3-notes.jpg": "unknown-format",
		"4-cut.jpg": "corrupt", "5-huge.png": "too-many-pixels"}
	deadline := time.Now().Add(10 * time.Second)
	for {
		rep = stream.ImagesReport{} // Decode would keep fields the new JSON omits
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
		if want := min(im.Width, stream.ThumbWidth); resp.StatusCode != 200 || err != nil || cfg.Width != want {
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
		"over --max-pixels 1", "not a JPEG, PNG, WebP or GIF image", `src="images/thumb?name=1-good.png`} {
		if !strings.Contains(string(page), want) {
			t.Errorf("/images page lacks %q", want)
		}
	}
}

func TestBasicAuth(t *testing.T) {
	dir := t.TempDir()
	solid(t, filepath.Join(dir, "a.png"), 64, 40, color.RGBA{0, 0, 200, 255})
	pwFile := filepath.Join(t.TempDir(), "auth")
	os.WriteFile(pwFile, []byte("screen:s3cret pass\n"), 0o600)

	for _, flags := range [][]string{{"--auth", "screen:s3cret pass"}, {"--auth-file", pwFile}} {
		s := startServer(t, append([]string{"--dir", dir}, flags...)...)
		get := func(path, user, pass string) *http.Response {
			req, _ := http.NewRequest("GET", s.url+path, nil)
			if user != "" {
				req.SetBasicAuth(user, pass)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp
		}
		for _, path := range []string{"/", "/snapshot", "/metrics", "/api/images", "/images"} {
			if r := get(path, "", ""); r.StatusCode != 401 || !strings.Contains(r.Header.Get("WWW-Authenticate"), "Basic") {
				t.Errorf("%v: GET %s without credentials: %s, WWW-Authenticate %q; want 401 asking for Basic",
					flags[0], path, r.Status, r.Header.Get("WWW-Authenticate"))
			}
			if r := get(path, "screen", "s3cret"); r.StatusCode != 401 {
				t.Errorf("%v: GET %s with a wrong password: %s; want 401", flags[0], path, r.Status)
			}
			if r := get(path, "screen", "s3cret pass"); r.StatusCode != 200 {
				t.Errorf("%v: GET %s with the password: %s; want 200", flags[0], path, r.Status)
			}
		}
		if r := get("/healthz", "", ""); r.StatusCode != 200 {
			t.Errorf("%v: /healthz without credentials: %s; want 200 (health checks carry none)", flags[0], r.Status)
		}
		if !strings.Contains(s.logs.String(), "authentication is on") {
			t.Errorf("%v: the log does not say authentication is on:\n%s", flags[0], s.logs.String())
		}
	}
	s := startServer(t, "--dir", dir)
	http.Get(s.url + "/healthz") // serve has logged its start by the time it answers
	if !strings.Contains(s.logs.String(), "authentication is off") {
		t.Errorf("without --auth the log does not say authentication is off:\n%s", s.logs.String())
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
	var rep stream.ImagesReport
	getJSON(t, s.url+"/api/images", &rep)
	if len(rep.Images) != 1 || rep.Images[0].Status != "ok" || rep.Images[0].Width != 160 || rep.Images[0].Reason != "" {
		t.Errorf("/api/images = %+v; want meta.jpg ok, 160 wide", rep)
	}
}
