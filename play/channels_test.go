package play

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
	tl, leave, err := cs.Acquire(Channel{Album: "x"}, "192.0.2.1:1000")
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
	if _, _, err := cs.Acquire(Channel{Album: "y"}, "192.0.2.1:1000"); err == nil {
		t.Error("a channel started after the server stopped")
	}
	if made != 1 {
		t.Errorf("made %d timelines; want 1", made)
	}
}

// A client is its address; an IPv6 host, which often holds a whole /64,
// counts as that network.
func TestClientOf(t *testing.T) {
	for _, c := range []struct{ addr, want string }{
		{"192.0.2.7:5000", "192.0.2.7"},
		{"[::ffff:192.0.2.7]:5000", "192.0.2.7"},
		{"[2001:db8:1:2:aaaa::1]:443", "2001:db8:1:2::/64"},
		{"[2001:db8:1:2:bbbb::9]:80", "2001:db8:1:2::/64"},
		{"@", "@"},
	} {
		if got := clientOf(c.addr); got != c.want {
			t.Errorf("clientOf(%q) = %q; want %q", c.addr, got, c.want)
		}
	}
}

// A channel whose timeline takes a while to make (an album waits for the
// folder's first listing) holds up nobody else: other channels and the
// count /metrics reads are answered meanwhile.
func TestChannelStartingHoldsUpNobody(t *testing.T) {
	def := NewTimeline(newSource("a"), newRenderer(), TimelineOptions{Interval: time.Hour, Width: 8})
	slow := make(chan struct{})
	cs := NewChannels(def, ChannelsOptions{
		Max: 4,
		New: func(c Channel) (*Timeline, error) {
			if c.Album == "slow" {
				<-slow
			}
			return NewTimeline(newSource("b"), newRenderer(), TimelineOptions{Interval: time.Hour, Width: 8}), nil
		},
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go cs.Serve(ctx)
	started := make(chan error)
	go func() {
		_, leave, err := cs.Acquire(Channel{Album: "slow"}, "192.0.2.1:1")
		if err == nil {
			leave()
		}
		started <- err
	}()
	time.Sleep(20 * time.Millisecond) // the slow channel is being made
	answered := make(chan error)
	go func() {
		cs.Running()
		_, leave, err := cs.Acquire(Channel{Album: "quick"}, "192.0.2.2:1")
		if err == nil {
			leave()
		}
		answered <- err
	}()
	select {
	case err := <-answered:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("another channel and the channel count waited for a channel being made")
	}
	close(slow)
	if err := <-started; err != nil {
		t.Fatal(err)
	}
	if n := cs.Running(); n != 2 {
		t.Errorf("%d channels running; want the slow one and the quick one", n)
	}
}
