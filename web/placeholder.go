package web

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// placeholders makes the frame shown when there is no slide: the reason,
// in large letters on a dark 16:9 frame. A real JPEG part, not silence, so
// that clients with read timeouts keep the stream and the viewer learns
// what is wrong. It is safe for concurrent use.
type placeholders struct {
	// fit, when set, is the frame size at its width: placeholders keep
	// its aspect ratio, as slides do under --fit.
	fit image.Point

	mu sync.Mutex // protects made
	// made holds a few recent frames by reason and width.
	made map[placeholderKey][]byte
}

type placeholderKey struct {
	reason string
	width  int
}

func (p *placeholders) frame(reason string, width int) []byte {
	return p.keep(reason, width, func(w, h int) []byte { return drawMessage(reason, w, h) })
}

// black is an all-black frame, shown during the sleep hours.
func (p *placeholders) black(width int) []byte {
	return p.keep("\x00black", width, func(w, h int) []byte {
		var buf bytes.Buffer
		jpeg.Encode(&buf, image.NewGray(image.Rect(0, 0, w, h)), &jpeg.Options{Quality: 50})
		return buf.Bytes()
	})
}

// keep returns the frame kept under (reason, width), drawing it if need be.
func (p *placeholders) keep(reason string, width int, paint func(w, h int) []byte) []byte {
	if width <= 0 {
		width = 1280
	}
	k := placeholderKey{reason, width}
	p.mu.Lock()
	defer p.mu.Unlock()
	if b, ok := p.made[k]; ok {
		return b
	}
	if p.made == nil || len(p.made) > 32 {
		p.made = make(map[placeholderKey][]byte)
	}
	height := max(width*9/16, 2)
	if p.fit.X > 0 {
		height = max(1, (width*p.fit.Y+p.fit.X/2)/p.fit.X)
	}
	b := paint(width, height)
	p.made[k] = b
	return b
}

func drawMessage(msg string, width, height int) []byte {
	face := basicfont.Face7x13
	// Draw the text at the font's size, then blow it up with whole pixels
	// to about 70% of the frame width: crisp at any width.
	tw := font.MeasureString(face, msg).Ceil() + 2
	small := image.NewGray(image.Rect(0, 0, tw, 15))
	d := font.Drawer{Dst: small, Src: image.NewUniform(color.Gray{200}), Face: face, Dot: fixed.P(1, 12)}
	d.DrawString(msg)
	scale := max(1, width*7/10/tw)
	out := image.NewRGBA(image.Rect(0, 0, width, height))
	draw.Draw(out, out.Bounds(), image.NewUniform(color.RGBA{16, 16, 16, 255}), image.Point{}, draw.Src)
	x0, y0 := (width-tw*scale)/2, (height-15*scale)/2
	for y := 0; y < 15*scale; y++ {
		for x := 0; x < tw*scale; x++ {
			if v := small.GrayAt(x/scale, y/scale).Y; v != 0 && image.Pt(x0+x, y0+y).In(out.Rect) {
				out.SetRGBA(x0+x, y0+y, color.RGBA{v, v, v, 255})
			}
		}
	}
	var buf bytes.Buffer
	jpeg.Encode(&buf, out, &jpeg.Options{Quality: 80})
	return buf.Bytes()
}
