package main

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"slidestream/web"
)

// corners reads the colour of a frame's four quadrants, well inside each.
func corners(m image.Image) [4]color.RGBA {
	b := m.Bounds()
	var out [4]color.RGBA
	for i, p := range []image.Point{{b.Dx() / 8, b.Dy() / 8}, {b.Dx() * 7 / 8, b.Dy() / 8}, {b.Dx() / 8, b.Dy() * 7 / 8}, {b.Dx() * 7 / 8, b.Dy() * 7 / 8}} {
		c := mean(m, image.Rect(p.X-2, p.Y-2, p.X+2, p.Y+2))
		out[i] = color.RGBA{uint8(c[0] + 0.5), uint8(c[1] + 0.5), uint8(c[2] + 0.5), 255}
	}
	return out
}

func nearRGB(a, b color.RGBA, tol int) bool {
	d := func(x, y uint8) bool { return abs(int(x)-int(y)) <= tol }
	return d(a.R, b.R) && d(a.G, b.G) && d(a.B, b.B)
}

// Photos as phones write them play: a HEIC stored as a grid of tiles and
// turned by irot, an AVIF turned by irot and imir, a HEIC with alpha laid
// on the background; a HEIC too narrow for the decoder and one claiming
// 100000x100000 are skipped with their reasons, and every file's format,
// size and date taken are listed.
func TestPhonePhotosPlay(t *testing.T) {
	dir := t.TempDir()
	copyFixture(t, dir, "heic-grid.heic", "a-grid.heic")
	copyFixture(t, dir, "avif-orient-7.avif", "b-turned.avif")
	copyFixture(t, dir, "heic-alpha.heic", "c-alpha.heic")
	small, err := os.ReadFile(filepath.Join("testdata", "heic-grid.heic"))
	if err != nil {
		t.Fatal(err)
	}
	huge := bytes.Clone(small)
	for i := 0; ; i += 4 {
		j := bytes.Index(huge[i:], []byte("ispe"))
		if j < 0 {
			break
		}
		i += j
		binary.BigEndian.PutUint32(huge[i+8:], 100000)
		binary.BigEndian.PutUint32(huge[i+12:], 100000)
	}
	os.WriteFile(filepath.Join(dir, "d-huge.heic"), huge, 0o644)
	copyFixture(t, dir, "heic-grid.heic", "e-photo.jpg") // a HEIC by its bytes, whatever its name
	s := startServer(t, "--dir", dir, "--width", "0", "--interval", "1h", "--background", "#0000ff")

	upright := [4]color.RGBA{{255, 0, 0, 255}, {0, 255, 0, 255}, {0, 0, 255, 255}, {255, 255, 0, 255}}
	check := func(name string, w, h int) image.Image {
		t.Helper()
		m := decodeFrame(t, snapshot(t, s, ""))
		if r := state(t, s, ""); r.Showing != name {
			t.Fatalf("showing %q; want %s", r.Showing, name)
		}
		if b := m.Bounds(); b.Dx() != w || b.Dy() != h {
			t.Errorf("%s: frame %dx%d; want %dx%d", name, b.Dx(), b.Dy(), w, h)
		}
		return m
	}
	for _, c := range []struct {
		name string
		w, h int
	}{{"a-grid.heic", 128, 96}, {"b-turned.avif", 64, 48}} {
		m := check(c.name, c.w, c.h)
		for i, got := range corners(m) {
			if !nearRGB(got, upright[i], 24) {
				t.Errorf("%s: quadrant %d is %v; want %v (upright)", c.name, i, got, upright[i])
			}
		}
		post(t, s, "/api/next")
	}
	m := check("c-alpha.heic", 128, 48)
	for _, c := range []struct {
		x    int
		want color.RGBA
	}{{20, color.RGBA{255, 0, 0, 255}}, {60, color.RGBA{128, 0, 127, 255}}, {110, color.RGBA{0, 0, 255, 255}}} {
		got := mean(m, image.Rect(c.x-2, 20, c.x+2, 24))
		if g := (color.RGBA{uint8(got[0]), uint8(got[1]), uint8(got[2]), 255}); !nearRGB(g, c.want, 24) {
			t.Errorf("c-alpha.heic at x=%d: %v; want %v (alpha over the blue background)", c.x, g, c.want)
		}
	}

	var rep web.ImagesReport
	deadline := time.Now().Add(5 * time.Second)
	for getJSON(t, s.url+"/api/images", &rep); rep.Pending > 0 && time.Now().Before(deadline); getJSON(t, s.url+"/api/images", &rep) {
		time.Sleep(20 * time.Millisecond)
	}
	byName := map[string]web.ImageStatus{}
	for _, im := range rep.Images {
		byName[im.Name] = im
	}
	if a := byName["a-grid.heic"]; a.Format != "heic" || a.Width != 128 || a.Height != 96 || a.Taken == nil || a.Taken.Year() != 2023 {
		t.Errorf("a-grid.heic listed as %+v; want heic 128x96 taken in 2023", a)
	}
	if b := byName["b-turned.avif"]; b.Format != "avif" || b.Status != "ok" {
		t.Errorf("b-turned.avif listed as %+v", b)
	}
	if d := byName["d-huge.heic"]; d.Status != "skipped" || d.Kind != "too-many-pixels" || !strings.Contains(d.Reason, "100000x100000") {
		t.Errorf("d-huge.heic listed as %+v; want skipped for its 100000x100000", d)
	}
	if e := byName["e-photo.jpg"]; e.Format != "heic" || e.Status != "ok" {
		t.Errorf("e-photo.jpg, a HEIC, listed as %+v", e)
	}
}
