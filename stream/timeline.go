package stream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"runtime"
	"slices"
	"sync"
	"time"

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
	Wake   time.Time
	// Fade, when set, is the crossfade into Slide from the slide before.
	Fade *Fade
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
	render       Renderer
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
		f.b, f.err = s.render.Render(s.ctx, s.picture(), width)
		if f.err == nil && s.hold != nil {
			s.held.add(s.hold.Hold(s.picture(), width, f.b))
		}
		close(f.done)
	}()
	return f
}

func (s *Slot) picture() Picture {
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
		return s.render.Render(ctx, s.picture(), width)
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
	hold      Holder
	interval  time.Duration
	lookahead int    // slides rendered ahead, beyond the next one
	width     int    // always prepared, even with no client
	empty     string // the reason shown when there are no slides
	log       *slog.Logger
	sleep     Sleep
	now       func() time.Time        // the wall clock, for the sleep hours
	portrait  func(source.Slide) bool // nil: no pairs
	fadeFor   time.Duration           // 0: no crossfades
	fader     Fader
	ctl       chan command
	lastFade  *Fade // the latest fade; only Run's goroutine touches it
	lazy      bool  // render nothing ahead while no client watches

	mu      sync.Mutex // protects everything below
	state   *State
	changed chan struct{}      // closed when state is replaced
	widths  map[int]int        // watched width → number of clients
	watched chan struct{}      // closed when the first client starts watching
	failed  map[string]failure // by slide name
	ahead   map[aheadKey]bool  // renders started ahead of time, until done
	pending map[Op]*command    // commands under way, which others join
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
	Log      *slog.Logger
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
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Interval <= 0 || o.Fader == nil {
		o.Fade = 0
	}
	return &Timeline{
		slides:    slides,
		order:     o.Order,
		lasting:   o.Lasting,
		retry:     o.Retry,
		render:    render,
		hold:      o.Holder,
		interval:  o.Interval,
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
		failed:    make(map[string]failure),
		ahead:     make(map[aheadKey]bool),
		pending:   make(map[Op]*command),
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
// one after cur's own place (after its pair's, when it has one) or, if cur
// is gone, the one that took its place. It may be list.Len(), the end of
// the pass.
func after(list *source.List, cur *Slot) int {
	if i, ok := list.Find(cur.last().Name); ok {
		return i + 1
	}
	return min(cur.Index, list.Len())
}

// pairAt returns the portrait that shares a frame with the slide at place
// i of list, when pairing is on, that slide is a portrait, and so is the
// next one in the same pass (and it is not known to be bad).
func (t *Timeline) pairAt(list *source.List, i int) (source.Slide, bool) {
	if t.portrait == nil || i+1 >= list.Len() {
		return source.Slide{}, false
	}
	p := list.At(i + 1)
	if !t.portrait(list.At(i)) || !t.portrait(p) || t.knownBad(p) {
		return source.Slide{}, false
	}
	return p, true
}

// Thumbnail renders slide s at width through the timeline's renderer,
// outside the play order.
func (t *Timeline) Thumbnail(ctx context.Context, s source.Slide, width int) ([]byte, error) {
	return t.render.Render(ctx, Picture{Slide: s}, width)
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

func (t *Timeline) publish(st *State) {
	t.mu.Lock()
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

// Op is a remote-control command (POST /api/next, and so on).
type Op int

const (
	OpNext   Op = iota // show the next slide now
	OpPrev             // go back to the slide shown before this one
	OpPause            // stop the clock: the slide on screen stays
	OpResume           // start the clock again
)

// Errors of Control.
var (
	// ErrNothingBefore: there is no slide to go back to.
	ErrNothingBefore = errors.New("no slide was shown before this one")
	// ErrAsleep: next and previous do nothing during the sleep hours.
	ErrAsleep = errors.New("the slideshow is sleeping")
)

type command struct {
	op   Op
	done chan error // gets the outcome once the change is published
	// joined is closed once err is set, for every caller of Control that
	// joined the command.
	joined chan struct{}
	err    error
}

// Control applies a remote-control command and returns once what screens
// show has changed (or ctx ends). Next while paused shows the next slide
// and stays paused; so does Prev. A command given while the same one is
// still under way joins it: a hundred phones pressing next at once move
// the slideshow one slide, not a hundred, and the timeline prepares one.
func (t *Timeline) Control(ctx context.Context, op Op) error {
	t.mu.Lock()
	c := t.pending[op]
	if c == nil {
		c = &command{op: op, done: make(chan error, 1), joined: make(chan struct{})}
		t.pending[op] = c
		// Applied on its own clock: the caller that started it may
		// leave, and the others still want it.
		go func() {
			c.err = t.apply(c)
			t.mu.Lock()
			delete(t.pending, op)
			t.mu.Unlock()
			close(c.joined)
		}()
	}
	t.mu.Unlock()
	select {
	case <-c.joined:
		return c.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// controlWait bounds how long a command waits for the timeline to take it
// and publish its change.
const controlWait = 30 * time.Second

// apply hands c to Run and waits for its outcome.
func (t *Timeline) apply(c *command) error {
	timeout := time.NewTimer(controlWait)
	defer timeout.Stop()
	select {
	case t.ctl <- *c:
	case <-timeout.C:
		return context.DeadlineExceeded
	}
	select {
	case err := <-c.done:
		return err
	case <-timeout.C:
		return context.DeadlineExceeded
	}
}

// maxHistory bounds how far back OpPrev can go.
const maxHistory = 100

// player is the state of Run: what is on screen, what comes next, and the
// clock. Only Run's goroutine touches it.
type player struct {
	cur, next *Slot
	shownAt   time.Time     // when cur took over
	paused    bool          // the clock is stopped
	left      time.Duration // while paused, what is left of cur's time
	history   []source.Slide
	dark      bool // p.cur was shown before the sleep hours: no fade from it
	// wake is the listing's change channel.
	wake <-chan struct{}
}

// due is when p.cur gives way; zero while paused.
func (p *player) due(interval time.Duration) time.Time {
	if p.paused {
		return time.Time{}
	}
	return p.shownAt.Add(interval)
}

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
	p := &player{}
	for ctx.Err() == nil {
		if asleep, until := t.sleep.At(t.now()); asleep {
			t.sleepUntil(ctx, p, until)
			if p.cur != nil {
				// On waking the slide after the last one shown comes
				// up at once.
				p.shownAt = time.Now().Add(-t.interval)
				p.left, p.dark = 0, true
			}
			continue
		}
		if t.interval == 0 && p.cur != nil {
			t.restAfterPass(ctx, p)
		}
		next, reason, wake := t.pick(ctx, p.cur)
		if ctx.Err() != nil {
			return
		}
		p.wake = wake
		if next == nil {
			p.cur = nil
			t.idle(ctx, p, reason)
			continue
		}
		if p.cur == nil {
			p.cur, p.shownAt, p.left = next, time.Now(), t.interval
			t.publish(&State{Slide: p.cur, NextAt: p.due(t.interval), Paused: p.paused, Left: p.left})
			continue
		}
		p.next = next
		t.play(ctx, p)
	}
}

// restAfterPass waits, in throughput mode (interval 0), at the end of a
// pass that no client watched: every slide has been rendered once, and
// going round again would only read the cache forever. It waits for a
// client, a change of the folder or the end of ctx; commands meanwhile
// pause and resume, and next and previous do nothing.
func (t *Timeline) restAfterPass(ctx context.Context, p *player) {
	list, wake := t.playlist()
	watched, first := t.watchers()
	if watched || list.Len() == 0 || after(list, p.cur) < list.Len() {
		return
	}
	t.publish(&State{Slide: p.cur, Paused: p.paused})
	for {
		select {
		case <-ctx.Done():
			return
		case <-first:
			return
		case <-wake:
			return
		case c := <-t.ctl:
			p.pauseOrNot(c.op, nil)
			t.publish(&State{Slide: p.cur, Paused: p.paused})
			c.done <- nil
		}
	}
}

// play shows p.cur until its time is up, a command moves on, the folder
// changes under the prepared slide, or the sleep hours begin.
func (t *Timeline) play(ctx context.Context, p *player) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var answer chan error // a pause or resume, answered once published
	for {
		due := p.due(t.interval)
		if !p.paused {
			timer.Reset(max(time.Until(due), 0))
		} else {
			timer.Stop()
		}
		t.publish(&State{Slide: p.cur, Next: p.next, NextAt: due, Paused: p.paused, Left: p.left, Fade: t.fadeOf(p.cur)})
		if answer != nil {
			answer <- nil
			answer = nil
		}
		_, sleepAt := t.sleep.At(t.now())
		var firstWatcher <-chan struct{}
		if watched, c := t.watchers(); t.lazy && !watched {
			firstWatcher = c
		}
		select {
		case <-ctx.Done():
			return
		case <-firstWatcher:
			// The next slide was chosen without rendering: prepare it
			// and those after it now.
			p.next = nil
			return
		case <-t.clockCheck(sleepAt):
			if asleep, _ := t.sleep.At(t.now()); asleep {
				return
			}
		case <-timer.C:
			now := time.Now()
			shownAt := due // on time: no drift
			if now.Sub(due) > 50*time.Millisecond {
				shownAt = now // late: give this slide its full interval
			}
			t.advance(p, shownAt)
			return
		case c := <-t.ctl:
			switch c.op {
			case OpNext:
				t.advance(p, time.Now())
				c.done <- nil
				return
			case OpPrev:
				c.done <- t.back(ctx, p)
				return
			case OpPause:
				if !p.paused {
					p.paused, p.left = true, max(time.Until(due), 0)
				}
				answer = c.done
			case OpResume:
				if p.paused {
					p.paused = false
					p.shownAt = time.Now().Add(p.left - t.interval)
				}
				answer = c.done
			}
		case <-p.wake:
			var list *source.List
			list, p.wake = t.playlist()
			if !stillNext(list, p.cur, p.next) {
				p.next = nil
				t.publish(&State{Slide: p.cur, NextAt: p.due(t.interval), Paused: p.paused, Left: p.left, Fade: t.fadeOf(p.cur)})
				return // pick again
			}
		}
	}
}

// stillNext reports whether next is still the frame that follows cur in
// list: the same slide, and the same pair if it has one.
func stillNext(list *source.List, cur, next *Slot) bool {
	if list.Len() == 0 {
		return false
	}
	i := after(list, cur) % list.Len()
	if !list.At(i).Same(next.Slide) {
		return false
	}
	return next.Pair.Name == "" || (i+1 < list.Len() && list.At(i+1).Same(next.Pair))
}

// advance makes p.next the slide on screen, fading from p.cur.
func (t *Timeline) advance(p *player, shownAt time.Time) {
	from, fadeFrom := p.cur, p.cur
	if p.dark {
		fadeFrom, p.dark = nil, false // screens were black, not showing it
	}
	p.history = append(p.history, from.Slide)
	if len(p.history) > maxHistory {
		p.history = slices.Delete(p.history, 0, len(p.history)-maxHistory)
	}
	p.cur, p.next, p.shownAt, p.left = p.next, nil, shownAt, t.interval
	t.publish(&State{Slide: p.cur, NextAt: p.due(t.interval), Paused: p.paused, Left: p.left, Fade: t.newFade(fadeFrom, p.cur)})
}

// back shows the slide shown before p.cur, skipping those the folder no
// longer lists.
func (t *Timeline) back(ctx context.Context, p *player) error {
	list, _ := t.playlist()
	for len(p.history) > 0 {
		s := p.history[len(p.history)-1]
		p.history = p.history[:len(p.history)-1]
		i, ok := list.Find(s.Name)
		if !ok {
			continue
		}
		slot, err := t.prepare(ctx, list, i, nil, t.preparedWidths())
		if err != nil {
			if ctx.Err() != nil {
				return err
			}
			t.fail(slot.Slide, err)
			continue
		}
		from := p.cur
		p.cur, p.next, p.shownAt, p.left = slot, nil, time.Now(), t.interval
		t.publish(&State{Slide: p.cur, NextAt: p.due(t.interval), Paused: p.paused, Left: p.left, Fade: t.newFade(from, p.cur)})
		return nil
	}
	return ErrNothingBefore
}

// idle shows that there is nothing to show, and why, until the folder
// changes or the sleep hours begin, answering commands meanwhile.
func (t *Timeline) idle(ctx context.Context, p *player, reason string) {
	t.publish(&State{Reason: reason, Paused: p.paused})
	for {
		_, sleepAt := t.sleep.At(t.now())
		select {
		case <-ctx.Done():
			return
		case <-p.wake:
			return
		case <-t.clockCheck(sleepAt):
			if asleep, _ := t.sleep.At(t.now()); asleep {
				return
			}
		case c := <-t.ctl:
			err := p.pauseOrNot(c.op, nil)
			t.publish(&State{Reason: reason, Paused: p.paused})
			c.done <- err
		}
	}
}

// sleepUntil shows the sleep state until the sleep hours end, answering
// commands meanwhile: pause and resume are remembered for the morning.
func (t *Timeline) sleepUntil(ctx context.Context, p *player, until time.Time) {
	p.next = nil
	publish := func() {
		t.publish(&State{Asleep: true, Wake: until, Paused: p.paused, Reason: "sleeping until " + until.Format("15:04")})
	}
	publish()
	t.log.Info("sleeping", "until", until.Format("15:04"))
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.clockCheck(until):
			asleep, u := t.sleep.At(t.now())
			if !asleep {
				t.log.Info("waking up")
				return
			}
			if !u.Equal(until) {
				until = u
				publish()
			}
		case c := <-t.ctl:
			err := p.pauseOrNot(c.op, ErrAsleep)
			publish()
			c.done <- err // after the change is published, as in play
		}
	}
}

// pauseOrNot applies a command when no slide is showing: pause and resume
// set the flag; the others are refused (nil: they do nothing).
func (p *player) pauseOrNot(op Op, refused error) error {
	switch op {
	case OpPause:
		p.paused = true
	case OpResume:
		p.paused = false
	default:
		return refused
	}
	return nil
}

// clockCheck fires when the wall clock should be looked at again: at the
// next sleep boundary, and at least once a minute, since the clock may be
// set or jump (a suspended machine, a test's clock). Nil without sleep
// hours.
func (t *Timeline) clockCheck(at time.Time) <-chan time.Time {
	if !t.sleep.On() {
		return nil
	}
	return time.After(min(max(at.Sub(t.now()), 0), time.Minute))
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
	// Nobody watching a lazy timeline: the slot is chosen by the listing
	// alone, and its frames are rendered only when asked for.
	watched, _ := t.watchers()
	lazy := t.lazy && !watched
	widths := t.preparedWidths()
	// While a slide shows, the slides after it are rendered in parallel.
	// At the start nothing shows yet: the first slide gets the machine to
	// itself, since two large decodes at once each take far longer, and
	// the first frame is what a new screen waits for.
	ahead := sync.OnceFunc(func() {
		if !lazy {
			t.renderAhead(ctx, list, start, widths)
		}
	})
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
		if lazy {
			slot := t.newSlot(ctx, s, i, list.Len())
			slot.Pair, _ = t.pairAt(list, i)
			return slot, "", wake
		}
		slot, err := t.prepare(ctx, list, i, cur, widths)
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

// prepare makes the slot for the frame at place i of list (with its pair,
// if it has one; cur itself if it is that frame), starts rendering it at
// widths and waits for the first. When a pair cannot be shown, the slide at
// i is prepared alone: the other is tried alone in its turn.
func (t *Timeline) prepare(ctx context.Context, list *source.List, i int, cur *Slot, widths []int) (*Slot, error) {
	s := list.At(i)
	pair, _ := t.pairAt(list, i)
	try := func(pair source.Slide) (*Slot, error) {
		slot := cur
		if cur == nil || !cur.Slide.Same(s) || !cur.Pair.Same(pair) {
			slot = t.newSlot(ctx, s, i, list.Len())
			slot.Pair = pair
		}
		for _, w := range widths {
			slot.start(w)
		}
		_, err := slot.Frame(ctx, widths[0])
		return slot, err
	}
	slot, err := try(pair)
	if err != nil && pair.Name != "" && ctx.Err() == nil {
		slot, err = try(source.Slide{})
	}
	return slot, err
}

// newSlot returns a slot for s at place i of n in play order. Its renders
// run under the timeline's ctx, marked as the timeline's own.
func (t *Timeline) newSlot(ctx context.Context, s source.Slide, i, n int) *Slot {
	slot := &Slot{Slide: s, Index: i, Count: n, render: t.render, ctx: context.WithValue(ctx, preparingKey{}, true),
		frames: make(map[int]*future), hold: t.hold}
	if t.hold != nil {
		// A slot dropped before it was ever shown (the listing changed,
		// the channel stopped) lets go of its frames when collected.
		slot.held = &held{}
		runtime.AddCleanup(slot, (*held).letGo, slot.held)
	}
	return slot
}

// renderAhead starts rendering the lookahead slides after the one at start
// in the background, at every prepared width at once (a renderer may
// decode a photo once for all of them); their frames wait in the
// renderer's cache.
func (t *Timeline) renderAhead(ctx context.Context, list *source.List, start int, widths []int) {
	j := start + 1 // where the frame after the one at start begins
	if _, ok := t.pairAt(list, start%list.Len()); ok {
		j++
	}
	for k := 1; k <= min(t.lookahead, list.Len()-1) && j < start+list.Len(); k++ {
		i := j % list.Len()
		s := list.At(i)
		pair, _ := t.pairAt(list, i)
		if pair.Name != "" {
			j++
		}
		j++
		for k, width := range widths {
			// The default width ahead is the timeline's own work; the
			// others wait behind every slide's default width (and move
			// up when their slide comes and asks for them).
			t.renderOneAhead(ctx, Picture{Slide: s, Pair: pair, Index: i, Count: list.Len()}, width, k == 0)
		}
	}
}

// renderOneAhead starts rendering p at width in the background, unless it
// is under way already or its slide cannot be shown; urgent marks it as
// the timeline's own work (Preparing).
func (t *Timeline) renderOneAhead(ctx context.Context, p Picture, width int, urgent bool) {
	key := aheadKey{p.Slide.Name, width}
	t.mu.Lock()
	busy := t.ahead[key]
	if f, ok := t.failed[p.Slide.Name]; busy || (ok && f.stands(p.Slide)) {
		t.mu.Unlock()
		return
	}
	t.ahead[key] = true
	t.mu.Unlock()
	go func() {
		// When the slide comes up, its render is already in line.
		t.render.Render(context.WithValue(ctx, preparingKey{}, urgent), p, width) // errors are reported when the slide comes up
		t.mu.Lock()
		delete(t.ahead, key)
		t.mu.Unlock()
	}()
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
