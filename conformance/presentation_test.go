package conformance

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// level is the mean brightness of a JPEG, 0-255.
func level(t *testing.T, path string) float64 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	r := m.Bounds()
	sum := 0.0
	for y := r.Min.Y; y < r.Max.Y; y += 2 {
		for x := r.Min.X; x < r.Max.X; x += 2 {
			cr, cg, cb, _ := m.At(x, y).RGBA()
			sum += float64(cr>>8+cg>>8+cb>>8) / 3
		}
	}
	return sum / float64((r.Dx()+1)/2*((r.Dy()+1)/2))
}

// ffmpeg watches a slideshow with crossfades: it reads every frame without
// a word on stderr, and the frames between two slides step from the one
// to the other, in order.
func TestFFmpegWatchesAFade(t *testing.T) {
	ffmpeg := tool(t, "ffmpeg")
	dir := t.TempDir()
	grey := func(v uint8) color.RGBA { return color.RGBA{v, v, v, 255} }
	slides := []float64{30, 130, 230}
	for i, v := range slides {
		writePNG(t, filepath.Join(dir, string(rune('a'+i))+".png"), 320, 180, grey(uint8(v)), false)
	}
	base, _ := start(t, "--dir", dir, "--fit", "320x180", "--interval", "1s", "--fade", "500ms")

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var stderr bytes.Buffer
	out := filepath.Join(t.TempDir(), "frame%03d.jpg")
	cmd := exec.CommandContext(ctx, ffmpeg, "-nostdin", "-v", "error", "-f", "mpjpeg", "-i", base+"/slideshow",
		"-frames:v", "40", "-c", "copy", out)
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil || stderr.Len() > 0 {
		t.Fatalf("ffmpeg reading 40 frames of a fading slideshow: %v\n%s", err, stderr.String())
	}
	frames, _ := filepath.Glob(filepath.Join(filepath.Dir(out), "frame*.jpg"))
	if len(frames) != 40 {
		t.Fatalf("ffmpeg wrote %d frames; want 40", len(frames))
	}
	slideOf := func(l float64) int {
		for i, v := range slides {
			if l > v-4 && l < v+4 {
				return i
			}
		}
		return -1
	}
	// Walk the frames: between two slides, the fade's frames must move
	// steadily from the first towards the second.
	last, between, fades := -1, []float64(nil), 0
	var levels []float64
	for _, f := range frames {
		l := level(t, f)
		levels = append(levels, l)
		s := slideOf(l)
		if s < 0 {
			between = append(between, l)
			continue
		}
		if last >= 0 && s != last {
			if s != (last+1)%len(slides) {
				t.Errorf("slide %d followed slide %d", s, last)
			}
			from, to := slides[last], slides[s]
			prev := from
			for _, b := range between {
				if (to > from && (b <= prev || b >= to)) || (to < from && (b >= prev || b <= to)) {
					t.Errorf("a fade from %.0f to %.0f went through %.0f", from, to, between)
					break
				}
				prev = b
			}
			if len(between) >= 2 {
				fades++
			}
		} else if len(between) > 0 && last >= 0 {
			t.Errorf("frames between slides (%.0f) came back to the same slide", between)
		}
		last, between = s, nil
	}
	t.Logf("mean levels: %.0f", levels)
	if fades < 2 {
		t.Errorf("saw %d fades of 2 frames or more in 40 frames; want 2 or more", fades)
	}
}

// Chromium shows a portrait on a blurred fill of itself, with its caption.
func TestChromiumShowsBlurFillAndCaption(t *testing.T) {
	chromium := tool(t, "chromium", "chromium-browser", "google-chrome")
	dir := t.TempDir()
	// A portrait, red on the left, blue on the right.
	m := image.NewNRGBA(image.Rect(0, 0, 180, 320))
	for y := range 320 {
		for x := range 180 {
			c := red
			if x >= 90 {
				c = blue
			}
			m.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	png.Encode(&b, m)
	os.WriteFile(filepath.Join(dir, "portrait.png"), b.Bytes(), 0o644)
	base, _ := start(t, "--dir", dir, "--fit", "640x360", "--fill", "blur", "--caption", "{name}", "--interval", "1h")
	waitCached(t, base)

	shot := screenshot(t, chromium, base+"/", 640, 360, 5000)
	// The photo is 203x360 in the middle; the bars either side show it
	// blurred and darkened: reddish on the left, bluish on the right, not
	// the black --background.
	mean := func(r image.Rectangle) (float64, float64, float64) {
		var s [3]float64
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				cr, cg, cb, _ := shot.At(x, y).RGBA()
				s[0], s[1], s[2] = s[0]+float64(cr>>8), s[1]+float64(cg>>8), s[2]+float64(cb>>8)
			}
		}
		n := float64(r.Dx() * r.Dy())
		return s[0] / n, s[1] / n, s[2] / n
	}
	lr, _, lb := mean(image.Rect(10, 20, 200, 200))
	rr, _, rb := mean(image.Rect(440, 20, 630, 200))
	t.Logf("left bar r=%.0f b=%.0f, right bar r=%.0f b=%.0f", lr, lb, rr, rb)
	if lr < lb+40 || lr > 180 || rb < rr+40 || rb > 180 {
		t.Errorf("bars: left r=%.0f b=%.0f, right r=%.0f b=%.0f; want a darkened red left and blue right", lr, lb, rr, rb)
	}
	// The caption: white letters in the lower left, over the red bar.
	white := 0
	for y := 300; y < 360; y++ {
		for x := 0; x < 220; x++ {
			if near(shot.At(x, y), color.RGBA{255, 255, 255, 255}, 40) {
				white++
			}
		}
	}
	if white < 80 {
		t.Errorf("%d white pixels in the lower left; want the caption's letters", white)
	}
}
