package encode

import (
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"testing"
)

// subjectPhoto is a w×h photo of a subject in box on a plain, softly
// graded background (a sky, a wall): the subject a face-toned oval with
// detail, or a colourful object, as photos have them off-centre.
func subjectPhoto(rng *rand.Rand, w, h int, box image.Rectangle, face bool) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	top := color.RGBA{uint8(90 + rng.IntN(60)), uint8(120 + rng.IntN(60)), uint8(170 + rng.IntN(60)), 255}
	for y := range h {
		for x := range w {
			f := float64(y) / float64(h)
			n := rng.IntN(7) - 3 // sensor noise
			px := m.Pix[y*m.Stride+4*x:]
			px[0] = tone8(float64(top.R)*(1-0.3*f) + float64(n))
			px[1] = tone8(float64(top.G)*(1-0.3*f) + float64(n))
			px[2] = tone8(float64(top.B)*(1-0.2*f) + float64(n))
			px[3] = 255
		}
	}
	c := box.Min.Add(box.Max).Div(2)
	rx, ry := float64(box.Dx())/2, float64(box.Dy())/2
	tone := color.RGBA{uint8(200 + rng.IntN(40)), uint8(140 + rng.IntN(30)), uint8(110 + rng.IntN(30)), 255}
	if !face {
		tone = color.RGBA{uint8(rng.IntN(80)), uint8(150 + rng.IntN(100)), uint8(rng.IntN(80)), 255}
	}
	for y := box.Min.Y; y < box.Max.Y; y++ {
		for x := box.Min.X; x < box.Max.X; x++ {
			dx, dy := (float64(x)-float64(c.X))/rx, (float64(y)-float64(c.Y))/ry
			if dx*dx+dy*dy > 1 {
				continue
			}
			// Features: darker spots and strokes give it edges.
			v := 1.0
			if (x/5+y/7)%4 == 0 {
				v = 0.55
			}
			px := m.Pix[y*m.Stride+4*x:]
			px[0], px[1], px[2] = tone8(float64(tone.R)*v), tone8(float64(tone.G)*v), tone8(float64(tone.B)*v)
		}
	}
	return m
}

func tone8(v float64) uint8 { return uint8(max(0, min(255, math.Round(v)))) }

// The crop window holds the subject where a centre crop would cut it, in
// at least 9 of 10 photos: faces and colourful things off-centre, on
// landscape photos cropped to a wider frame and on wide photos cropped to
// a narrower one.
func TestCropKeepsTheSubject(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 25))
	kept, cases := 0, 0
	for i := 0; cases < 10; i++ {
		// A 4:3 photo on a 16:9 frame (the window slides up and down),
		// or a 16:9 photo on a 4:3 frame (left and right).
		w, h, fw, fh := 400, 300, 400, 225
		if i%2 == 1 {
			w, h, fw, fh = 480, 270, 360, 270
		}
		size := 50 + rng.IntN(40)
		var box image.Rectangle
		if fw == w { // the subject near the top or the bottom
			x := 20 + rng.IntN(w-size-40)
			y := rng.IntN(30)
			if rng.IntN(2) == 0 {
				y = h - size - rng.IntN(30)
			}
			box = image.Rect(x, y, x+size, y+size)
		} else { // near the left or the right
			y := 20 + rng.IntN(h-size-40)
			x := rng.IntN(40)
			if rng.IntN(2) == 0 {
				x = w - size - rng.IntN(40)
			}
			box = image.Rect(x, y, x+size, y+size)
		}
		centre := image.Rect((w-fw)/2, (h-fh)/2, (w-fw)/2+fw, (h-fh)/2+fh)
		if box.In(centre) {
			continue // a centre crop keeps it: not a case
		}
		m := subjectPhoto(rng, w, h, box, i%3 != 2)
		win := cropWindow(m, fw, fh)
		if win.Dx() != fw || win.Dy() != fh || !win.In(m.Bounds()) {
			t.Fatalf("window %v for %dx%d in %v", win, fw, fh, m.Bounds())
		}
		cases++
		if box.In(win) {
			kept++
		} else {
			t.Logf("case %d: subject %v, window %v", cases, box, win)
		}
	}
	if kept < 9 {
		t.Errorf("the crop kept the subject in %d of %d photos; want at least 9", kept, cases)
	}
}

// A crop with nothing to choose by is the middle.
func TestCropOfAnEvenPictureIsTheMiddle(t *testing.T) {
	m := image.NewRGBA(image.Rect(0, 0, 400, 300))
	for i := range m.Pix {
		m.Pix[i] = 128
	}
	if win := cropWindow(m, 400, 226); win.Min.Y < 35 || win.Min.Y > 39 {
		t.Errorf("window %v; want the middle, from row 37", win)
	}
}

// coverSize covers the box, and the loss says how much is cut.
func TestCoverSize(t *testing.T) {
	for _, c := range []struct {
		w, h, bw, bh, cw, ch int
		loss                 float64
	}{
		{4000, 3000, 1920, 1080, 1920, 1440, 0.25},
		{3000, 4000, 1920, 1080, 1920, 2560, 0.578},
		{1920, 1080, 1920, 1080, 1920, 1080, 0},
		{100, 100, 400, 300, 400, 400, 0.25},
	} {
		cw, ch, loss := coverSize(c.w, c.h, c.bw, c.bh)
		if cw != c.cw || ch != c.ch || math.Abs(loss-c.loss) > 0.001 {
			t.Errorf("coverSize(%d, %d, %d, %d) = %d, %d, %.3f; want %d, %d, %.3f", c.w, c.h, c.bw, c.bh, cw, ch, loss, c.cw, c.ch, c.loss)
		}
	}
}

// BenchmarkCropWindow is the crop decision on a 12-megapixel photo
// covering a 1920×1080 frame: the picture is 1920×1440 by then, and the
// window is chosen on a 128-pixel version of it.
func BenchmarkCropWindow(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	m := subjectPhoto(rng, 1920, 1440, image.Rect(200, 100, 600, 500), true)
	b.ResetTimer()
	for b.Loop() {
		cropWindow(m, 1920, 1080)
	}
}
