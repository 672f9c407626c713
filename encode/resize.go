package encode

import (
	"image"
	"image/color"
	"math"
	"runtime"
	"sync"
)

// A Lanczos-3 resampler for opaque pictures, in fixed point: the two
// passes (across, then down) of the separable filter, each pixel the
// weighted sum of the source pixels within three of its own widths (in
// source pixels, at least three), weights normalised to 1 over the taps
// inside the picture. Channels are 8 bits between the passes. Planes'
// rows, and every picture's rows going down, are shared out among the
// cores a frame is given (Options.Cores); RGB rows are resampled across
// as they are flattened.

const weightBits = 14

// The vector kernel (rows_amd64.s) rounds and shifts by 14 bits itself.
const _, _ = uint(weightBits - 14), uint(14 - weightBits)

// taps are the source pixels one output pixel is made of.
type taps struct {
	start   int
	weights []int32 // sum 1<<weightBits
	pairs   []int32 // the weights two to a word, for the vector kernel (pairUp)
	// The weights as 16 bits, zero-padded to a multiple of 8, from input
	// at8, kept within the source (eighths): what the vector pass across
	// takes; nil where there is none.
	at8 int
	w8  []int16
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

// Recently computed taps, by what they were computed from: a library's
// photos mostly come in a few sizes, and computing taps costs two sines
// a weight. Taps are never written once made, so frames share them.
var recentTaps struct {
	sync.Mutex
	keys [8]tapsKey
	vals [8][]taps
	next int
}

type tapsKey struct {
	dst, src int
	ratio    float64
}

// weightsAt is computeWeights, from recentTaps when it holds them. Taps
// of more than 32,768 weights (128 KiB) are not kept.
func weightsAt(dst, src int, ratio float64) []taps {
	k := tapsKey{dst, src, ratio}
	recentTaps.Lock()
	for i, have := range recentTaps.keys {
		if have == k && recentTaps.vals[i] != nil {
			t := recentTaps.vals[i]
			recentTaps.Unlock()
			return t
		}
	}
	recentTaps.Unlock()
	t := computeWeights(dst, src, ratio)
	n := 0
	for _, tp := range t {
		n += len(tp.weights)
	}
	if n <= 1<<15 {
		recentTaps.Lock()
		i := recentTaps.next
		recentTaps.keys[i], recentTaps.vals[i] = k, t
		recentTaps.next = (i + 1) % len(recentTaps.keys)
		recentTaps.Unlock()
	}
	return t
}

// computeWeights computes the taps of each of dst outputs from src inputs
// spaced ratio outputs' widths apart: output i is centred on input
// (i+½)·ratio − ½. A plane subsampled by 2 has half the ratio of the full
// plane over the same outputs, its samples centred between the full
// plane's pairs.
func computeWeights(dst, src int, ratio float64) []taps {
	scale := max(ratio, 1)
	reach := math.Ceil(3 * scale)
	out := make([]taps, dst)
	span := int(2*reach) + 1
	fw := make([]float64, span)
	all := make([]int32, 0, dst*span) // every output's weights, in one allocation
	for i := range out {
		centre := (float64(i)+0.5)*ratio - 0.5
		lo := max(int(math.Ceil(centre-reach)), 0)
		hi := min(int(math.Floor(centre+reach)), src-1)
		fw := fw[:hi-lo+1]
		var sum float64
		for j := range fw {
			fw[j] = lanczos3((float64(lo+j) - centre) / scale)
			sum += fw[j]
		}
		w := all[len(all) : len(all)+len(fw)]
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
		all = all[:len(all)+len(w)]
		// Taps that weigh nothing (beyond the filter's reach, or rounded
		// to zero) are left out: they would cost as much as the others.
		for len(w) > 1 && w[0] == 0 {
			w, lo = w[1:], lo+1
		}
		for len(w) > 1 && w[len(w)-1] == 0 {
			w = w[:len(w)-1]
		}
		out[i] = taps{start: lo, weights: w}
	}
	if rowsInVectors { // every output's pairs, in one allocation too
		n := 0
		for _, t := range out {
			n += (len(t.weights) + 1) / 2
		}
		buf := make([]int32, n)
		for i, t := range out {
			k := (len(t.weights) + 1) / 2
			out[i].pairs = pairUp(buf[:k:k], t.weights)
			buf = buf[k:]
		}
		eighths(out, src)
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

// cores is how many goroutines the passes of one resize share their rows
// among: at least 1.
type cores int

// coresFor is what Options.Cores asks for: 0 means every CPU.
func coresFor(n int) cores {
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	return cores(n)
}

// inParallel runs fn over [0, n) in as many contiguous ranges as c.
func (c cores) inParallel(n int, fn func(lo, hi int)) {
	parts := min(int(c), n)
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

// resize flattens px onto bg averaging k×k blocks (flattenEach) and scales
// the result to w×h, rx×ry of its pixels to an output pixel: its size
// over w×h, but for a picture averaged by blocks whose last ones were
// partial, where they are the full-size ratios over the block size. Each
// row is resampled across as it is flattened, so the picture is only ever
// held at its new width; the error is flattenEach's.
func resize(c cores, px image.Image, bg color.RGBA, k, w, h int, rx, ry float64) (*image.RGBA, error) {
	b := px.Bounds()
	sw, sh := ceilDiv(b.Dx(), k), ceilDiv(b.Dy(), k)
	across := make([]uint8, 3*w*sh) // RGB: no alpha to carry down
	tx := weightsAt(w, sw, rx)
	if err := flattenEach(px, bg, k, acrossRGB(across, w, sw, sh, tx)); err != nil {
		return nil, err
	}
	rgb := down(c, across, 3*w, 3*w, h, weightsAt(h, sh, ry))
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	opaque(out.Pix, rgb)
	return out, nil
}

// acrossRGB is what resize gives flattenEach: it resamples the sh rows of
// sw RGB pixels it is given, in order, through tx into across (rows of
// w), four rows at a time (across4), each channel apart: the rows are
// split into planes of four rows, resampled, and interleaved again.
func acrossRGB(across []uint8, w, sw, sh int, tx []taps) func(y int, rgb []uint8) {
	planes := make([]uint8, 12*sw) // R of rows 0-3, then G, then B
	outs := make([]uint8, 12*w)
	rows4 := across4(w, sw, tx)
	return func(y int, rgb []uint8) {
		r := y % 4
		pr, pg, pb := planes[r*sw:][:sw], planes[(4+r)*sw:][:sw], planes[(8+r)*sw:][:sw]
		rgb = rgb[:3*sw]
		for x := range pr {
			p := rgb[3*x : 3*x+3 : 3*x+3]
			pr[x], pg[x], pb[x] = p[0], p[1], p[2]
		}
		if r < 3 && y < sh-1 {
			return
		}
		rows, y0 := r+1, y-r
		for ch := range 3 {
			src, dst := planes[4*ch*sw:][:4*sw], outs[4*ch*w:][:4*w]
			if rows == 4 {
				rows4(dst, src, sw)
				continue
			}
			for i := range rows {
				acrossRow(dst[i*w:][:w], src[i*sw:][:sw], tx)
			}
		}
		for i := range rows {
			d := across[3*w*(y0+i):][:3*w]
			or, og, ob := outs[i*w:][:w], outs[(4+i)*w:][:w], outs[(8+i)*w:][:w]
			for x := range or {
				o := d[3*x : 3*x+3 : 3*x+3]
				o[0], o[1], o[2] = or[x], og[x], ob[x]
			}
		}
	}
}

// opaque writes the R, G, B triples of rgb to d as opaque RGBA pixels, as
// many as d holds.
func opaque(d, rgb []uint8) {
	for x := range len(d) / 4 {
		p, o := rgb[3*x:3*x+3:3*x+3], d[4*x:4*x+4:4*x+4]
		o[0], o[1], o[2], o[3] = p[0], p[1], p[2], 255
	}
}

// plane is one 8-bit channel of a picture.
type plane struct {
	pix        []uint8
	stride     int
	w, h       int
	subX, subY int // how many full-resolution pixels a sample spans: 1 or 2
}

// resizePlane resamples p to w×h through the taps tx (across) and ty
// (down), into a new tightly packed plane. With the vector kernel the
// pass down goes first, at the plane's width, so that the pass across,
// one sample at a time, has only the h output rows to make; without it,
// across goes first, so that down has only w samples a row to sum.
func resizePlane(c cores, p plane, w, h int, tx, ty []taps) []uint8 {
	if rowsInVectors {
		mid := down(c, p.pix, p.stride, p.w, h, ty)
		return acrossPlane(c, mid, p.w, p.w, h, w, tx)
	}
	across := acrossPlane(c, p.pix, p.stride, p.w, p.h, w, tx)
	return down(c, across, w, w, h, ty)
}

// acrossPlane resamples rows rows of sw samples, stride apart in src,
// through tx into a new plane w wide, four rows per pass.
func acrossPlane(c cores, src []uint8, stride, sw, rows, w int, tx []taps) []uint8 {
	out := make([]uint8, w*rows)
	c.inParallel((rows+3)/4, func(lo, hi int) {
		rows4 := across4(w, sw, tx)
		for y := 4 * lo; y < min(4*hi, rows); y += 4 {
			if y+4 > rows {
				for ; y < rows; y++ {
					acrossRow(out[y*w:][:w], src[y*stride:][:sw], tx)
				}
				break
			}
			rows4(out[y*w:], src[y*stride:], stride)
		}
	})
	return out
}

// down resamples rows of w samples (a plane's, or RGB rows' 3 a pixel),
// stride apart in src, through ty into h new rows of w, each a weighted
// sum of whole rows (weighRows).
func down(c cores, src []uint8, stride, w, h int, ty []taps) []uint8 {
	out := make([]uint8, w*h)
	c.inParallel(h, func(lo, hi int) {
		var acc []int32
		for y := lo; y < hi; y++ {
			t := ty[y]
			weighRows(out[y*w:][:w], src[t.start*stride:], stride, t, &acc)
		}
	})
	return out
}

// acrossRow resamples one row s into d through tx.
func acrossRow(d, s []uint8, tx []taps) {
	for x, t := range tx {
		q := s[t.start:][:len(t.weights)]
		var v int32
		for j, wt := range t.weights {
			v += wt * int32(q[j])
		}
		d[x] = clamp8(v)
	}
}

// across4 is the pass across four rows of sw samples through tx (w
// outputs) for one goroutine: into dst (rows w apart) from src (rows
// stride apart). It is acrossRows4Vector where tx has its weights in
// eighths, checked here once for the whole pass to lie within the row,
// and acrossRows4Scalar, with its own scratch, otherwise.
func across4(w, sw int, tx []taps) func(dst, src []uint8, stride int) {
	vector := rowsInVectors && w > 0 && len(tx) == w
	for _, t := range tx {
		if !vector {
			break
		}
		vector = t.w8 != nil && t.at8 >= 0 && t.at8+len(t.w8) <= sw && len(t.w8) > 0 && len(t.w8)%8 == 0
	}
	if vector {
		return func(dst, src []uint8, stride int) {
			// Every read and write within the slices.
			_ = src[3*stride+sw-1]
			_ = dst[4*w-1]
			acrossRows4Vector(&dst[0], w, &src[0], stride, &tx[0])
		}
	}
	pairs := make([]int64, 2*sw)
	return func(dst, src []uint8, stride int) {
		acrossRows4Scalar(dst, w, src, stride, sw, tx, pairs)
	}
}

// acrossRows4Scalar resamples four rows at once: rows of w outputs from dst,
// rows of sw inputs stride apart from src. Two rows ride in each 64-bit
// word (the second 32 bits up), so that one multiplication weighs a pixel
// of both: a sum of weighed pixels stays within ±2^23, so each row's sum
// is recovered exactly from the word's. pairs holds 2·sw words.
func acrossRows4Scalar(dst []uint8, w int, src []uint8, stride, sw int, tx []taps, pairs []int64) {
	d0, d1, d2, d3 := dst[:w], dst[w:][:w], dst[2*w:][:w], dst[3*w:][:w]
	s0, s1, s2, s3 := src[:sw], src[stride:][:sw], src[2*stride:][:sw], src[3*stride:][:sw]
	p01, p23 := pairs[:sw], pairs[sw:][:sw]
	for x := range p01 {
		p01[x] = int64(s0[x]) | int64(s1[x])<<32
		p23[x] = int64(s2[x]) | int64(s3[x])<<32
	}
	for x, t := range tx {
		n := len(t.weights)
		q01, q23 := p01[t.start:][:n], p23[t.start:][:n]
		var v01, v23 int64
		for j, wt := range t.weights {
			v01 += int64(wt) * q01[j]
			v23 += int64(wt) * q23[j]
		}
		v0, v2 := int32(v01), int32(v23)
		d0[x], d1[x] = clamp8(v0), clamp8(int32((v01-int64(v0))>>32))
		d2[x], d3[x] = clamp8(v2), clamp8(int32((v23-int64(v2))>>32))
	}
}

// boxPlane averages kx×ky blocks of p (the last ones in each direction
// cover what is left) into a new plane.
func boxPlane(c cores, p plane, kx, ky int) plane {
	ow, oh := (p.w+kx-1)/kx, (p.h+ky-1)/ky
	out := plane{pix: make([]uint8, ow*oh), stride: ow, w: ow, h: oh}
	// Output column of every source column: a division per pixel would
	// cost more than the additions.
	col := make([]int32, p.w)
	for x := range col {
		col[x] = int32(x / kx)
	}
	c.inParallel(oh, func(lo, hi int) {
		sum := make([]uint32, ow)
		for oy := lo; oy < hi; oy++ {
			clear(sum)
			y0, y1 := oy*ky, min(oy*ky+ky, p.h)
			for y := y0; y < y1; y++ {
				for x, v := range p.pix[y*p.stride:][:len(col)] {
					sum[col[x]] += uint32(v)
				}
			}
			d := out.pix[oy*ow:][:ow]
			rows := uint32(y1 - y0)
			for ox, v := range sum {
				n := rows * uint32(min(ox*kx+kx, p.w)-ox*kx)
				d[ox] = uint8((v + n/2) / n)
			}
		}
	})
	return out
}

// chromaSpan is how many pixels across and down a chroma sample of ratio
// covers; ok is false for a ratio image.YCbCr does not name.
func chromaSpan(ratio image.YCbCrSubsampleRatio) (sx, sy int, ok bool) {
	switch ratio {
	case image.YCbCrSubsampleRatio444:
		return 1, 1, true
	case image.YCbCrSubsampleRatio422:
		return 2, 1, true
	case image.YCbCrSubsampleRatio420:
		return 2, 2, true
	case image.YCbCrSubsampleRatio440:
		return 1, 2, true
	case image.YCbCrSubsampleRatio411:
		return 4, 1, true
	case image.YCbCrSubsampleRatio410:
		return 4, 2, true
	}
	return 0, 0, false
}

// resizeYCbCr scales an opaque YCbCr picture whose planes start at the
// origin to w×h, converting only the result to RGB through toRGB: each
// plane is averaged by blocks (luma k×k, chroma as much as keeps it no
// smaller than the averaged luma), then Lanczos-resampled at its own
// resolution. Both are linear, and so is the conversion but for its
// clipping, so this is what averaging and resampling the RGB picture
// gives, without converting and upsampling the chroma of every source
// pixel, and with a third of the filtering for 4:2:0. Every plane's
// samples are taken as centred on the pixels they cover, as JPEG and WebP
// place chroma. With half set, chroma is made for 2×2 blocks of the
// output only, each value copied to its four pixels: what a JPEG encoder
// subsampling 4:2:0 keeps of it, for a third of the chroma's filtering.
// ok is false for other layouts.
func resizeYCbCr(c cores, m *image.YCbCr, k, w, h int, half bool, toRGB func(y, cb, cr uint8) (uint8, uint8, uint8)) (out *image.RGBA, ok bool) {
	if m.Rect.Min != (image.Point{}) {
		return nil, false
	}
	sx, sy, ok := chromaSpan(m.SubsampleRatio)
	if !ok {
		return nil, false
	}
	sw, sh := m.Rect.Dx(), m.Rect.Dy()
	// Output pixels per full-size pixel, and what a plane whose samples
	// each span fx×fy full-size pixels needs.
	rx, ry := float64(sw)/float64(w), float64(sh)/float64(h)
	// The taps of a plane whose samples each span fx×fy full-size
	// pixels, to outputs spanning div×div frame pixels.
	tapsFor := func(p plane, fx, fy, div int) (tx, ty []taps) {
		ow, oh := (w+div-1)/div, (h+div-1)/div
		return weightsAt(ow, p.w, rx*float64(div)/float64(fx)), weightsAt(oh, p.h, ry*float64(div)/float64(fy))
	}
	y := plane{pix: m.Y, stride: m.YStride, w: sw, h: sh}
	cw, ch := (sw+sx-1)/sx, (sh+sy-1)/sy
	cb := plane{pix: m.Cb, stride: m.CStride, w: cw, h: ch}
	cr := plane{pix: m.Cr, stride: m.CStride, w: cw, h: ch}
	kx, ky := 1, 1 // how much chroma is averaged
	if k > 1 {
		y = boxPlane(c, y, k, k)
		kx, ky = (k+sx-1)/sx, (k+sy-1)/sy
		if kx > 1 || ky > 1 {
			cb, cr = boxPlane(c, cb, kx, ky), boxPlane(c, cr, kx, ky)
		}
	}
	div := 1 // output pixels per chroma value, each way
	if half {
		div = 2
	}
	tx, ty := tapsFor(y, k, k, 1)
	ys := resizePlane(c, y, w, h, tx, ty)
	cw2, ch2 := (w+div-1)/div, (h+div-1)/div
	tx, ty = tapsFor(cb, sx*kx, sy*ky, div)
	cbs := resizePlane(c, cb, cw2, ch2, tx, ty)
	crs := resizePlane(c, cr, cw2, ch2, tx, ty)
	out = image.NewRGBA(image.Rect(0, 0, w, h))
	c.inParallel(h, func(lo, hi int) {
		for y := lo; y < hi; y++ {
			yr := ys[y*w:][:w]
			br, rr := cbs[y/div*cw2:][:cw2], crs[y/div*cw2:][:cw2]
			d := out.Pix[y*out.Stride:][:4*w]
			if half {
				for x := range yr {
					o := d[4*x : 4*x+4 : 4*x+4]
					o[0], o[1], o[2] = toRGB(yr[x], br[x>>1], rr[x>>1])
					o[3] = 0xff
				}
				continue
			}
			for x := range yr {
				o := d[4*x : 4*x+4 : 4*x+4]
				o[0], o[1], o[2] = toRGB(yr[x], br[x], rr[x])
				o[3] = 0xff
			}
		}
	})
	return out, true
}
