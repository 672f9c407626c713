package play

import (
	"context"
	"slices"
	"time"

	"slidestream/source"
)

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
	// forced is a sleep or a waking by command: 1 asleep until woken, -1
	// awake through the sleep hours under way, 0 as the hours say.
	forced int8
}

// asleep says whether the timeline sleeps now, and until when (zero when
// only a command wakes it): by command, else by the sleep hours.
func (t *Timeline) asleep(p *player) (bool, time.Time) {
	hours, until := t.sleep.At(t.now())
	switch {
	case p.forced > 0:
		return true, time.Time{}
	case p.forced < 0 && hours:
		return false, time.Time{}
	case p.forced < 0:
		p.forced = 0 // the hours it was woken in are over
	}
	return hours, until
}

// sleepNow takes OpSleep while awake: the screens go black at once, and
// stay so until OpWake. It reports whether c was OpSleep, answered.
func (t *Timeline) sleepNow(p *player, c command) bool {
	if c.op != OpSleep {
		return false
	}
	p.forced, p.next = 1, nil
	t.publish(&State{Asleep: true, Paused: p.paused, Reason: sleptReason})
	c.done <- nil
	return true
}

// sleptReason is the reason shown while asleep by command.
const sleptReason = "sleeping until woken"

// due is when p.cur gives way; zero while paused.
func (p *player) due(t *Timeline) time.Time {
	if p.paused {
		return time.Time{}
	}
	return p.shownAt.Add(t.span(p.cur))
}

// span is how long slot shows: the interval, or one play of its motion
// (up to the longest motion) where that is longer.
func (t *Timeline) span(slot *Slot) time.Duration {
	d := t.interval.Load()
	if slot != nil && d > 0 {
		d = max(d, slot.moves.Length)
	}
	return d
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
		if asleep, until := t.asleep(p); asleep {
			t.sleepUntil(ctx, p, until)
			if p.cur != nil {
				// On waking the slide after the last one shown comes
				// up at once.
				p.shownAt = time.Now().Add(-t.span(p.cur))
				p.left, p.dark = 0, true
			}
			continue
		}
		if t.interval.Load() == 0 && p.cur != nil {
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
			p.cur, p.shownAt, p.left = next, time.Now(), t.span(next)
			t.publish(&State{Slide: p.cur, NextAt: p.due(t), Paused: p.paused, Left: p.left})
			continue
		}
		p.next = next
		t.moveAhead(next)
		t.play(ctx, p)
	}
}

// restAfterPass waits, in throughput mode (interval 0), at the end of a
// pass that no client watched: every slide has been rendered once, and
// going round again would only read the cache forever. It waits for a
// client, a change of the folder or the end of ctx; commands meanwhile
// pause and resume, and next and previous do nothing.
func (t *Timeline) restAfterPass(ctx context.Context, p *player) {
	list, wake := t.Playlist()
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
			if t.sleepNow(p, c) {
				return
			}
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
		due := p.due(t)
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
		case <-t.retimed:
			// SetInterval: the timer is set again for the slide's new
			// end; while paused it keeps at most the new interval.
			if p.paused {
				p.left = min(p.left, t.span(p.cur))
			}
		case <-firstWatcher:
			// The next slide was chosen without rendering: prepare it
			// and those after it now.
			p.next = nil
			return
		case <-t.clockCheck(sleepAt):
			if asleep, _ := t.asleep(p); asleep {
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
			if t.sleepNow(p, c) {
				return
			}
			switch c.op {
			case OpWake:
				c.done <- nil // awake already
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
					p.shownAt = time.Now().Add(p.left - t.span(p.cur))
				}
				answer = c.done
			}
		case <-p.wake:
			var list *source.List
			list, p.wake = t.Playlist()
			if !stillNext(list, p.cur, p.next) {
				p.next = nil
				t.publish(&State{Slide: p.cur, NextAt: p.due(t), Paused: p.paused, Left: p.left, Fade: t.fadeOf(p.cur)})
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
	p.cur, p.next, p.shownAt, p.left = p.next, nil, shownAt, t.span(p.next)
	t.publish(&State{Slide: p.cur, NextAt: p.due(t), Paused: p.paused, Left: p.left, Fade: t.newFade(fadeFrom, p.cur)})
}

// back shows the slide shown before p.cur, skipping those the folder no
// longer lists.
func (t *Timeline) back(ctx context.Context, p *player) error {
	list, _ := t.Playlist()
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
			t.failures.Record(slot.Slide, err)
			continue
		}
		from := p.cur
		p.cur, p.next, p.shownAt, p.left = slot, nil, time.Now(), t.span(slot)
		t.publish(&State{Slide: p.cur, NextAt: p.due(t), Paused: p.paused, Left: p.left, Fade: t.newFade(from, p.cur)})
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
			if asleep, _ := t.asleep(p); asleep {
				return
			}
		case c := <-t.ctl:
			if t.sleepNow(p, c) {
				return
			}
			err := p.pauseOrNot(c.op, nil)
			t.publish(&State{Reason: reason, Paused: p.paused})
			c.done <- err
		}
	}
}

// sleepUntil shows the sleep state until the sleep hours end (until is
// zero when only OpWake ends it), answering commands meanwhile: pause and
// resume are remembered for the morning, and OpWake wakes the screens,
// through the hours under way if need be.
func (t *Timeline) sleepUntil(ctx context.Context, p *player, until time.Time) {
	p.next = nil
	publish := func() {
		reason := sleptReason
		if !until.IsZero() {
			reason = "sleeping until " + until.Format("15:04")
		}
		t.publish(&State{Asleep: true, Wake: until, Paused: p.paused, Reason: reason})
	}
	publish()
	t.log.Info("sleeping", "until", until.Format("15:04"), "by_command", until.IsZero())
	for {
		// Asleep by command, the clock is looked at once a minute
		// (clockCheck), not at a zero time over and over.
		check := until
		if check.IsZero() {
			check = t.now().Add(time.Minute)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.clockCheck(check):
			asleep, u := t.asleep(p)
			if !asleep {
				t.log.Info("waking up")
				return
			}
			if !u.Equal(until) {
				until = u
				publish()
			}
		case c := <-t.ctl:
			switch c.op {
			case OpWake:
				p.forced = 0
				if hours, _ := t.sleep.At(t.now()); hours {
					p.forced = -1
				}
				t.log.Info("woken by command")
				t.publish(&State{Paused: p.paused, Reason: "waking up"})
				c.done <- nil
				return
			case OpSleep:
				p.forced, until = 1, time.Time{}
				publish()
				c.done <- nil
				continue
			}
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
