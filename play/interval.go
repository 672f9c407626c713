package play

import (
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// atomicDuration is a time.Duration read and written atomically.
type atomicDuration struct{ v atomic.Int64 }

func (a *atomicDuration) Load() time.Duration   { return time.Duration(a.v.Load()) }
func (a *atomicDuration) Store(d time.Duration) { a.v.Store(int64(d)) }

// ErrNoClock: a timeline that advances as fast as slides render
// (interval 0) has no interval to change.
var ErrNoClock = errors.New("this slideshow advances as fast as slides render: it has no interval to change")

// SetInterval changes how long each slide shows, from now on, without
// moving the slideshow: the slide on screen keeps the time it has been
// shown, and gives way once it has been shown for d (at once if it
// already has); while paused, it keeps at most d. The state published
// next carries the new interval, and it is published at once.
func (t *Timeline) SetInterval(d time.Duration) error {
	switch {
	case t.interval.Load() == 0:
		return ErrNoClock
	case d < MinInterval || d > MaxInterval:
		return fmt.Errorf("interval %v: want %v to %v", d, MinInterval, MaxInterval)
	}
	t.mu.Lock()
	old := t.interval.Load()
	t.interval.Store(d)
	if old != d {
		// The state on screen says so now, whatever Run is doing: a
		// copy with the new interval and the slide's new end, holding
		// the same slots.
		st := *t.state
		st.Seq++
		st.Interval = d
		if !st.NextAt.IsZero() && st.Slide != nil {
			st.NextAt = st.NextAt.Add(d - old)
		}
		t.state = &st
		close(t.changed)
		t.changed = make(chan struct{})
	}
	t.mu.Unlock()
	// Run's clock, if it is counting a slide, looks again; elsewhere the
	// new interval is read when the next slide comes.
	select {
	case t.retimed <- struct{}{}:
	default:
	}
	return nil
}
