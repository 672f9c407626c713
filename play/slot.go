package play

import (
	"context"
	"sync"

	"slidestream/source"
)

// Renderer gives the JPEG bytes of a slide at a width. Implementations
// cache and deduplicate; the Timeline asks for each slide at each watched
// width, and every client asks again when the slide changes.
type Renderer interface {
	Render(ctx context.Context, p Picture, width int) ([]byte, error)
}

// A Holder counts the frames a timeline keeps in memory against the same
// bound as its Renderer's cache (--cache-size), so that one setting bounds
// them all: the frames of the slide on screen and the next one at the
// prepared widths, and a crossfade's frames. Hold is given the picture and
// width a frame was rendered for, or the zero Picture for a frame made here
// (a fade's); release ends the count, and may be called more than once.
type Holder interface {
	Hold(p Picture, width int, frame []byte) (release func())
}

// held are the counts of the frames one slot or fade keeps. Once let go,
// it ends every count, and any taken after at once.
type held struct {
	mu      sync.Mutex
	gone    bool
	release []func()
}

func (h *held) add(release func()) {
	h.mu.Lock()
	if !h.gone {
		h.release = append(h.release, release)
		release = nil
	}
	h.mu.Unlock()
	if release != nil {
		release()
	}
}

func (h *held) letGo() {
	h.mu.Lock()
	h.gone = true
	rs := h.release
	h.release = nil
	h.mu.Unlock()
	for _, r := range rs {
		r()
	}
}

// Picture is what one frame shows: a slide at its place in play order.
type Picture struct {
	Slide source.Slide
	// Pair, with --pair-portraits, is the portrait that follows Slide in
	// play order and shares its frame, on the right; its Name is "" when
	// Slide is shown alone.
	Pair source.Slide
	// Index (from 0) and Count place the slide in play order, for
	// captions; Count is 0 outside it (thumbnails on the status page).
	Index, Count int
}

// Slot is one slide as the timeline shows it, with its frames at the
// widths the timeline prepared (the default width and the most watched
// ones), rendered once per slot and kept while the slot is current or next.
// A few other widths are rendered for whoever asks, through the Renderer's
// cache, and not kept here; beyond them the nearest prepared width is
// served, so clients asking for hundreds of widths cost neither work nor
// memory beyond the cache's bound. It is safe for concurrent use.
type Slot struct {
	Slide source.Slide
	// Pair is the portrait shown beside Slide (--pair-portraits); its
	// Name is "" when there is none.
	Pair source.Slide
	// Index is the slide's place in play order, from 0, when it was picked,
	// among Count slides. Should the slide go, the one that takes its place
	// follows it.
	Index, Count int
	// moves is how long one play of the slide's motion lasts, up to the
	// timeline's longest: 0 for a still.
	moves Moves
	// ahead is the slide's motion, made ahead while it is next; only
	// Run's goroutine touches it.
	ahead  *Motion
	render Renderer
	// ctx is the timeline's: a render a client asked for runs on when that
	// client leaves, because others will want the same frame.
	ctx context.Context

	// hold counts the frames kept here (nil: not counted); held ends the
	// counts once the slot is no longer on screen, next or fading.
	hold Holder
	held *held

	mu     sync.Mutex // protects frames and onDemand
	frames map[int]*future
	// onDemand are the other widths asked for, up to maxOnDemandWidths;
	// beyond them the nearest prepared width is served.
	onDemand map[int]bool
}

// maxOnDemandWidths bounds the widths a slide is rendered at beyond the
// prepared ones, so that clients asking for many widths cannot multiply the
// work of every slide.
const maxOnDemandWidths = 4

type future struct {
	done chan struct{} // closed when b and err are set
	b    []byte
	err  error
}

func (s *Slot) start(width int) *future {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f, ok := s.frames[width]; ok {
		return f
	}
	f := &future{done: make(chan struct{})}
	s.frames[width] = f
	go func() {
		f.b, f.err = s.render.Render(s.ctx, s.Picture(), width)
		if f.err == nil && s.hold != nil {
			s.held.add(s.hold.Hold(s.Picture(), width, f.b))
		}
		close(f.done)
	}()
	return f
}

// Picture is what the slot shows.
func (s *Slot) Picture() Picture {
	return Picture{Slide: s.Slide, Pair: s.Pair, Index: s.Index, Count: s.Count}
}

// last is the slide of s that comes last in play order.
func (s *Slot) last() source.Slide {
	if s.Pair.Name != "" {
		return s.Pair
	}
	return s.Slide
}

// Frame returns the slide's frame at width, waiting at most until ctx
// ends. A width the timeline did not prepare is rendered for this caller
// under ctx: if every caller leaves before it starts, it is dropped.
func (s *Slot) Frame(ctx context.Context, width int) ([]byte, error) {
	s.mu.Lock()
	f, ok := s.frames[width]
	switch {
	case !ok && len(s.frames) == 0:
		// A slot of a timeline nobody watched: the first width asked
		// for is its own.
		s.mu.Unlock()
		f = s.start(width)
	case !ok && s.demand(width):
		s.mu.Unlock()
		return s.render.Render(ctx, s.Picture(), width)
	case !ok:
		f = s.frames[s.nearest(width)]
		s.mu.Unlock()
	default:
		s.mu.Unlock()
	}
	select {
	case <-f.done:
		return f.b, f.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// nearest is the prepared width closest to width. s.mu must be held, and
// the slot must have a frame: a slot the timeline prepared has its default
// width, and one it did not (nobody watched) gets the first width asked.
func (s *Slot) nearest(width int) int {
	best := -1
	for w := range s.frames {
		if best < 0 || abs(w-width) < abs(best-width) || (abs(w-width) == abs(best-width) && w > best) {
			best = w
		}
	}
	return best
}

// serves is the width of the frame Frame gives for width: width itself
// when the slot prepares it or renders it on demand (taking one of the
// on-demand places if one is free, as Frame would), else the nearest
// prepared width.
func (s *Slot) serves(width int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.frames[width]; ok || len(s.frames) == 0 || s.demand(width) {
		return width
	}
	return s.nearest(width)
}

// demand reports whether width is rendered on demand, taking a free
// place for it if there is one. s.mu must be held.
func (s *Slot) demand(width int) bool {
	if !s.onDemand[width] && len(s.onDemand) >= maxOnDemandWidths {
		return false
	}
	if s.onDemand == nil {
		s.onDemand = make(map[int]bool)
	}
	s.onDemand[width] = true
	return true
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// Ready returns the frame at width if the timeline prepared that width and
// it is rendered; otherwise nil, at once.
func (s *Slot) Ready(width int) []byte {
	s.mu.Lock()
	f, ok := s.frames[width]
	s.mu.Unlock()
	if !ok {
		return nil
	}
	select {
	case <-f.done:
		if f.err != nil {
			return nil
		}
		return f.b
	default:
		return nil
	}
}
