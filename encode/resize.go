package encode

import (
	"image"
	"math"
	"runtime"
	"sync"
)

// A Lanczos-3 resampler for opaque pictures, in fixed point: the two
// passes (across, then down) of the separable filter, each pixel the
// weighted sum of the source pixels within three of its own widths (in
// source pixels, at least three), weights normalised to 1 over the taps
// inside the picture. Channels are 8 bits between the passes. Rows are
// shared out among the CPUs.

const weightBits = 14

// taps are the source pixels one output pixel is made of.
type taps struct {
	start   int
	weights []int32 // sum 1<<weightBits
}

func lanczos3(x float64) float64 {
	x = math.Abs(x)
	if x >= 3 {
		return 0
	}
	if x == 0 {
		return 1
	}
	px := math.Pi * x
	return 3 * math.Sin(px) * math.Sin(px/3) / (px * px)
}

// weights computes the taps of each of dst outputs from src inputs.
func weights(dst, src int) []taps {
	ratio := float64(src) / float64(dst)
	scale := max(ratio, 1)
	reach := math.Ceil(3 * scale)
	out := make([]taps, dst)
	for i := range out {
		centre := (float64(i)+0.5)*ratio - 0.5
		lo := max(int(math.Ceil(centre-reach)), 0)
		hi := min(int(math.Floor(centre+reach)), src-1)
		fw := make([]float64, hi-lo+1)
		var sum float64
		for j := range fw {
			fw[j] = lanczos3((float64(lo+j) - centre) / scale)
			sum += fw[j]
		}
		w := make([]int32, len(fw))
		var total int32
		for j, v := range fw {
			w[j] = int32(math.Round(v / sum * (1 << weightBits)))
			total += w[j]
		}
		// The rounding's remainder goes to the largest weight, so that a
		// flat picture stays exactly flat.
		big := 0
		for j := range w {
			if w[j] > w[big] {
				big = j
			}
		}
		w[big] += 1<<weightBits - total
		out[i] = taps{start: lo, weights: w}
	}
	return out
}

func clamp8(v int32) uint8 {
	v = (v + 1<<(weightBits-1)) >> weightBits
	if uint32(v) > 255 {
		if v < 0 {
			return 0
		}
		return 255
	}
	return uint8(v)
}

// inParallel runs fn over [0, n) in as many contiguous ranges as there
// are CPUs.
func inParallel(n int, fn func(lo, hi int)) {
	parts := min(runtime.GOMAXPROCS(0), n)
	if parts <= 1 {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	for p := range parts {
		lo, hi := n*p/parts, n*(p+1)/parts
		wg.Go(func() { fn(lo, hi) })
	}
	wg.Wait()
}

// resize scales an opaque picture to w×h.
func resize(src *image.RGBA, w, h int) *image.RGBA {
	sb := src.Bounds()
	sw, sh := sb.Dx(), sb.Dy()
	// Across: every source row to w pixels.
	across := image.NewRGBA(image.Rect(0, 0, w, sh))
	tx := weights(w, sw)
	inParallel(sh, func(lo, hi int) {
		for y := lo; y < hi; y++ {
			s := src.Pix[(y)*src.Stride:]
			d := across.Pix[y*across.Stride:]
			for x, t := range tx {
				var r, g, b int32
				p := s[4*t.start:]
				for j, wt := range t.weights {
					q := p[4*j : 4*j+3 : 4*j+3]
					r += wt * int32(q[0])
					g += wt * int32(q[1])
					b += wt * int32(q[2])
				}
				o := d[4*x : 4*x+4 : 4*x+4]
				o[0], o[1], o[2], o[3] = clamp8(r), clamp8(g), clamp8(b), 255
			}
		}
	})
	// Down: rows of the first pass, a weighted sum of whole rows at a
	// time.
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	ty := weights(h, sh)
	inParallel(h, func(lo, hi int) {
		acc := make([]int32, 4*w)
		for y := lo; y < hi; y++ {
			t := ty[y]
			clear(acc)
			for j, wt := range t.weights {
				row := across.Pix[(t.start+j)*across.Stride:][:4*w]
				for i, v := range row {
					acc[i] += wt * int32(v)
				}
			}
			d := out.Pix[y*out.Stride:][:4*w]
			for i := range d {
				d[i] = clamp8(acc[i])
			}
		}
	})
	return out
}
