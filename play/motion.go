package play

import (
	"context"
	"sync"
	"time"
)

// Moves is how a slide moves.
type Moves struct {
	// Length is one play of the motion: 0 for a still.
	Length time.Duration
	// Then is what shows once it has played: it plays again (Loop), its
	// last frame stays (HoldLast), or the slide's still comes back
	// (BackToStill).
	Then Then
}

// Then is what follows a slide's motion.
type Then int

const (
	Loop        Then = iota // an animation
	HoldLast                // a clip
	BackToStill             // a Live Photo or Motion Photo: the photo
)

// Mover makes the motion of slides that move (animated GIFs and WebPs,
// clips, Live Photos and Motion Photos).
type Mover interface {
	// Moves says how p moves. It may read the file; the timeline asks
	// once per slot, while preparing it.
	Moves(p Picture) Moves
	// Motion calls each with p's motion frames at width, in order, each
	// with how long it shows, until each returns false, the frames end
	// or ctx does.
	Motion(ctx context.Context, p Picture, width int, each func(frame []byte, d time.Duration) bool) error
}

// Motion is the motion of the slide on screen: its frames, made once per
// width served (as a fade's are) by the first client that asks, and kept
// while the slide shows, looping from Start for as long as it does. Every
// client of the channel sees the same frame at the same moment; one that
// falls behind skips frames. Frames beyond the timeline's longest motion
// (--max-clip) are not made: the loop is the motion's start.
type Motion struct {
	Slot *Slot
	// Start is when the motion starts; it is set, and started closed,
	// once the slide shows (a motion made ahead waits for it).
	Start   time.Time
	started chan struct{}
	Then    Then

	ctx    context.Context // ended when the slide leaves the screen
	stop   context.CancelFunc
	mover  Mover
	max    time.Duration
	hold   Holder
	held   held
	failed func(error)

	mu   sync.Mutex // protects runs
	runs map[int]*motionRun
}

// motionAhead is how far ahead of its time a clip's frames are made.
const motionAhead = 3 * time.Second

// motionRun is the frames of a motion at one width, as they are made.
type motionRun struct {
	mu     sync.Mutex
	frames [][]byte
	at     []time.Duration // when each frame starts, from the motion's start
	length time.Duration   // of the frames made so far; the loop's once done
	done   bool            // all made (or failed: no more come)
	more   chan struct{}   // closed when a frame is added or the run ends
}

// newMotion starts the motion of slot, to play from start, or returns nil
// for a slot that does not move.
func (t *Timeline) newMotion(ctx context.Context, slot *Slot, start time.Time) *Motion {
	if t.mover == nil || slot == nil || slot.moves.Length <= 0 {
		return nil
	}
	if m := slot.ahead; m != nil && m.ctx.Err() == nil {
		// Made ahead while the slide was next: it starts now.
		slot.ahead = nil
		m.Start = start
		close(m.started)
		return m
	}
	m := t.motionFor(ctx, slot)
	m.Start = start
	close(m.started)
	return m
}

func (t *Timeline) motionFor(ctx context.Context, slot *Slot) *Motion {
	mctx, stop := context.WithCancel(ctx)
	return &Motion{Slot: slot, started: make(chan struct{}), Then: slot.moves.Then, ctx: mctx, stop: stop, mover: t.mover, max: t.maxMotion, hold: t.hold,
		failed: func(err error) { t.log.Warn("motion failed: showing the still", "file", slot.Slide.Name, "err", err) }}
}

// moveAhead starts making the motion of next, the slide that follows,
// at the prepared widths, so that its first frames are there when it
// shows (ffmpeg takes a few tenths of a second to start). Made ahead, a
// clip's frames stop a few seconds in until the slide shows; a motion
// whose slide is not shown within the interval and a minute (the folder
// changed, a command chose another) is ended.
func (t *Timeline) moveAhead(next *Slot) {
	if t.mover == nil || next == nil || next.moves.Length <= 0 || next.ahead != nil || (t.lastMotion != nil && t.lastMotion.Slot == next) {
		return
	}
	// One motion is made ahead at a time: one for a slide that will not
	// show now (another was chosen) ends here.
	if old := t.aheadMotion; old != nil && !old.isStarted() {
		old.end()
	}
	m := t.motionFor(next.ctx, next)
	next.ahead, t.aheadMotion = m, m
	for _, w := range t.preparedWidths() {
		m.run(w)
	}
	wait := time.NewTimer(t.interval.Load() + time.Minute)
	go func() {
		defer wait.Stop()
		select {
		case <-m.started:
		case <-m.ctx.Done():
		case <-wait.C:
			m.end()
		}
	}()
}

// isStarted reports whether the motion's slide shows (Start is set).
func (m *Motion) isStarted() bool {
	select {
	case <-m.started:
		return true
	default:
		return false
	}
}

// end lets go of the motion's frames once no state shows it.
func (m *Motion) end() {
	m.stop()
	m.held.letGo()
}

// Frame is the frame due at now for a client at width: its bytes (nil
// while the first is made), when the one after it is due (zero when not
// known yet: wait on more), and a channel closed when more frames are
// made. It starts making the frames at width if no client has yet.
func (m *Motion) Frame(width int, now time.Time) (b []byte, nextAt time.Time, more <-chan struct{}) {
	r := m.run(m.Slot.serves(width))
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.frames) == 0 {
		return nil, time.Time{}, r.more
	}
	e := max(now.Sub(m.Start), 0)
	if r.done && r.length > 0 && e >= r.length && m.Then != Loop {
		if m.Then == BackToStill {
			return nil, time.Time{}, nil
		}
		return r.frames[len(r.frames)-1], time.Time{}, nil
	}
	if r.done && r.length > 0 {
		loops := e / r.length
		e -= loops * r.length
		i := frameAt(r.at, e)
		end := r.length
		if i+1 < len(r.at) {
			end = r.at[i+1]
		}
		return r.frames[i], m.Start.Add(loops*r.length + end), nil
	}
	i := frameAt(r.at, e)
	if i+1 < len(r.at) {
		return r.frames[i], m.Start.Add(r.at[i+1]), nil
	}
	// The latest frame made: the next is due when it ends, if it is
	// made by then; once that is past, when it is made.
	if end := m.Start.Add(r.length); end.After(now) {
		return r.frames[i], end, r.more
	}
	return r.frames[i], time.Time{}, r.more
}

// run is the frames at width w, which it starts making if no one has.
func (m *Motion) run(w int) *motionRun {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.runs[w]
	if r == nil {
		r = &motionRun{more: make(chan struct{})}
		if m.runs == nil {
			m.runs = map[int]*motionRun{}
		}
		m.runs[w] = r
		go m.make(w, r)
	}
	return r
}

// frameAt is the frame showing at e: the last that starts at or before it.
func frameAt(at []time.Duration, e time.Duration) int {
	lo, hi := 0, len(at)-1
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if at[mid] <= e {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo
}

// make makes the frames of r, at width w.
func (m *Motion) make(w int, r *motionRun) {
	err := m.mover.Motion(m.ctx, m.Slot.Picture(), w, func(b []byte, d time.Duration) bool {
		if m.hold != nil {
			m.held.add(m.hold.Hold(Picture{}, w, b))
		}
		r.mu.Lock()
		r.frames = append(r.frames, b)
		r.at = append(r.at, r.length)
		r.length += d
		close(r.more)
		r.more = make(chan struct{})
		if m.Then != Loop && m.isStarted() {
			// Played once: the frames already shown are not needed
			// again (the last one is, while it holds).
			for i := range r.frames[:len(r.frames)-1] {
				if r.frames[i] != nil && m.Start.Add(r.at[i+1]).Before(time.Now().Add(-time.Second)) {
					r.frames[i] = nil
				}
			}
		}
		length := r.length
		r.mu.Unlock()
		// Made ahead of its slide, a clip waits a few seconds in for
		// the slide to show.
		if m.Then != Loop && length > motionAhead {
			select {
			case <-m.started:
			case <-m.ctx.Done():
			}
		}
		ahead := time.Duration(0)
		if m.isStarted() {
			ahead = m.Start.Add(length).Sub(time.Now())
		}
		// A clip is made as it plays, a few seconds ahead, not all at
		// once: a long one is never held whole.
		if m.Then != Loop && ahead > motionAhead {
			select {
			case <-time.After(ahead - motionAhead):
			case <-m.ctx.Done():
			}
		}
		return r.length < m.max && m.ctx.Err() == nil
	})
	if err != nil && m.ctx.Err() == nil {
		m.failed(err)
	}
	r.mu.Lock()
	r.done = true
	close(r.more)
	r.more = nil
	r.mu.Unlock()
}
