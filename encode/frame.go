package encode

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"runtime"

	"github.com/disintegration/imaging"

	"slidestream/decode"
	"slidestream/internal/jpeg"
)

// Size returns the width and height of the frame Frame makes from an image
// of w×h stored pixels with the given orientation: the upright size, scaled
// down to width keeping the aspect ratio, never enlarged.
func Size(w, h int, o decode.Orientation, width int) (int, int) {
	if o.SwapsAxes() {
		w, h = h, w
	}
	if width <= 0 || width >= w {
		return w, h
	}
	nh := int((int64(h)*int64(width) + int64(w)/2) / int64(w))
	return width, max(nh, 1)
}

// Scale makes the frame's pixels: composited onto the background while
// averaging k×k blocks (k chosen so at least three times the target size
// remains: with only twice, fine texture such as gravel or foliage drifts
// from what Lanczos alone gives, by up to 30 dB PSNR), Lanczos-resized to
// the exact size (opaque YCbCr plane by plane, see resizeYCbCr), then
// turned upright. Turning
// last works on the small image instead of the large one. The error is
// from pixels that were still compressed (Rows) and turned out bad.
func Scale(img *decode.Image, o Options) (*image.RGBA, error) {
	src := img.Pixels.Bounds()
	stored := img.Stored
	if stored == (image.Point{}) {
		stored = src.Size()
	}
	fw, fh, tw, th := target(stored.X, stored.Y, img.Orientation, o)
	fit := o.Width > 0 && o.Height > 0
	_, _, crop := covers(stored.X, stored.Y, img.Orientation, o)
	// What the decoder did not shrink while decoding is shrunk here. A
	// crop's window goes where the content says, so its chroma blocks
	// cannot be planned for.
	k := max(1, min(src.Dx()/(3*tw), src.Dy()/(3*th)))
	m, err := shrink(coresFor(o.Cores), img.Pixels, o.Background, k, tw, th, !crop && halfChroma(img.Orientation, o, fw, fh, tw, th))
	if err != nil {
		return nil, err
	}
	out := asRGBA(orient(m, img.Orientation))
	if crop && (fw != o.Width || fh != o.Height) {
		out = cropTo(out, cropWindow(out, o.Width, o.Height))
	}
	// The colour profile is applied to the small picture: the same result
	// as at full size, for a fraction of the work.
	img.Profile.ToSRGB(out)
	if fit && !crop && (fw != o.Width || fh != o.Height) {
		// A picture too far from the frame's shape to crop is shown
		// whole on its blurred self.
		if o.Blur || o.Crop {
			out = onBackdrop(out, o.Width, o.Height)
		} else {
			out = pad(out, o.Width, o.Height, o.Background)
		}
	}
	drawCaption(out, o.Caption)
	return out, nil
}

// halfChroma reports whether the 2×2 blocks the JPEG encoder averages
// chroma over fall on 2×2 blocks of the tw×th picture Scale resizes to,
// once it is turned and placed in the frame: turning that reverses an axis
// of odd length moves the blocks by one pixel along it, and so does an odd
// padding offset; both or neither keep them. Chroma is then made for
// those blocks only (resizeYCbCr). Elsewhere (a pair's right half after an
// odd left one, say) a block would only mix two chroma values: a little
// softer colour.
func halfChroma(or decode.Orientation, o Options, fw, fh, tw, th int) bool {
	revX := or == 2 || or == 3 || or == 7 || or == 8 // stored columns reversed
	revY := or == 3 || or == 4 || or == 6 || or == 7 // stored rows reversed
	moveX, moveY := revX && tw%2 == 1, revY && th%2 == 1
	if or.SwapsAxes() {
		moveX, moveY = moveY, moveX // now along the frame's axes
	}
	var offX, offY int
	if o.Width > 0 && o.Height > 0 {
		offX, offY = (o.Width-fw)/2, (o.Height-fh)/2
	}
	return moveX == (offX%2 == 1) && moveY == (offY%2 == 1)
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// covers is the size a stored picture of w×h is scaled to, upright, to
// cover the frame when o crops it (--fill crop); ok is false when o does
// not crop, or the picture would lose more than MaxCropLoss.
func covers(w, h int, or decode.Orientation, o Options) (cw, ch int, ok bool) {
	if !o.Crop || o.Width <= 0 || o.Height <= 0 {
		return 0, 0, false
	}
	if or.SwapsAxes() {
		w, h = h, w
	}
	cw, ch, loss := coverSize(w, h, o.Width, o.Height)
	return cw, ch, loss <= MaxCropLoss
}

// shrink makes the tw×th picture from the decoded pixels: averaged by k×k
// blocks while flattened onto bg, then resized. Opaque YCbCr pixels are
// averaged and resized plane by plane instead (resizeYCbCr).
func shrink(c cores, px image.Image, bg color.RGBA, k, tw, th int, half bool) (*image.RGBA, error) {
	if b := px.Bounds(); k > 1 || b.Dx() != tw || b.Dy() != th {
		switch m := px.(type) {
		case *image.YCbCr:
			if out, ok := resizeYCbCr(c, m, k, tw, th, half, color.YCbCrToRGB); ok {
				return out, nil
			}
		case *decode.VideoYCbCr:
			if out, ok := resizeYCbCr(c, m.YCbCr, k, tw, th, half, decode.VideoToRGB); ok {
				return out, nil
			}
		}
	}
	if b := px.Bounds(); ceilDiv(b.Dx(), k) != tw || ceilDiv(b.Dy(), k) != th {
		return resize(c, px, bg, k, tw, th, float64(b.Dx())/float64(k*tw), float64(b.Dy())/float64(k*th))
	}
	return flatten(px, bg, k)
}

// target is the picture's size as Scale makes it before it goes in the
// frame (fw×fh, upright: fitted, or covering the frame when it is to be
// cropped) and the same in the stored orientation (tw×th) for a stored
// picture of w×h.
func target(w, h int, or decode.Orientation, o Options) (fw, fh, tw, th int) {
	fw, fh = Size(w, h, or, o.Width)
	if o.Width > 0 && o.Height > 0 {
		fw, fh = FitSize(w, h, or, o.Width, o.Height)
		if cw, ch, ok := covers(w, h, or, o); ok {
			fw, fh = cw, ch
		}
	}
	tw, th = fw, fh
	if or.SwapsAxes() {
		tw, th = fh, fw
	}
	return fw, fh, tw, th
}

// Shrink is how many times Scale will shrink a stored picture of w×h by
// averaging blocks before resizing it: what a decoder may do instead
// (decode.Options.Shrink).
func Shrink(w, h int, or decode.Orientation, o Options) int {
	_, _, tw, th := target(w, h, or, o)
	return max(1, min(w/(3*tw), h/(3*th)))
}

// Memory is what Scale holds besides the decoded picture, for a stored
// picture of w×h decoded shrunk shrink times (decode.Image.Shrunk), with
// chroma spanning planar pixels when it comes as opaque YCbCr planes
// (decode.File.Planar; zero otherwise): the averaged picture or planes,
// the resize's two passes, a turned copy and the padded frame. The
// decode-memory budget counts it with the decode's own.
func Memory(w, h int, or decode.Orientation, o Options, shrink int, planar image.Point) int64 {
	shrink = max(1, shrink)
	sw, sh := (w+shrink-1)/shrink, (h+shrink-1)/shrink
	fw, fh, tw, th := target(w, h, or, o)
	k := max(1, min(sw/(3*tw), sh/(3*th)))
	bw, bh := int64((sw+k-1)/k), int64((sh+k-1)/k)
	frame := 4 * int64(fw) * int64(fh)
	var m int64
	switch {
	case planar.X > 0 && planar.Y > 0 && (k > 1 || sw != tw || sh != th):
		// What resizeYCbCr makes: the averaged planes, each plane
		// half resized, the resized planes and the RGB picture.
		cw, ch := int64(ceilDiv(sw, planar.X)), int64(ceilDiv(sh, planar.Y))
		if k > 1 {
			m = bw * bh
			if kx, ky := ceilDiv(k, planar.X), ceilDiv(k, planar.Y); kx > 1 || ky > 1 {
				cw, ch = (cw+int64(kx)-1)/int64(kx), (ch+int64(ky)-1)/int64(ky)
				m += 2 * cw * ch
			}
		}
		div := int64(1)
		if halfChroma(or, o, fw, fh, tw, th) {
			div = 2
		}
		ow, oh := (int64(tw)+div-1)/div, (int64(th)+div-1)/div
		// Each plane between its passes: resampled across first (tw
		// wide, bh high), or with the vector kernel down first (bw wide,
		// th high).
		if rowsInVectors {
			m += bw*int64(th) + 2*cw*oh
		} else {
			m += int64(tw)*bh + 2*ow*ch
		}
		m += int64(tw)*int64(th) + 2*ow*oh + frame
		m += tapsSize(int64(tw), bw) + tapsSize(int64(th), bh) + tapsSize(ow, cw) + tapsSize(oh, ch)
		// Each core's pass across a plane packs its rows in pairs.
		m += 16 * (bw + 2*cw) * int64(runtime.GOMAXPROCS(0))
	case bw != int64(tw) || bh != int64(th):
		// Rows resampled across as they are flattened (resize): a source
		// row, an averaged one, four rows split into planes and four
		// resampled (acrossRGB), the scalar pass's packed pairs where it runs, the
		// picture across and down in RGB, the frame.
		m = 3*int64(sw) + 3*bw + 12*bw + 12*int64(tw) + 16*bw + 3*int64(tw)*bh + 3*int64(tw)*int64(th) + frame
		m += tapsSize(int64(tw), bw) + tapsSize(int64(th), bh)
	default:
		m = 4 * bw * bh
	}
	if or > decode.Upright {
		m += frame
	}
	if o.Width > 0 && o.Height > 0 {
		m += 4 * int64(o.Width) * int64(o.Height)
	}
	return m
}

// tapsSize is about what weightsAt allocates for dst outputs from src
// inputs: the taps (56 bytes each), their weights (4 bytes a source
// sample within reach) and, for the vector kernel, the weights in pairs.
func tapsSize(dst, src int64) int64 {
	if dst <= 0 {
		return 0
	}
	span := 2*((3*src+dst-1)/dst) + 1
	if src < dst {
		span = 7
	}
	per := 56 + 4*span
	if rowsInVectors {
		per += 2*span + 2
	}
	return dst * per
}

// FitSize returns the size of an image of w×h stored pixels with the given
// orientation, turned upright and scaled up or down to fit inside bw×bh
// keeping its aspect ratio.
func FitSize(w, h int, o decode.Orientation, bw, bh int) (int, int) {
	if o.SwapsAxes() {
		w, h = h, w
	}
	// Compare w/h with bw/bh without rounding: w*bh against bw*h.
	if int64(w)*int64(bh) >= int64(bw)*int64(h) {
		return bw, max(1, int((int64(h)*int64(bw)+int64(w)/2)/int64(w)))
	}
	return max(1, int((int64(w)*int64(bh)+int64(h)/2)/int64(h))), bh
}

// onBackdrop centres m on a w×h frame filled with m itself, scaled to
// cover the frame, blurred and darkened. The backdrop is made small and
// blurred there, then scaled up smoothly: the same look as blurring at
// full size, for a few hundredths of the work.
func onBackdrop(m *image.RGBA, w, h int) *image.RGBA {
	b := m.Bounds()
	// The middle of m with the frame's aspect ratio: what covering the
	// frame with m shows.
	cw, ch := b.Dx(), b.Dy()
	if int64(cw)*int64(h) > int64(w)*int64(ch) {
		cw = max(1, int(int64(ch)*int64(w)/int64(h)))
	} else {
		ch = max(1, int(int64(cw)*int64(h)/int64(w)))
	}
	crop := b.Min.Add(image.Pt((b.Dx()-cw)/2, (b.Dy()-ch)/2))
	sw := min(w, 48)
	sh := max(1, sw*h/w)
	small := imaging.Resize(m.SubImage(image.Rectangle{crop, crop.Add(image.Pt(cw, ch))}), sw, sh, imaging.Box)
	small = imaging.Blur(small, 1.5)
	// Darken to 55%, so the photo stands out from its backdrop.
	for i := 0; i < len(small.Pix); i += 4 {
		small.Pix[i] = byte(uint16(small.Pix[i]) * 141 >> 8)
		small.Pix[i+1] = byte(uint16(small.Pix[i+1]) * 141 >> 8)
		small.Pix[i+2] = byte(uint16(small.Pix[i+2]) * 141 >> 8)
		small.Pix[i+3] = 255
	}
	out := asRGBA(imaging.Resize(small, w, h, imaging.Linear))
	at := image.Pt((w-b.Dx())/2, (h-b.Dy())/2)
	draw.Draw(out, b.Sub(b.Min).Add(at), m, b.Min, draw.Src)
	return out
}

// Beside puts two frames of one height side by side, a on the left.
func Beside(a, b *image.RGBA) *image.RGBA {
	ab, bb := a.Bounds(), b.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, ab.Dx()+bb.Dx(), max(ab.Dy(), bb.Dy())))
	draw.Draw(out, ab.Sub(ab.Min), a, ab.Min, draw.Src)
	draw.Draw(out, bb.Sub(bb.Min).Add(image.Pt(ab.Dx(), 0)), b, bb.Min, draw.Src)
	return out
}

// pad centres m on a w×h frame of colour bg.
func pad(m image.Image, w, h int, bg color.RGBA) *image.RGBA {
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(out, out.Rect, image.NewUniform(bg), image.Point{}, draw.Src)
	b := m.Bounds()
	at := image.Pt((w-b.Dx())/2, (h-b.Dy())/2)
	draw.Draw(out, b.Sub(b.Min).Add(at), m, b.Min, draw.Src)
	return out
}

// JPEG encodes m, which must be opaque (every frame is), as a baseline
// 4:2:0 JPEG with no metadata at the given quality (0 means
// DefaultQuality).
func JPEG(m *image.RGBA, quality int) ([]byte, error) {
	b := m.Bounds()
	if b.Dx() < 1 || b.Dy() < 1 || b.Dx() > 65535 || b.Dy() > 65535 {
		return nil, fmt.Errorf("a %dx%d frame cannot be a JPEG", b.Dx(), b.Dy())
	}
	var buf bytes.Buffer
	buf.Grow(b.Dx() * b.Dy() / 4)
	jpeg.Encode(&buf, m, Options{Quality: quality}.quality())
	return buf.Bytes(), nil
}

// orient applies an EXIF orientation (EXIF 2.3, table 4: where row 0 and
// column 0 of the stored image belong).
func orient(m image.Image, o decode.Orientation) image.Image {
	switch o {
	case 2:
		return imaging.FlipH(m)
	case 3:
		return imaging.Rotate180(m)
	case 4:
		return imaging.FlipV(m)
	case 5:
		return imaging.Transpose(m)
	case 6:
		return imaging.Rotate270(m) // 90° clockwise
	case 7:
		return imaging.Transverse(m)
	case 8:
		return imaging.Rotate90(m) // 90° counter-clockwise
	}
	return m
}

// asRGBA gives the JPEG encoder an *image.RGBA, the type it has a fast path
// for. imaging returns *image.NRGBA; the frame is opaque, so its bytes are
// already valid premultiplied RGBA and are shared, not copied.
func asRGBA(m image.Image) *image.RGBA {
	switch m := m.(type) {
	case *image.RGBA:
		return m
	case *image.NRGBA:
		return &image.RGBA{Pix: m.Pix, Stride: m.Stride, Rect: m.Rect}
	}
	panic("encode: unexpected image type") // orient and flatten return only these
}
