package main

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// snapshotImage fetches url and decodes it as a JPEG.
func snapshotImage(t *testing.T, url string) image.Image {
	t.Helper()
	resp, b := get(t, url)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s %s", url, resp.Status, b)
	}
	m, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return m
}

// lightShare is the share of the pixels of r in m that are near white.
func lightShare(m image.Image, r image.Rectangle) float64 {
	n, light := 0, 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			cr, cg, cb, _ := m.At(x, y).RGBA()
			if cr>>8 > 200 && cg>>8 > 200 && cb>>8 > 200 {
				light++
			}
			n++
		}
	}
	return float64(light) / float64(n)
}

// Three screens of different size, fill and caption are served at once
// from one process: each frame has its screen's size, the captioned
// screen's frame has its letters and the others none, the fills differ,
// and a screen like the command line shares its frames.
func TestScreensServeTheirOwnPresentation(t *testing.T) {
	dir := t.TempDir()
	// A dark portrait: a screen's bars show black or the blurred photo,
	// and white caption letters stand out.
	noisy(t, filepath.Join(dir, "portrait.png"), 300, 400, color.RGBA{60, 20, 120, 255})
	file := filepath.Join(t.TempDir(), "screens.toml")
	os.WriteFile(file, []byte(`
[screen.tv]
fit = "320x180"
fill = "blur"
caption = "{name}"

[screen.frame]
fit = "240x180"

[screen.tablet]
width = 200
quality = 60
`), 0o644)
	ts := startServer(t, "--dir", dir, "--screens", file, "--interval", "1h", "--width", "160")

	tv := snapshotImage(t, ts.url+"/s/tv/snapshot")
	frame := snapshotImage(t, ts.url+"/s/frame/snapshot")
	tablet := snapshotImage(t, ts.url+"/s/tablet/snapshot")
	plain := snapshotImage(t, ts.url+"/snapshot")
	for _, c := range []struct {
		name string
		m    image.Image
		want image.Point
	}{{"tv", tv, image.Pt(320, 180)}, {"frame", frame, image.Pt(240, 180)}, {"tablet", tablet, image.Pt(200, 267)}, {"plain", plain, image.Pt(160, 213)}} {
		if c.m.Bounds().Size() != c.want {
			t.Errorf("%s: %v; want %v", c.name, c.m.Bounds().Size(), c.want)
		}
	}
	// The tv's caption: white letters in its lower left, none in the
	// frame's.
	if s := lightShare(tv, image.Rect(4, 150, 120, 176)); s < 0.03 {
		t.Errorf("tv: %.3f of its lower left is white; want its caption's letters", s)
	}
	if s := lightShare(frame, image.Rect(4, 150, 120, 176)); s > 0.001 {
		t.Errorf("frame: %.3f of its lower left is white; it has no caption", s)
	}
	// The fills: the frame's bars are black, the tv's are the photo
	// blurred, not black.
	r, g, b, _ := frame.At(5, 90).RGBA()
	if r>>8 > 16 || g>>8 > 16 || b>>8 > 16 {
		t.Errorf("frame's bar is %v; want black", frame.At(5, 90))
	}
	r, g, b, _ = tv.At(5, 90).RGBA()
	if r>>8+g>>8+b>>8 < 20 {
		t.Errorf("tv's bar is %v; want the blurred photo", tv.At(5, 90))
	}

	// The stream of a screen is its frames, and its page shows it.
	s := openStream(t, ts.url+"/s/tv/slideshow")
	part := s.next()
	s.close()
	if m, err := jpeg.Decode(bytes.NewReader(part)); err != nil || m.Bounds().Size() != image.Pt(320, 180) {
		t.Errorf("/s/tv/slideshow's frame: %v", err)
	}
	if _, page := get(t, ts.url+"/s/tv"); !strings.Contains(string(page), `src="tv/slideshow?screen=tv&amp;width=320"`) {
		t.Errorf("/s/tv's page:\n%s", page)
	}
	// ?screen= works on the plain routes, and the API of a screen is
	// its channel's.
	if m := snapshotImage(t, ts.url+"/snapshot?screen=frame"); m.Bounds().Size() != image.Pt(240, 180) {
		t.Errorf("/snapshot?screen=frame: %v", m.Bounds().Size())
	}
	if resp, b := get(t, ts.url+"/s/tv/api/state"); resp.StatusCode != 200 || !strings.Contains(string(b), `"showing"`) {
		t.Errorf("/s/tv/api/state: %s %s", resp.Status, b)
	}
	// An unknown name is a 404 naming it.
	for _, u := range []string{"/s/kitchen", "/s/kitchen/slideshow", "/snapshot?screen=kitchen"} {
		if resp, b := get(t, ts.url+u); resp.StatusCode != 404 || !strings.Contains(string(b), `"kitchen"`) {
			t.Errorf("%s: %s %q; want 404 naming it", u, resp.Status, b)
		}
	}
	var list struct {
		Screens []struct {
			Name, Page, Snapshot string
		}
	}
	getJSON(t, ts.url+"/api/screens", &list)
	if len(list.Screens) != 3 || list.Screens[0].Name != "frame" || list.Screens[2].Snapshot != "/s/tv/snapshot" {
		t.Errorf("/api/screens: %+v", list)
	}
}

// Screens of one channel and one presentation share a timeline and its
// frames: a screen that sets only what the command line already says is
// the plain channel.
func TestScreensAlikeShareFrames(t *testing.T) {
	dir := t.TempDir()
	noisy(t, filepath.Join(dir, "a.png"), 400, 300, color.RGBA{200, 120, 40, 255})
	file := filepath.Join(t.TempDir(), "screens.toml")
	os.WriteFile(file, []byte("[screen.same]\nwidth = 160\n\n[screen.other]\nwidth = 160\ncaption = \"{name}\"\n"), 0o644)
	ts := startServer(t, "--dir", dir, "--screens", file, "--interval", "1h", "--width", "160")
	_, plain := get(t, ts.url+"/snapshot")
	_, same := get(t, ts.url+"/s/same/snapshot")
	_, other := get(t, ts.url+"/s/other/snapshot")
	if !bytes.Equal(plain, same) {
		t.Errorf("a screen like the command line has frames of its own")
	}
	if bytes.Equal(plain, other) {
		t.Errorf("a captioned screen got the uncaptioned frame")
	}
	if n := ts.channels.Running(); n != 1 {
		t.Errorf("%d channels run besides the default; want 1 (the captioned screen's)", n)
	}
}

// The screens file is read again when it changes: a bad edit is logged
// with its line and the last good screens keep serving; a screen added
// appears.
func TestScreensFileReload(t *testing.T) {
	dir := t.TempDir()
	solid(t, filepath.Join(dir, "a.png"), 200, 100, color.RGBA{0, 128, 255, 255})
	file := filepath.Join(t.TempDir(), "screens.toml")
	os.WriteFile(file, []byte("[screen.one]\nwidth = 100\n"), 0o644)
	ts := startServer(t, "--dir", dir, "--screens", file, "--interval", "1h")
	os.WriteFile(file, []byte("[screen.one]\nwidth = 100\ncolour = \"red\"\n"), 0o644)
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(ts.logs.String(), "cannot read the screens file") {
		if time.Now().After(deadline) {
			t.Fatal("a bad screens file is not logged 10 s later")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(ts.logs.String(), "colour (line 3)") {
		t.Errorf("the log does not name the key and its line:\n%s", ts.logs.String())
	}
	if m := snapshotImage(t, ts.url+"/s/one/snapshot"); m.Bounds().Dx() != 100 {
		t.Errorf("after a bad edit, screen one is %v wide; want the last good 100", m.Bounds().Dx())
	}
	os.WriteFile(file, []byte("[screen.one]\nwidth = 100\n\n[screen.two]\nwidth = 60\n"), 0o644)
	deadline = time.Now().Add(10 * time.Second)
	for {
		resp, b := get(t, ts.url+"/s/two/snapshot")
		if resp.StatusCode == 200 {
			if m, err := jpeg.Decode(bytes.NewReader(b)); err != nil || m.Bounds().Dx() != 60 {
				t.Errorf("screen two: %v", err)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a screen added is still unknown 10 s later")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// "slidestream --screens FILE check" says what is wrong and exits 2, or
// counts the screens.
func TestScreensCheck(t *testing.T) {
	good := filepath.Join(t.TempDir(), "good.toml")
	os.WriteFile(good, []byte("[screen.tv]\nfit = \"1920x1080\"\nfill = \"blur\"\n\n[screen.paper]\nsize = \"800x480\"\npalette = \"bw\"\n"), 0o644)
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"--screens", good, "check"}, &out, &errOut); err != nil || !strings.Contains(out.String(), "2 screens") {
		t.Errorf("check of a good file: %v %q %q", err, out.String(), errOut.String())
	}
	for body, says := range map[string]string{
		"[screen.tv]\nfill = \"blur\"\n":                              "needs fit",
		"[screen.tv]\nfit = \"1920x1080\"\nwidth = 1280\n":            "give one of them",
		"[screen.paper]\nsize = \"800x480\"\npalette = \"rainbow\"\n": "palette",
		"[screen.tv]\nsleep = \"25:00-07:00\"\n":                      "sleep",
		"[screen.tv]\nwifi = 1\n":                                     "wifi (line 2)",
		"[screen.\"a b\"]\nwidth = 100\n":                             "name",
		"[screen.tv]\npair_portraits = true\n":                        "landscape",
	} {
		bad := filepath.Join(t.TempDir(), "bad.toml")
		os.WriteFile(bad, []byte(body), 0o644)
		out.Reset()
		errOut.Reset()
		err := run(context.Background(), []string{"--screens", bad, "check"}, &out, &errOut)
		if err != errUsage || !strings.Contains(errOut.String(), says) {
			t.Errorf("%q: %v %q; want exit 2 saying %q", body, err, errOut.String(), says)
		}
	}
	// A server does not start on a bad file.
	bad := filepath.Join(t.TempDir(), "bad.toml")
	os.WriteFile(bad, []byte("[screen.tv]\nfill = \"blur\"\n"), 0o644)
	cfg, err := parseFlags([]string{"--addr", "127.0.0.1:0", "--state-dir", t.TempDir(), "--screens", bad}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s, err := newServer(cfg, discardLogger()); err == nil {
		s.ln.Close()
		t.Error("a server started on a bad screens file")
	}
}
