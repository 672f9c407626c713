package stream

import (
	"context"
	"testing"
	"time"
)

// A client may arrive in the moment between the server's start and its
// channels being served: the channel it asks for starts all the same, and
// stops with the rest when the server does.
func TestChannelsBeforeServe(t *testing.T) {
	def := NewTimeline(newSource("a"), newRenderer(), TimelineOptions{Interval: time.Hour, Width: 8})
	made := 0
	cs := NewChannels(def, ChannelsOptions{
		Default: Channel{},
		Max:     1,
		New: func(c Channel) (*Timeline, error) {
			made++
			return NewTimeline(newSource("b", "c"), newRenderer(), TimelineOptions{Interval: time.Hour, Width: 8}), nil
		},
	})
	tl, leave, err := cs.Acquire(Channel{Album: "x"})
	if err != nil {
		t.Fatalf("a channel asked for before Serve: %v", err)
	}
	waitFor(t, tl, "b", func(st *State) bool { return st.Slide != nil && st.Slide.Slide.Name == "b" })
	leave()

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { cs.Serve(ctx); close(done) }()
	cancel()
	<-done
	if n := cs.Running(); n != 0 {
		t.Errorf("%d channels still running after Serve returned", n)
	}
	if _, _, err := cs.Acquire(Channel{Album: "y"}); err == nil {
		t.Error("a channel started after the server stopped")
	}
	if made != 1 {
		t.Errorf("made %d timelines; want 1", made)
	}
}
