package main

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"os"
	"path/filepath"
	"strings"
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
			stream.untilStill(t, "the animation")
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

// untilStill reads the stream until the still after the motion (frame
// number 100) comes, within 3 s.
func (s *streamReader) untilStill(t *testing.T, what string) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		m, _ := jpeg.Decode(bytes.NewReader(s.next()))
		if animtest.Read(m) == 100 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the still did not follow %s", what)
		}
	}
}

// numbersOf is the frame numbers a stream shows over d, repeats dropped.
func numbersOf(frames []seen) []int {
	var out []int
	for _, f := range frames {
		if len(out) == 0 || out[len(out)-1] != f.n {
			out = append(out, f.n)
		}
	}
	return out
}

// inOrder reports whether ns counts up by steps of 1 or 2 (a client may
// skip one), or 3 under the race detector, whose pauses on two busy cores
// can hold a stream back 200 ms, two frames at 10 per second.
func inOrder(ns []int) bool {
	most := 2
	if underRace {
		most = 3
	}
	for i := 1; i < len(ns); i++ {
		if d := ns[i] - ns[i-1]; d < 1 || d > most {
			return false
		}
	}
	return true
}

// A clip plays once, in order, at --motion-fps, its slide shown for its
// length; a Live Photo (a photo and a clip of the same name) is one slide
// that shows its photo, plays its video once and goes back to its photo;
// a Motion Photo plays the video after its JPEG.
func TestClipsLiveAndMotionPhotosPlay(t *testing.T) {
	clip := animtest.Clip(t, "c.mp4", 20, 10, 64, 48) // 2 s
	t.Run("clip", func(t *testing.T) {
		dir := motionFolder(t, "clip.mp4", clip)
		ts := startServer(t, "--dir", dir, "--width", "64", "--interval", "1s", "--motion-fps", "10")
		stream := openStream(t, ts.url+"/slideshow")
		ns := numbersOf(stream.watch(t, 1800*time.Millisecond))
		if len(ns) < 14 || ns[0] > 2 || !inOrder(ns) {
			t.Errorf("the clip's frames in 1.8 s: %v; want 0 to about 17, in order", ns)
		}
		stream.untilStill(t, "the clip")
		var imgs struct {
			Images []web.ImageStatus `json:"images"`
		}
		getJSON(t, ts.url+"/api/images", &imgs)
		if len(imgs.Images) != 2 || imgs.Images[0].Motion != "clip" || imgs.Images[0].Seconds != 2 || imgs.Images[0].Status != "ok" {
			t.Errorf("/api/images says of the clip: %+v", imgs.Images[0])
		}
	})
	t.Run("Live Photo", func(t *testing.T) {
		dir := t.TempDir()
		solid(t, filepath.Join(dir, "IMG_0001.png"), 64, 48, animtest.Colour(100))
		os.WriteFile(filepath.Join(dir, "IMG_0001.MOV"), animtest.Clip(t, "c.mov", 10, 10, 64, 48), 0o644)
		ts := startServer(t, "--dir", dir, "--width", "64", "--interval", "3s", "--motion-fps", "10")
		var st web.StateReport
		getJSON(t, ts.url+"/api/state", &st)
		if st.Count != 1 {
			t.Errorf("a Live Photo counts as %d slides; want 1", st.Count)
		}
		playsOnceThenPhoto(t, ts, "a Live Photo")
	})
	t.Run("Motion Photo", func(t *testing.T) {
		dir := t.TempDir()
		mp4 := animtest.Clip(t, "c.mp4", 10, 10, 64, 48, "-movflags", "+faststart")
		os.WriteFile(filepath.Join(dir, "PXL_1.MP.jpg"), motionPhoto(t, animtest.Frame(100, 64, 48), mp4), 0o644)
		ts := startServer(t, "--dir", dir, "--width", "64", "--interval", "3s", "--motion-fps", "10")
		playsOnceThenPhoto(t, ts, "a Motion Photo")
		var imgs struct {
			Images []web.ImageStatus `json:"images"`
		}
		getJSON(t, ts.url+"/api/images", &imgs)
		if len(imgs.Images) != 1 || imgs.Images[0].Motion != "Motion Photo" || imgs.Images[0].Seconds != 1 {
			t.Errorf("/api/images says of the Motion Photo: %+v", imgs.Images)
		}
	})
}

// playsOnceThenPhoto checks what ts streams over 2.5 s: a photo (frame
// number 100) whose one-second video of frames 0 to 9 plays once, in
// order (the photo first, for a moment), then the photo again.
func playsOnceThenPhoto(t *testing.T, ts *testServer, what string) {
	t.Helper()
	stream := openStream(t, ts.url+"/slideshow")
	ns := numbersOf(stream.watch(t, 2500*time.Millisecond))
	var motion []int
	for _, n := range ns {
		if n != 100 {
			motion = append(motion, n)
		}
	}
	if len(motion) < 7 || !inOrder(motion) || ns[len(ns)-1] != 100 {
		t.Errorf("%s's frames over 2.5 s: %v; want its video 0 to 9 in order, then the photo (100)", what, ns)
	}
}

// motionPhoto is a JPEG of m with Google's Motion Photo XMP and mp4
// appended, as a phone writes one.
func motionPhoto(t *testing.T, m image.Image, mp4 []byte) []byte {
	var j bytes.Buffer
	if err := jpeg.Encode(&j, m, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	xmp := fmt.Sprintf(`<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">`+
		`<rdf:Description xmlns:GCamera="http://ns.google.com/photos/1.0/camera/" xmlns:Container="http://ns.google.com/photos/1.0/container/" `+
		`xmlns:Item="http://ns.google.com/photos/1.0/container/item/" GCamera:MotionPhoto="1" GCamera:MotionPhotoVersion="1" GCamera:MotionPhotoPresentationTimestampUs="0">`+
		`<Container:Directory><rdf:Seq><rdf:li rdf:parseType="Resource"><Container:Item Item:Mime="image/jpeg" Item:Semantic="Primary" Item:Length="0" Item:Padding="0"/></rdf:li>`+
		`<rdf:li rdf:parseType="Resource"><Container:Item Item:Mime="video/mp4" Item:Semantic="MotionPhoto" Item:Length="%d" Item:Padding="0"/></rdf:li>`+
		`</rdf:Seq></Container:Directory></rdf:Description></rdf:RDF></x:xmpmeta>`, len(mp4))
	seg := append([]byte("http://ns.adobe.com/xap/1.0/\x00"), xmp...)
	out := append([]byte{0xFF, 0xD8, 0xFF, 0xE1, byte((len(seg) + 2) >> 8), byte(len(seg) + 2)}, seg...)
	out = append(out, j.Bytes()[2:]...)
	return append(out, mp4...)
}

// Without ffmpeg a clip is skipped with the reason, and a Live Photo is
// its photo; a clip longer than --max-clip holds its slide for
// --max-clip; no ffmpeg outlives the server.
func TestClipsWithoutFFmpegAndTheirLimits(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a-clip.mp4"), animtest.Clip(t, "c.mp4", 10, 10, 32, 24), 0o644)
	solid(t, filepath.Join(dir, "b.png"), 32, 24, animtest.Colour(100))
	os.WriteFile(filepath.Join(dir, "b.mov"), animtest.Clip(t, "c.mov", 10, 10, 32, 24), 0o644)
	ts := startServer(t, "--dir", dir, "--width", "32", "--interval", "1h", "--ffmpeg", "/nonexistent/ffmpeg")
	var imgs struct {
		Images []web.ImageStatus `json:"images"`
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		getJSON(t, ts.url+"/api/images", &imgs)
		if len(imgs.Images) == 2 && imgs.Images[0].Status == "skipped" || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(imgs.Images) != 2 || imgs.Images[0].Status != "skipped" || !strings.Contains(imgs.Images[0].Reason, "ffmpeg") ||
		imgs.Images[1].Status != "ok" || imgs.Images[1].Motion != "Live Photo" || !strings.Contains(imgs.Images[1].MotionNote, "ffmpeg") {
		t.Errorf("without ffmpeg, /api/images: %+v", imgs.Images)
	}

	long := t.TempDir()
	os.WriteFile(filepath.Join(long, "long.mp4"), animtest.Clip(t, "long.mp4", 1200, 10, 32, 24), 0o644) // 2 minutes
	ts = startServer(t, "--dir", long, "--width", "32", "--interval", "1s", "--max-clip", "3s")
	var st web.StateReport
	for deadline := time.Now().Add(10 * time.Second); st.Showing == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		getJSON(t, ts.url+"/api/state", &st)
	}
	if st.SecondsToNext < 2 || st.SecondsToNext > 3.1 {
		t.Errorf("a 2-minute clip with --max-clip 3s: the slide changes in %.1f s", st.SecondsToNext)
	}
	// Played for a minute, the clip is decoded as it plays: its ffmpeg
	// runs while it does, and ends with the server.
	ts.stop()
	ts = startServer(t, "--dir", long, "--width", "32", "--interval", "1s", "--max-clip", "1m")
	stream := openStream(t, ts.url+"/slideshow")
	stream.watch(t, 1500*time.Millisecond)
	if children(t) == 0 {
		t.Error("no ffmpeg child while the clip plays")
	}
	stream.close()
	ts.stop()
	deadline = time.Now().Add(5 * time.Second)
	for children(t) > 0 {
		if time.Now().After(deadline) {
			t.Fatal("an ffmpeg child outlived the server")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// children counts this process's ffmpeg children.
func children(t *testing.T) int { return len(animtest.FFmpegChildren(os.Getpid())) }
