package play

import (
	"context"
	"errors"
	"time"
)

// Op is a remote-control command (POST /api/next, and so on).
type Op int

const (
	OpNext   Op = iota // show the next slide now
	OpPrev             // go back to the slide shown before this one
	OpPause            // stop the clock: the slide on screen stays
	OpResume           // start the clock again
	OpSleep            // black out the screens now, until OpWake
	OpWake             // wake the screens, through the sleep hours if need be
)

// Errors of Control.
var (
	// ErrNothingBefore: there is no slide to go back to.
	ErrNothingBefore = errors.New("no slide was shown before this one")
	// ErrAsleep: next and previous do nothing while asleep.
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
