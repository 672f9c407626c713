package main

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"math"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"slidestream/encode"
	"slidestream/web"
)

// get fetches url with the given headers and returns the response and its
// body.
func get(t *testing.T, url string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// writeQuadrants writes a w×h PNG: red top left, green top right, blue
// bottom left, yellow bottom right.
func writeQuadrants(t *testing.T, path string, w, h int) {
	t.Helper()
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for _, q := range []struct {
		r image.Rectangle
		c color.RGBA
	}{
		{image.Rect(0, 0, w/2, h/2), color.RGBA{255, 0, 0, 255}}, {image.Rect(w/2, 0, w, h/2), color.RGBA{0, 255, 0, 255}},
		{image.Rect(0, h/2, w/2, h), color.RGBA{0, 0, 255, 255}}, {image.Rect(w/2, h/2, w, h), color.RGBA{255, 255, 0, 255}},
	} {
		draw.Draw(m, q.r, image.NewUniform(q.c), image.Point{}, draw.Src)
	}
	writePNG(t, path, m)
}

// An e-paper panel asks for the slide on screen at exactly its size and
// palette: it gets a PNG of that size holding only the palette's colours,
// an ETag that a second request answers with 304 and no transcode, and a
// max-age of the seconds to the next slide.
func TestEPaperStill(t *testing.T) {
	dir := t.TempDir()
	copyFixture(t, dir, "jpeg-large.jpg", "a.jpg")
	ts := startServer(t, "--dir", dir, "--interval", "30s")
	url := ts.url + "/snapshot?size=800x480&palette=spectra6"
	resp, b := get(t, url)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("GET %s: %s %s %q", url, resp.Status, resp.Header.Get("Content-Type"), b[:min(len(b), 200)])
	}
	m, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if m.Bounds().Size() != image.Pt(800, 480) || b[24] != 4 || b[25] != 3 {
		t.Errorf("still %v, PNG bit depth %d colour type %d; want 800x480, 4-bit indexed", m.Bounds().Size(), b[24], b[25])
	}
	pal, _ := encode.ParsePalette("spectra6")
	colours := map[color.RGBA]bool{}
	for y := range 480 {
		for x := range 800 {
			c := color.RGBAModel.Convert(m.At(x, y)).(color.RGBA)
			colours[c] = true
		}
	}
	for c := range colours {
		ok := false
		for _, n := range pal.Nominal {
			ok = ok || c == n
		}
		if !ok {
			t.Fatalf("colour %v is not one of Spectra 6's", c)
		}
	}
	if len(colours) < 4 {
		t.Errorf("a photo in %d colours of six", len(colours))
	}
	// The max-age is the time left when the answer is given: asked again
	// (from the cache, at once) beside /api/state, the two agree.
	cached, _ := get(t, url)
	var st web.StateReport
	getJSON(t, ts.url+"/api/state", &st)
	age, err := strconv.Atoi(strings.TrimPrefix(cached.Header.Get("Cache-Control"), "max-age="))
	if err != nil || math.Abs(float64(age)-st.SecondsToNext) > 1.5 {
		t.Errorf("Cache-Control %q; want max-age within a second of seconds_to_next %.1f", cached.Header.Get("Cache-Control"), st.SecondsToNext)
	}
	etag := resp.Header.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	before := settledTranscodes(t, ts)
	again, body := get(t, url, "If-None-Match", etag)
	if again.StatusCode != http.StatusNotModified || len(body) != 0 || again.Header.Get("ETag") != etag {
		t.Errorf("the same still again: %s, %d bytes, ETag %q; want 304, none, %q", again.Status, len(body), again.Header.Get("ETag"), etag)
	}
	if n := settledTranscodes(t, ts) - before; n != 0 {
		t.Errorf("a 304 cost %v transcodes", n)
	}
	// Other parameters are another still, with another tag.
	other, _ := get(t, ts.url+"/snapshot?size=800x480&palette=bw", "If-None-Match", etag)
	if other.StatusCode != 200 || other.Header.Get("ETag") == etag {
		t.Errorf("a bw still with the spectra6 still's tag: %s, ETag %q", other.Status, other.Header.Get("ETag"))
	}
}

// rotate turns the still for a panel mounted sideways: size is the
// panel's own, and the picture's bottom left corner comes to the top left
// at 90. A BMP is bottom-up at the depth its palette needs.
func TestEPaperStillRotatesAndWritesBMP(t *testing.T) {
	dir := t.TempDir()
	writeQuadrants(t, filepath.Join(dir, "q.png"), 300, 400) // upright, as the panel's viewer sees it
	ts := startServer(t, "--dir", dir, "--interval", "1h")
	resp, b := get(t, ts.url+"/snapshot?size=400x300&rotate=90&format=png")
	if resp.StatusCode != 200 {
		t.Fatalf("%s %s", resp.Status, b)
	}
	m, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	near := func(a color.Color, c color.RGBA) bool {
		r, g, bl, _ := a.RGBA()
		return math.Abs(float64(r>>8)-float64(c.R)) < 40 && math.Abs(float64(g>>8)-float64(c.G)) < 40 && math.Abs(float64(bl>>8)-float64(c.B)) < 40
	}
	if m.Bounds().Size() != image.Pt(400, 300) || !near(m.At(10, 10), color.RGBA{0, 0, 255, 255}) || !near(m.At(390, 10), color.RGBA{255, 0, 0, 255}) ||
		!near(m.At(10, 290), color.RGBA{255, 255, 0, 255}) || !near(m.At(390, 290), color.RGBA{0, 255, 0, 255}) {
		t.Errorf("rotate=90: %v, corners %v %v %v %v; want 400x300, blue, red, yellow, green", m.Bounds().Size(), m.At(10, 10), m.At(390, 10), m.At(10, 290), m.At(390, 290))
	}
	resp, b = get(t, ts.url+"/snapshot?size=800x480&palette=bw&format=bmp&rotate=270")
	le := binary.LittleEndian
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/bmp" || len(b) < 62 || string(b[:2]) != "BM" ||
		le.Uint32(b[18:]) != 800 || le.Uint32(b[22:]) != 480 || le.Uint16(b[28:]) != 1 || int(le.Uint32(b[2:])) != len(b) {
		t.Errorf("a 1-bit BMP at 800x480: %s %q, %d bytes", resp.Status, resp.Header.Get("Content-Type"), len(b))
	}
}

// What cannot be a still is a 400 with a one-line reason.
func TestEPaperStillRefusesNonsense(t *testing.T) {
	dir := t.TempDir()
	copyFixture(t, dir, "png-rgb.png", "a.png")
	ts := startServer(t, "--dir", dir, "--interval", "1h")
	for q, says := range map[string]string{
		"size=0x0":                    "size",
		"size=99999x99999":            "size",
		"size=4096x4096&palette=bw":   "",
		"palette=bw":                  "size",
		"size=800x480&palette=000000": "palette",
		"size=800x480&palette=" + strings.Repeat("000000,", 300) + "ffffff": "palette",
		"size=800x480&rotate=45":                    "rotate",
		"size=800x480&format=gif":                   "format",
		"size=800x480&palette=bw&format=jpeg":       "jpeg",
		"size=800x480&dither=ordered":               "dither",
		"size=800x480&calibrated=000000,ffffff":     "calibrated",
		"size=800x480&palette=bw&calibrated=000000": "calibrated",
	} {
		resp, b := get(t, ts.url+"/snapshot?"+q)
		if says == "" {
			if resp.StatusCode != 200 {
				t.Errorf("?%s: %s %q; want a still", q, resp.Status, b)
			}
			continue
		}
		if resp.StatusCode != 400 || !strings.Contains(string(b), says) || strings.Count(strings.TrimSpace(string(b)), "\n") > 0 {
			t.Errorf("?%.60s: %s %q; want 400 saying %q in one line", q, resp.Status, b, says)
		}
	}
}
