package main

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"slidestream/web"
)

// decodeFrame decodes a frame the server sent.
func decodeFrame(t *testing.T, b []byte) image.Image {
	t.Helper()
	m, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("frame is not a JPEG: %v", err)
	}
	return m
}

// mean is the mean colour of r in m, each channel 0-255.
func mean(m image.Image, r image.Rectangle) [3]float64 {
	var s [3]float64
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			cr, cg, cb, _ := m.At(x, y).RGBA()
			s[0] += float64(cr >> 8)
			s[1] += float64(cg >> 8)
			s[2] += float64(cb >> 8)
			n++
		}
	}
	for i := range s {
		s[i] /= float64(max(n, 1))
	}
	return s
}

// luma is the brightness of m at (x, y), 0-255.
func luma(m image.Image, x, y int) int {
	r, g, b, _ := m.At(x, y).RGBA()
	return int((299*(r>>8) + 587*(g>>8) + 114*(b>>8)) / 1000)
}

// snapshot gets /snapshot with a query.
func snapshot(t *testing.T, s *testServer, query string) []byte {
	t.Helper()
	resp, err := http.Get(s.url + "/snapshot" + query)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET /snapshot%s: %s %s", query, resp.Status, b)
	}
	return b
}

// post sends a remote-control command and returns the status and body.
func post(t *testing.T, s *testServer, path string) (int, string) {
	t.Helper()
	resp, err := http.Post(s.url+path, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// halves writes a w×h PNG whose left half is one colour and right half
// another.
func halves(t *testing.T, path string, w, h int, left, right color.RGBA) {
	t.Helper()
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := left
			if x >= w/2 {
				c = right
			}
			m.SetRGBA(x, y, c)
		}
	}
	writePNG(t, path, m)
}

func TestBlurFillShowsThePhotoBehindIt(t *testing.T) {
	dir := t.TempDir()
	red, blue := color.RGBA{220, 40, 40, 255}, color.RGBA{40, 40, 220, 255}
	halves(t, filepath.Join(dir, "portrait.png"), 90, 160, red, blue) // portrait: bars left and right
	blur := startServer(t, "--dir", dir, "--fit", "320x180", "--fill", "blur", "--interval", "1h")
	plain := startServer(t, "--dir", dir, "--fit", "320x180", "--background", "#000000", "--interval", "1h")
	m := decodeFrame(t, snapshot(t, blur, ""))
	p := decodeFrame(t, snapshot(t, plain, ""))
	if m.Bounds().Dx() != 320 || m.Bounds().Dy() != 180 {
		t.Fatalf("frame is %v; want 320x180", m.Bounds())
	}
	// The photo fills 101x180 in the middle; the bars are x < 109 and
	// x >= 211.
	left, right := image.Rect(4, 10, 100, 170), image.Rect(220, 10, 316, 170)
	bl, br := mean(m, left), mean(m, right)
	pl := mean(p, left)
	t.Logf("blur fill: left bar %v, right bar %v; --fill color: %v", bl, br, pl)
	switch {
	case pl[0]+pl[1]+pl[2] > 15:
		t.Errorf("--fill color bars are %v; want black", pl)
	case bl[0] < bl[2]+40 || bl[0] < 40:
		t.Errorf("left of the photo the backdrop is %v; want it reddish, as the photo's left half", bl)
	case br[2] < br[0]+40 || br[2] < 40:
		t.Errorf("right of the photo the backdrop is %v; want it bluish, as the photo's right half", br)
	case bl[0] > 200 || br[2] > 200:
		t.Errorf("the backdrop (%v, %v) is not darkened", bl, br)
	}
	// Not flat either: the red bar and the blue bar show the two sides of
	// the photo, and in between the blur runs from one to the other.
	if mid := mean(m, image.Rect(100, 80, 108, 100)); mid == bl {
		t.Errorf("the backdrop is flat up to the photo: %v", mid)
	}
	// The photo itself is untouched.
	if c := mean(m, image.Rect(120, 20, 150, 160)); c[0] < 190 || c[2] > 80 {
		t.Errorf("the photo's left half came out %v; want %v", c, red)
	}
}

func TestCaptionChangesOnlyWhereItIsDrawn(t *testing.T) {
	dir := t.TempDir()
	solid(t, filepath.Join(dir, "white.png"), 320, 180, color.White)
	solid(t, filepath.Join(dir, "black.png"), 320, 180, color.Black)
	noisy(t, filepath.Join(dir, "noise.png"), 320, 180, color.RGBA{100, 140, 90, 255})
	args := []string{"--dir", dir, "--width", "320", "--interval", "1h", "--order", "name"}
	plain := startServer(t, args...)
	capt := startServer(t, append(args, "--caption", "{name} · {taken} · {index} of {count}")...)
	for _, name := range []string{"black", "noise", "white"} {
		query := "?width=320"
		a := decodeFrame(t, snapshot(t, plain, query))
		b := decodeFrame(t, snapshot(t, capt, query))
		// Where the two differ: the caption's plate, in the lower left.
		changed := image.Rectangle{}
		for y := range 180 {
			for x := range 320 {
				if abs(luma(a, x, y)-luma(b, x, y)) > 2 {
					changed = changed.Union(image.Rect(x, y, x+1, y+1))
				}
			}
		}
		t.Logf("%s: the caption changed %v", name, changed)
		if changed.Empty() {
			t.Fatalf("%s: the caption changed nothing", name)
		}
		// JPEG blocks are 16 pixels: changes reach at most the blocks the
		// plate touches.
		if changed.Min.X > 16 || changed.Min.Y < 180/2 || changed.Max.X > 300 {
			t.Errorf("%s: pixels changed in %v; want only a plate in the lower left", name, changed)
		}
		// Legible: inside the plate there are both light letters and a
		// dark ground, whatever the photo.
		light, dark := 0, 0
		for y := changed.Min.Y; y < changed.Max.Y; y++ {
			for x := changed.Min.X; x < changed.Max.X; x++ {
				switch l := luma(b, x, y); {
				case l > 200:
					light++
				case l < 130:
					dark++
				}
			}
		}
		if light < 40 || dark < 200 {
			t.Errorf("%s: the plate has %d light and %d dark pixels; want white letters on a dark ground", name, light, dark)
		}
		if name != "white" {
			post(t, plain, "/api/next")
			post(t, capt, "/api/next")
		}
	}
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

func TestFadeFramesLieBetweenTheSlides(t *testing.T) {
	dir := t.TempDir()
	solid(t, filepath.Join(dir, "a.png"), 160, 90, color.RGBA{20, 20, 20, 255})
	solid(t, filepath.Join(dir, "b.png"), 160, 90, color.RGBA{230, 230, 230, 255})
	s := startServer(t, "--dir", dir, "--fit", "160x90", "--interval", "1500ms", "--fade", "600ms")
	st := openStream(t, s.url+"/slideshow")
	var levels []float64
	deadline := time.Now().Add(10 * time.Second)
	// Read until the first change from dark to light has faded all the way.
	for time.Now().Before(deadline) {
		m := decodeFrame(t, st.next())
		c := mean(m, m.Bounds())
		l := (c[0] + c[1] + c[2]) / 3
		if len(levels) == 0 || abs(int(levels[len(levels)-1]-l)) > 1 {
			levels = append(levels, l)
		}
		if len(levels) > 2 && l > 225 && levels[0] < 25 {
			break
		}
		if len(levels) > 0 && levels[0] > 25 {
			levels = nil // started on the light slide: wait for the dark one
		}
	}
	t.Logf("mean levels: %.0f", levels)
	if len(levels) < 5 {
		t.Fatalf("saw %d distinct frames from dark to light; want the slides and at least 3 between", len(levels))
	}
	for i := 1; i < len(levels); i++ {
		if levels[i] <= levels[i-1] {
			t.Errorf("frame %d of the fade (%.0f) is not lighter than the one before (%.0f)", i, levels[i], levels[i-1])
		}
	}
	if first, last := levels[0], levels[len(levels)-1]; first > 25 || last < 225 {
		t.Errorf("the fade went from %.0f to %.0f; want from the dark slide to the light one", first, last)
	}
}

// state reads /api/state.
func state(t *testing.T, s *testServer, query string) web.StateReport {
	t.Helper()
	var r web.StateReport
	getJSON(t, s.url+"/api/state"+query, &r)
	return r
}

func TestRemoteControl(t *testing.T) {
	dir := t.TempDir()
	colours := library(t, dir, "a.png", "b.png", "c.png", "d.png")
	s := startServer(t, "--dir", dir, "--width", "48", "--interval", "1h")
	show := func() string { return slideOf(t, snapshot(t, s, ""), colours) }
	if got := show(); got != "a.png" {
		t.Fatalf("first slide %s; want a.png", got)
	}
	r := state(t, s, "")
	if r.Showing != "a.png" || r.Index != 1 || r.Count != 4 || r.Next != "b.png" || r.Paused || r.SecondsToNext < 3000 {
		t.Errorf("state %+v; want a.png, 1 of 4, b.png next in about an hour", r)
	}
	if code, body := post(t, s, "/api/prev"); code != http.StatusConflict {
		t.Errorf("prev before anything was shown: %d %s; want 409", code, body)
	}

	// A stream sees a command within a frame: the part after it (past the
	// repeat that was already on its way) is the new slide.
	st := openStream(t, s.url+"/slideshow")
	if got := slideOf(t, st.next(), colours); got != "a.png" {
		t.Fatalf("stream starts on %s; want a.png", got)
	}
	start := time.Now()
	if code, body := post(t, s, "/api/next"); code != 200 || !strings.Contains(body, `"showing": "b.png"`) {
		t.Fatalf("next: %d %s", code, body)
	}
	seen := []string{slideOf(t, st.next(), colours)}
	if seen[0] != "b.png" {
		seen = append(seen, slideOf(t, st.next(), colours))
	}
	if seen[len(seen)-1] != "b.png" || time.Since(start) > 2*time.Second {
		t.Errorf("after next the stream showed %v in %v; want b.png within a frame", seen, time.Since(start))
	}
	if got := show(); got != "b.png" {
		t.Errorf("after next /snapshot shows %s; want b.png", got)
	}
	post(t, s, "/api/next")
	if got := show(); got != "c.png" {
		t.Errorf("after next /snapshot shows %s; want c.png", got)
	}
	// Back through what was shown, then forward again in play order.
	for _, want := range []string{"b.png", "a.png"} {
		if code, body := post(t, s, "/api/prev"); code != 200 {
			t.Fatalf("prev: %d %s", code, body)
		}
		if got := show(); got != want {
			t.Errorf("after prev /snapshot shows %s; want %s", got, want)
		}
	}
	post(t, s, "/api/next")
	if got := show(); got != "b.png" {
		t.Errorf("next after going back shows %s; want b.png, the slide after a.png", got)
	}

	// Pause stops the clock; resume starts it again.
	fast := startServer(t, "--dir", dir, "--width", "48", "--interval", "1s")
	if code, _ := post(t, fast, "/api/pause"); code != 200 {
		t.Fatalf("pause: %d", code)
	}
	r = state(t, fast, "")
	held := r.Showing
	if v := value(scrape(t, fast.url), "slidestream_paused"); v != 1 {
		t.Errorf("slidestream_paused = %v while paused; want 1", v)
	}
	if !r.Paused || held == "" {
		t.Fatalf("state after pause: %+v", r)
	}
	time.Sleep(2500 * time.Millisecond)
	if got := slideOf(t, snapshot(t, fast, ""), colours); got != held {
		t.Errorf("paused on %s, but 2.5 s later it shows %s", held, got)
	}
	if code, _ := post(t, fast, "/api/resume"); code != 200 {
		t.Fatalf("resume: %d", code)
	}
	time.Sleep(1500 * time.Millisecond)
	if got := slideOf(t, snapshot(t, fast, ""), colours); got == held {
		t.Errorf("resumed, but 1.5 s later it still shows %s", got)
	}

	// Channels are controlled apart: pausing an album leaves the rest.
	if code, body := post(t, fast, "/api/bogus"); code != http.StatusNotFound {
		t.Errorf("an unknown command: %d %s; want 404", code, body)
	}
	req, _ := http.NewRequest("POST", s.url+"/api/next", nil)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("a command from another site's page was not refused: %v %v", resp.Status, err)
	}
}

func TestRemoteControlPerChannel(t *testing.T) {
	dir := t.TempDir()
	colours := library(t, dir, "x/a.png", "x/b.png", "y/c.png", "y/d.png")
	s := startServer(t, "--dir", dir, "--width", "48", "--interval", "1h")
	post(t, s, "/api/next?album=y")
	if got := slideOf(t, snapshot(t, s, "?album=y"), colours); got != "y/d.png" {
		t.Errorf("album y after next shows %s; want y/d.png", got)
	}
	if got := slideOf(t, snapshot(t, s, ""), colours); got != "x/a.png" {
		t.Errorf("the default channel shows %s after album y's next; want x/a.png", got)
	}
	if r := state(t, s, "?album=y"); r.Channel.Album != "y" || r.Showing != "y/d.png" || r.Index != 2 || r.Count != 2 {
		t.Errorf("album y's state: %+v", r)
	}
	if code, _ := post(t, s, "/api/next?album=nope"); code != http.StatusNotFound {
		t.Errorf("a command to an unknown album: %d; want 404", code)
	}
	resp, err := http.Get(s.url + "/control?album=y")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /control: %v %v", resp.Status, err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`data-op="next"`, `data-op="prev"`, `data-op="pause"`, `data-op="resume"`, `album=y`} {
		if !strings.Contains(string(page), want) {
			t.Errorf("/control lacks %s", want)
		}
	}
}

func TestSleepHoursShowBlack(t *testing.T) {
	dir := t.TempDir()
	solid(t, filepath.Join(dir, "white.png"), 64, 36, color.White)
	night := time.Date(2026, 3, 14, 23, 30, 0, 0, time.Local)
	s := startServerWith(t, func(c *config) { c.now = func() time.Time { return night } },
		"--dir", dir, "--width", "64", "--interval", "1h", "--sleep", "22:00-06:30")
	m := decodeFrame(t, snapshot(t, s, ""))
	if c := mean(m, m.Bounds()); c[0]+c[1]+c[2] > 6 {
		t.Errorf("at 23:30 with --sleep 22:00-06:30 the frame is %v; want black", c)
	}
	r := state(t, s, "")
	if !r.Asleep || r.Wake == nil || r.Wake.Format("15:04") != "06:30" || r.Showing != "" {
		t.Errorf("state while asleep: %+v", r)
	}
	if code, _ := post(t, s, "/api/next"); code != http.StatusConflict {
		t.Errorf("next while asleep: %d; want 409", code)
	}
	if v := value(scrape(t, s.url), "slidestream_asleep"); v != 1 {
		t.Errorf("slidestream_asleep = %v while asleep; want 1", v)
	}
	// A stream stays open and keeps to black.
	st := openStream(t, s.url+"/slideshow")
	if c := mean(decodeFrame(t, st.next()), image.Rect(0, 0, 64, 36)); c[0] > 2 {
		t.Errorf("the stream's frame while asleep is %v; want black", c)
	}
	if n := transcodes(t, s); n != 0 {
		t.Errorf("%v transcodes while asleep; want none", n)
	}

	day := startServerWith(t, func(c *config) { c.now = func() time.Time { return night.Add(8 * time.Hour) } },
		"--dir", dir, "--width", "64", "--interval", "1h", "--sleep", "22:00-06:30")
	if c := mean(decodeFrame(t, snapshot(t, day, "")), image.Rect(0, 0, 64, 36)); c[0] < 250 {
		t.Errorf("at 07:30 the frame is %v; want the white slide", c)
	}
}

func TestPortraitsArePaired(t *testing.T) {
	dir := t.TempDir()
	red, green, blue := color.RGBA{210, 30, 30, 255}, color.RGBA{30, 190, 60, 255}, color.RGBA{30, 60, 210, 255}
	solid(t, filepath.Join(dir, "a.png"), 90, 160, red)
	solid(t, filepath.Join(dir, "b.png"), 90, 160, green)
	copyFixture(t, dir, "orient-6.jpg", "c.jpg") // stored 48x64, upright 64x48: no portrait
	solid(t, filepath.Join(dir, "d.png"), 90, 160, blue)
	solid(t, filepath.Join(dir, "e.png"), 160, 90, color.RGBA{220, 200, 40, 255})
	s := startServer(t, "--dir", dir, "--fit", "320x180", "--pair-portraits", "--interval", "1h")
	// Pairs are made as the index learns which slides are portraits.
	deadline := time.Now().Add(10 * time.Second)
	for value(scrape(t, s.url), "slidestream_index_pending") != 0 || s.index.Pending() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the index did not read the folder within 10 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	type shown struct{ slide, pair string }
	var seen []shown
	for range 9 {
		post(t, s, "/api/next")
		r := state(t, s, "")
		seen = append(seen, shown{r.Showing, r.Pair})
		if r.Showing == "a.png" && r.Pair == "b.png" {
			m := decodeFrame(t, snapshot(t, s, ""))
			l, rt := mean(m, image.Rect(40, 40, 120, 140)), mean(m, image.Rect(200, 40, 280, 140))
			if l[0] < 180 || l[1] > 60 || rt[1] < 160 || rt[0] > 60 {
				t.Errorf("the pair's frame: left %v, right %v; want a.png's red left and b.png's green right", l, rt)
			}
		}
	}
	want := []shown{{"a.png", "b.png"}, {"c.jpg", ""}, {"d.png", ""}, {"e.png", ""}, {"a.png", "b.png"}}
	found := false
	for i := 0; i+len(want) <= len(seen) && !found; i++ {
		found = slices.Equal(seen[i:i+len(want)], want)
	}
	if !found {
		t.Errorf("frames shown: %v; want the cycle %v (the two portraits a and b together, the lone portrait d alone)", seen, want)
	}
}

// withAPP2 inserts a colour profile into a JPEG as one APP2 segment.
func withAPP2(jpg, profile []byte) []byte {
	p := append([]byte("ICC_PROFILE\x00\x01\x01"), profile...)
	seg := append([]byte{0xff, 0xe2, byte((len(p) + 2) >> 8), byte(len(p) + 2)}, p...)
	return append(append([]byte{0xff, 0xd8}, seg...), jpg[2:]...)
}

// Photos with a colour profile show converted to sRGB (here a profile that
// swaps red and green, so it cannot pass unnoticed), and /images names the
// profile; one that cannot be applied is noted and the photo still shows.
func TestColourProfilesAreApplied(t *testing.T) {
	dir := t.TempDir()
	swapped := copyFixture(t, dir, "icc-swapped.jpg", "a-swapped.jpg")
	// A device link profile: a transform between devices, not a photo's
	// colours.
	link := make([]byte, 132)
	binary.BigEndian.PutUint32(link, 132)
	copy(link[12:], "linkRGB RGB ")
	copy(link[36:], "acsp")
	var buf bytes.Buffer
	jpeg.Encode(&buf, image.NewRGBA(image.Rect(0, 0, 32, 24)), nil)
	os.WriteFile(filepath.Join(dir, "b-link.jpg"), withAPP2(buf.Bytes(), link), 0o644)
	s := startServer(t, "--dir", dir, "--width", "0", "--interval", "1h")

	raw, _ := os.ReadFile(swapped)
	orig, err := jpeg.Decode(bytes.NewReader(raw)) // the numbers as stored, no profile applied
	if err != nil {
		t.Fatal(err)
	}
	frame := decodeFrame(t, snapshot(t, s, ""))
	o, f := mean(orig, orig.Bounds()), mean(frame, frame.Bounds())
	t.Logf("stored mean %.0f, shown mean %.0f", o, f)
	if math.Abs(f[0]-o[1]) > 4 || math.Abs(f[1]-o[0]) > 4 || math.Abs(f[2]-o[2]) > 4 {
		t.Errorf("the photo with the swapping profile shows mean %.0f; want red and green of %.0f swapped", f, o)
	}
	deadline := time.Now().Add(5 * time.Second)
	var rep web.ImagesReport
	for {
		getJSON(t, s.url+"/api/images", &rep)
		if rep.Pending == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	byName := map[string]web.ImageStatus{}
	for _, im := range rep.Images {
		byName[im.Name] = im
	}
	if a := byName["a-swapped.jpg"]; a.Profile != "Swapped Red and Green" || a.ProfileNote != "" {
		t.Errorf("a-swapped.jpg: profile %q, note %q", a.Profile, a.ProfileNote)
	}
	if b := byName["b-link.jpg"]; b.Status != "ok" || b.Profile != "" || !strings.Contains(b.ProfileNote, "not applied") {
		t.Errorf("b-link.jpg: status %s, profile %q, note %q; want ok and a note that the profile is not applied", b.Status, b.Profile, b.ProfileNote)
	}
	resp, err := http.Get(s.url + "/images")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), "colour profile Swapped Red and Green") {
		t.Errorf("/images does not name the colour profile")
	}
}

// A portrait whose partner cannot be shown is shown alone, and the broken
// one is skipped in its turn.
func TestPairWithABrokenPortrait(t *testing.T) {
	dir := t.TempDir()
	solid(t, filepath.Join(dir, "a.png"), 90, 160, color.RGBA{210, 30, 30, 255})
	solid(t, filepath.Join(dir, "b.png"), 90, 160, color.RGBA{30, 190, 60, 255})
	raw, _ := os.ReadFile(filepath.Join(dir, "b.png"))
	os.WriteFile(filepath.Join(dir, "b.png"), raw[:len(raw)/2], 0o644) // the header says a portrait; the pixels end early
	solid(t, filepath.Join(dir, "c.png"), 160, 90, color.RGBA{30, 60, 210, 255})
	s := startServer(t, "--dir", dir, "--fit", "320x180", "--pair-portraits", "--interval", "1h")
	deadline := time.Now().Add(10 * time.Second)
	for s.index.Pending() != 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	var seen []string
	for range 6 {
		post(t, s, "/api/next")
		r := state(t, s, "")
		seen = append(seen, r.Showing+"+"+r.Pair)
	}
	for _, v := range seen {
		if strings.HasPrefix(v, "b.png") || strings.HasSuffix(v, "+b.png") {
			t.Errorf("frames shown %v: the broken b.png was shown", seen)
			break
		}
	}
	if !slices.Contains(seen, "a.png+") || !slices.Contains(seen, "c.png+") {
		t.Errorf("frames shown %v; want a.png alone and c.png", seen)
	}
}
