package decode

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"image/gif"
	"io"
	"time"
)

// Motion: an animated GIF or WebP plays its frames, composited as the
// formats say (each frame drawn over what the one before left, then
// disposed of), each for its own delay. A delay under 20 ms counts as
// 100 ms, as browsers count it: many GIFs say 0 and mean "as fast as the
// viewer goes", which browsers long ago set at ten frames a second.

// MotionKind says how a file moves.
type MotionKind int

const (
	// Still: the file does not move (or its motion cannot be read).
	Still MotionKind = iota
	// Animated: an animated GIF or WebP, looped while its slide shows.
	Animated
)

func (k MotionKind) String() string {
	if k == Animated {
		return "animation"
	}
	return "photo"
}

// MotionInfo says whether and how a file moves, as read without decoding
// its pixels.
type MotionInfo struct {
	Kind MotionKind
	// Frames is how many frames one play has, Length how long it lasts.
	Frames int
	Length time.Duration
	// Canvas is the size of the frames.
	Canvas image.Point
	// Pixels is what decoding every frame at once takes, in stored
	// pixels: a GIF's frames are all decoded together (image/gif has no
	// frame-at-a-time decoder); a WebP's one at a time, so its canvas.
	Pixels int64
}

// minDelay and slowDelay: a frame shown for less than minDelay is shown
// for slowDelay.
const (
	minDelay  = 20 * time.Millisecond
	slowDelay = 100 * time.Millisecond
)

func frameDelay(d time.Duration) time.Duration {
	if d < minDelay {
		return slowDelay
	}
	return d
}

// maxFrames bounds the frames of one animation that are read at all.
const maxFrames = 10000

// ErrNoMotion: the file is no animation, or its frames cannot be read.
var ErrNoMotion = errors.New("not an animation")

// Motion reads whether data moves: an animated GIF (more than one frame)
// or an animated WebP. It reads the blocks' headers only, never the
// pixels, and stops at the first thing that does not parse: a file it
// cannot read is a Still.
func Motion(data []byte) MotionInfo {
	var m MotionInfo
	switch {
	case gifFormat.magic(data):
		m = gifMotion(data)
	case webpFormat.magic(data):
		m = webpMotion(data)
	}
	if m.Frames < 2 || m.Frames > maxFrames || m.Canvas.X <= 0 || m.Canvas.Y <= 0 {
		return MotionInfo{}
	}
	m.Kind = Animated
	return m
}

// gifMotion walks a GIF's blocks (GIF89a: the logical screen descriptor,
// the colour table, then extensions and images, each image's data in
// sub-blocks) for its frames' delays and sizes.
func gifMotion(b []byte) MotionInfo {
	var m MotionInfo
	if len(b) < 13 {
		return m
	}
	m.Canvas = image.Pt(int(binary.LittleEndian.Uint16(b[6:])), int(binary.LittleEndian.Uint16(b[8:])))
	i := 13
	if b[10]&0x80 != 0 {
		i += 3 << (int(b[10]&7) + 1)
	}
	// subBlocks skips sub-blocks from j to the one of size 0, and returns
	// where it ends, or -1 past the end of b.
	subBlocks := func(j int) int {
		for j < len(b) {
			n := int(b[j])
			j++
			if n == 0 {
				return j
			}
			j += n
		}
		return -1
	}
	delay := time.Duration(0)
	for i < len(b) && m.Frames <= maxFrames {
		switch b[i] {
		case 0x21: // an extension: its label, then sub-blocks
			if i+2 >= len(b) {
				return m
			}
			if b[i+1] == 0xF9 && b[i+2] >= 4 && i+6 < len(b) { // graphic control: the next image's delay
				delay = time.Duration(binary.LittleEndian.Uint16(b[i+4:])) * 10 * time.Millisecond
			}
			if i = subBlocks(i + 2); i < 0 {
				return m
			}
		case 0x2C: // an image: its descriptor, colour table, code size, data
			if i+10 > len(b) {
				return m
			}
			w, h := int64(binary.LittleEndian.Uint16(b[i+5:])), int64(binary.LittleEndian.Uint16(b[i+7:]))
			packed := b[i+9]
			i += 10
			if packed&0x80 != 0 {
				i += 3 << (int(packed&7) + 1)
			}
			if i = subBlocks(i + 1); i < 0 {
				return m // a truncated last frame is not counted
			}
			m.Frames++
			m.Length += frameDelay(delay)
			m.Pixels += w * h
			delay = 0
		case 0x3B: // the trailer
			return m
		default:
			return m
		}
	}
	return m
}

// webpMotion reads an animated WebP's ANMF chunks: each frame's duration
// is the 24-bit number after its offset and size.
func webpMotion(b []byte) MotionInfo {
	var m MotionInfo
	x := webpChunk(b, "VP8X")
	if len(x) < 10 || x[0]&0x02 == 0 {
		return m
	}
	m.Canvas = image.Pt(int(uint24(x[4:]))+1, int(uint24(x[7:]))+1)
	for typ, data := range riffChunks(b, 12) {
		if m.Frames > maxFrames {
			break
		}
		if typ == "ANMF" && len(data) >= 16 {
			m.Frames++
			m.Length += frameDelay(time.Duration(uint24(data[12:])) * time.Millisecond)
		}
	}
	m.Pixels = 3 * int64(m.Canvas.X) * int64(m.Canvas.Y)
	return m
}

func uint24(b []byte) uint32 { return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 }

// Animation gives an animated picture's frames in order, each a whole
// canvas as it shows. It is not safe for concurrent use.
type Animation struct {
	Info MotionInfo
	next func() (*image.NRGBA, time.Duration, error)
}

// Next returns the next frame and how long it shows, or io.EOF after the
// last. The image is the caller's.
func (a *Animation) Next() (*image.NRGBA, time.Duration, error) { return a.next() }

// OpenAnimation prepares the frames of an animated GIF or WebP, within
// lim: the canvas is checked against MaxPixels, and so are all a GIF's
// frames together (they are decoded at once).
func OpenAnimation(data []byte, lim Limits) (*Animation, error) {
	info := Motion(data)
	if info.Kind != Animated {
		return nil, ErrNoMotion
	}
	if err := lim.checkPixels("animation", info.Canvas.X, info.Canvas.Y); err != nil {
		return nil, err
	}
	if info.Pixels > 4*lim.maxPixels() {
		return nil, fmt.Errorf("its %d frames hold %d pixels, over %d (4 × --max-pixels): shown as a still", info.Frames, info.Pixels, 4*lim.maxPixels())
	}
	if gifFormat.magic(data) {
		return openGIF(data, info)
	}
	return openWebP(data, info)
}

// openGIF composites a GIF's frames: each drawn over the canvas, then
// disposed of as its graphic control says (kept, cleared to transparent
// as browsers do for "restore to background", or the canvas put back as
// it was before the frame).
func openGIF(data []byte, info MotionInfo) (*Animation, error) {
	g, err := gif.DecodeAll(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	if len(g.Image) < 2 {
		return nil, ErrNoMotion
	}
	screen := image.Rect(0, 0, g.Config.Width, g.Config.Height)
	canvas := image.NewNRGBA(screen)
	var saved *image.NRGBA
	i := 0
	next := func() (*image.NRGBA, time.Duration, error) {
		if i >= len(g.Image) {
			return nil, 0, io.EOF
		}
		fr := g.Image[i]
		disposal := byte(0)
		if i < len(g.Disposal) {
			disposal = g.Disposal[i]
		}
		if disposal == gif.DisposalPrevious {
			saved = image.NewNRGBA(screen)
			copy(saved.Pix, canvas.Pix)
		}
		r := fr.Bounds().Intersect(screen)
		draw.Draw(canvas, r, fr, r.Min, draw.Over)
		out := image.NewNRGBA(screen)
		copy(out.Pix, canvas.Pix)
		switch disposal {
		case gif.DisposalBackground:
			draw.Draw(canvas, r, image.Transparent, image.Point{}, draw.Src)
		case gif.DisposalPrevious:
			canvas, saved = saved, nil
		}
		d := time.Duration(0)
		if i < len(g.Delay) {
			d = time.Duration(g.Delay[i]) * 10 * time.Millisecond
		}
		g.Image[i] = nil // its pixels are done with
		i++
		return out, frameDelay(d), nil
	}
	return &Animation{Info: info, next: next}, nil
}

// webpFirstFrame is an animated WebP's first frame, its still.
func webpFirstFrame(data []byte) (image.Image, error) {
	info := webpMotion(data)
	a, err := openWebP(data, info)
	if err != nil {
		return nil, err
	}
	m, _, err := a.Next()
	return m, err
}

// Animation reads the rest of the file and prepares its frames
// (OpenAnimation): ErrNoMotion when it does not move.
func (f *File) Animation(lim Limits) (*Animation, error) {
	if err := f.fill(f.header.Size); err != nil {
		return nil, err
	}
	return OpenAnimation(f.data, lim)
}

// Bytes reads the rest of the file and returns all of it (within
// --max-file-size, checked when it was opened).
func (f *File) Bytes() ([]byte, error) {
	if err := f.fill(f.header.Size); err != nil {
		return nil, err
	}
	return f.data, nil
}
