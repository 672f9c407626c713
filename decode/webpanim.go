package decode

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"io"
	"time"

	"golang.org/x/image/webp"
)

// openWebPFrames decodes an animated WebP's frames one at a time with
// golang.org/x/image/webp, which decodes still pictures only: each frame
// (an ANMF chunk of the container) is made a still WebP of its own,
// decoded, and drawn on the canvas. The canvas starts transparent; a frame
// is blended over it or replaces its rectangle, as its flags say, and one
// marked for disposal leaves its rectangle transparent for the next (the
// background colour of the ANIM chunk is a hint, which decoders ignore).
// It is what builds without github.com/deepteams/webp use (webp_small.go),
// and what the tests compare that decoder with.
func openWebPFrames(data []byte, info MotionInfo) (*Animation, error) {
	frames, err := webpFrames(data)
	if err != nil {
		return nil, err
	}
	if len(frames) < 1 {
		return nil, ErrNoMotion
	}
	screen := image.Rectangle{Max: info.Canvas}
	canvas := image.NewNRGBA(screen)
	i := 0
	next := func() (*image.NRGBA, time.Duration, error) {
		if i >= len(frames) {
			return nil, 0, io.EOF
		}
		f := frames[i]
		i++
		if !f.rect.In(screen) {
			return nil, 0, fmt.Errorf("frame %d: %v is outside the %v canvas", i, f.rect, info.Canvas)
		}
		// The picture's own header must agree with the frame's size
		// before any of it is decoded: it could claim anything.
		still := f.still()
		if c, err := webp.DecodeConfig(bytes.NewReader(still)); err != nil {
			return nil, 0, fmt.Errorf("frame %d: %w", i, err)
		} else if image.Pt(c.Width, c.Height) != f.rect.Size() {
			return nil, 0, fmt.Errorf("frame %d: its picture is %dx%d, its place %v", i, c.Width, c.Height, f.rect.Size())
		}
		m, err := webp.Decode(bytes.NewReader(still))
		if err != nil {
			return nil, 0, fmt.Errorf("frame %d: %w", i, err)
		}
		if m.Bounds().Size() != f.rect.Size() {
			return nil, 0, fmt.Errorf("frame %d: its picture is %v, its place %v", i, m.Bounds().Size(), f.rect.Size())
		}
		place(canvas, f.rect.Min, frameNRGBA(m), f.blend)
		out := image.NewNRGBA(screen)
		copy(out.Pix, canvas.Pix)
		if f.dispose {
			draw.Draw(canvas, f.rect, image.Transparent, image.Point{}, draw.Src)
		}
		return out, frameDelay(time.Duration(f.ms) * time.Millisecond), nil
	}
	return &Animation{Info: info, next: next}, nil
}

// frameNRGBA is a frame's picture as NRGBA: a lossy one converted from
// limited-range YCbCr, its chroma interpolated as libwebp does.
func frameNRGBA(m image.Image) *image.NRGBA {
	switch p := m.(type) {
	case *image.NRGBA:
		return p
	case *image.YCbCr:
		return videoNRGBA(p, nil, 0)
	case *image.NYCbCrA:
		return videoNRGBA(&p.YCbCr, p.A, p.AStride)
	}
	out := image.NewNRGBA(image.Rectangle{Max: m.Bounds().Size()})
	draw.Draw(out, out.Rect, m, m.Bounds().Min, draw.Src)
	return out
}

// place puts src on dst at at, over what is there (blend) or instead of
// it. Both are non-premultiplied: where src is partly transparent the two
// colours mix in proportion to what each contributes to the new alpha,
// src's alpha plus dst's alpha in what src lets through.
func place(dst *image.NRGBA, at image.Point, src *image.NRGBA, blend bool) {
	w := src.Rect.Dx()
	for y := range src.Rect.Dy() {
		s := src.Pix[y*src.Stride:][:4*w]
		d := dst.Pix[dst.PixOffset(at.X, at.Y+y):][:4*w]
		if !blend {
			copy(d, s)
			continue
		}
		for x := 0; x < 4*w; x += 4 {
			sa := uint32(s[x+3])
			switch {
			case sa == 0xff:
				copy(d[x:x+4], s[x:x+4])
				continue
			case sa == 0:
				continue
			}
			da := uint32(d[x+3]) * (0xff - sa) / 0xff // dst's share of the result
			a := sa + da
			for c := range 3 {
				d[x+c] = uint8((uint32(s[x+c])*sa + uint32(d[x+c])*da + a/2) / a)
			}
			d[x+3] = uint8(a)
		}
	}
}

// videoNRGBA converts a decoder's limited-range YCbCr (its origin at
// (0, 0)), with a non-premultiplied alpha plane or none.
func videoNRGBA(m *image.YCbCr, alpha []uint8, astride int) *image.NRGBA {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	out := image.NewNRGBA(image.Rect(0, 0, w, h))
	c := NewChromaRows(m)
	for y := range h {
		c.Row(y)
		ys := m.Y[y*m.YStride:][:w]
		d := out.Pix[y*out.Stride:][:4*w]
		for x := range w {
			d[4*x], d[4*x+1], d[4*x+2] = VideoToRGB(ys[x], c.Cb[x], c.Cr[x])
			d[4*x+3] = 0xff
			if alpha != nil {
				d[4*x+3] = alpha[y*astride+x]
			}
		}
	}
	return out
}

// webpFrame is one ANMF chunk: where the frame goes, for how long, and
// its picture's chunks (their data, in the file's bytes).
type webpFrame struct {
	rect           image.Rectangle
	ms             uint32
	blend, dispose bool
	alph, pic      []byte
	picType        string // "VP8 " or "VP8L"
}

var errANMF = errors.New("a damaged animation frame")

// webpFrames reads the ANMF chunks of an animated WebP (at most
// maxFrames); those of a file cut short, up to the cut.
func webpFrames(b []byte) ([]webpFrame, error) {
	var frames []webpFrame
	for typ, data := range riffChunks(b, 12) {
		if typ != "ANMF" {
			continue
		}
		if len(frames) == maxFrames {
			return nil, fmt.Errorf("more than %d frames", maxFrames)
		}
		f, err := webpFrameOf(data)
		if err != nil {
			return nil, fmt.Errorf("frame %d: %w", len(frames)+1, err)
		}
		frames = append(frames, f)
	}
	return frames, nil
}

// webpFrameOf reads an ANMF chunk's payload (WebP container
// specification): the frame's offset (in units of two pixels), size,
// duration and flags, then its bitstream: VP8L, or VP8 with an ALPH chunk
// before it or not.
func webpFrameOf(p []byte) (webpFrame, error) {
	if len(p) < 16 {
		return webpFrame{}, errANMF
	}
	x, y := 2*int(uint24(p[0:])), 2*int(uint24(p[3:]))
	w, h := int(uint24(p[6:]))+1, int(uint24(p[9:]))+1
	f := webpFrame{rect: image.Rect(x, y, x+w, y+h), ms: uint24(p[12:]), blend: p[15]&0x02 == 0, dispose: p[15]&0x01 != 0}
	for typ, data := range riffChunks(p, 16) {
		switch typ {
		case "ALPH":
			f.alph = data
		case "VP8 ", "VP8L":
			f.pic, f.picType = data, typ
		}
		if f.pic != nil {
			break
		}
	}
	if f.pic == nil {
		return webpFrame{}, errors.New("a frame without a picture")
	}
	return f, nil
}

// still is the frame's picture as a WebP file of its own.
func (f webpFrame) still() []byte {
	b := []byte("RIFF\x00\x00\x00\x00WEBP")
	if f.alph != nil && f.picType == "VP8 " {
		// A lossy picture with its alpha plane is an extended file.
		var x [10]byte
		x[0] = 0x10 // alpha
		putUint24(x[4:], uint32(f.rect.Dx()-1))
		putUint24(x[7:], uint32(f.rect.Dy()-1))
		b = appendChunk(b, "VP8X", x[:])
		b = appendChunk(b, "ALPH", f.alph)
	}
	b = appendChunk(b, f.picType, f.pic)
	binary.LittleEndian.PutUint32(b[4:], uint32(len(b)-8))
	return b
}

func putUint24(b []byte, v uint32) { b[0], b[1], b[2] = byte(v), byte(v>>8), byte(v>>16) }
