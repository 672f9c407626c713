package play

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Fader makes the frames between two frames of one width, for crossfades.
type Fader interface {
	// Fade calls each with the frames 1 to steps-1 of a fade from one
	// frame to the other in steps steps, in order, frame i showing from
	// and to mixed i/steps of the way; it stops early when each returns
	// false. Frames of different sizes meet on the larger canvas. It may
	// wait for room to work (a worker, memory) until ctx ends.
	Fade(ctx context.Context, from, to []byte, steps int, each func(i int, frame []byte) bool) error
}

// fadeSteps is how many frames a second of crossfade is made of.
const fadeSteps = 10

// Fade is the crossfade from the slide shown before into the slide on
// screen. Its frames are made once per pair of frames it fades between,
// for every client served those frames, as the first of them asks: many
// widths beyond the few a slot renders are served the nearest rendered
// frame, and so share its fade. A client that falls behind skips frames,
// as it skips slides.
type Fade struct {
	From, To *Slot
	Start    time.Time
	Duration time.Duration
	Steps    int // frames, the last of which is To's own

	ctx   context.Context // the timeline's
	fader Fader
	hold  Holder // nil: the frames are not counted
	held  held

	mu   sync.Mutex // protects runs
	runs map[fadePair][]*future
}

// fadePair names a fade's run by the widths of the two frames it mixes,
// as the slots serve them.
type fadePair struct{ from, to int }

func (t *Timeline) newFade(from, to *Slot) *Fade {
	if t.fadeFor <= 0 || from == nil || to == nil || from == to {
		t.lastFade = nil
		return nil
	}
	// At most half the interval, which SetInterval may have shortened.
	d := min(t.fade, t.interval.Load()/2)
	f := &Fade{From: from, To: to, Start: time.Now(), Duration: d,
		Steps: max(2, int(d.Seconds()*fadeSteps+0.5)), ctx: to.ctx, fader: t.fader, hold: t.hold}
	// The frames go once the fade is over and every client has moved on.
	time.AfterFunc(2*f.Duration+time.Second, func() {
		f.mu.Lock()
		f.runs = nil
		f.mu.Unlock()
		f.held.letGo()
	})
	t.lastFade = f
	return f
}

// fadeOf is the fade into cur if it is still under way.
func (t *Timeline) fadeOf(cur *Slot) *Fade {
	if f := t.lastFade; f != nil && f.To == cur && time.Now().Before(f.end()) {
		return f
	}
	return nil
}

func (f *Fade) end() time.Time { return f.Start.Add(f.Duration) }

// Step is the frame due at now: from 1 to Steps (To's own frame), and
// when the one after it is due.
func (f *Fade) Step(now time.Time) (int, time.Time) {
	d := f.Duration / time.Duration(f.Steps)
	i := int(now.Sub(f.Start)/d) + 1
	if i >= f.Steps {
		return f.Steps, time.Time{}
	}
	return max(i, 1), f.Start.Add(time.Duration(i) * d)
}

var errFadeOver = errors.New("the fade is over")

// Frame returns frame i (1 to Steps-1) at width, starting to make the
// fade's frames at that width if no client has yet. It does not wait: the
// frame is nil until done is closed.
func (f *Fade) Frame(width, i int) (b []byte, done <-chan struct{}, err error) {
	f.mu.Lock()
	if f.runs == nil && time.Now().After(f.end()) {
		f.mu.Unlock()
		return nil, nil, errFadeOver
	}
	pair := fadePair{f.From.serves(width), f.To.serves(width)}
	run, ok := f.runs[pair]
	if !ok {
		run = make([]*future, f.Steps-1)
		for k := range run {
			run[k] = &future{done: make(chan struct{})}
		}
		if f.runs == nil {
			f.runs = make(map[fadePair][]*future)
		}
		f.runs[pair] = run
		go f.make(pair, run)
	}
	f.mu.Unlock()
	fu := run[i-1]
	select {
	case <-fu.done:
		return fu.b, fu.done, fu.err
	default:
		return nil, fu.done, nil
	}
}

// make renders the frames of run in order, stopping once the fade is over.
func (f *Fade) make(pair fadePair, run []*future) {
	next := 0
	finish := func(err error) {
		for ; next < len(run); next++ {
			run[next].err = err
			close(run[next].done)
		}
	}
	ctx, cancel := context.WithDeadline(f.ctx, f.end())
	defer cancel()
	from, err := f.From.Frame(ctx, pair.from)
	if err != nil {
		finish(err)
		return
	}
	to, err := f.To.Frame(ctx, pair.to)
	if err != nil {
		finish(err)
		return
	}
	err = f.fader.Fade(ctx, from, to, f.Steps, func(i int, b []byte) bool {
		if i-1 != next {
			return false
		}
		run[next].b = b
		if f.hold != nil {
			f.held.add(f.hold.Hold(Picture{}, pair.to, b))
		}
		close(run[next].done)
		next++
		return ctx.Err() == nil
	})
	if err == nil {
		err = errFadeOver
	}
	finish(err)
}
