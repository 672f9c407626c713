package main

import (
	"bytes"
	"image/jpeg"
	"os"
	"path/filepath"
	"testing"
	"time"

	"slidestream/internal/animtest"
	"slidestream/web"
)

// motionFolder is a folder with one animation of n frames, each shown for
// delay, and a still after it in name order.
func motionFolder(t *testing.T, name string, anim []byte) string {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, name), anim, 0o644)
	solid(t, filepath.Join(dir, "z-still.png"), 64, 48, animtest.Colour(100))
	return dir
}

// seen is a frame of the stream as it came: when, and the number it shows.
type seen struct {
	at time.Duration
	n  int
}

// watch reads the stream for d and returns every frame's number.
func (s *streamReader) watch(t *testing.T, d time.Duration) []seen {
	t.Helper()
	var out []seen
	start := time.Now()
	for time.Since(start) < d {
		b := s.next()
		m, err := jpeg.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, seen{time.Since(start), animtest.Read(m)})
	}
	return out
}

// An animated GIF and an animated WebP play in the stream: their frames
// arrive in order, at their own pace, looping while the slide shows; the
// slide shows for one play at least, and after it the still follows.
func TestAnimationsPlayInTheStream(t *testing.T) {
	for _, c := range []struct {
		name string
		data []byte
	}{
		{"anim.gif", animtest.GIF(t, 12, 64, 48, 100*time.Millisecond)},
		{"anim.webp", animtest.WebP(t, 12, 64, 48, 100*time.Millisecond)},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := motionFolder(t, c.name, c.data)
			ts := startServer(t, "--dir", dir, "--width", "64", "--interval", "3s")
			stream := openStream(t, ts.url+"/slideshow")
			frames := stream.watch(t, 2500*time.Millisecond)
			// The motion: distinct numbers, each one or two after the one
			// before (a late client may skip), wrapping round at 12.
			distinct, steps := 0, 0
			last := -1
			for _, f := range frames {
				if f.n < 0 || f.n >= 12 {
					if f.n == 100 {
						t.Fatalf("the still came after %v; the animation's slide shows 3 s", f.at)
					}
					t.Fatalf("a frame at %v shows no number of the animation (%d)", f.at, f.n)
				}
				if f.n == last {
					continue
				}
				if last >= 0 {
					if d := (f.n - last + 12) % 12; d > 2 {
						t.Errorf("frame %d followed %d at %v: out of order", f.n, last, f.at)
					}
					steps++
				}
				distinct++
				last = f.n
			}
			// 2.5 s at 10 frames a second: about 25.
			if distinct < 18 || distinct > 30 {
				t.Errorf("%d motion frames in 2.5 s; want about 25 (10 a second)", distinct)
			}
			// The still follows once the slide's 3 s are up.
			deadline := time.Now().Add(3 * time.Second)
			for {
				m, _ := jpeg.Decode(bytes.NewReader(stream.next()))
				if animtest.Read(m) == 100 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("the still did not follow the animation")
				}
			}
			fams := scrape(t, ts.url)
			if n := value(fams, "slidestream_motion_frames_sent_total"); n < float64(distinct) {
				t.Errorf("motion frames sent: %v; the client saw %d", n, distinct)
			}
		})
	}
}

// With --motion stills, or ?motion=stills, an animation is its first
// frame, and nothing moves.
func TestMotionStills(t *testing.T) {
	dir := motionFolder(t, "anim.gif", animtest.GIF(t, 12, 64, 48, 100*time.Millisecond))
	for _, c := range []struct {
		args []string
		path string
	}{
		{[]string{"--motion", "stills"}, "/slideshow"},
		{nil, "/slideshow?motion=stills"},
	} {
		ts := startServer(t, append([]string{"--dir", dir, "--width", "64", "--interval", "1h"}, c.args...)...)
		stream := openStream(t, ts.url+c.path)
		for _, f := range stream.watch(t, 1200*time.Millisecond) {
			if f.n != 0 {
				t.Errorf("%v %s: a frame showing %d at %v; want the first frame only", c.args, c.path, f.n, f.at)
				break
			}
		}
	}
}

// An animation longer than the interval holds its slide for one play of
// it, up to --max-clip.
func TestAnimationHoldsItsSlide(t *testing.T) {
	dir := motionFolder(t, "anim.gif", animtest.GIF(t, 40, 32, 24, 100*time.Millisecond)) // 4 s
	for _, c := range []struct {
		maxClip string
		want    float64
	}{{"30s", 4}, {"2s", 2}} {
		ts := startServer(t, "--dir", dir, "--width", "32", "--interval", "1s", "--max-clip", c.maxClip)
		var st web.StateReport
		deadline := time.Now().Add(5 * time.Second)
		for st.Showing != "anim.gif" && time.Now().Before(deadline) {
			getJSON(t, ts.url+"/api/state", &st)
			time.Sleep(20 * time.Millisecond)
		}
		if st.SecondsToNext < c.want-0.5 || st.SecondsToNext > c.want+0.1 {
			t.Errorf("--max-clip %s: the 4 s animation's slide changes in %.1f s; want %.0f", c.maxClip, st.SecondsToNext, c.want)
		}
	}
}
