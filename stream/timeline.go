package stream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"slidestream/source"
)

// Renderer gives the JPEG bytes of a slide at a width. Implementations
// cache and deduplicate; the Timeline asks for each slide at each watched
// width, and every client asks again when the slide changes.
type Renderer interface {
	Render(ctx context.Context, s source.Slide, width int) ([]byte, error)
}

// Lister gives the current listing of slides and a channel closed when it
// changes. *source.Folder is one.
type Lister interface {
	Slides() ([]source.Slide, <-chan struct{})
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

// Slot is one slide as the timeline shows it, with its frames at the
// widths the timeline prepared (the default width and the most watched
// ones), rendered once per slot and kept while the slot is current or next.
// A few other widths are rendered for whoever asks, through the Renderer's
// cache, and not kept here; beyond them the nearest prepared width is
// served, so clients asking for hundreds of widths cost neither work nor
// memory beyond the cache's bound. It is safe for concurrent use.
type Slot struct {
	Slide source.Slide
	// Index is the slide's place in play order, from 0, when it was picked.
	// Should the slide go, the one that takes its place follows it.
	Index  int
	render Renderer
	// ctx is the timeline's: a render a client asked for runs on when that
	// client leaves, because others will want the same frame.
	ctx context.Context

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
		f.b, f.err = s.render.Render(s.ctx, s.Slide, width)
		close(f.done)
	}()
	return f
}

// Frame returns the slide's frame at width, waiting at most until ctx
// ends. A width the timeline did not prepare is rendered for this caller
// under ctx: if every caller leaves before it starts, it is dropped.
func (s *Slot) Frame(ctx context.Context, width int) ([]byte, error) {
	s.mu.Lock()
	f, ok := s.frames[width]
	if !ok && (s.onDemand[width] || len(s.onDemand) < maxOnDemandWidths) {
		if s.onDemand == nil {
			s.onDemand = make(map[int]bool)
		}
		s.onDemand[width] = true
		s.mu.Unlock()
		return s.render.Render(ctx, s.Slide, width)
	}
	if !ok {
		f = s.nearest(width)
	}
	s.mu.Unlock()
	select {
	case <-f.done:
		return f.b, f.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// nearest is the prepared frame whose width is closest to width. s.mu must
// be held; a slot always has at least the default width.
func (s *Slot) nearest(width int) *future {
	best := -1
	for w := range s.frames {
		if best < 0 || abs(w-width) < abs(best-width) || (abs(w-width) == abs(best-width) && w > best) {
			best = w
		}
	}
	return s.frames[best]
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

type preparingKey struct{}

// Preparing reports whether a Render is the timeline preparing the slides
// to show (the one on screen, the next, and those rendered ahead) at a
// prepared width: a Renderer that queues work should serve it before
// anything else, or the slideshow waits.
func Preparing(ctx context.Context) bool {
	v, _ := ctx.Value(preparingKey{}).(bool)
	return v
}

// Timeline advances through the slides on one clock shared by every client,
// in the play order its Order arranges them in, finding the slide after the
// one on screen by its name in that arrangement. While a slide shows, the
// next one is rendered at every watched width, so slides change on time
// even when a transcode takes seconds. A file that cannot be shown is
// logged once per version and its slot goes to the next good file. It is
// safe for concurrent use.
type Timeline struct {
	slides    Lister
	order     source.Order
	lasting   func(error) bool
	retry     time.Duration
	render    Renderer
	interval  time.Duration
	lookahead int    // slides rendered ahead, beyond the next one
	width     int    // always prepared, even with no client
	empty     string // the reason shown when there are no slides
	log       *slog.Logger

	mu      sync.Mutex // protects everything below
	state   *State
	changed chan struct{}      // closed when state is replaced
	widths  map[int]int        // watched width → number of clients
	failed  map[string]failure // by slide name
	ahead   map[aheadKey]bool  // renders started ahead of time, until done
	// list is the listing in play order; listed is the listing's change
	// channel when it was arranged, and pass the times it was played
	// through.
	list    *source.List
	listed  <-chan struct{}
	pass    int
	showing string // the name of the slide on screen, for the Order
}

type aheadKey struct {
	name  string
	width int
}

// failure is why a version of a file could not be shown. A lasting one
// stands until the file changes; one that belongs to the moment is tried
// again at retryAt.
type failure struct {
	slide   source.Slide
	err     error
	lasting bool
	tries   int
	retryAt time.Time
}

// maxRetry is the longest wait before a failure that passes is tried again.
const maxRetry = 5 * time.Minute

// TimelineOptions configures a Timeline.
type TimelineOptions struct {
	// Order arranges the slides in play order (default source.ByName). A
	// timeline keeps its own: an Order may hold the state of its passes.
	Order source.Order
	// Interval is how long each slide shows; 0 advances as fast as slides
	// can be rendered.
	Interval time.Duration
	// Width is the frame width prepared ahead even when no client watches.
	Width int
	// Empty is the reason given while there are no slides, such as
	// "no images in photos/".
	Empty string
	// Lasting reports whether a render's failure belongs to the file's bytes
	// and stands until the file changes. Other failures (a file that cannot
	// be read now, a peer that could not answer) are tried again after
	// Retry, doubling each time up to five minutes. Without it every
	// failure lasts.
	Lasting func(error) bool
	// Retry is the first wait before a failure that passes is tried again
	// (default 5s).
	Retry time.Duration
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
	if o.Order == nil {
		o.Order = source.ByName
	}
	if o.Lasting == nil {
		o.Lasting = func(error) bool { return true }
	}
	if o.Retry <= 0 {
		o.Retry = 5 * time.Second
	}
	return &Timeline{
		slides:    slides,
		order:     o.Order,
		lasting:   o.Lasting,
		retry:     o.Retry,
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
func (t *Timeline) Slides() []source.Slide {
	list, _ := t.playlist()
	return list.Slides()
}

// playlist returns the slides in play order, arranging the listing again
// when it has changed, and the channel that closes at its next change.
func (t *Timeline) playlist() (*source.List, <-chan struct{}) {
	listing, changed := t.slides.Slides()
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.list == nil || changed != t.listed {
		t.list, t.listed = t.order.Arrange(listing, t.pass, t.showing), changed
	}
	return t.list, changed
}

// newPass arranges the listing for the next pass through it.
func (t *Timeline) newPass() *source.List {
	listing, changed := t.slides.Slides()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.pass++
	t.list, t.listed = t.order.Arrange(listing, t.pass, t.showing), changed
	return t.list
}

// after returns the place in list of the slide that follows cur: the next
// one after cur's own place or, if cur is gone, the one that took its
// place. It may be list.Len(), the end of the pass.
func after(list *source.List, cur *Slot) int {
	if i, ok := list.Find(cur.Slide.Name); ok {
		return i + 1
	}
	return min(cur.Index, list.Len())
}

// Thumbnail renders slide s at width through the timeline's renderer,
// outside the play order.
func (t *Timeline) Thumbnail(ctx context.Context, s source.Slide, width int) ([]byte, error) {
	return t.render.Render(ctx, s, width)
}

// Skipped returns the files that cannot be shown, by name, with the reason.
func (t *Timeline) Skipped() map[string]error {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[string]error, len(t.failed))
	for p, f := range t.failed {
		out[p] = f.err
	}
	return out
}

// failures returns a copy of the failures, by name.
func (t *Timeline) failures() map[string]failure {
	t.mu.Lock()
	defer t.mu.Unlock()
	return maps.Clone(t.failed)
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
	t.showing = ""
	if cur != nil {
		t.showing = cur.Slide.Name
	}
	close(t.changed)
	t.changed = make(chan struct{})
}

// ready returns a channel closed once the listing is known: a Lister that
// lists in the background says when (a Ready method); others are ready.
func (t *Timeline) ready() <-chan struct{} {
	if r, ok := t.slides.(interface{ Ready() <-chan struct{} }); ok {
		return r.Ready()
	}
	return nil
}

func (t *Timeline) hasListing() bool {
	r := t.ready()
	if r == nil {
		return true
	}
	select {
	case <-r:
		return true
	default:
		return false
	}
}

// firstListing bounds the wait for a first listing before the timeline
// shows that it is reading the folder: a small folder is listed well
// within it, and screens get its first slide without a notice first.
const firstListing = 2 * time.Second

// Run plays the slides until ctx ends.
func (t *Timeline) Run(ctx context.Context) {
	if r := t.ready(); r != nil {
		select {
		case <-ctx.Done():
			return
		case <-r:
		case <-time.After(firstListing):
		}
	}
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
			var list *source.List
			list, wake = t.playlist()
			if list.Len() == 0 || !list.At(after(list, cur)%list.Len()).Same(next.Slide) {
				t.publish(cur, nil, time.Time{}, "")
				return nil
			}
		}
	}
}

// pick renders the first good slide after cur (the first of all when cur
// is nil) at every prepared width. It returns nil and a reason when no
// slide can be shown, with the channel that signals the next folder change.
func (t *Timeline) pick(ctx context.Context, cur *Slot) (*Slot, string, <-chan struct{}) {
	list, wake := t.playlist()
	t.forget(list)
	if list.Len() == 0 {
		if !t.hasListing() {
			return nil, "reading the folder", wake // a large library takes a moment
		}
		return nil, t.empty, wake
	}
	start := 0
	if cur != nil {
		if start = after(list, cur); start == list.Len() {
			list, start = t.newPass(), 0
		}
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
	for k := range list.Len() {
		i := (start + k) % list.Len()
		s := list.At(i)
		if t.knownBad(s) {
			continue
		}
		slot := cur
		if cur == nil || !cur.Slide.Same(s) {
			slot = &Slot{Slide: s, Index: i, render: t.render, ctx: context.WithValue(ctx, preparingKey{}, true),
				frames: make(map[int]*future)}
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
		t.recovered(s)
		for _, w := range widths[1:] {
			slot.Frame(ctx, w) // a failure here shows only at that width
		}
		return slot, "", wake
	}
	return nil, fmt.Sprintf("none of the %d images can be shown (see the log)", list.Len()), wake
}

// renderAhead starts rendering the lookahead slides after the one at start
// in the background; their frames wait in the renderer's cache.
func (t *Timeline) renderAhead(ctx context.Context, list *source.List, start, width int) {
	for k := 1; k <= min(t.lookahead, list.Len()-1); k++ {
		s := list.At((start + k) % list.Len())
		key := aheadKey{s.Name, width}
		t.mu.Lock()
		busy := t.ahead[key]
		if f, ok := t.failed[s.Name]; busy || (ok && f.stands(s)) {
			t.mu.Unlock()
			continue
		}
		t.ahead[key] = true
		t.mu.Unlock()
		go func() {
			// The timeline's own work, like the slots' renders: when the
			// slide comes up, its render is already in the urgent line.
			t.render.Render(context.WithValue(ctx, preparingKey{}, true), s, width) // errors are reported when the slide comes up
			t.mu.Lock()
			delete(t.ahead, key)
			t.mu.Unlock()
		}()
	}
}

func (t *Timeline) knownBad(s source.Slide) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	f, ok := t.failed[s.Name]
	return ok && f.stands(s)
}

func (t *Timeline) fail(s source.Slide, err error) {
	if errors.Is(err, context.Canceled) {
		return
	}
	f := failure{slide: s, err: err, lasting: t.lasting(err)}
	t.mu.Lock()
	if old, ok := t.failed[s.Name]; ok && old.slide.Same(s) && !f.lasting {
		f.tries = old.tries + 1
	}
	if !f.lasting {
		f.retryAt = time.Now().Add(min(t.retry<<min(f.tries, 16), maxRetry))
	}
	t.failed[s.Name] = f
	t.mu.Unlock()
	if f.lasting {
		t.log.Warn("skipping image", "file", s.Name, "reason", err.Error())
	} else {
		t.log.Warn("skipping image for now", "file", s.Name, "reason", err.Error(), "retry in", time.Until(f.retryAt).Round(time.Second).String())
	}
}

// stands reports whether the failure still keeps this version of s off
// screen.
func (f failure) stands(s source.Slide) bool {
	return f.slide.Same(s) && (f.lasting || time.Now().Before(f.retryAt))
}

// recovered forgets a failure of s that has passed.
func (t *Timeline) recovered(s source.Slide) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.failed[s.Name]; ok {
		delete(t.failed, s.Name)
		t.log.Info("image can be shown again", "file", s.Name)
	}
}

// forget drops failures of files that are gone or changed, so a fixed file
// is tried again and the map does not grow.
func (t *Timeline) forget(list *source.List) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for name, f := range t.failed {
		if i, ok := list.Find(name); !ok || !list.At(i).Same(f.slide) {
			delete(t.failed, name)
		}
	}
}
