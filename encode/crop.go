package encode

import (
	"image"
	"image/draw"
	"math"

	"github.com/disintegration/imaging"
)

// MaxCropLoss is the most of a picture --fill crop cuts away: a picture
// that would lose more (a portrait on a landscape screen) is shown whole
// on its blurred self instead. A 4:3 photo on a 16:9 screen loses a
// quarter; a square one would lose 44%.
const MaxCropLoss = 0.3

// coverSize is the size that a picture of w×h, scaled to cover a box of
// bw×bh, has, and the share of it a crop to the box cuts away.
func coverSize(w, h, bw, bh int) (cw, ch int, loss float64) {
	if int64(w)*int64(bh) >= int64(bw)*int64(h) { // wider than the box
		ch = bh
		cw = max(bw, int((int64(w)*int64(bh)+int64(h)/2)/int64(h)))
	} else {
		cw = bw
		ch = max(bh, int((int64(h)*int64(bw)+int64(w)/2)/int64(w)))
	}
	return cw, ch, 1 - float64(bw)*float64(bh)/(float64(cw)*float64(ch))
}

// cropSample is the longer side of the small version of a picture that
// its crop is chosen on: enough for faces and subjects, a few thousand
// pixels to weigh.
const cropSample = 128

// cropWindow chooses where a w×h window goes in m, which covers it along
// one axis: where the window holds the most of what draws the eye. Each
// pixel of a small version of m is weighed by its detail (the luma's
// gradient), its colourfulness and whether it looks like skin, as
// content-aware croppers weigh them; the weights are summed across the
// axis the window already spans, less their mean, and the window slides
// along the other to where it holds most, a little in favour of the middle
// when the picture is even.
func cropWindow(m *image.RGBA, w, h int) image.Rectangle {
	b := m.Bounds()
	horizontal := b.Dx() > w // the window slides left and right
	if !horizontal && b.Dy() <= h {
		return image.Rect(0, 0, w, h).Add(b.Min)
	}
	sw, sh := cropSample, cropSample
	if b.Dx() >= b.Dy() {
		sh = max(1, b.Dy()*cropSample/b.Dx())
	} else {
		sw = max(1, b.Dx()*cropSample/b.Dy())
	}
	small := imaging.Resize(m, sw, sh, imaging.Box)
	n := sh
	if horizontal {
		n = sw
	}
	profile := make([]float64, n)
	luma := func(x, y int) float64 {
		p := small.Pix[y*small.Stride+4*x:]
		return 0.299*float64(p[0]) + 0.587*float64(p[1]) + 0.114*float64(p[2])
	}
	for y := range sh {
		for x := range sw {
			p := small.Pix[y*small.Stride+4*x:]
			r, g, bl := float64(p[0]), float64(p[1]), float64(p[2])
			var edge float64
			if x+1 < sw {
				edge += math.Abs(luma(x+1, y) - luma(x, y))
			}
			if y+1 < sh {
				edge += math.Abs(luma(x, y+1) - luma(x, y))
			}
			hi, lo := max(r, g, bl), min(r, g, bl)
			sat := 0.0
			if hi > 0 {
				sat = (hi - lo) / hi
			}
			score := edge/64 + 0.4*sat*hi/255
			if skin(r, g, bl) {
				score += 1.5
			}
			if horizontal {
				profile[x] += score
			} else {
				profile[y] += score
			}
		}
	}
	// The window's length on the small version, and the best place for
	// it by sliding sums.
	full := b.Dy()
	length := h
	if horizontal {
		full, length = b.Dx(), w
	}
	win := max(1, int(math.Round(float64(length)*float64(n)/float64(full))))
	win = min(win, n)
	// A subject's lines lend their weight to the lines beside them, so
	// that the window leaves it a margin rather than grazing its edge.
	grown := make([]float64, n)
	for i := range profile {
		for j := max(0, i-cropMargin); j <= min(n-1, i+cropMargin); j++ {
			grown[i] = max(grown[i], profile[j])
		}
	}
	profile = grown
	// What counts is what stands out: each line's weight above the
	// picture's mean, so that an even sky or wall, however colourful,
	// weighs nothing wherever the window goes.
	var total, spread float64
	for _, v := range profile {
		total += v
	}
	for i := range profile {
		profile[i] -= total / float64(n)
		spread += math.Abs(profile[i])
	}
	var sum float64
	for i := range win {
		sum += profile[i]
	}
	best, bestScore := 0, math.Inf(-1)
	mid := float64(n-win) / 2
	// The middle wins a tie, and a little more: at the far end the
	// window must hold a twentieth of a line's usual standing out more.
	lean := 0.05*spread/float64(n)*float64(win) + 1e-9
	for o := 0; o+win <= n; o++ {
		if o > 0 {
			sum += profile[o+win-1] - profile[o-1]
		}
		score := sum
		if mid > 0 {
			score -= lean * math.Abs(float64(o)-mid) / mid
		}
		if score > bestScore {
			best, bestScore = o, score
		}
	}
	off := int(math.Round(float64(best) * float64(full) / float64(n)))
	off = max(0, min(full-length, off))
	if horizontal {
		return image.Rect(off, 0, off+w, h).Add(b.Min)
	}
	return image.Rect(0, off, w, off+h).Add(b.Min)
}

// cropMargin is the margin, in lines of the small version, that a
// subject's weight reaches beyond it: 2 of 128 is about 1.5% of the
// picture.
const cropMargin = 2

// skin reports whether an sRGB colour falls where skin tones of every
// complexion do, by a published rule of thumb on RGB (red leads green and
// blue by a margin, and is not too dark or too flat).
func skin(r, g, b float64) bool {
	return r > 95 && g > 40 && b > 20 && r > g && r > b && r-min(g, b) > 15 && math.Abs(r-g) > 15
}

// cropTo copies the window of m into a picture of its own.
func cropTo(m *image.RGBA, win image.Rectangle) *image.RGBA {
	out := image.NewRGBA(image.Rect(0, 0, win.Dx(), win.Dy()))
	draw.Draw(out, out.Rect, m, win.Min, draw.Src)
	return out
}
