package stream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"
)

// Renderer gives the JPEG bytes of a slide at a width. Implementations
// cache and deduplicate; the Timeline asks for each slide at each watched
// width, and every client asks again when the slide changes.
type Renderer interface {
	Render(ctx context.Context, s Slide, width int) ([]byte, error)
}

// Lister gives the current slides in play order and a channel closed when
// they change. *Folder is one.
type Lister interface {
	Slides() ([]Slide, <-chan struct{})
}

// maxPreparedWidths bounds how many widths are rendered ahead of time, so
// that clients asking for hundreds of odd widths cannot multiply the work
// of every slide. Other widths are rendered when their clients ask.
const maxPreparedWidths = 8

// State is what the timeline shows now. A published State is never
// modified, so clients read it without locks.
type State struct {
	Seq    uint64
	Slide  *Slot     // the slide on screen; nil when there is none
	Next   *Slot     // the slide that follows, once it is prepared
	NextAt time.Time // when Next takes over
	Reason string    // why there is nothing to show, when Slide is nil
}

// Slot is one slide as the timeline shows it, with its frames per width.
// Frames are rendered once per slot and width and kept while the slot is
// current or next. It is safe for concurrent use.
type Slot struct {
	Slide Slide
	// Index is the slide's place in play order, from 0, when it was picked.
	Index  int
	render Renderer
	// ctx is the timeline's: a render a client asked for runs on when that
	// client leaves, because others will want the same frame.
	ctx context.Context

	mu     sync.Mutex // protects frames
	frames map[int]*future
}

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
		f.b, f.err = s.render.Render(s.ctx, s.Slide, width)
		close(f.done)
	}()
	return f
}

// Frame returns the slide's frame at width, rendering it if no one has
// asked before, and waiting at most until ctx ends.
func (s *Slot) Frame(ctx context.Context, width int) ([]byte, error) {
	f := s.start(width)
	select {
	case <-f.done:
		return f.b, f.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Ready returns the frame at width if it is already rendered; otherwise it
// starts rendering and returns a channel that closes when it is done.
func (s *Slot) Ready(width int) ([]byte, <-chan struct{}) {
	f := s.start(width)
	select {
	case <-f.done:
		if f.err != nil {
			return nil, nil
		}
		return f.b, nil
	default:
		return nil, f.done
	}
}

// Timeline advances through the slides on one clock shared by every client.
// While a slide shows, the next one is rendered at every watched width, so
// slides change on time even when a transcode takes seconds. A file that
// cannot be shown is logged once per version and its slot goes to the next
// good file. It is safe for concurrent use.
type Timeline struct {
	slides    Lister
	render    Renderer
	interval  time.Duration
	lookahead int    // slides rendered ahead, beyond the next one
	width     int    // always prepared, even with no client
	empty     string // the reason shown when there are no slides
	log       *slog.Logger

	mu      sync.Mutex // protects everything below
	state   *State
	changed chan struct{} // closed when state is replaced
	widths  map[int]int   // watched width → number of clients
	failed  map[string]failure
	ahead   map[aheadKey]bool // renders started ahead of time, until done
}

type aheadKey struct {
	path  string
	width int
}

type failure struct {
	slide Slide
	err   error
}

// TimelineOptions configures a Timeline.
type TimelineOptions struct {
	// Interval is how long each slide shows; 0 advances as fast as slides
	// can be rendered.
	Interval time.Duration
	// Width is the frame width prepared ahead even when no client watches.
	Width int
	// Empty is the reason given while there are no slides, such as
	// "no images in photos/".
	Empty string
	// Lookahead is how many slides beyond the next one are rendered ahead,
	// in parallel, so that a cold folder uses every core. The renderer
	// bounds how many transcodes really run at once.
	Lookahead int
	Log       *slog.Logger
}

// NewTimeline returns a timeline over slides; call Run to start it.
func NewTimeline(slides Lister, render Renderer, o TimelineOptions) *Timeline {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Empty == "" {
		o.Empty = "no images"
	}
	return &Timeline{
		slides:    slides,
		render:    render,
		interval:  o.Interval,
		lookahead: o.Lookahead,
		width:     o.Width,
		empty:     o.Empty,
		log:       o.Log,
		state:     &State{Reason: "starting"},
		changed:   make(chan struct{}),
		widths:    make(map[int]int),
		failed:    make(map[string]failure),
		ahead:     make(map[aheadKey]bool),
	}
}

// State returns the current state and a channel closed when it changes.
func (t *Timeline) State() (*State, <-chan struct{}) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.state, t.changed
}

// Watch registers a client at width so that coming slides are prepared at
// that width too; call the returned function when the client leaves.
func (t *Timeline) Watch(width int) (release func()) {
	t.mu.Lock()
	t.widths[width]++
	t.mu.Unlock()
	return sync.OnceFunc(func() {
		t.mu.Lock()
		if t.widths[width]--; t.widths[width] <= 0 {
			delete(t.widths, width)
		}
		t.mu.Unlock()
	})
}

// Slides returns the slides in play order, as the timeline sees them.
func (t *Timeline) Slides() []Slide {
	list, _ := t.slides.Slides()
	return list
}

// Thumbnail renders slide s at width through the timeline's renderer,
// outside the play order.
func (t *Timeline) Thumbnail(ctx context.Context, s Slide, width int) ([]byte, error) {
	return t.render.Render(ctx, s, width)
}

// Skipped returns the files that cannot be shown, by path, with the reason.
func (t *Timeline) Skipped() map[string]error {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[string]error, len(t.failed))
	for p, f := range t.failed {
		out[p] = f.err
	}
	return out
}

// preparedWidths is the default width and the most watched others.
func (t *Timeline) preparedWidths() []int {
	t.mu.Lock()
	defer t.mu.Unlock()
	ws := make([]int, 0, len(t.widths))
	for w := range t.widths {
		if w != t.width {
			ws = append(ws, w)
		}
	}
	slices.SortFunc(ws, func(a, b int) int { return t.widths[b] - t.widths[a] })
	return append([]int{t.width}, ws[:min(len(ws), maxPreparedWidths-1)]...)
}

func (t *Timeline) publish(cur, next *Slot, nextAt time.Time, reason string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.state = &State{Seq: t.state.Seq + 1, Slide: cur, Next: next, NextAt: nextAt, Reason: reason}
	close(t.changed)
	t.changed = make(chan struct{})
}

// Run plays the slides until ctx ends.
func (t *Timeline) Run(ctx context.Context) {
	var cur *Slot
	var shownAt time.Time
	for ctx.Err() == nil {
		next, reason, wake := t.pick(ctx, cur)
		if ctx.Err() != nil {
			return
		}
		if next == nil {
			t.publish(nil, nil, time.Time{}, reason)
			cur = nil
			select {
			case <-ctx.Done():
				return
			case <-wake:
			}
			continue
		}
		if cur == nil {
			cur, shownAt = next, time.Now()
			t.publish(cur, nil, time.Time{}, "")
			continue
		}
		due := shownAt.Add(t.interval)
		t.publish(cur, next, due, "")
		next = t.waitUntil(ctx, due, cur, next, wake)
		if next == nil {
			continue // the folder changed under the prepared slide; pick again
		}
		if now := time.Now(); now.Sub(due) > 50*time.Millisecond {
			shownAt = now // late: give this slide its full interval
		} else {
			shownAt = due // on time: no drift
		}
		cur = next
		t.publish(cur, nil, time.Time{}, "")
	}
}

// waitUntil waits for due and returns next, or nil if the folder changed
// so that next is no longer the slide that should follow cur.
func (t *Timeline) waitUntil(ctx context.Context, due time.Time, cur, next *Slot, wake <-chan struct{}) *Slot {
	timer := time.NewTimer(time.Until(due))
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
			return next
		case <-wake:
			var list []Slide
			list, wake = t.slides.Slides()
			if s, ok := successor(list, cur.Slide.Name); !ok || !s.Same(next.Slide) {
				t.publish(cur, nil, time.Time{}, "")
				return nil
			}
		}
	}
}

// successor is the first slide after name in play order, wrapping around.
func successor(list []Slide, name string) (Slide, bool) {
	if len(list) == 0 {
		return Slide{}, false
	}
	i, found := slices.BinarySearchFunc(list, name, func(s Slide, n string) int {
		switch {
		case s.Name < n:
			return -1
		case s.Name > n:
			return 1
		}
		return 0
	})
	if found {
		i++
	}
	return list[i%len(list)], true
}

// pick renders the first good slide after cur (the first of all when cur
// is nil) at every prepared width. It returns nil and a reason when no
// slide can be shown, with the channel that signals the next folder change.
func (t *Timeline) pick(ctx context.Context, cur *Slot) (*Slot, string, <-chan struct{}) {
	list, wake := t.slides.Slides()
	t.forget(list)
	if len(list) == 0 {
		return nil, t.empty, wake
	}
	start := 0
	if cur != nil {
		s, _ := successor(list, cur.Slide.Name)
		start = slices.IndexFunc(list, func(x Slide) bool { return x.Name == s.Name })
	}
	widths := t.preparedWidths()
	// While a slide shows, the slides after it are rendered in parallel.
	// At the start nothing shows yet: the first slide gets the machine to
	// itself, since two large decodes at once each take far longer, and
	// the first frame is what a new screen waits for.
	ahead := sync.OnceFunc(func() { t.renderAhead(ctx, list, start, widths[0]) })
	if cur != nil {
		ahead()
	}
	defer ahead()
	for k := range list {
		i := (start + k) % len(list)
		s := list[i]
		if t.knownBad(s) {
			continue
		}
		slot := cur
		if cur == nil || !cur.Slide.Same(s) {
			slot = &Slot{Slide: s, Index: i, render: t.render, ctx: ctx, frames: make(map[int]*future)}
		}
		for _, w := range widths {
			slot.start(w)
		}
		_, err := slot.Frame(ctx, widths[0])
		if ctx.Err() != nil {
			return nil, "", wake
		}
		if err != nil {
			t.fail(s, err)
			continue
		}
		for _, w := range widths[1:] {
			slot.Frame(ctx, w) // a failure here shows only at that width
		}
		return slot, "", wake
	}
	return nil, fmt.Sprintf("none of the %d images can be shown (see the log)", len(list)), wake
}

// renderAhead starts rendering the lookahead slides after list[start] in
// the background; their frames wait in the renderer's cache.
func (t *Timeline) renderAhead(ctx context.Context, list []Slide, start, width int) {
	for k := 1; k <= min(t.lookahead, len(list)-1); k++ {
		s := list[(start+k)%len(list)]
		key := aheadKey{s.Path, width}
		t.mu.Lock()
		busy := t.ahead[key]
		if f, ok := t.failed[s.Path]; busy || (ok && f.slide.Same(s)) {
			t.mu.Unlock()
			continue
		}
		t.ahead[key] = true
		t.mu.Unlock()
		go func() {
			t.render.Render(ctx, s, width) // errors are reported when the slide comes up
			t.mu.Lock()
			delete(t.ahead, key)
			t.mu.Unlock()
		}()
	}
}

// failure returns why this version of s could not be shown, or nil.
func (t *Timeline) failure(s Slide) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if f, ok := t.failed[s.Path]; ok && f.slide.Same(s) {
		return f.err
	}
	return nil
}

func (t *Timeline) knownBad(s Slide) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	f, ok := t.failed[s.Path]
	return ok && f.slide.Same(s)
}

func (t *Timeline) fail(s Slide, err error) {
	if errors.Is(err, context.Canceled) {
		return
	}
	t.mu.Lock()
	t.failed[s.Path] = failure{s, err}
	t.mu.Unlock()
	t.log.Warn("skipping image", "file", s.Path, "reason", err.Error())
}

// forget drops failures of files that are gone or changed, so a fixed file
// is tried again and the map does not grow.
func (t *Timeline) forget(list []Slide) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for p, f := range t.failed {
		i := slices.IndexFunc(list, func(s Slide) bool { return s.Path == p })
		if i < 0 || !list[i].Same(f.slide) {
			delete(t.failed, p)
		}
	}
}
