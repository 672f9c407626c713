package encode

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
)

// Fade makes the frames between two JPEG frames for a crossfade: it calls
// each with frames 1 to steps-1, frame i mixing from and to i/steps of the
// way, encoded at quality, and stops early when each returns false.
// Frames of one size are mixed in YCbCr, as they were decoded (mixing is
// linear, so this is the same mix as in RGB, without converting); frames
// of different sizes are centred on a canvas of the larger width and
// height, filled with bg.
func Fade(from, to []byte, steps, quality int, bg color.RGBA, each func(i int, frame []byte) bool) error {
	a, err := jpeg.Decode(bytes.NewReader(from))
	if err != nil {
		return fmt.Errorf("fade: the first frame: %w", err)
	}
	b, err := jpeg.Decode(bytes.NewReader(to))
	if err != nil {
		return fmt.Errorf("fade: the second frame: %w", err)
	}
	mix := mixer(a, b, bg)
	for i := 1; i < steps; i++ {
		m := mix(i, steps)
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: Options{Quality: quality}.quality()}); err != nil {
			return err
		}
		if !each(i, buf.Bytes()) {
			return nil
		}
	}
	return nil
}

// mixer returns a function that mixes a and b i/n of the way. Its result
// is only valid until the next call.
func mixer(a, b image.Image, bg color.RGBA) func(i, n int) image.Image {
	ya, oka := a.(*image.YCbCr)
	yb, okb := b.(*image.YCbCr)
	if oka && okb && ya.Rect == yb.Rect && ya.SubsampleRatio == yb.SubsampleRatio &&
		ya.YStride == yb.YStride && ya.CStride == yb.CStride && len(ya.Y) == len(yb.Y) && len(ya.Cb) == len(yb.Cb) {
		// The same layout as the decoder's, which may pad to whole blocks.
		out := *ya
		out.Y, out.Cb, out.Cr = make([]byte, len(ya.Y)), make([]byte, len(ya.Cb)), make([]byte, len(ya.Cr))
		return func(i, n int) image.Image {
			mixBytes(out.Y, ya.Y, yb.Y, i, n)
			mixBytes(out.Cb, ya.Cb, yb.Cb, i, n)
			mixBytes(out.Cr, ya.Cr, yb.Cr, i, n)
			return &out
		}
	}
	ab, bb := a.Bounds(), b.Bounds()
	r := image.Rect(0, 0, max(ab.Dx(), bb.Dx()), max(ab.Dy(), bb.Dy()))
	ca, cb := pad(a, r.Dx(), r.Dy(), bg), pad(b, r.Dx(), r.Dy(), bg)
	out := image.NewRGBA(r)
	return func(i, n int) image.Image {
		mixBytes(out.Pix, ca.Pix, cb.Pix, i, n)
		return out
	}
}

// mixBytes sets dst to a and b mixed i/n of the way, rounded.
func mixBytes(dst, a, b []byte, i, n int) {
	wa, wb, nn := uint32(n-i), uint32(i), uint32(n)
	b = b[:len(a)]
	dst = dst[:len(a)]
	for k := range a {
		dst[k] = byte((uint32(a[k])*wa + uint32(b[k])*wb + nn/2) / nn)
	}
}
