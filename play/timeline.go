package play

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	"slidestream/source"
)

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
	NextAt time.Time // when Slide gives way (to Next); zero while paused
	Reason string    // why there is nothing to show, when Slide is nil
	// Paused is set while the clock is stopped (OpPause); Left is then
	// how long the slide has left once it runs again.
	Paused bool
	Left   time.Duration
	// Asleep is set during the sleep hours, until Wake: screens show
	// black and nothing is rendered.
	Asleep bool
	// Interval is how long each slide shows now (SetInterval may change
	// it).
	Interval time.Duration
	// Motion, when set, is the motion of Slide, playing.
	Motion *Motion
	Wake   time.Time
	// Fade, when set, is the crossfade into Slide from the slide before.
	Fade *Fade
}

// Timeline advances through the slides on one clock shared by every client,
// in the play order its Order arranges them in, finding the slide after the
// one on screen by its name in that arrangement. While a slide shows, the
// next one is rendered at every watched width, so slides change on time
// even when a transcode takes seconds. A file that cannot be shown is
// logged once per version and its slot goes to the next good file. It is
// safe for concurrent use.
type Timeline struct {
	slides   Lister
	order    source.Order
	failures *Failures
	render   Renderer // recording into failures
	hold     Holder
	// interval is how long each slide shows: Run's goroutine reads it,
	// SetInterval changes it (and pokes retimed).
	interval  atomicDuration
	retimed   chan struct{}
	fade      time.Duration // the crossfade asked for; fadeFor is what the interval allows
	lookahead int           // slides rendered ahead, beyond the next one
	width     int           // always prepared, even with no client
	empty     string        // the reason shown when there are no slides
	log       *slog.Logger
	sleep     Sleep
	now       func() time.Time        // the wall clock, for the sleep hours
	portrait  func(source.Slide) bool // nil: no pairs
	fadeFor   time.Duration           // 0: no crossfades
	fader     Fader
	ctl       chan command
	lastFade  *Fade // the latest fade; only Run's goroutine touches it
	// mover makes motion, up to maxMotion of it a slide; nil: stills.
	mover      Mover
	maxMotion  time.Duration
	lastMotion *Motion // the motion on screen; only Run's goroutine touches it
	// aheadMotion is the motion made ahead for the next slide, if any;
	// only Run's goroutine touches it.
	aheadMotion *Motion
	lazy        bool // render nothing ahead while no client watches

	mu      sync.Mutex // protects everything below
	state   *State
	changed chan struct{}     // closed when state is replaced
	widths  map[int]int       // watched width → number of clients
	watched chan struct{}     // closed when the first client starts watching
	ahead   map[aheadKey]bool // renders started ahead of time, until done
	pending map[Op]*command   // commands under way, which others join
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
	// Failures is the memo of files that cannot be shown, shared by every
	// channel; the timeline records the outcome of its every render in
	// it. Without one, the timeline keeps its own, with Lasting and Retry
	// (see FailuresOptions).
	Failures *Failures
	Lasting  func(error) bool
	Retry    time.Duration
	// Lookahead is how many slides beyond the next one are rendered ahead,
	// in parallel, so that a cold folder uses every core. The renderer
	// bounds how many transcodes really run at once.
	Lookahead int
	// Sleep is the daily span during which screens show black and nothing
	// is rendered (--sleep).
	Sleep Sleep
	// Now is the wall clock the sleep hours are read on (default
	// time.Now); tests set their own.
	Now func() time.Time
	// Fade is how long a crossfade between slides lasts (--fade; 0, the
	// default, cuts). It is at most half the interval, and there are no
	// fades at interval 0. Fader makes the frames between; without one
	// there are no fades.
	Fade  time.Duration
	Fader Fader
	// Holder, when set, counts the frames the timeline keeps against the
	// Renderer cache's bound.
	Holder Holder
	// Lazy makes a timeline that no client watches (Watch) cost nothing
	// but its clock: it moves through the listing without rendering,
	// renders a frame only when asked (a snapshot), and prepares and
	// renders ahead again as soon as a client watches. Channels started
	// by a request for their state must not transcode for a minute.
	Lazy bool
	// Portrait, when set, pairs portraits (--pair-portraits): two that
	// follow each other in play order share a frame. It reports whether a
	// slide is upright taller than wide, as far as is known yet.
	Portrait func(source.Slide) bool
	// Mover, when set, plays the motion of slides that move, each for
	// one play of it up to MaxMotion (default 30s), or the interval if
	// that is longer. A timeline at interval 0 shows stills.
	Mover     Mover
	MaxMotion time.Duration
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
	if o.Failures == nil {
		o.Failures = NewFailures(FailuresOptions{Lasting: o.Lasting, Retry: o.Retry, Listing: slides, Log: o.Log})
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Interval <= 0 || o.Fader == nil {
		o.Fade = 0
	}
	if o.Interval <= 0 {
		o.Mover = nil
	}
	if o.MaxMotion <= 0 {
		o.MaxMotion = 30 * time.Second
	}
	t := &Timeline{
		slides:    slides,
		order:     o.Order,
		failures:  o.Failures,
		render:    o.Failures.Watch(render),
		hold:      o.Holder,
		fade:      o.Fade,
		mover:     o.Mover,
		maxMotion: o.MaxMotion,
		retimed:   make(chan struct{}, 1),
		lookahead: o.Lookahead,
		width:     o.Width,
		empty:     o.Empty,
		log:       o.Log,
		sleep:     o.Sleep,
		now:       o.Now,
		fadeFor:   min(o.Fade, o.Interval/2),
		fader:     o.Fader,
		portrait:  o.Portrait,
		lazy:      o.Lazy,
		watched:   make(chan struct{}),
		ctl:       make(chan command),
		state:     &State{Reason: "starting"},
		changed:   make(chan struct{}),
		widths:    make(map[int]int),
		ahead:     make(map[aheadKey]bool),
		pending:   make(map[Op]*command),
	}
	t.interval.Store(o.Interval)
	t.state.Interval = o.Interval
	return t
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
	if len(t.widths) == 0 {
		close(t.watched)
		t.watched = make(chan struct{})
	}
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

// watchers reports whether a client watches, and returns a channel closed
// when the first one comes.
func (t *Timeline) watchers() (bool, <-chan struct{}) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.widths) > 0, t.watched
}

// Slides returns the slides in play order, as the timeline sees them.
func (t *Timeline) Slides() []source.Slide {
	list, _ := t.Playlist()
	return list.Slides()
}

// Playlist returns the slides in play order, arranging the listing again
// when it has changed, and the channel that closes at its next change.
func (t *Timeline) Playlist() (*source.List, <-chan struct{}) {
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
// one after cur's own place (after its pair's, when it has one) or, if cur
// is gone, the one that took its place. It may be list.Len(), the end of
// the pass.
func after(list *source.List, cur *Slot) int {
	if i, ok := list.Find(cur.last().Name); ok {
		return i + 1
	}
	return min(cur.Index, list.Len())
}

// NextAfter returns the slide that follows cur in list, if the pass
// has one after it: what the status of a channel names as next while
// the timeline is still preparing it.
func NextAfter(list *source.List, cur *Slot) (source.Slide, bool) {
	if i := after(list, cur); i < list.Len() {
		return list.At(i), true
	}
	return source.Slide{}, false
}

// Fades reports whether slides crossfade into each other (--fade).
func (t *Timeline) Fades() bool { return t.fadeFor > 0 }

// Now is the wall clock the timeline reads its sleep hours on.
func (t *Timeline) Now() time.Time { return t.now() }

// pairAt returns the portrait that shares a frame with the slide at place
// i of list, when pairing is on, that slide is a portrait, and so is the
// next one in the same pass (and it is not known to be bad).
func (t *Timeline) pairAt(list *source.List, i int) (source.Slide, bool) {
	if t.portrait == nil || i+1 >= list.Len() {
		return source.Slide{}, false
	}
	p := list.At(i + 1)
	if !t.portrait(list.At(i)) || !t.portrait(p) || t.failures.Stands(p) {
		return source.Slide{}, false
	}
	return p, true
}

// Thumbnail renders slide s at width through the timeline's renderer,
// outside the play order.
func (t *Timeline) Thumbnail(ctx context.Context, s source.Slide, width int) ([]byte, error) {
	return t.render.Render(ctx, Picture{Slide: s}, width)
}

// Failures is the memo of files that cannot be shown that the timeline
// records into and reads.
func (t *Timeline) Failures() *Failures { return t.failures }

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

func (t *Timeline) publish(st *State) {
	t.attachMotion(st)
	t.mu.Lock()
	st.Interval = t.interval.Load()
	old := t.state
	st.Seq = old.Seq + 1
	t.state = st
	t.showing = ""
	if st.Slide != nil {
		t.showing = st.Slide.Slide.Name
	}
	close(t.changed)
	t.changed = make(chan struct{})
	t.mu.Unlock()
	// The frames of slots that left the screen are no longer counted as
	// held: the cache may keep or evict them like any other.
	keep := st.slots()
	for _, s := range old.slots() {
		if s.held != nil && !slices.Contains(keep, s) {
			s.held.letGo()
		}
	}
	if old.Motion != nil && old.Motion != st.Motion {
		old.Motion.end()
	}
}

// attachMotion gives st the motion of the slide it shows: the one under
// way if the slide is the same, else a new one, starting once the fade
// into it is over. Asleep, nothing moves.
func (t *Timeline) attachMotion(st *State) {
	switch {
	case st.Slide == nil || st.Asleep || t.mover == nil:
		st.Motion = nil
	case t.lastMotion != nil && t.lastMotion.Slot == st.Slide:
		st.Motion = t.lastMotion
	default:
		start := time.Now()
		if st.Fade != nil {
			start = st.Fade.end()
		}
		st.Motion = t.newMotion(st.Slide.ctx, st.Slide, start)
	}
	t.lastMotion = st.Motion
}

// slots are the slots whose frames st keeps: on screen, next, and those
// of its fade.
func (st *State) slots() []*Slot {
	s := []*Slot{st.Slide, st.Next}
	if st.Fade != nil {
		s = append(s, st.Fade.From, st.Fade.To)
	}
	return slices.DeleteFunc(s, func(s *Slot) bool { return s == nil })
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
