package web

import (
	"image"
	"sync"

	"slidestream/encode"
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

// frame is the placeholder that gives reason.
func (p *placeholders) frame(reason string, width int) []byte { return p.keep(reason, width) }

// black is an all-black frame, shown during the sleep hours.
func (p *placeholders) black(width int) []byte { return p.keep("", width) }

// keep returns the frame kept under (reason, width), drawing it if need
// be: the reason in the captions' font, by encode.Notice, as frames are
// made.
func (p *placeholders) keep(reason string, width int) []byte {
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
	b, err := encode.Notice(reason, width, height, encode.DefaultQuality)
	if err != nil { // cannot happen for an RGBA picture; show nothing new
		return nil
	}
	p.made[k] = b
	return b
}
